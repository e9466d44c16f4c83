//! Intel Gaudi accelerators through Habana's management library (`libhlml.so`, installed with
//! the habanalabs driver stack), loaded at run time when present and never required. Its calls
//! mirror NVML's: a total-energy counter in mJ since the driver loaded (preferred) and power in
//! mW. `HABANA_VISIBLE_DEVICES` (indices, or `all`), as Habana's container runtime sets it,
//! chooses the devices.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use libloading::Library;

use super::{DeviceKind, Quality, Reading, Sensor, SensorInfo};
use crate::units::{Energy, Power};

const SUCCESS: i32 = 0;

type Handle = *mut c_void;
type Init = unsafe extern "C" fn() -> i32;
type Shutdown = unsafe extern "C" fn() -> i32;
type Count = unsafe extern "C" fn(*mut u32) -> i32;
type ByIndex = unsafe extern "C" fn(u32, *mut Handle) -> i32;
type Name = unsafe extern "C" fn(Handle, *mut c_char, u32) -> i32;
type PowerUsage = unsafe extern "C" fn(Handle, *mut u32) -> i32;
type TotalEnergy = unsafe extern "C" fn(Handle, *mut u64) -> i32;

struct Hlml {
    by_index: ByIndex,
    power: PowerUsage,
    energy: TotalEnergy,
    shutdown: Shutdown,
    _lib: Library,
}

// SAFETY: hlml's functions may be called from any thread; the library lives as long as this.
unsafe impl Send for Hlml {}
// SAFETY: as for Send: shared references only call hlml's thread-safe functions.
unsafe impl Sync for Hlml {}

impl Drop for Hlml {
    fn drop(&mut self) {
        // SAFETY: initialised in `discover`; no sensor outlives the last Arc.
        unsafe { (self.shutdown)() };
    }
}

pub(crate) struct GaudiSensor {
    hlml: Arc<Hlml>,
    index: u32,
    has_counter: bool,
    info: SensorInfo,
}

impl Hlml {
    fn handle(&self, i: u32) -> Result<Handle, String> {
        let mut h: Handle = std::ptr::null_mut();
        // SAFETY: a valid out-pointer.
        match unsafe { (self.by_index)(i, &mut h) } {
            SUCCESS => Ok(h),
            s => Err(format!("Gaudi {i}: no handle (hlml status {s})")),
        }
    }

    fn energy_mj(&self, h: Handle) -> Option<u64> {
        let mut v = 0u64;
        // SAFETY: a handle from hlml, a valid out-pointer.
        (unsafe { (self.energy)(h, &mut v) } == SUCCESS).then_some(v)
    }

    fn power_mw(&self, h: Handle) -> Option<u32> {
        let mut v = 0u32;
        // SAFETY: as above.
        (unsafe { (self.power)(h, &mut v) } == SUCCESS).then_some(v)
    }
}

/// The devices `HABANA_VISIBLE_DEVICES` leaves (all when unset or `all`).
fn visible(count: u32, var: Option<&str>) -> Vec<u32> {
    match var.map(str::trim) {
        None | Some("all") | Some("") => (0..count).collect(),
        Some(list) => list
            .split(',')
            .filter_map(|e| e.trim().parse::<u32>().ok())
            .filter(|i| *i < count)
            .collect(),
    }
}

