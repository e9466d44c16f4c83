//! Byte offsets to line numbers, for messages that point at a line.
//!
//! A run file's values are looked up many times; counting newlines from the start for each
//! would make parsing quadratic in the file's size (70,000 inline shards took 10 s), so a
//! [`LineIndex`] records where each line starts once and answers by binary search.

/// Where every line of a text starts.
#[derive(Clone, Debug)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

/// 1-based line of a byte offset, for a single lookup.
pub(crate) fn line_of(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Text made safe for XML, HTML and SVG (element content and attribute values): the five
/// markup characters as entities, and characters XML does not allow (controls other than tab,
/// newline and carriage return; U+FFFE and U+FFFF) replaced by U+FFFD, so a name from a file
/// or the environment can neither inject markup nor make the document invalid. The one
/// escaper every markup writer uses.
pub(crate) fn markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text field
/// that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return) gets a leading `'`, as spreadsheet-safe CSV writers do. The one CSV field
/// writer; numbers are written as they are.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_escapes_and_keeps_documents_valid() {
        assert_eq!(
            markup("<a href=\"x\">O'Brien & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; co&lt;/a&gt;"
        );
        // characters XML forbids become U+FFFD; tab and newline stay
        assert_eq!(
            markup("a\u{1b}[31mb\u{FFFF}\tc\n"),
            "a\u{FFFD}[31mb\u{FFFD}\tc\n"
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_formula_safe() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for lead in ["+1", "-1", "@SUM(A1)", "\tx"] {
            assert!(csv_field(lead).starts_with('\''), "{lead}");
        }
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
    }

    #[test]
    fn the_index_agrees_with_counting() {
        let text = "a = 1\n\nb = 2\nc = 3";
        let idx = LineIndex::new(text);
        for off in 0..=text.len() + 3 {
            assert_eq!(
                idx.line_of(off),
                line_of(text.as_bytes(), off),
                "offset {off}"
            );
        }
    }
}
