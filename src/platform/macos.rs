//! macOS: a process tree's CPU time and memory from libproc (`proc_listchildpids`,
//! `proc_pid_rusage`), which need no root for the user's own processes. There is no `/proc`.

/// `mach_timebase_info_data_t` of <mach/mach_time.h> (libc's binding is deprecated in favour
/// of a crate this one call does not justify).
#[repr(C)]
struct Timebase {
    numer: u32,
    denom: u32,
}

unsafe extern "C" {
    fn mach_timebase_info(info: *mut Timebase) -> libc::c_int;
}

/// Converts `rusage_info` times (Mach absolute time units: nanoseconds on Intel, 1/24 µs
/// ticks on Apple silicon) to seconds.
fn mach_seconds(t: u64) -> f64 {
    static SCALE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let scale = SCALE.get_or_init(|| {
        let mut tb = Timebase { numer: 0, denom: 0 };
        // SAFETY: mach_timebase_info writes the struct we own.
        let ok = unsafe { mach_timebase_info(&mut tb) } == 0 && tb.denom > 0;
        if ok {
            f64::from(tb.numer) / f64::from(tb.denom)
        } else {
            1.0
        }
    });
    t as f64 * scale / 1e9
}

/// (CPU seconds of the process and the children it reaped, resident bytes), if it exists.
fn usage(pid: i32) -> Option<(f64, f64)> {
    // SAFETY: zeroed is a valid rusage_info_v2; proc_pid_rusage fills it for flavor V2.
    let mut ri: libc::rusage_info_v2 = unsafe { std::mem::zeroed() };
    let ptr = (&mut ri as *mut libc::rusage_info_v2).cast::<libc::rusage_info_t>();
    if unsafe { libc::proc_pid_rusage(pid, libc::RUSAGE_INFO_V2, ptr) } != 0 {
        return None;
    }
    let cpu = ri.ri_user_time + ri.ri_system_time + ri.ri_child_user_time + ri.ri_child_system_time;
    Some((mach_seconds(cpu), ri.ri_resident_size as f64))
}

fn children(pid: i32) -> Vec<i32> {
    let mut buf = vec![0 as libc::pid_t; 256];
    loop {
        let bytes = (buf.len() * std::mem::size_of::<libc::pid_t>()) as libc::c_int;
        // SAFETY: the buffer holds `bytes` bytes; the call writes at most that many.
        let n = unsafe { libc::proc_listchildpids(pid, buf.as_mut_ptr().cast(), bytes) };
        if n <= 0 {
            return Vec::new();
        }
        // Depending on the macOS version the count is of pids or of bytes.
        let count = if n as usize > buf.len() {
            n as usize / std::mem::size_of::<libc::pid_t>()
        } else {
            n as usize
        };
        if count < buf.len() {
            buf.truncate(count);
            return buf;
        }
        buf.resize(buf.len() * 2, 0);
        if buf.len() > 1 << 20 {
            return Vec::new();
        }
    }
}

/// Resident bytes of one process.
pub(crate) fn process_rss_bytes(pid: i32) -> f64 {
    usage(pid).map_or(0.0, |(_, rss)| rss)
}

/// CPU seconds and resident bytes of a process tree (live processes and the exited children
/// they reaped); `None` once the root itself is gone.
pub(crate) fn tree_usage(root: i32) -> Option<(f64, f64)> {
    let (mut cpu, mut rss) = usage(root)?;
    let mut stack = children(root);
    let mut seen = 1;
    while let Some(pid) = stack.pop() {
        if let Some((c, r)) = usage(pid) {
            cpu += c;
            rss += r;
            seen += 1;
            stack.extend(children(pid));
        }
        if seen > 100_000 {
            break;
        }
    }
    Some((cpu, rss))
}

/// A `sysctl` string value by name.
fn sysctl_string(name: &str) -> Option<String> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut len: libc::size_t = 0;
    // SAFETY: a first call with a null buffer asks for the length; the second fills `buf`.
    unsafe {
        if libc::sysctlbyname(
            cname.as_ptr(),
            std::ptr::null_mut(),
            &mut len,
            std::ptr::null_mut(),
            0,
        ) != 0
        {
            return None;
        }
        let mut buf = vec![0u8; len];
        if libc::sysctlbyname(
            cname.as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        ) != 0
        {
            return None;
        }
        buf.truncate(len);
        let s = String::from_utf8_lossy(&buf)
            .trim_end_matches('\0')
            .trim()
            .to_string();
        (!s.is_empty()).then_some(s)
    }
}

/// A `sysctl` integer value by name.
fn sysctl_int(name: &str) -> Option<usize> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>();
    // SAFETY: `v` holds `len` bytes.
    let ok = unsafe {
        libc::sysctlbyname(
            cname.as_ptr(),
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    } == 0;
    (ok && v > 0).then_some(v as usize)
}

/// This machine's CPU from `sysctl`: "Apple M2 Pro" (`machdep.cpu.brand_string`) and its
/// logical CPUs; Apple silicon has no SMT, so every logical CPU is a core of the one chip.
pub(crate) fn cpu_facts() -> super::cpu::CpuFacts {
    let threads = sysctl_int("hw.logicalcpu").unwrap_or(1);
    let sockets = sysctl_int("hw.packages").unwrap_or(1);
    super::cpu::CpuFacts {
        model_name: sysctl_string("machdep.cpu.brand_string")
            .unwrap_or_else(|| "unknown CPU".to_string()),
        threads,
        sockets,
        chip_threads: (threads / sockets.max(1)).max(1),
    }
}

/// Every live descendant of `root` (not `root` itself), parents before children.
pub(crate) fn descendants(root: i32) -> Vec<i32> {
    super::unix::walk_descendants(root, children)
}

/// Physical memory (`hw.memsize`).
pub(crate) fn total_memory_bytes() -> Option<f64> {
    let cname = std::ffi::CString::new("hw.memsize").ok()?;
    let mut v: u64 = 0;
    let mut len = std::mem::size_of::<u64>();
    // SAFETY: `v` holds `len` bytes.
    let ok = unsafe {
        libc::sysctlbyname(
            cname.as_ptr(),
            (&mut v as *mut u64).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    } == 0;
    (ok && v > 0).then_some(v as f64)
}
