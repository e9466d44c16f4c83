//! The CPU-time model: always available, always labelled `modelled`.
//!
//! Where no hardware counter can be read (no RAPL, or RAPL root-only), the CPU energy of the
//! measured processes is modelled as
//!
//! ```text
//! E_cpu = CPU seconds × (TDP ÷ hardware threads of the chip)
//! E_ram = ∫ resident memory (GB) × W per GB dt
//! ```
//!
//! i.e. a busy hardware thread is charged its share of the package TDP, and resident memory
//! its share of DIMM power. The CPU is named by the platform (`/proc/cpuinfo` on Linux,
//! `sysctl` on macOS, the registry on Windows) and looked up in the embedded CPU table; an unknown CPU gets a documented default per thread. CPU seconds are those of
//! the process itself (training mode) or of the wrapped command's whole process tree,
//! including children that already exited.

use super::{DeviceKind, Quality, Reading, Sensor, SensorInfo};
pub(crate) use crate::platform::cpu::CpuFacts;
use crate::profiles::CpuTable;
use crate::units::{Duration, Energy, Power};

/// Whose CPU time is modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// This process (the in-process training loop).
    SelfProcess,
    /// A child process and all its descendants.
    Tree(i32),
}

/// Power per busy hardware thread, and where it came from.
pub(crate) fn watts_per_thread(facts: &CpuFacts, table: &CpuTable) -> (f64, String) {
    match table.lookup(&facts.model_name) {
        Some((name, tdp)) => (
            tdp / facts.chip_threads as f64,
            format!(
                "{name}: TDP {tdp} W ({}) / {} hardware threads",
                table.source_of(name),
                facts.chip_threads
            ),
        ),
        None => {
            let d = table.default_w_per_thread.as_ref().map_or(4.0, |s| s.value);
            let why = table
                .default_w_per_thread
                .as_ref()
                .map(|s| s.citation())
                .unwrap_or_default();
            (
                d,
                format!(
                    "'{}' is not in the CPU table: default {d} W per thread ({why})",
                    facts.model_name
                ),
            )
        }
    }
}

use crate::platform::process_rss_bytes;
pub(crate) use crate::platform::{children_cpu_seconds, self_cpu_seconds, tree_usage};

/// The CPU-time model as a sensor.
pub struct CpuModel {
    info: SensorInfo,
    scope: Scope,
    w_per_thread: f64,
    ram_w_per_gb: f64,
    /// The model's cumulative energy, and the CPU seconds and time at the last read.
    energy: Energy,
    last_cpu_s: Option<f64>,
    last_at: Option<std::time::Instant>,
    cpu_s_total: f64,
}

impl CpuModel {
    /// The model for this machine's CPU, as the platform describes it.
    pub fn here(scope: Scope, table: &CpuTable) -> CpuModel {
        CpuModel::new(scope, table, crate::platform::cpu_facts())
    }

    pub(crate) fn new(scope: Scope, table: &CpuTable, facts: CpuFacts) -> CpuModel {
        let (w_per_thread, basis) = watts_per_thread(&facts, table);
        let ram = table.ram_w_per_gb.as_ref();
        let ram_w_per_gb = ram.map_or(0.375, |s| s.value);
        let whose = match scope {
            Scope::SelfProcess => "this process".to_string(),
            Scope::Tree(pid) => format!("process tree of pid {pid}"),
        };
        CpuModel {
            info: SensorInfo {
                id: crate::record::SensorFamily::cpu_model_id(),
                name: format!("{} (CPU-time model)", facts.model_name),
                kind: DeviceKind::Cpu,
                quality: Quality::Modelled,
                counter_wrap: None,
                counts_from_zero: false,
                // Every visible thread busy, plus the memory's share at its most.
                max_power: Some(Power::from_watts(
                    w_per_thread * facts.threads.max(1) as f64
                        + ram_w_per_gb * crate::platform::total_memory_bytes().unwrap_or(0.0) / 1e9,
                )),
                details: serde_json::json!({
                    "formula": "CPU seconds x W per thread + resident GB x W per GB x time",
                    "scope": whose,
                    "cpu": facts.model_name,
                    "threads_visible": facts.threads,
                    "sockets": facts.sockets,
                    "chip_threads": facts.chip_threads,
                    "w_per_thread": w_per_thread,
                    "w_per_thread_basis": basis,
                    "ram_w_per_gb": ram_w_per_gb,
                    "ram_w_per_gb_basis": ram.map(|s| s.citation()),
                }),
            },
            scope,
            w_per_thread,
            ram_w_per_gb,
            energy: Energy::ZERO,
            last_cpu_s: None,
            last_at: None,
            cpu_s_total: 0.0,
        }
    }

    /// Counts CPU time from zero rather than from the first reading: for a child spawned just
    /// before the sampler started, nothing it used is lost.
    pub(crate) fn start_at_zero(&mut self) {
        self.last_cpu_s = Some(0.0);
        self.info.counts_from_zero = true;
    }

    #[cfg(test)]
    /// Watts charged per busy hardware thread.
    pub(crate) fn w_per_thread(&self) -> f64 {
        self.w_per_thread
    }

