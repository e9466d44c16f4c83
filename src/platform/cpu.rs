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

/// An Arm core's name from `/proc/cpuinfo`'s implementer and part codes (Arm's and the
/// vendors' technical reference manuals), for the server cores ML nodes use; others by code.
fn arm_core(implementer: &str, part: &str) -> Option<String> {
    let name = match (implementer, part) {
        ("0x41", "0xd0c") => "Arm Neoverse N1",
        ("0x41", "0xd40") => "Arm Neoverse V1",
        ("0x41", "0xd49") => "Arm Neoverse N2",
        ("0x41", "0xd4f") => "Arm Neoverse V2 (as in NVIDIA Grace)",
        ("0x41", "0xd84") => "Arm Neoverse V3",
        ("0x41", "0xd8e") => "Arm Neoverse N3",
        ("0xc0", "0xac3") => "AmpereOne",
        ("0x48", "0xd01") => "HiSilicon Kunpeng 920",
        ("0x46", "0x001") => "Fujitsu A64FX",
        (i, p) => return Some(format!("Arm CPU (implementer {i}, part {p})")),
    };
    Some(name.to_string())
}

/// Reads `/proc/cpuinfo`-style text (macOS names its CPU through `sysctl` instead).
#[cfg_attr(target_os = "macos", allow(dead_code))]
pub(crate) fn cpu_facts(cpuinfo: &str) -> CpuFacts {
    let mut model = None;
    let mut threads = 0;
    let mut sockets = std::collections::BTreeSet::new();
    let mut siblings = None;
    let mut cores = None;
    let (mut implementer, mut part) = (None, None);
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
            // Arm Linux names no model: its implementer and part codes say which core it is.
            "CPU implementer" if implementer.is_none() => implementer = Some(v.to_lowercase()),
            "CPU part" if part.is_none() => part = Some(v.to_lowercase()),
            _ => {}
        }
    }
    let threads = threads.max(1);
    let sockets = sockets.len().max(1);
    let model_name = model
        .or_else(|| arm_core(implementer.as_deref()?, part.as_deref()?))
        .unwrap_or_else(|| "unknown CPU".to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Arm Linux's /proc/cpuinfo (here a Grace node's) has no `model name`: the core is named
    /// from its implementer and part.
    #[test]
    fn arm_cores_are_named_from_their_codes() {
        let grace = "processor\t: 0\nBogoMIPS\t: 2000.00\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd4f\nCPU revision\t: 0\n\nprocessor\t: 1\nCPU implementer\t: 0x41\nCPU part\t: 0xd4f\n";
        let f = cpu_facts(grace);
        assert_eq!(f.model_name, "Arm Neoverse V2 (as in NVIDIA Grace)");
        assert_eq!(f.threads, 2);
        let other = cpu_facts("processor : 0\nCPU implementer : 0x51\nCPU part : 0x001\n");
        assert_eq!(other.model_name, "Arm CPU (implementer 0x51, part 0x001)");
        assert_eq!(cpu_facts("processor : 0\n").model_name, "unknown CPU");
    }
}
