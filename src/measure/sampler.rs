//! The sampler: reads every sensor on its own thread at a fixed interval and integrates the
//! readings as they come, in O(1) memory per sensor.
//!
//! How one sensor's readings become energy (counters preferred, power integrated otherwise,
//! gaps reported) is [`Track`]'s job, in `track.rs`.
//!
//! `mark()` starts the measured window (after warm-up): everything integrated before it is
//! dropped, and the next interval starts at the mark's reading. An optional JSON-lines trace
//! gets one line per reading, flushed every tick, so a killed run leaves a readable trace.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use super::sensor::{Reading, Sensor};
pub use super::track::Track;
pub(crate) use crate::record::DeviceEnergy;
use crate::record::SensorFamily;
use crate::units::{Duration, Energy, Power};

enum Cmd {
    Mark,
    Stop,
}

/// Live figures for a progress display and a runtime budget, updated every tick: the counted
/// sensors only, as the report's total counts them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Live {
    pub(crate) power: Power,
    pub(crate) energy: Energy,
    pub(crate) elapsed: Duration,
    /// GPUs being read (1 for a CPU-only measurement): device-hours = elapsed × this.
    pub(crate) devices: f64,
}

/// What the sampler thread returns.
#[derive(Clone, Debug)]
pub(crate) struct SamplerOutput {
    pub(crate) devices: Vec<DeviceEnergy>,
    /// Wall time of the measured window (from `mark`, else from the start).
    pub(crate) window: Duration,
    /// CPU time the sampler thread itself used.
    pub(crate) sampler_cpu: Duration,
    pub(crate) ticks: u64,
    pub(crate) interval: Duration,
    /// The first error writing the trace, if any: the trace is incomplete from there on.
    pub(crate) trace_error: Option<String>,
    /// When the counted energy was drawn: [Unix seconds, joules since the window began].
    pub(crate) energy_timeline: Vec<[f64; 2]>,
}

/// The energy timeline keeps a point at most this often at first (seconds)...
const TIMELINE_STEP_S: f64 = 60.0;
/// ...and at most this many points: past it, every other point is dropped and the step
/// doubles, so a ten-day run keeps a few hours' resolution in a few tens of kilobytes.
const TIMELINE_MAX_POINTS: usize = 2000;

/// A running sampler.
pub(crate) struct Sampler {
    tx: Sender<Cmd>,
    handle: Option<JoinHandle<SamplerOutput>>,
    live: Arc<Mutex<Live>>,
    /// Ticks so far, shared with the sampling thread (tests wait on it).
    #[cfg_attr(not(test), allow(dead_code))]
    ticks: Arc<AtomicU64>,
}

fn thread_cpu() -> Duration {
    Duration::from_seconds(crate::platform::thread_cpu_seconds())
}

/// A JSON-lines trace, one line per reading. Each tick's lines are written with one `write`
/// of whole lines, so a process killed at any moment leaves only complete lines behind.
pub(crate) struct Trace {
    file: std::fs::File,
    pending: String,
    /// The first write error: reported with the measurement, never silent.
    error: Option<String>,
}

impl Trace {
    pub(crate) fn create(path: &std::path::Path) -> std::io::Result<Trace> {
        Ok(Trace {
            file: crate::files::create_stream(path)?,
            pending: String::new(),
            error: None,
        })
    }

    fn line(&mut self, v: serde_json::Value) {
        self.pending.push_str(&v.to_string());
        self.pending.push('\n');
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            if let Err(e) = self.file.write_all(self.pending.as_bytes()) {
                self.error.get_or_insert_with(|| e.to_string());
            }
            self.pending.clear();
        }
    }
}

impl Sampler {
    #[cfg(test)]
    /// Starts reading `sensors` every `interval` on a new thread (one reading right away).
    pub(crate) fn start(
        sensors: Vec<Box<dyn Sensor>>,
        interval: Duration,
        trace: Option<Trace>,
    ) -> Sampler {
        Sampler::start_with(sensors, interval, trace, None)
    }

