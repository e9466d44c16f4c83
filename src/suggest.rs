//! "Did you mean ...?": the nearest known name to a typo, and the one way of saying so.
//!
//! Names are compared without case or punctuation (`h100_sxm` finds `H100-SXM`), by edit
//! distance, and only a plausible typo (within a third of the word's length, at least 2) is
//! suggested: a stranger gets no suggestion rather than a wrong one.

/// The closest of `candidates` to `word`, if it is close enough to be a plausible typo.
/// Comparison ignores case and punctuation, so `h100_sxm` finds `H100-SXM`.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = normalize(word);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = levenshtein(&w, &normalize(c));
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (w.chars().count() / 3).max(2);
    (d <= limit).then_some(c)
}

/// Lower case, letters and digits only: the key profiles are looked up by.
pub(crate) fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edit distance (insertions, deletions, substitutions), two rows of memory.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The hint after an unknown name: ` — did you mean X?`, with the name as `quote` wraps it
/// (run-file keys are shown as `key`, values as "value", profile names bare).
pub(crate) fn did_you_mean(suggestion: &str, quote: Quote) -> String {
    match quote {
        Quote::Bare => format!(" — did you mean {suggestion}?"),
        Quote::Backtick => format!(" — did you mean `{suggestion}`?"),
        Quote::Double => format!(" — did you mean \"{suggestion}\"?"),
    }
}

/// How a suggested name is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    /// A profile name: `H100`.
    Bare,
    /// A run-file key: `` `samples` ``.
    Backtick,
    /// A string value: `"per_byte"`.
    Double,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_basics() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("h10", "h100"), 1);
    }

    #[test]
    fn nearest_finds_typos_but_not_strangers() {
        let c = ["H100", "A100", "T4", "samples"];
        assert_eq!(nearest("H10", c), Some("H100"));
        assert_eq!(nearest("sampels", c), Some("samples"));
        assert_eq!(nearest("completely-different", c), None);
    }

    #[test]
    fn one_phrase_in_three_quotings() {
        assert_eq!(did_you_mean("H100", Quote::Bare), " — did you mean H100?");
        assert_eq!(
            did_you_mean("samples", Quote::Backtick),
            " — did you mean `samples`?"
        );
        assert_eq!(
            did_you_mean("per_byte", Quote::Double),
            " — did you mean \"per_byte\"?"
        );
    }
}
