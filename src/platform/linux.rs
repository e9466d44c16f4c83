//! Linux: a process tree's CPU time and memory from `/proc`; the allocator's policy for a
//! training loop.

/// Keeps the memory this process frees for its own reuse rather than handing it back to the
/// kernel at once.
///
/// glibc returns a freed block of 128 KiB or more to the kernel (munmap) and trims the heap
/// above 128 KiB of free space. A training loop frees and allocates the same activation and
/// gradient buffers every step, so every step faulted its buffers in again, page by page, and
/// flushed other cores' TLBs when unmapping them. On the reference machine keeping the memory
/// raised the MLP's samples/s by about 70 % and the transformer's by about 10 %
/// (docs/performance.md). Blocks up to 32 MiB (glibc's ceiling for
/// this setting) now come from the heap, which keeps up to 1 GiB free before it trims. Only the
/// training loop's own process is changed; a measured command never is. Other C libraries
/// (musl) keep their policy.
pub fn keep_freed_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes glibc's allocator parameters; it is called before the
    // training loop allocates its buffers and is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// (utime + stime + cutime + cstime) ticks and state of one process, from `/proc/PID/stat`.
fn stat_ticks(pid: i32) -> Option<(u64, char)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: split after the last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let state = f.first()?.chars().next()?;
    // Fields 14-17 of stat are utime stime cutime cstime; `rest` starts at field 3.
    let ticks = f
        .get(11..15)?
        .iter()
        .map(|x| x.parse::<u64>().unwrap_or(0))
        .sum();
    Some((ticks, state))
}

/// The live children of a process (every thread's), from `/proc/PID/task/*/children`.
pub(crate) fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|x| x.parse::<i32>().ok()));
        }
    }
    out
}

/// Resident bytes of one process, from `/proc/PID/statm`.
pub(crate) fn process_rss_bytes(pid: i32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * page_size())
}

/// CPU seconds and resident bytes of a process tree (live processes and the exited
/// children they reaped).
pub(crate) fn tree_usage(root: i32) -> Option<(f64, f64)> {
    let mut stack = vec![root];
    let mut ticks = 0u64;
    let mut rss = 0.0;
    let mut seen = 0;
    while let Some(pid) = stack.pop() {
        let Some((t, state)) = stat_ticks(pid) else {
            continue;
        };
        if pid == root && state == 'Z' {
            return None;
        }
        seen += 1;
        ticks += t;
        rss += process_rss_bytes(pid);
        stack.extend(children(pid));
        if seen > 100_000 {
            break;
        }
    }
    (seen > 0).then(|| (ticks as f64 / clk_tck(), rss))
}

/// Clock ticks per second, the unit of `/proc/PID/stat` times.
pub(crate) fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// Bytes per page, the unit of `/proc/PID/statm`.
pub(crate) fn page_size() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as f64 } else { 4096.0 }
}

/// This machine's CPU, from `/proc/cpuinfo`.
pub(crate) fn cpu_facts() -> super::cpu::CpuFacts {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    super::cpu::cpu_facts(&text)
}

/// Every live descendant of `root` (not `root` itself), parents before children.
pub(crate) fn descendants(root: i32) -> Vec<i32> {
    super::unix::walk_descendants(root, children)
}

/// Makes footprint the reaper of processes the wrapped command orphans (`work &` then exit),
/// so that they can be found when the command ends. Returns whether the kernel agreed.
pub(crate) fn adopt_orphans() -> bool {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes plain integers.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 }
}

/// footprint's own live children (not zombies): after the wrapped command has been reaped,
/// these are processes it left running.
pub(crate) fn leftover_children() -> Vec<i32> {
    children(std::process::id() as i32)
        .into_iter()
        .filter(|&p| stat_ticks(p).is_some_and(|(_, state)| state != 'Z'))
        .collect()
}

/// Physical memory, from `/proc/meminfo`.
pub(crate) fn total_memory_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}
