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

#[cfg(test)]
mod tests {
    use super::*;

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
