//! Where a measurement ran in a distributed job: the job, the node, the rank, as the usual
//! launchers (Slurm's `srun`, PyTorch's `torchrun`) tell each process in its environment.
//!
//! footprint grows no cluster protocol of its own: each node measures itself (once: see
//! `--once-per-node`), writes a report named by these values (`-o 'r-{node}-{rank}.json'`), and
//! `footprint merge` combines the reports.

pub(crate) use crate::record::{Launcher, Placement};

/// Reads the placement from an environment (`get` is `std::env::var` in use, a map in
/// tests). The innermost launcher wins for the ranks: torchrun started by `srun` sets
/// `LOCAL_RANK` for each of its workers while every worker inherits the step's
/// `SLURM_LOCALID`, so torchrun's ranks are the workers' own; the job and the node stay
/// Slurm's (the scheduler's identity of the job).
pub(crate) fn from_env(get: impl Fn(&str) -> Option<String>, hostname: &str) -> Placement {
    let num = |k: &str| get(k).and_then(|v| v.trim().parse::<u64>().ok());
    let slurm = get("SLURM_JOB_ID").is_some();
    let torch = get("LOCAL_RANK").is_some() || get("TORCHELASTIC_RUN_ID").is_some();
    let node = get("SLURMD_NODENAME")
        .filter(|_| slurm)
        .unwrap_or_else(|| hostname.to_string());
    if torch {
        return Placement {
            launcher: Launcher::Torchrun,
            job_id: get("SLURM_JOB_ID")
                .filter(|_| slurm)
                .or_else(|| get("TORCHELASTIC_RUN_ID")),
            node,
            node_index: num("GROUP_RANK").or_else(|| num("SLURM_NODEID").filter(|_| slurm)),
            rank: num("RANK"),
            local_rank: num("LOCAL_RANK"),
            world_size: num("WORLD_SIZE"),
        };
    }
    if slurm {
        return Placement {
            launcher: Launcher::Slurm,
            job_id: get("SLURM_JOB_ID"),
            node,
            node_index: num("SLURM_NODEID"),
            rank: num("SLURM_PROCID"),
            local_rank: num("SLURM_LOCALID"),
            world_size: num("SLURM_NTASKS").or_else(|| num("SLURM_NPROCS")),
        };
    }
    Placement {
        launcher: Launcher::None,
        job_id: None,
        node,
        node_index: None,
        rank: None,
        local_rank: None,
        world_size: None,
    }
}

/// This process's placement.
pub(crate) fn here() -> Placement {
    from_env(
        |k| std::env::var(k).ok().filter(|v| !v.is_empty()),
        &hostname(),
    )
}

impl Placement {
    /// Whether this process is the first on its node (or not part of a job).
    pub(crate) fn is_first_on_node(&self) -> bool {
        self.local_rank.is_none_or(|r| r == 0)
    }

