//! Windows: process and thread times from `GetProcessTimes` / `GetThreadTimes`, and Ctrl-C /
//! Ctrl-Break / console close through `SetConsoleCtrlHandler`.
//!
//! A console control event reaches every process attached to the console, the wrapped command
//! included, so nothing needs forwarding: footprint records it, keeps running until the command
//! exits, and writes its report.

use std::sync::atomic::Ordering;

use windows_sys::Win32::Foundation::{CloseHandle, FILETIME, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
use windows_sys::Win32::System::Registry::{HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RegGetValueW};
use windows_sys::Win32::System::SystemInformation::{GlobalMemoryStatusEx, MEMORYSTATUSEX};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetCurrentThread, GetExitCodeProcess, GetProcessTimes, GetThreadTimes,
    OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_TERMINATE, TerminateProcess,
};

use super::LAST_CHILD;

/// `GetExitCodeProcess` of a process still running.
const STILL_ACTIVE: u32 = 259;

/// The numbers a report uses for the console events: as SIGINT and SIGTERM on Unix.
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

fn seconds(t: FILETIME) -> f64 {
    // 100-nanosecond units.
    ((u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime)) as f64 / 1e7
}

fn zero() -> FILETIME {
    FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    }
}

/// User + kernel seconds of a process handle.
fn process_seconds(h: HANDLE) -> Option<f64> {
    process_times(h).map(|(_, cpu)| cpu)
}

/// (creation time, user + kernel seconds) of a process handle.
fn process_times(h: HANDLE) -> Option<(u64, f64)> {
    let (mut c, mut e, mut k, mut u) = (zero(), zero(), zero(), zero());
    // SAFETY: the four FILETIMEs are ours; an invalid handle makes the call fail, not crash.
    let ok = unsafe { GetProcessTimes(h, &mut c, &mut e, &mut k, &mut u) };
    let created = (u64::from(c.dwHighDateTime) << 32) | u64::from(c.dwLowDateTime);
    (ok != 0).then(|| (created, seconds(k) + seconds(u)))
}

/// An open process, closed when dropped.
struct Process(HANDLE);

impl Process {
    fn open(pid: u32) -> Option<Process> {
        // SAFETY: OpenProcess returns null on failure, which is checked.
        let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
        (!h.is_null()).then_some(Process(h))
    }

    fn running(&self) -> bool {
        let mut code = 0u32;
        // SAFETY: the handle is open; code is ours.
        unsafe { GetExitCodeProcess(self.0, &mut code) != 0 && code == STILL_ACTIVE }
    }

    fn rss_bytes(&self) -> f64 {
        // SAFETY: zeroed is a valid PROCESS_MEMORY_COUNTERS; cb says its size.
        let mut pmc: PROCESS_MEMORY_COUNTERS = unsafe { std::mem::zeroed() };
        pmc.cb = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
        let ok = unsafe { K32GetProcessMemoryInfo(self.0, &mut pmc, pmc.cb) };
        if ok != 0 {
            pmc.WorkingSetSize as f64
        } else {
            0.0
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by `open` and is closed once.
        unsafe { CloseHandle(self.0) };
    }
}

/// Every process's (pid, parent pid), from a Toolhelp snapshot.
fn process_parents() -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    // SAFETY: the snapshot handle is checked and closed; the entry's dwSize is set before use.
    unsafe {
        let snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
        if snap == INVALID_HANDLE_VALUE {
            return out;
        }
        let mut e: PROCESSENTRY32W = std::mem::zeroed();
        e.dwSize = std::mem::size_of::<PROCESSENTRY32W>() as u32;
        let mut ok = Process32FirstW(snap, &mut e);
        while ok != 0 {
            out.push((e.th32ProcessID, e.th32ParentProcessID));
            ok = Process32NextW(snap, &mut e);
        }
        CloseHandle(snap);
    }
    out
}

/// Resident (working-set) bytes of one process.
pub(crate) fn process_rss_bytes(pid: i32) -> f64 {
    Process::open(pid as u32).map_or(0.0, |p| p.rss_bytes())
}

/// CPU seconds and working-set bytes of a process tree (the root and its live descendants,
/// found by parent pid; a child created before its supposed parent is a reused pid and is
/// skipped). `None` once the root has exited: then its own final times are read instead.
/// Descendants that already exited are not counted on Windows (a job object would be needed).
pub(crate) fn tree_usage(root: i32) -> Option<(f64, f64)> {
    let root_p = Process::open(root as u32)?;
    if !root_p.running() {
        return None;
    }
    let parents = process_parents();
    let mut stack = vec![(root as u32, root_p)];
    let (mut cpu, mut rss, mut seen) = (0.0, 0.0, 0usize);
    while let Some((pid, p)) = stack.pop() {
        let Some((created, c)) = process_times(p.0) else {
            continue;
        };
        cpu += c;
        rss += p.rss_bytes();
        seen += 1;
        if seen > 100_000 {
            break;
        }
        for &(child, parent) in &parents {
            if parent == pid
                && child != pid
                && let Some(cp) = Process::open(child)
                && process_times(cp.0).is_some_and(|(cc, _)| cc >= created)
            {
                stack.push((child, cp));
            }
        }
    }
    Some((cpu, rss))
}

/// CPU seconds (user + kernel) of this process so far.
pub(crate) fn self_cpu_seconds() -> f64 {
    // SAFETY: the pseudo-handle of the current process needs no closing.
    process_seconds(unsafe { GetCurrentProcess() }).unwrap_or(0.0)
}