    #[cfg(test)]
    /// CPU seconds seen so far.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        self.cpu_s_total
    }

    /// (CPU seconds, resident bytes) now.
    fn usage(&self) -> (f64, f64) {
        match self.scope {
            Scope::SelfProcess => (
                self_cpu_seconds(),
                process_rss_bytes(std::process::id() as i32),
            ),
            Scope::Tree(pid) => tree_usage(pid).unwrap_or_else(|| (children_cpu_seconds(), 0.0)),
        }
    }

    /// Advances the model to a new observation (exposed for tests).
    pub(crate) fn observe(&mut self, cpu_s: f64, rss_bytes: f64, dt: Duration) -> Reading {
        // CPU time of a tree can dip when a child exits before it is reaped: never go back.
        let cpu_s = self.last_cpu_s.map_or(cpu_s, |l| cpu_s.max(l));
        let d_cpu = self.last_cpu_s.map_or(0.0, |l| cpu_s - l);
        self.cpu_s_total += d_cpu;
        self.last_cpu_s = Some(cpu_s);
        let ram_w = rss_bytes / 1e9 * self.ram_w_per_gb;
        let cpu_e = Energy::from_joules(d_cpu * self.w_per_thread);
        let ram_e = Power::from_watts(ram_w) * dt;
        self.energy += cpu_e + ram_e;
        let power = if dt.seconds() > 0.0 {
            Some((cpu_e + ram_e) / dt)
        } else {
            None
        };
        Reading {
            counter: Some(self.energy),
            power,
            power_quality: Some(Quality::Modelled),
            utilization_pct: (dt.seconds() > 0.0).then(|| 100.0 * d_cpu / dt.seconds()),
        }
    }
}

impl Sensor for CpuModel {
    fn info(&self) -> &SensorInfo {
        &self.info
    }

    fn read(&mut self) -> Result<Reading, String> {
        let now = std::time::Instant::now();
        let dt = self
            .last_at
            .map_or(Duration::ZERO, |t| Duration::from(now - t));
        self.last_at = Some(now);
        let (cpu_s, rss) = self.usage();
        Ok(self.observe(cpu_s, rss, dt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::cpu::cpu_facts;
    use crate::profiles::Registry;

    const EPYC_VM: &str = "processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core Processor\nphysical id\t: 0\nsiblings\t: 2\ncpu cores\t: 1\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7763 64-Core Processor\nphysical id\t: 0\nsiblings\t: 2\ncpu cores\t: 1\n";

    #[test]
    fn a_vm_is_charged_its_share_of_the_whole_chip() {
        let f = cpu_facts(EPYC_VM);
        assert_eq!(f.threads, 2);
        assert_eq!(
            f.chip_threads, 128,
            "64 cores × SMT 2, not the 2 the VM sees"
        );
        let (w, basis) = watts_per_thread(&f, Registry::embedded().cpus());
        assert!((w - 280.0 / 128.0).abs() < 1e-9);
        assert!(basis.contains("AMD EPYC 7763"));
    }

    #[test]
    fn unknown_cpu_gets_the_documented_default() {
        let f = cpu_facts("processor : 0\nmodel name : AMD EPYC\n");
        let (w, basis) = watts_per_thread(&f, Registry::embedded().cpus());
        assert_eq!(w, 4.0);
        assert!(basis.contains("not in the CPU table"), "{basis}");
    }

    #[test]
    fn model_integrates_cpu_seconds_and_memory() {
        let mut m = CpuModel::new(
            Scope::SelfProcess,
            Registry::embedded().cpus(),
            cpu_facts(""),
        );
        let w = m.w_per_thread();
        m.observe(10.0, 0.0, Duration::ZERO);
        // 2 CPU seconds in 1 s and 8 GB resident
        let r = m.observe(12.0, 8e9, Duration::from_seconds(1.0));
        let want = 2.0 * w + 8.0 * 0.375;
        assert!((r.counter.unwrap().joules() - want).abs() < 1e-9);
        assert!((r.power.unwrap().watts() - want).abs() < 1e-9);
        assert_eq!(r.utilization_pct, Some(200.0));
        // a dip in tree CPU time is not negative energy
        let r = m.observe(11.0, 0.0, Duration::from_seconds(1.0));
        assert!((r.counter.unwrap().joules() - want).abs() < 1e-9);
        assert_eq!(m.cpu_seconds(), 2.0);
    }

    /// The model on a real busy loop: a thread spinning for ~0.5 s is charged about
    /// 0.5 s × W per thread.
    #[test]
    fn real_busy_loop_is_charged() {
        let mut m = CpuModel::here(Scope::SelfProcess, Registry::embedded().cpus());
        m.read().unwrap();
        // Spin until this process has used 0.5 CPU-s (not 0.5 s of wall time: on a loaded
        // machine the thread gets less than a core), or 20 s have passed.
        let (t0, cpu0) = (
            std::time::Instant::now(),
            crate::platform::self_cpu_seconds(),
        );
        let mut x = 0u64;
        while crate::platform::self_cpu_seconds() - cpu0 < 0.5
            && t0.elapsed() < std::time::Duration::from_secs(20)
        {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
        }
        std::hint::black_box(x);
        let r = m.read().unwrap();
        let cpu = m.cpu_seconds();
        assert!(cpu > 0.4 && cpu < 1.5, "busy loop CPU seconds {cpu}");
        let e = r.counter.unwrap().joules();
        assert!(
            e >= cpu * m.w_per_thread() * 0.999,
            "energy {e} for {cpu} s"
        );
    }

    #[test]
    fn tree_usage_of_a_child() {
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 0.2",
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let live = tree_usage(child.id() as i32);
        assert!(live.is_some());
        child.wait().unwrap();
        assert!(tree_usage(child.id() as i32).is_none());
        assert!(children_cpu_seconds() > 0.0);
    }
}
