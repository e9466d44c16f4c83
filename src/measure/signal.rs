//! SIGINT/SIGTERM during a measurement: stop cleanly and still write the report.
//!
//! The handler only stores the signal (and, in wrap mode, passes it on to the child): both are
//! async-signal-safe. A Ctrl-C typed at a terminal already reaches the child, which is in the
//! same process group, so it is forwarded only when it was sent by a process (`kill`), not by
//! the terminal; SIGTERM always comes from a process and is always forwarded.

use std::sync::atomic::{AtomicI32, Ordering};

static RECEIVED: AtomicI32 = AtomicI32::new(0);
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    RECEIVED.store(sig, Ordering::SeqCst);
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 {
        // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO; kill is async-signal-safe.
        let from_process = info.is_null() || unsafe { (*info).si_code } == libc::SI_USER;
        if sig != libc::SIGINT || from_process {
            unsafe {
                libc::kill(child, sig);
            }
        }
    }
}

/// Installs the handlers for SIGINT and SIGTERM.
pub fn install() {
    // SAFETY: a zeroed sigaction with a valid handler and an empty mask is well-formed.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
    }
}

/// Signals received go to this child from now on (0: none).
pub fn forward_to(pid: i32) {
    CHILD.store(pid, Ordering::SeqCst);
}

/// The signal received, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

pub fn name(sig: i32) -> &'static str {
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
