//! What differs between operating systems, behind one small interface: process and thread CPU
//! time, the clock tick and page size that `/proc` figures are counted in, how a child's exit
//! status reads as a shell exit code, and stopping cleanly on Ctrl-C / SIGTERM.
//!
//! Everything above this module (the sampler, the CPU-time model's arithmetic, reports) is the
//! same on every platform and is tested once, on Linux. Each function here says what it reads.

pub(crate) mod cpu;
pub(crate) mod signal;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::keep_freed_memory;
#[cfg(target_os = "linux")]
pub(crate) use linux::{
    adopt_orphans, cpu_facts, descendants, leftover_children, process_rss_bytes,
    total_memory_bytes, tree_usage,
};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub(crate) use macos::{cpu_facts, descendants, process_rss_bytes, total_memory_bytes, tree_usage};

/// Asks a process and every descendant it has now to stop (SIGTERM on Unix), descendants
/// first: a stop reaches the work a shell script started, not only the script, as a
/// scheduler's cgroup kill would.
pub(crate) fn terminate_tree(root: i32) {
    for pid in descendants(root).into_iter().rev().chain([root]) {
        terminate(pid);
    }
}

/// Makes opening with `o` not wait: a FIFO without a reader (for writing) or without a writer
/// (for reading) answers at once instead of blocking (`O_NONBLOCK`); elsewhere a no-op.
pub(crate) fn non_blocking(o: &mut std::fs::OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    let _ = o;
}

/// Makes an open file's reads and writes wait again (clears `O_NONBLOCK`), for a FIFO opened
/// with [`non_blocking`] once its reader is there.
pub(crate) fn blocking_again(f: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = f.as_raw_fd();
        // SAFETY: fcntl on a descriptor this File owns, with integer arguments only.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

/// Whether this process may write `path` (which exists), without opening it: opening a FIFO to
/// check would make its reader see an end of file.
pub(crate) fn may_write(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: access reads the NUL-terminated path and returns an integer.
        unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).is_ok_and(|m| !m.permissions().readonly())
    }
}

/// Makes `o` refuse to open through a symbolic link at the last component of the path, where
/// the system can say so (`O_NOFOLLOW`); elsewhere it leaves `o` as it is.
pub(crate) fn no_follow(o: &mut std::fs::OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = o;
}

/// Outside Linux, processes orphaned by the command cannot be adopted and found again.
/// Elsewhere the system allocator's policy is kept (see the Linux version for why).
#[cfg(not(target_os = "linux"))]
pub fn keep_freed_memory() {}

#[cfg(not(target_os = "linux"))]
pub(crate) fn adopt_orphans() -> bool {
    false
}

/// Outside Linux there is no way to list them (see [`adopt_orphans`]).
#[cfg(not(target_os = "linux"))]
pub(crate) fn leftover_children() -> Vec<i32> {
    Vec::new()
}

/// Threads this process runs now, where the platform can tell (Linux: `/proc/self/task`).
/// Setting an environment variable is only sound while this is one.
pub(crate) fn thread_count() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_dir("/proc/self/task").ok().map(|d| d.count())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "macos"))))]
pub(crate) fn descendants(_root: i32) -> Vec<i32> {
    Vec::new()
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "macos"))))]
pub(crate) fn total_memory_bytes() -> Option<f64> {
    None
}

/// Other Unix systems: no per-process tree reader; the command's CPU time is counted when it
/// exits (`children_cpu_seconds`), and memory is not modelled.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "macos"))))]
pub(crate) fn tree_usage(_root: i32) -> Option<(f64, f64)> {
    None
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "macos"))))]
pub(crate) fn process_rss_bytes(_pid: i32) -> f64 {
    0.0
}

/// Other Unix systems: the CPU is not named; the model uses its default per thread.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "macos"))))]
pub(crate) fn cpu_facts() -> cpu::CpuFacts {
    cpu::cpu_facts("")
}

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

#[cfg(not(any(unix, windows)))]
compile_error!("footprint supports Unix-like systems (Linux, macOS) and Windows");

/// The signal received, if any (an interrupted measurement still writes its report).
pub(crate) fn received() -> Option<i32> {
    match RECEIVED.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

static RECEIVED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
/// How many stop signals arrived: a second one means "now".
static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// How many stop signals (Ctrl-C, SIGTERM, SIGHUP) have arrived.
pub(crate) fn signal_count() -> u32 {
    COUNT.load(std::sync::atomic::Ordering::SeqCst)
}

/// Records a stop signal (from a handler: async-signal-safe atomics only).
fn record_signal(sig: i32) {
    RECEIVED.store(sig, std::sync::atomic::Ordering::SeqCst);
    COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}
static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
/// The last command started (kept after `forward_to(0)`, for its final CPU time on Windows).
#[cfg_attr(not(windows), allow(dead_code))]
static LAST_CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Signals received go to this child from now on (0: none).
pub(crate) fn forward_to(pid: i32) {
    CHILD.store(pid, std::sync::atomic::Ordering::SeqCst);
    if pid > 0 {
        LAST_CHILD.store(pid, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_clocks_and_memory_of_this_process() {
        let (p0, t0) = (self_cpu_seconds(), thread_cpu_seconds());
        // Busy until the process has used 50 ms more CPU: several of /proc's 10 ms ticks.
        let mut x = 0u64;
        while self_cpu_seconds() < p0 + 0.05 {
            for i in 0..100_000u64 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            }
        }
        std::hint::black_box(x);
        assert!(self_cpu_seconds() > p0, "process CPU time advances");
        assert!(thread_cpu_seconds() > t0, "thread CPU time advances");
        let rss = process_rss_bytes(std::process::id() as i32);
        assert!(rss > 1e6, "a test process is resident: {rss}");
        let (cpu, tree_rss) = tree_usage(std::process::id() as i32).expect("this process is alive");
        assert!(cpu > 0.0 && tree_rss >= rss * 0.5, "{cpu} {tree_rss}");
    }
}
