//! Linux and macOS: `getrusage`, `clock_gettime`, `sysconf`, and POSIX signals.

use std::sync::atomic::Ordering;

use super::CHILD;

/// `si_code` of a signal sent by a process (`kill`), not by the terminal or the kernel. The
/// libc crate names it on Linux; macOS's <sys/signal.h> defines it as 0x10001.
#[cfg(target_os = "macos")]
const SI_USER: libc::c_int = 0x10001;
#[cfg(not(target_os = "macos"))]
const SI_USER: libc::c_int = libc::SI_USER;

fn rusage_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage writes into the struct we pass; zeroed is a valid rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage for the call to fill.
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU seconds (user + system) of this process so far.
pub(crate) fn self_cpu_seconds() -> f64 {
    rusage_seconds(libc::RUSAGE_SELF)
}

/// CPU seconds of waited-for children (and their reaped descendants): exact once the
/// wrapped command has been reaped.
pub(crate) fn children_cpu_seconds() -> f64 {
    rusage_seconds(libc::RUSAGE_CHILDREN)
}

/// CPU seconds of the calling thread (the sampler's own cost).
pub(crate) fn thread_cpu_seconds() -> f64 {
    // SAFETY: clock_gettime writes a timespec we own.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is a valid, writable timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// A command's exit status as a shell reports it: its code, or 128 + the signal that killed it.
pub(crate) fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    super::record_signal(sig);
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 {
        // A Ctrl-C typed at a terminal already reaches the child, which is in the same process
        // group, so SIGINT is forwarded only when a process sent it; SIGTERM always is.
        // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO; kill is async-signal-safe.
        let from_process = info.is_null() || unsafe { (*info).si_code } == SI_USER;
        if sig != libc::SIGINT || from_process {
            // SAFETY: kill is async-signal-safe and takes plain integers.
            unsafe {
                libc::kill(child, sig);
            }
        }
    }
}

/// Installs the handlers for SIGINT, SIGTERM and SIGHUP: they only record the signal (and pass it on
/// to a wrapped command), both async-signal-safe.
pub(crate) fn install_signal_handlers() {
    // SAFETY: a zeroed sigaction with a valid handler and an empty mask is well-formed.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
        // A closed terminal (or an ssh session that drops) ends a run like SIGTERM does.
        libc::sigaction(libc::SIGHUP, &sa, std::ptr::null_mut());
    }
}

/// The name of a signal number, for reports.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGKILL => "SIGKILL",
        libc::SIGHUP => "SIGHUP",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGPIPE => "SIGPIPE",
        _ => "signal",
    }
}

/// Kills a process and every descendant it has now (SIGKILL): for a command that ignored the
/// forwarded signal. Descendants first, so none is orphaned and missed.
pub(crate) fn kill_tree(root: i32) {
    let mut pids = super::descendants(root);
    pids.reverse();
    pids.push(root);
    for pid in pids {
        // SAFETY: kill has no memory preconditions; a pid that is gone gives ESRCH.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Asks a process to stop (SIGTERM).
pub(crate) fn terminate(pid: i32) {
    // SAFETY: kill has no memory preconditions.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
}

/// Every process below `root` that `children` finds (not `root` itself), parents before
/// children. A pid seen twice (reused while the walk runs) or more than 100,000 processes end
/// the walk.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))]
pub(super) fn walk_descendants(root: i32, children: impl Fn(i32) -> Vec<i32>) -> Vec<i32> {
    let mut out = Vec::new();
    let mut stack = children(root);
    while let Some(pid) = stack.pop() {
        if out.len() > 100_000 || out.contains(&pid) {
            break;
        }
        out.push(pid);
        stack.extend(children(pid));
    }
    out
}
