//! `footprint explain KEY`: the defaults behind one run-file input, with when each applies and
//! its evidence, read from the same data the estimates use (`defaults::evidence`).

use crate::error::InputError;
use crate::record::{ExplainedDefault, Explanation};

/// The defaults behind `key`; an input footprint has no default for is refused, naming those
/// it has.
pub(crate) fn explain(key: &str) -> Result<Explanation, InputError> {
    let known = crate::defaults::EXPLAINED;
    let Some(rows) = crate::defaults::evidence(key) else {
        use crate::suggest::{Quote, did_you_mean, nearest};
        let hint = nearest(key, known.iter().copied())
            .map(|s| did_you_mean(s, Quote::Backtick))
            .unwrap_or_default();
        return Err(InputError::new(format!(
            "no default to explain for `{key}`{hint}; defaults with evidence: {}",
            known.join(", ")
        ))
        .for_key("KEY"));
    };
    Ok(Explanation {
        key: key.to_string(),
        defaults: rows
            .into_iter()
            .map(|(when, d, multiplier)| ExplainedDefault {
                when,
                low: d.low,
                central: d.central,
                high: d.high,
                multiplier,
                basis: d.basis.to_string(),
            })
            .collect(),
    })
}
