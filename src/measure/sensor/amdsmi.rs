//! AMD SMI (`libamd_smi.so`, shipped with ROCm 6 and newer), loaded at run time when it is
//! installed and never required: it gives each AMD GPU's energy accumulator
//! (`amdsmi_get_energy_count`), which footprint prefers over the driver's averaged power, as it
//! prefers NVML's counter. GPUs are matched to the amdgpu cards in sysfs by PCI address.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::Arc;

use libloading::Library;

const SUCCESS: u32 = 0;
const INIT_AMD_GPUS: u64 = 1 << 1;

type Handle = *mut c_void;
type Init = unsafe extern "C" fn(u64) -> u32;
type ShutDown = unsafe extern "C" fn() -> u32;
type Sockets = unsafe extern "C" fn(*mut u32, *mut Handle) -> u32;
type Processors = unsafe extern "C" fn(Handle, *mut u32, *mut Handle) -> u32;
type Bdf = unsafe extern "C" fn(Handle, *mut u64) -> u32;
type EnergyCount = unsafe extern "C" fn(Handle, *mut u64, *mut f32, *mut u64) -> u32;

/// The loaded library, initialised; shut down when the last user drops it.
pub(crate) struct AmdSmi {
    energy_count: EnergyCount,
    shut_down: ShutDown,
    /// Keeps the functions above valid.
    _lib: Library,
}

/// A GPU's handle. AMD SMI's handles are opaque pointers into the library, valid until shutdown
/// (which waits for the last `Arc<AmdSmi>`), and its calls may be made from any thread.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gpu(Handle);
// SAFETY: see above; the handle is only passed back to the library that made it.
unsafe impl Send for Gpu {}
// SAFETY: as for Send: the library's calls may be made on a handle from any thread at once.
unsafe impl Sync for Gpu {}
// SAFETY: the function pointers and the library may be used from any thread.
unsafe impl Send for AmdSmi {}
// SAFETY: as for Send: shared references only call the library's thread-safe functions.
unsafe impl Sync for AmdSmi {}

impl Drop for AmdSmi {
    fn drop(&mut self) {
        // SAFETY: initialised in `open`; no handle outlives `self`.
        unsafe { (self.shut_down)() };
    }
}

/// `dddd:bb:dd.f` from AMD SMI's packed PCI address (function 3 bits, device 5, bus 8, domain
/// the rest).
fn pci(bdf: u64) -> String {
    format!(
        "{:04x}:{:02x}:{:02x}.{:x}",
        bdf >> 16,
        (bdf >> 8) & 0xff,
        (bdf >> 3) & 0x1f,
        bdf & 0x7
    )
}

impl AmdSmi {
    /// Loads and initialises AMD SMI and lists its GPUs by PCI address. `Err` (why) when it is
    /// not installed or finds no GPU: the caller then reads the driver's files alone.
    pub(crate) fn open() -> Result<(Arc<AmdSmi>, BTreeMap<String, Gpu>), String> {
        let lib = super::load_library(&["libamd_smi.so", "/opt/rocm/lib/libamd_smi.so"])?;
        // SAFETY: the signatures are those of amdsmi.h (ROCm 6).
        let (init, shut_down, sockets, processors, bdf, energy_count) = unsafe {
            let sym = |n: &[u8]| String::from_utf8_lossy(&n[..n.len() - 1]).into_owned();
            macro_rules! get {
                ($t:ty, $n:literal) => {
                    *lib.get::<$t>($n)
                        .map_err(|e| format!("{} missing: {e}", sym($n)))?
                };
            }
            (
                get!(Init, b"amdsmi_init\0"),
                get!(ShutDown, b"amdsmi_shut_down\0"),
                get!(Sockets, b"amdsmi_get_socket_handles\0"),
                get!(Processors, b"amdsmi_get_processor_handles\0"),
                get!(Bdf, b"amdsmi_get_gpu_device_bdf\0"),
                get!(EnergyCount, b"amdsmi_get_energy_count\0"),
            )
        };
        // SAFETY: plain calls with valid out-pointers, sized by the library's own counts.
        unsafe {
            let status = init(INIT_AMD_GPUS);
            if status != SUCCESS {
                return Err(format!("amdsmi_init failed (status {status})"));
            }
            let smi = Arc::new(AmdSmi {
                energy_count,
                shut_down,
                _lib: lib,
            });
            let mut n = 0u32;
            if sockets(&mut n, std::ptr::null_mut()) != SUCCESS {
                return Err("cannot list sockets".to_string());
            }
            let mut socks: Vec<Handle> = vec![std::ptr::null_mut(); n as usize];
            if sockets(&mut n, socks.as_mut_ptr()) != SUCCESS {
                return Err("cannot list sockets".to_string());
            }
            socks.truncate(n as usize);
            let mut gpus = BTreeMap::new();
            for s in socks {
                let mut m = 0u32;
                if processors(s, &mut m, std::ptr::null_mut()) != SUCCESS || m == 0 {
                    continue;
                }
                let mut procs: Vec<Handle> = vec![std::ptr::null_mut(); m as usize];
                if processors(s, &mut m, procs.as_mut_ptr()) != SUCCESS {
                    continue;
                }
                procs.truncate(m as usize);
                for p in procs {
                    let mut b = 0u64;
                    if bdf(p, &mut b) == SUCCESS {
                        gpus.insert(pci(b), Gpu(p));
                    }
                }
            }
            if gpus.is_empty() {
                return Err("no AMD GPU found".to_string());
            }
            Ok((smi, gpus))
        }
    }

    /// The GPU's energy accumulator in joules, or why not.
    pub(crate) fn energy_j(&self, gpu: Gpu) -> Result<f64, String> {
        let (mut acc, mut res, mut ts) = (0u64, 0f32, 0u64);
        // SAFETY: a handle from `open`, valid out-pointers.
        let status = unsafe { (self.energy_count)(gpu.0, &mut acc, &mut res, &mut ts) };
        if status != SUCCESS {
            return Err(format!("amdsmi_get_energy_count failed (status {status})"));
        }
        // the accumulator counts units of `res` microjoules
        Ok(acc as f64 * res as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pci_addresses_unpack_like_lspci_shows_them() {
        // domain 0, bus 0xc1, device 0, function 0
        assert_eq!(super::pci(0xc1 << 8), "0000:c1:00.0");
        assert_eq!(
            super::pci((1 << 16) | (0x03 << 8) | (0x1f << 3) | 7),
            "0001:03:1f.7"
        );
    }
}