    /// Same, also replacing a Prometheus text file at every tick.
    pub(crate) fn start_with(
        sensors: Vec<Box<dyn Sensor>>,
        interval: Duration,
        trace: Option<Trace>,
        textfile: Option<super::textfile::Textfile>,
    ) -> Sampler {
        let (tx, rx): (Sender<Cmd>, Receiver<Cmd>) = channel();
        let live = Arc::new(Mutex::new(Live::default()));
        let ticks = Arc::new(AtomicU64::new(0));
        let worker = Worker::new(
            sensors,
            interval,
            trace,
            textfile,
            live.clone(),
            ticks.clone(),
        );
        let handle = std::thread::Builder::new()
            .name("footprint-sampler".into())
            .spawn(move || worker.run(rx))
            .expect("spawn the sampler thread");
        Sampler {
            tx,
            handle: Some(handle),
            live,
            ticks,
        }
    }

    /// Starts the measured window now.
    pub(crate) fn mark(&self) {
        let _ = self.tx.send(Cmd::Mark);
    }

    /// The latest live figures.
    pub(crate) fn live(&self) -> Live {
        self.live.lock().map(|l| *l).unwrap_or_default()
    }

    #[cfg(test)]
    pub(crate) fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    /// Takes a last reading and returns everything measured in the window.
    pub(crate) fn stop(mut self) -> SamplerOutput {
        let _ = self.tx.send(Cmd::Stop);
        self.handle
            .take()
            .expect("stopped once")
            .join()
            .expect("the sampler thread does not panic")
    }
}

/// The sampler thread's state: the sensors, one [`Track`] each, and where readings go.
struct Worker {
    sensors: Vec<Box<dyn Sensor>>,
    tracks: Vec<Track>,
    interval: Duration,
    trace: Option<Trace>,
    textfile: Option<super::textfile::Textfile>,
    textfile_error: Option<String>,
    live: Arc<Mutex<Live>>,
    ticks: Arc<AtomicU64>,
    start: Instant,
    /// Seconds from `start` to the mark (0 without one).
    window_start: f64,
    /// `start` as Unix seconds, for the energy timeline.
    unix_start: f64,
    timeline: Vec<[f64; 2]>,
    timeline_step: f64,
}

impl Worker {
    fn new(
        sensors: Vec<Box<dyn Sensor>>,
        interval: Duration,
        trace: Option<Trace>,
        textfile: Option<super::textfile::Textfile>,
        live: Arc<Mutex<Live>>,
        ticks: Arc<AtomicU64>,
    ) -> Worker {
        let tracks = sensors
            .iter()
            .map(|s| Track::new(s.info().clone()))
            .collect();
        Worker {
            sensors,
            tracks,
            interval,
            trace,
            textfile,
            textfile_error: None,
            live,
            ticks,
            start: Instant::now(),
            window_start: 0.0,
            unix_start: super::now_unix(),
            timeline: Vec::new(),
            timeline_step: TIMELINE_STEP_S,
        }
    }

    /// The counted sensors' energy since the window began.
    fn counted_energy(&self) -> Energy {
        let has_rapl = self
            .tracks
            .iter()
            .any(|t| SensorFamily::of(&t.info.id) == SensorFamily::Rapl);
        self.tracks
            .iter()
            .filter(|t| super::counts(t.info.kind, &t.info.id, has_rapl))
            .map(Track::energy_so_far)
            .sum()
    }

    /// Adds a point to the energy timeline when one is due (`force`: always).
    fn timeline_point(&mut self, force: bool) {
        let now = self.unix_start + self.start.elapsed().as_secs_f64();
        let due = self
            .timeline
            .last()
            .is_none_or(|p| now - p[0] >= self.timeline_step);
        if !(due || force) {
            return;
        }
        let j = self.counted_energy().joules();
        self.timeline.push([now, j]);
        if self.timeline.len() > TIMELINE_MAX_POINTS {
            let last = self.timeline.len() - 1;
            let mut i = 0;
            self.timeline.retain(|_| {
                let keep = i % 2 == 0 || i == last;
                i += 1;
                keep
            });
            self.timeline_step *= 2.0;
        }
    }