impl GaudiSensor {
    /// One sensor per visible Gaudi. `Err` (why) when hlml is not installed or sees none.
    pub(crate) fn discover(
        habana_visible: Option<&str>,
    ) -> Result<(Vec<GaudiSensor>, Vec<String>), String> {
        let lib = super::load_library(&["libhlml.so", "/usr/lib/habanalabs/libhlml.so"])?;
        // SAFETY: the signatures are those of hlml.h.
        let (init, shutdown, count, by_index, name, power, energy) = unsafe {
            macro_rules! get {
                ($t:ty, $n:literal) => {
                    *lib.get::<$t>($n).map_err(|e| format!("hlml: {e}"))?
                };
            }
            (
                get!(Init, b"hlml_init\0"),
                get!(Shutdown, b"hlml_shutdown\0"),
                get!(Count, b"hlml_device_get_count\0"),
                get!(ByIndex, b"hlml_device_get_handle_by_index\0"),
                get!(Name, b"hlml_device_get_name\0"),
                get!(PowerUsage, b"hlml_device_get_power_usage\0"),
                get!(TotalEnergy, b"hlml_device_get_total_energy_consumption\0"),
            )
        };
        // SAFETY: plain calls with valid out-pointers.
        let status = unsafe { init() };
        if status != SUCCESS {
            return Err(format!("hlml_init failed (status {status})"));
        }
        let hlml = Arc::new(Hlml {
            by_index,
            power,
            energy,
            shutdown,
            _lib: lib,
        });
        let mut n = 0u32;
        // SAFETY: a valid out-pointer.
        if unsafe { count(&mut n) } != SUCCESS || n == 0 {
            return Err("no Gaudi device".to_string());
        }
        let mut out = Vec::new();
        // One device that cannot be read does not drop the others: each is measured or named.
        let mut failed = Vec::new();
        for i in visible(n, habana_visible) {
            let h = match hlml.handle(i) {
                Ok(h) => h,
                Err(e) => {
                    failed.push(e);
                    continue;
                }
            };
            let mut buf = [0 as c_char; 96];
            // SAFETY: the buffer and its length.
            let label = if unsafe { name(h, buf.as_mut_ptr(), buf.len() as u32) } == SUCCESS {
                // SAFETY: hlml wrote a NUL-terminated string within the buffer.
                unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
                    .to_string_lossy()
                    .into_owned()
            } else {
                format!("Intel Gaudi {i}")
            };
            let has_counter = hlml.energy_mj(h).is_some();
            if !has_counter && hlml.power_mw(h).is_none() {
                failed.push(format!("Gaudi {i}: neither energy nor power can be read"));
                continue;
            }
            out.push(GaudiSensor {
                hlml: hlml.clone(),
                index: i,
                has_counter,
                info: SensorInfo {
                    id: format!("gaudi:{i}"),
                    name: label,
                    kind: DeviceKind::Gpu,
                    quality: if has_counter {
                        Quality::MeasuredCounter
                    } else {
                        Quality::MeasuredPower
                    },
                    counter_wrap: None,
                    counts_from_zero: false,
                    max_power: None,
                    details: serde_json::json!({
                        "index": i,
                        "energy_counter": has_counter.then_some("hlml_device_get_total_energy_consumption"),
                        "power": "hlml_device_get_power_usage",
                    }),
                },
            });
        }
        if out.is_empty() && !failed.is_empty() {
            return Err(failed.join("; "));
        }
        let notices = failed
            .into_iter()
            .map(|e| format!("{e}: not measured, and the energy figure leaves it out"))
            .collect();
        Ok((out, notices))
    }
}

impl Sensor for GaudiSensor {
    fn info(&self) -> &SensorInfo {
        &self.info
    }

    fn read(&mut self) -> Result<Reading, String> {
        let h = self.hlml.handle(self.index)?;
        let counter = if self.has_counter {
            self.hlml
                .energy_mj(h)
                .map(|mj| Energy::from_millijoules(mj as f64))
        } else {
            None
        };
        let power = self
            .hlml
            .power_mw(h)
            .map(|mw| Power::from_watts(mw as f64 / 1e3));
        if counter.is_none() && power.is_none() {
            return Err(format!(
                "{}: neither energy nor power could be read",
                self.info.id
            ));
        }
        Ok(Reading {
            counter,
            power,
            power_quality: power.map(|_| Quality::MeasuredPower),
            utilization_pct: None,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn habana_visible_devices_picks_indices() {
        assert_eq!(super::visible(4, None), [0, 1, 2, 3]);
        assert_eq!(super::visible(4, Some("all")), [0, 1, 2, 3]);
        assert_eq!(super::visible(4, Some("2, 0,9")), [2, 0]);
    }
}
