//! CPU model → TDP, for the CPU-time model.

use super::Sourced;
use crate::suggest::normalize;

/// CPU model → TDP, and the CPU-time model's constants.
#[derive(Clone, Debug, Default)]
pub struct CpuTable {
    pub(crate) entries: Vec<(String, f64)>,
    /// A source of its own for an entry (by normalized name), where the entry has one.
    pub(crate) entry_sources: std::collections::BTreeMap<String, String>,
    pub(crate) source: String,
    pub(crate) year: Option<u16>,
    /// Memory power per GB resident.
    pub(crate) ram_w_per_gb: Option<Sourced>,
    /// Power per busy hardware thread for a CPU not in the table.
    pub(crate) default_w_per_thread: Option<Sourced>,
}

impl CpuTable {
    /// Where an entry's TDP comes from: its own source, else the table's.
    pub(crate) fn source_of(&self, name: &str) -> String {
        match self.entry_sources.get(&normalize(name)) {
            Some(s) => s.clone(),
            None => match self.year {
                Some(y) => format!("{}, {y}", self.source),
                None => self.source.clone(),
            },
        }
    }

    /// The TDP of a CPU model string as `/proc/cpuinfo` writes it ("AMD EPYC 7763 64-Core
    /// Processor", "Intel(R) Xeon(R) Platinum 8480+"): the longest table name whose words all
    /// appear in it, after dropping the (R)/(TM) marks.
    pub(crate) fn lookup(&self, model: &str) -> Option<(&str, f64)> {
        let clean = clean_cpu_name(model);
        let words: Vec<&str> = clean.split_whitespace().collect();
        let mut best: Option<(&str, f64, usize)> = None;
        for (name, tdp) in &self.entries {
            let cn = clean_cpu_name(name);
            let nw: Vec<&str> = cn.split_whitespace().collect();
            if nw.is_empty() || !nw.iter().all(|w| words.contains(w)) {
                continue;
            }
            // The model number must be there: "Intel Xeon" alone says nothing.
            if !nw.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())) {
                continue;
            }
            let len = cn.len();
            if best.is_none_or(|(_, _, l)| len > l) {
                best = Some((name, *tdp, len));
            }
        }
        best.map(|(n, t, _)| (n, t))
    }
}

fn clean_cpu_name(s: &str) -> String {
    s.replace("(R)", " ")
        .replace("(TM)", " ")
        .replace("(tm)", " ")
        .replace("CPU", " ")
        .replace('@', " ")
        .to_lowercase()
}