    /// `path` with `{node}`, `{rank}`, `{local_rank}`, `{job}` and `{host}` filled in.
    pub(crate) fn expand(&self, path: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = path;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let Some(j) = rest[i..].find('}') else {
                return Err(format!("'{path}': an unclosed '{{'"));
            };
            let name = &rest[i + 1..i + j];
            let value = match name {
                "node" => self.node.clone(),
                "host" => hostname(),
                "rank" => self.rank.unwrap_or(0).to_string(),
                "local_rank" => self.local_rank.unwrap_or(0).to_string(),
                "job" => self.job_id.clone().unwrap_or_else(|| "nojob".to_string()),
                other => {
                    return Err(format!(
                        "'{path}': unknown placeholder {{{other}}}: use {{node}}, {{rank}}, {{local_rank}}, {{job}} or {{host}}"
                    ));
                }
            };
            // A value must not turn into a path of its own: no separators, and not `.` or
            // `..` (a node named `..` would climb out of the directory).
            let mut value = value.replace(['/', '\\', '\0'], "_");
            if value.is_empty() || value.chars().all(|c| c == '.') {
                value = value.replace('.', "_") + "_";
            }
            out.push_str(&value);
            rest = &rest[i + j + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// This machine's name.
pub(crate) fn hostname() -> String {
    if let Ok(h) = std::env::var("HOSTNAME")
        && !h.is_empty()
    {
        return h;
    }
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        return h.trim().to_string();
    }
    if let Ok(h) = std::env::var("COMPUTERNAME") {
        return h;
    }
    "localhost".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    /// A node name cannot climb out of the directory its placeholder sits in.
    #[test]
    fn placeholders_stay_inside_their_directory() {
        let p = from_env(
            env(&[("SLURM_JOB_ID", "1"), ("SLURMD_NODENAME", "..")]),
            "h",
        );
        assert_eq!(p.expand("out/{node}/r.json").unwrap(), "out/___/r.json");
        let p = from_env(
            env(&[("SLURM_JOB_ID", "1"), ("SLURMD_NODENAME", "a/../b")]),
            "h",
        );
        assert_eq!(p.expand("{node}.json").unwrap(), "a_.._b.json");
    }

    /// torchrun under srun: every worker inherits SLURM_LOCALID=0, and its own LOCAL_RANK
    /// says which it is: with --once-per-node only local rank 0 measures.
    #[test]
    fn the_innermost_launcher_gives_the_ranks() {
        let worker = |local: &str, rank: &str| {
            from_env(
                env(&[
                    ("SLURM_JOB_ID", "4242"),
                    ("SLURM_PROCID", "0"),
                    ("SLURM_LOCALID", "0"),
                    ("SLURMD_NODENAME", "gpu-07"),
                    ("LOCAL_RANK", local),
                    ("RANK", rank),
                    ("WORLD_SIZE", "8"),
                    ("TORCHELASTIC_RUN_ID", "xyz"),
                ]),
                "host",
            )
        };
        let (w0, w3) = (worker("0", "4"), worker("3", "7"));
        assert_eq!(w0.launcher, Launcher::Torchrun);
        assert_eq!((w0.local_rank, w3.local_rank), (Some(0), Some(3)));
        assert_eq!((w0.rank, w3.rank), (Some(4), Some(7)));
        assert!(w0.is_first_on_node() && !w3.is_first_on_node());
        assert_eq!(w3.job_id.as_deref(), Some("4242"));
        assert_eq!(w3.node, "gpu-07");
    }

    #[test]
    fn slurm_then_torchrun_then_nothing() {
        let p = from_env(
            env(&[
                ("SLURM_JOB_ID", "4242"),
                ("SLURM_PROCID", "9"),
                ("SLURM_LOCALID", "1"),
                ("SLURM_NODEID", "2"),
                ("SLURMD_NODENAME", "gpu-07"),
                ("SLURM_NTASKS", "16"),
                ("RANK", "3"),
            ]),
            "host",
        );
        assert_eq!(p.launcher, Launcher::Slurm);
        assert_eq!(
            (
                p.job_id.as_deref(),
                p.node.as_str(),
                p.rank,
                p.local_rank,
                p.node_index,
                p.world_size
            ),
            (Some("4242"), "gpu-07", Some(9), Some(1), Some(2), Some(16))
        );
        assert!(!p.is_first_on_node());
        let p = from_env(
            env(&[
                ("RANK", "5"),
                ("LOCAL_RANK", "0"),
                ("WORLD_SIZE", "8"),
                ("GROUP_RANK", "1"),
                ("TORCHELASTIC_RUN_ID", "abc"),
            ]),
            "node-b",
        );
        assert_eq!(p.launcher, Launcher::Torchrun);
        assert_eq!(
            (
                p.rank,
                p.local_rank,
                p.world_size,
                p.node.as_str(),
                p.job_id.as_deref()
            ),
            (Some(5), Some(0), Some(8), "node-b", Some("abc"))
        );
        assert!(p.is_first_on_node());
        let p = from_env(env(&[]), "laptop");
        assert_eq!(
            (p.launcher, p.rank, p.node.as_str()),
            (Launcher::None, None, "laptop")
        );
    }

    #[test]
    fn placeholders_expand_and_stay_in_their_directory() {
        let p = from_env(
            env(&[
                ("SLURM_JOB_ID", "77"),
                ("SLURM_PROCID", "3"),
                ("SLURM_LOCALID", "1"),
                ("SLURMD_NODENAME", "n/1"),
            ]),
            "h",
        );
        assert_eq!(
            p.expand("out/report-{node}-{rank}.json").unwrap(),
            "out/report-n_1-3.json"
        );
        assert_eq!(p.expand("{job}-{local_rank}").unwrap(), "77-1");
        assert!(
            p.expand("r-{gpu}.json")
                .unwrap_err()
                .contains("unknown placeholder {gpu}")
        );
        assert!(p.expand("r-{node.json").unwrap_err().contains("unclosed"));
        let alone = from_env(env(&[]), "laptop");
        assert_eq!(
            alone.expand("r-{node}-{rank}-{job}").unwrap(),
            "r-laptop-0-nojob"
        );
    }
}
