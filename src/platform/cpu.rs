//! What this machine's CPU is, in the terms the CPU-time model needs. Each operating system
//! finds the text differently (`/proc/cpuinfo`, `sysctl`, the registry); the parse is one.

/// What the model knows about this machine's CPU.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CpuFacts {
    pub(crate) model_name: String,
    /// Logical CPUs visible to us.
    pub(crate) threads: usize,
    pub(crate) sockets: usize,
    /// Hardware threads of one chip (may exceed what a VM sees).
    pub(crate) chip_threads: usize,
}

/// Reads `/proc/cpuinfo`-style text (macOS names its CPU through `sysctl` instead).
#[cfg_attr(target_os = "macos", allow(dead_code))]
pub(crate) fn cpu_facts(cpuinfo: &str) -> CpuFacts {
    let mut model = None;
    let mut threads = 0;
    let mut sockets = std::collections::BTreeSet::new();
    let mut siblings = None;
    let mut cores = None;
    for line in cpuinfo.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "processor" => threads += 1,
            "model name" if model.is_none() => model = Some(v.to_string()),
            "physical id" => {
                sockets.insert(v.to_string());
            }
            "siblings" if siblings.is_none() => siblings = v.parse::<usize>().ok(),
            "cpu cores" if cores.is_none() => cores = v.parse::<usize>().ok(),
            _ => {}
        }
    }
    let threads = threads.max(1);
    let sockets = sockets.len().max(1);
    let model_name = model.unwrap_or_else(|| "unknown CPU".to_string());
    let visible_per_socket = (threads / sockets).max(1);
    // "AMD EPYC 7763 64-Core Processor": the chip has 64 cores even when a VM sees 2.
    let named_cores = model_name.split_whitespace().find_map(|w| {
        w.strip_suffix("-Core")
            .and_then(|n| n.parse::<usize>().ok())
    });
    let smt = match (siblings, cores) {
        (Some(s), Some(c)) if c > 0 && s >= c => s / c,
        _ => 1,
    };
    let chip_threads = visible_per_socket.max(named_cores.map_or(0, |c| c * smt.max(2)));
    CpuFacts {
        model_name,
        threads,
        sockets,
        chip_threads,
    }
}