/// CPU seconds of the wrapped command (its own process; processes it starts in turn are not
/// included on Windows).
pub(crate) fn children_cpu_seconds() -> f64 {
    let pid = LAST_CHILD.load(Ordering::SeqCst);
    if pid <= 0 {
        return 0.0;
    }
    Process::open(pid as u32)
        .and_then(|p| process_seconds(p.0))
        .unwrap_or(0.0)
}

/// CPU seconds of the calling thread (the sampler's own cost).
pub(crate) fn thread_cpu_seconds() -> f64 {
    let (mut c, mut e, mut k, mut u) = (zero(), zero(), zero(), zero());
    // SAFETY: the pseudo-handle of the current thread needs no closing.
    let ok = unsafe { GetThreadTimes(GetCurrentThread(), &mut c, &mut e, &mut k, &mut u) };
    if ok != 0 {
        seconds(k) + seconds(u)
    } else {
        0.0
    }
}

/// A command's exit code (Windows has no signals: a killed process has an exit code too).
pub(crate) fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

unsafe extern "system" fn on_console_event(event: u32) -> i32 {
    // CTRL_C_EVENT 0, CTRL_BREAK_EVENT 1, CTRL_CLOSE_EVENT 2, LOGOFF 5, SHUTDOWN 6.
    let sig = if event <= 1 { SIGINT } else { SIGTERM };
    super::record_signal(sig);
    1 // handled: footprint stops the measurement and writes its report
}

/// Installs the console control handler.
pub(crate) fn install_signal_handlers() {
    // SAFETY: the handler is a valid `extern "system"` function for the life of the process.
    unsafe {
        SetConsoleCtrlHandler(Some(on_console_event), 1);
    }
}

/// The name of an event number, for reports.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "Ctrl-C",
        SIGTERM => "console close",
        _ => "signal",
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The processor's marketing name from the registry ("AMD Ryzen 9 7950X 16-Core Processor").
fn processor_name() -> Option<String> {
    let key = wide(r"HARDWARE\DESCRIPTION\System\CentralProcessor\0");
    let value = wide("ProcessorNameString");
    let mut buf = vec![0u16; 256];
    let mut bytes = (buf.len() * 2) as u32;
    // SAFETY: the buffer holds `bytes` bytes; RegGetValueW writes at most that many.
    let rc = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            key.as_ptr(),
            value.as_ptr(),
            RRF_RT_REG_SZ,
            std::ptr::null_mut(),
            buf.as_mut_ptr().cast(),
            &mut bytes,
        )
    };
    if rc != 0 {
        return None;
    }
    buf.truncate(bytes as usize / 2);
    let s = String::from_utf16_lossy(&buf)
        .trim_end_matches('\0')
        .trim()
        .to_string();
    (!s.is_empty()).then_some(s)
}

/// This machine's CPU: its registry name and the logical CPUs Windows shows us. The chip's
/// own thread count comes from "N-Core" in the name where it says so, as on Linux.
pub(crate) fn cpu_facts() -> super::cpu::CpuFacts {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let name = processor_name().unwrap_or_else(|| "unknown CPU".to_string());
    // The same derivation as /proc/cpuinfo text gives on Linux.
    let text = format!("processor : 0\nmodel name : {name}\n");
    let mut facts = super::cpu::cpu_facts(&text);
    facts.threads = threads;
    facts.chip_threads = facts.chip_threads.max(threads);
    facts
}

/// Every live descendant of `root` (not `root` itself), by parent pid.
pub(crate) fn descendants(root: i32) -> Vec<i32> {
    let parents = process_parents();
    let mut out: Vec<u32> = Vec::new();
    let mut stack = vec![root as u32];
    while let Some(pid) = stack.pop() {
        for &(child, parent) in &parents {
            if parent == pid && child != pid && !out.contains(&child) && out.len() < 100_000 {
                out.push(child);
                stack.push(child);
            }
        }
    }
    out.into_iter().map(|p| p as i32).collect()
}

/// Terminates a process and every descendant it has now: for a command that ignored Ctrl-C.
pub(crate) fn kill_tree(root: i32) {
    let mut pids = descendants(root);
    pids.reverse();
    pids.push(root);
    for pid in pids {
        // SAFETY: a null handle (no access, gone) is checked; the handle is closed.
        unsafe {
            let h = OpenProcess(PROCESS_TERMINATE, 0, pid as u32);
            if !h.is_null() {
                TerminateProcess(h, 1);
                CloseHandle(h);
            }
        }
    }
}

/// Physical memory (`GlobalMemoryStatusEx`).
pub(crate) fn total_memory_bytes() -> Option<f64> {
    // SAFETY: zeroed is a valid MEMORYSTATUSEX once dwLength is set.
    let mut m: MEMORYSTATUSEX = unsafe { std::mem::zeroed() };
    m.dwLength = std::mem::size_of::<MEMORYSTATUSEX>() as u32;
    let ok = unsafe { GlobalMemoryStatusEx(&mut m) } != 0;
    (ok && m.ullTotalPhys > 0).then_some(m.ullTotalPhys as f64)
}

/// Asks a process to stop. Windows has no SIGTERM for a console child that footprint did not
/// start in its own group: the process and its descendants are ended (the grace period then
/// has nothing left to wait for).
pub(crate) fn terminate(pid: i32) {
    kill_tree(pid);
}
