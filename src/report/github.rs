//! GitHub Actions: a workflow command per exceeded limit (`::error::`, shown as an annotation
//! on the run) and the primary figures with the verdict as step outputs (`$GITHUB_OUTPUT`).
//! The CLI decides whether it runs in Actions and where each goes; this only writes the text.

use super::{Report, verdict_lines};
use crate::record::{Field, tidy};

/// One `::error::` line per exceeded limit; empty when the report has no verdict or passed.
pub(crate) fn annotations(report: &Report) -> String {
    let Some(v) = &report.budget else {
        return String::new();
    };
    let mut lines = String::new();
    for (line, pass) in verdict_lines(v) {
        if !pass {
            lines.push_str(&format!(
                "::error title=footprint budget ({})::{}\n",
                report.name.replace([':', ',', '\n', '\r'], " "),
                line.replace(['\n', '\r'], " ")
            ));
        }
    }
    lines
}

/// `budget_ok=` and the primary estimate's central CO2e, energy and cost, one `key=value` a
/// line; empty when the report has no verdict.
pub(crate) fn step_outputs(report: &Report) -> String {
    let Some(v) = &report.budget else {
        return String::new();
    };
    let mut out = format!("budget_ok={}\n", v.ok);
    if let Some(e) = crate::impact::primary(&report.estimates) {
        for f in Field::HEADLINE {
            if let Some(x) = f.value(&e.central) {
                out.push_str(&format!("{}={}\n", f.key(), tidy(x)));
            }
        }
    }
    out
}