    /// Reads every `interval` until told to stop; a mark restarts the window.
    fn run(mut self, rx: Receiver<Cmd>) -> SamplerOutput {
        self.start = Instant::now();
        self.unix_start = super::now_unix();
        // A counter that starts at zero when the measured thing starts (a child's CPU time)
        // loses nothing between the start and the first reading.
        for tr in self.tracks.iter_mut().filter(|t| t.info.counts_from_zero) {
            tr.add(
                0.0,
                Ok(Reading {
                    counter: Some(Energy::ZERO),
                    ..Reading::default()
                }),
            );
        }
        if let Some(tr) = self.trace.as_mut() {
            tr.line(serde_json::json!({
                "trace": "footprint", "version": 1,
                "interval_ms": self.interval.seconds() * 1e3,
                "sensors": self.sensors.iter().map(|s| s.info()).collect::<Vec<_>>(),
            }));
        }
        let period = std::time::Duration::from_secs_f64(self.interval.seconds().max(0.001));
        let mut next = Instant::now();
        let mut n = 0u64;
        loop {
            self.read_all();
            n += 1;
            self.ticks.store(n, Ordering::Relaxed);
            self.publish();
            self.timeline_point(false);
            next += period;
            let now = Instant::now();
            if next < now {
                next = now; // fell behind (a slow sensor): no burst to catch up
            }
            match rx.recv_timeout(next - now) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(Cmd::Mark) => self.mark(),
                Ok(Cmd::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    self.read_all();
                    break;
                }
            }
        }
        self.finish(n)
    }

    /// One reading of every sensor, traced and integrated.
    fn read_all(&mut self) {
        for (s, tr) in self.sensors.iter_mut().zip(self.tracks.iter_mut()) {
            let r = s.read();
            let t = self.start.elapsed().as_secs_f64();
            if let Some(out) = self.trace.as_mut() {
                out.line(match &r {
                    Ok(r) => serde_json::json!({
                        "t": t, "sensor": tr.info.id,
                        "power_w": r.power.map(|p| p.watts()),
                        "counter_j": r.counter.map(|c| c.joules()),
                    }),
                    Err(e) => serde_json::json!({"t": t, "sensor": tr.info.id, "error": e}),
                });
            }
            tr.add(t, r);
        }
    }

    /// After a tick: the live figures (counted sensors only), the trace's lines, the
    /// Prometheus text file.
    fn publish(&mut self) {
        if let Ok(mut l) = self.live.lock() {
            let has_rapl = self
                .tracks
                .iter()
                .any(|t| SensorFamily::of(&t.info.id) == SensorFamily::Rapl);
            let counted = || {
                self.tracks
                    .iter()
                    .filter(|t| super::counts(t.info.kind, &t.info.id, has_rapl))
            };
            let gpus = counted()
                .filter(|t| t.info.kind == super::sensor::DeviceKind::Gpu)
                .count();
            *l = Live {
                power: counted().filter_map(Track::last_power).sum(),
                energy: counted().map(Track::energy_so_far).sum(),
                elapsed: Duration::from_seconds(
                    self.start.elapsed().as_secs_f64() - self.window_start,
                ),
                devices: gpus.max(1) as f64,
            };
        }
        if let Some(out) = self.trace.as_mut() {
            out.flush();
        }
        if let Some(tf) = &self.textfile
            && let Err(e) = tf.write(&self.tracks)
        {
            self.textfile_error.get_or_insert_with(|| e.to_string());
        }
    }

    /// The measured window starts now: a reading, then everything before it is dropped.
    fn mark(&mut self) {
        self.read_all();
        self.tracks.iter_mut().for_each(Track::reset);
        self.window_start = self.start.elapsed().as_secs_f64();
        self.timeline.clear();
        self.timeline_point(true);
        if let Some(out) = self.trace.as_mut() {
            out.line(serde_json::json!({"t": self.window_start, "event": "mark"}));
        }
    }

    fn finish(mut self, ticks: u64) -> SamplerOutput {
        self.timeline_point(true);
        let end = self.start.elapsed().as_secs_f64();
        if let Some(out) = self.trace.as_mut() {
            out.line(serde_json::json!({"t": end, "event": "stop"}));
            out.flush();
        }
        SamplerOutput {
            devices: self.tracks.iter().map(Track::result).collect(),
            window: Duration::from_seconds(end - self.window_start),
            sampler_cpu: thread_cpu(),
            ticks,
            interval: self.interval,
            trace_error: self
                .trace
                .and_then(|t| t.error.map(|e| format!("the trace: {e}")))
                .or(self
                    .textfile_error
                    .map(|e| format!("the Prometheus text file: {e}"))),
            energy_timeline: self.timeline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sensor::synthetic::{Shape, SyntheticSensor};
    use super::*;
    use crate::record::Quality;

    /// Feeds a synthetic sensor at fixed times: no threads, no clock.
    fn integrate(mut s: SyntheticSensor, times: &[f64]) -> DeviceEnergy {
        let mut tr = Track::new(s.info().clone());
        for &t in times {
            s.fixed_time = Some(t);
            tr.add(t, s.read());
        }
        tr.result()
    }

    fn grid(from: f64, to: f64, step: f64) -> Vec<f64> {
        let n = ((to - from) / step).round() as usize;
        (0..=n).map(|i| from + i as f64 * step).collect()
    }

    #[test]
    fn constant_power_exact_by_counter_and_by_trapezoid() {
        let t = grid(0.0, 10.0, 0.1);
        let c = integrate(SyntheticSensor::new("c", Shape::Constant(300.0), true), &t);
        assert!((c.energy_j - 3000.0).abs() < 1e-6, "{}", c.energy_j);
        assert_eq!(c.source, Quality::MeasuredCounter);
        let p = integrate(SyntheticSensor::new("p", Shape::Constant(300.0), false), &t);
        assert!((p.energy_j - 3000.0).abs() < 1e-6);
        assert_eq!(p.source, Quality::MeasuredPower);
        let stats = p.power_w.unwrap();
        assert_eq!((stats.min, stats.max), (300.0, 300.0));
        assert!((stats.mean - 300.0).abs() < 1e-9);
    }

    #[test]
    fn ramp_is_exact_by_trapezoid() {
        let shape = Shape::Ramp {
            start: 100.0,
            slope: 20.0,
        };
        let t = grid(0.0, 5.0, 0.1);
        let p = integrate(SyntheticSensor::new("p", shape, false), &t);
        assert!(
            (p.energy_j - shape.energy(5.0)).abs() < 1e-6,
            "{}",
            p.energy_j
        );
        let c = integrate(SyntheticSensor::new("c", shape, true), &t);
        assert!((c.energy_j - shape.energy(5.0)).abs() < 1e-6);
        let stats = c.power_w.unwrap();
        assert_eq!((stats.min, stats.max), (100.0, 200.0));
    }

    #[test]
    fn step_exact_by_counter_and_within_one_interval_by_power() {
        let shape = Shape::Step {
            before: 50.0,
            after: 650.0,
            at: 2.05,
        };
        let t = grid(0.0, 4.0, 0.1);
        let c = integrate(SyntheticSensor::new("c", shape, true), &t);
        assert!((c.energy_j - shape.energy(4.0)).abs() < 1e-6);
        let p = integrate(SyntheticSensor::new("p", shape, false), &t);
        // the trapezoid misses at most half a step × one interval
        assert!((p.energy_j - shape.energy(4.0)).abs() <= 600.0 * 0.1 / 2.0 + 1e-9);
    }

    #[test]
    fn counter_wrap_around_is_added_back() {
        let shape = Shape::Constant(1000.0);
        let t = grid(0.0, 10.0, 0.25);
        // wraps every 3.3 s: three times in 10 s
        let s = SyntheticSensor::new("w", shape, true).wrapping_at(Energy::from_joules(3300.0));
        let r = integrate(s, &t);
        assert!((r.energy_j - 10_000.0).abs() < 1e-6, "{}", r.energy_j);
        assert_eq!(r.source, Quality::MeasuredCounter);
    }

    #[test]
    fn counter_reset_without_known_range_falls_back_to_power() {
        let mut s = SyntheticSensor::new("r", Shape::Constant(100.0), true);
        let mut tr = Track::new(s.info().clone());
        for (t, fake) in [(0.0, 0.0), (1.0, 100.0), (2.0, 5.0), (3.0, 105.0)] {
            s.fixed_time = Some(t);
            let mut r = s.read().unwrap();
            r.counter = Some(Energy::from_joules(fake));
            tr.add(t, Ok(r));
        }
        let r = tr.result();
        assert!((r.energy_j - 300.0).abs() < 1e-9, "{}", r.energy_j);
        assert_eq!(r.source, Quality::MeasuredPower);
        assert!(r.notes.iter().any(|n| n.contains("backwards")));
    }

    #[test]
    fn failures_are_gaps_not_the_end() {
        // a counter loses nothing across failed reads
        let s = SyntheticSensor::new("f", Shape::Constant(200.0), true).failing(2.0, 3.0);
        let r = integrate(s, &grid(0.0, 5.0, 0.1));
        assert!((r.energy_j - 1000.0).abs() < 1e-6);
        assert_eq!(r.failed_reads, 10);
        assert!(r.first_error.is_some());
        assert!(r.notes.iter().any(|n| n.contains("failed read")));
    }

    #[test]
    fn a_counter_that_does_not_move_uses_power() {
        let mut s = SyntheticSensor::new("z", Shape::Constant(400.0), true);
        let mut tr = Track::new(s.info().clone());
        for t in [0.0, 0.01, 0.02, 0.03] {
            s.fixed_time = Some(t);
            let mut r = s.read().unwrap();
            r.counter = Some(Energy::from_joules(1234.0));
            tr.add(t, Ok(r));
        }
        let r = tr.result();
        assert!((r.energy_j - 12.0).abs() < 1e-9);
        assert_eq!(r.source, Quality::MeasuredPower);
        assert!(r.notes[0].contains("did not advance"));
    }

    #[test]
    fn reset_starts_the_window_at_the_mark() {
        let mut s = SyntheticSensor::new("m", Shape::Constant(100.0), true);
        let mut tr = Track::new(s.info().clone());
        for t in grid(0.0, 10.0, 0.5) {
            s.fixed_time = Some(t);
            tr.add(t, s.read());
            if t == 4.0 {
                tr.reset();
            }
        }
        let r = tr.result();
        assert!((r.energy_j - 600.0).abs() < 1e-9);
        assert!((r.duration_s - 6.0).abs() < 1e-9);
    }

    /// The threaded sampler against real time: a constant 250 W sensor over ~0.5 s.
    #[test]
    fn threaded_sampler_measures_the_window() {
        let s = SyntheticSensor::new("live", Shape::Constant(250.0), true);
        let sampler = Sampler::start(vec![Box::new(s)], Duration::from_seconds(0.02), None);
        std::thread::sleep(std::time::Duration::from_millis(100));
        sampler.mark();
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(sampler.ticks() > 5);
        let out = sampler.stop();
        let d = &out.devices[0];
        // energy = 250 W × the window the sensor itself saw; the sensor's clock and the
        // sampler's are read a moment apart, which a loaded CI machine can stretch to ms
        assert!(
            (d.energy_j - 250.0 * d.duration_s).abs() < 250.0 * 0.01,
            "{} vs {}",
            d.energy_j,
            d.duration_s
        );
        assert!((0.35..1.5).contains(&d.duration_s), "{}", d.duration_s);
        assert!(out.sampler_cpu.seconds() < out.window.seconds());
    }

    #[test]
    fn trace_lines_are_json() {
        let dir = std::env::temp_dir().join(format!("fp-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.jsonl");
        let s = SyntheticSensor::new("tr", Shape::Constant(10.0), false);
        let sampler = Sampler::start(
            vec![Box::new(s)],
            Duration::from_seconds(0.01),
            Some(Trace::create(&path).unwrap()),
        );
        std::thread::sleep(std::time::Duration::from_millis(60));
        sampler.mark();
        std::thread::sleep(std::time::Duration::from_millis(30));
        sampler.stop();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["trace"], "footprint");
        assert!(lines.iter().any(|l| l["event"] == "mark"));
        assert_eq!(lines.last().unwrap()["event"], "stop");
        assert!(lines.iter().filter(|l| l["sensor"] == "tr").count() >= 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
