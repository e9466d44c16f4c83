//! The NVML path, end to end, without a GPU: a fake `libnvidia-ml.so.1` (tests/fake-nvml/,
//! compiled here with `cc`) is loaded by the real binary through the dynamic loader, and
//! scripted to be the GPUs each test needs: counters or none, power traces, a counter reset,
//! a GPU lost mid-run, UUIDs and MIG instances for `CUDA_VISIBLE_DEVICES`.
#![cfg(target_os = "linux")]

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The directory holding the compiled fake library, built once per test run.
fn fake_lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| fake_library("fake-nvml/fake_nvml.c", "libnvidia-ml.so.1"))
}

/// Runs `footprint measure` on `sleep SECONDS` with the fake NVML scripted by `script`.
/// `env` may set `CUDA_VISIBLE_DEVICES`; it is removed otherwise.
fn measure_with(
    script: &str,
    args: &[&str],
    seconds: &str,
    env: &[(&str, &str)],
) -> (Run, PathBuf) {
    let d = tempdir("nvml");
    let script_path = d.join("gpus.txt");
    std::fs::write(&script_path, script).unwrap();
    let out = d.join("report.json");
    let mut c = Command::new(bin());
    c.arg("measure")
        .arg("--no-progress")
        .args(["--interval-ms", "50", "-o"])
        .arg(&out)
        .args(args)
        .args(["--", "sleep", seconds])
        .current_dir(root())
        .env_remove("CUDA_VISIBLE_DEVICES")
        .env_remove("CUDA_DEVICE_ORDER")
        .env("LD_LIBRARY_PATH", fake_lib_dir())
        .env("FAKE_NVML_SCRIPT", &script_path);
    for (k, v) in env {
        c.env(k, v);
    }
    (
        finish(c.stdin(Stdio::null()).output().expect("the binary runs")),
        out,
    )
}

fn report(r: &Run, out: &Path) -> serde_json::Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    json(&std::fs::read_to_string(out).unwrap())["measurement"].clone()
}

fn gpu_sensors(m: &serde_json::Value) -> Vec<serde_json::Value> {
    m["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "gpu")
        .cloned()
        .collect()
}

fn ids(m: &serde_json::Value) -> Vec<String> {
    gpu_sensors(m)
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn notices(m: &serde_json::Value) -> String {
    m["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

const TWO: &str = "driver 550.54.15
gpu uuid=GPU-0a11 power=300 limit=700 util=90 name=NVIDIA H100 80GB HBM3
gpu uuid=GPU-1b22 power=200 limit=700 util=40 name=NVIDIA H100 80GB HBM3
";

#[test]
fn two_gpus_by_counter_are_summed_and_labelled() {
    let (r, out) = measure_with(TWO, &[], "1", &[]);
    let m = report(&r, &out);
    let g = gpu_sensors(&m);
    assert_eq!(ids(&m), ["nvml:0", "nvml:1"]);
    for (s, watts) in g.iter().zip([300.0, 200.0]) {
        assert_eq!(s["source"], "measured-counter", "{s}");
        assert_eq!(s["name"], "NVIDIA H100 80GB HBM3");
        assert!((mean_w(s) / watts - 1.0).abs() < 0.05, "{watts} W: {s}");
        assert_eq!(s["details"]["power_limit_w"], 700.0);
    }
    assert_eq!(g[1]["details"]["uuid"], "GPU-1b22");
    assert!((g[0]["utilization_pct_mean"].as_f64().unwrap() - 90.0).abs() < 1e-9);
    // both GPUs are in the total, by counter
    let counted: Vec<&str> = m["counted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(counted.contains(&"nvml:0") && counted.contains(&"nvml:1"));
    let gpu_j: f64 = g.iter().map(|s| s["energy_j"].as_f64().unwrap()).sum();
    assert!(m["energy_j"].as_f64().unwrap() >= gpu_j);
    assert!(
        m["energy_source"]
            .as_str()
            .unwrap()
            .contains("nvml:0 measured-counter")
    );
    assert_eq!(m["devices_used"], 2.0);
}

#[test]
fn without_a_counter_power_is_integrated_and_labelled_so() {
    let script = "gpu counter=no instant=yes trace=100,400 step=0.2 name=NVIDIA A100-SXM4-80GB\n";
    let (r, out) = measure_with(script, &[], "1.2", &[]);
    let m = report(&r, &out);
    let s = &gpu_sensors(&m)[0];
    assert_eq!(s["source"], "measured-power");
    assert_eq!(s["details"]["power_field"], "NVML_FI_DEV_POWER_INSTANT");
    assert_eq!(s["counter_energy_j"], serde_json::Value::Null);
    // a square wave between 100 and 400 W averages 250 W
    assert!((mean_w(s) / 250.0 - 1.0).abs() < 0.15, "{s}");
    let p = &s["power_w"];
    assert_eq!(
        (p["min"].as_f64(), p["max"].as_f64()),
        (Some(100.0), Some(400.0))
    );
}

#[test]
fn a_counter_that_restarts_falls_back_to_power_for_that_window() {
    let script = "gpu power=250 reset_after=0.5 counter_start_mj=900000000 name=NVIDIA H100\n";
    let (r, out) = measure_with(script, &[], "1.2", &[]);
    let m = report(&r, &out);
    let s = &gpu_sensors(&m)[0];
    // not 900 kJ lost, not a negative difference: 250 W over the run
    assert!((mean_w(s) / 250.0 - 1.0).abs() < 0.1, "{s}");
    assert!(s["seconds_by_power"].as_f64().unwrap() > 0.0, "{s}");
    assert!(s["seconds_by_counter"].as_f64().unwrap() > 0.0, "{s}");
}

#[test]
fn a_gpu_lost_mid_run_leaves_a_gap_not_a_lost_measurement() {
    let script = "gpu power=300 lost_after=0.6 name=NVIDIA H100\ngpu power=100 name=NVIDIA H100\n";
    let (r, out) = measure_with(script, &[], "1.5", &[]);
    let m = report(&r, &out);
    let g = gpu_sensors(&m);
    assert!(g[0]["failed_reads"].as_u64().unwrap() > 0, "{}", g[0]);
    assert!(
        g[0]["first_error"].as_str().unwrap().contains("GPU 0"),
        "{}",
        g[0]
    );
    assert!(g[0]["gap_seconds"].as_f64().unwrap() > 0.5, "{}", g[0]);
    // the window is the run's; what was read before the loss is kept and the rest is filled
    // at the mean power read, and the report says so
    let (lost, other) = (&g[0], &g[1]);
    let dur = |s: &serde_json::Value| s["duration_s"].as_f64().unwrap();
    assert!((dur(lost) - dur(other)).abs() < 0.2, "{lost}\n{other}");
    assert!((mean_w(lost) / 300.0 - 1.0).abs() < 0.05, "{lost}");
    assert!(
        lost["notes"]
            .to_string()
            .contains("filled at the mean power"),
        "{lost}"
    );
    assert!((mean_w(other) / 100.0 - 1.0).abs() < 0.05, "{other}");
}

#[test]
fn gpus_flag_selects_by_nvml_number_and_refuses_what_it_cannot_read() {
    let (r, out) = measure_with(TWO, &["--gpus", "1"], "0.3", &[]);
    assert_eq!(ids(&report(&r, &out)), ["nvml:1"]);
    let (r, _) = measure_with(TWO, &["--gpus", "4"], "0.3", &[]);
    assert_input_error(&r, &["--gpus", "GPU 4 requested but only 2 visible"]);
    let (r, _) = measure_with(TWO, &["--gpus", "1,1"], "0.3", &[]);
    assert_input_error(&r, &["--gpus", "listed twice"]);
    // --gpus is not renumbered by CUDA_VISIBLE_DEVICES, and the report says so
    let (r, out) = measure_with(
        TWO,
        &["--gpus", "0"],
        "0.3",
        &[("CUDA_VISIBLE_DEVICES", "1")],
    );
    let m = report(&r, &out);
    assert_eq!(ids(&m), ["nvml:0"]);
    assert!(notices(&m).contains("does not renumber"), "{}", notices(&m));
}

#[test]
fn cuda_visible_devices_limits_what_is_read() {
    let three = format!("{TWO}gpu uuid=GPU-2c33 power=150 name=NVIDIA L4\n");
    let cases: &[(&str, &[&str])] = &[
        ("2,0", &["nvml:2", "nvml:0"]),
        ("GPU-1b22", &["nvml:1"]),
        ("GPU-2c", &["nvml:2"]), // a unique prefix, as CUDA accepts
        ("1,7,0", &["nvml:1"]),  // CUDA stops at the first entry that names no GPU
    ];
    for (visible, want) in cases {
        let (r, out) = measure_with(&three, &[], "0.3", &[("CUDA_VISIBLE_DEVICES", visible)]);
        let m = report(&r, &out);
        assert_eq!(&ids(&m), want, "CUDA_VISIBLE_DEVICES={visible}");
    }
    let (r, out) = measure_with(&three, &[], "0.3", &[("CUDA_VISIBLE_DEVICES", "1,7,0")]);
    assert!(notices(&report(&r, &out)).contains("\"7\" names no GPU here"));
    // indices on a node of mixed GPUs: CUDA's order may differ from nvidia-smi's
    let (r, out) = measure_with(&three, &[], "0.3", &[("CUDA_VISIBLE_DEVICES", "2")]);
    assert!(notices(&report(&r, &out)).contains("CUDA_DEVICE_ORDER=PCI_BUS_ID"));
    // -1 hides every GPU: the run is measured on the CPU and says why
    let (r, out) = measure_with(&three, &[], "0.3", &[("CUDA_VISIBLE_DEVICES", "-1")]);
    let m = report(&r, &out);
    assert!(ids(&m).is_empty());
    assert!(
        notices(&m).contains("leaves no GPU visible"),
        "{}",
        notices(&m)
    );
}

#[test]
fn a_mig_instance_is_read_as_its_whole_gpu_and_said_so() {
    let script = "gpu uuid=GPU-0a11 power=300 name=NVIDIA H100 80GB HBM3
gpu uuid=GPU-1b22 power=250 mig=1 name=NVIDIA H100 80GB HBM3
mig parent=1 uuid=MIG-aa01
mig parent=1 uuid=MIG-aa02
";
    let (r, out) = measure_with(
        script,
        &[],
        "0.4",
        &[("CUDA_VISIBLE_DEVICES", "MIG-aa01,MIG-aa02")],
    );
    let m = report(&r, &out);
    // two instances of one GPU: that GPU once, never twice
    assert_eq!(ids(&m), ["nvml:1"]);
    let s = &gpu_sensors(&m)[0];
    assert_eq!(s["details"]["mig_mode"], true);
    assert_eq!(
        s["details"]["mig_instances"],
        serde_json::json!(["MIG-aa01", "MIG-aa02"])
    );
    let n = notices(&m);
    assert!(n.contains("MIG mode") && n.contains("whole GPU"), "{n}");
}

#[test]
fn without_the_library_the_run_is_measured_without_gpus_and_says_so() {
    // the fake refuses to initialise without a script, as NVML does without a driver
    let d = tempdir("nvml-none");
    let out = d.join("r.json");
    let o = Command::new(bin())
        .args(["measure", "--no-progress", "-o"])
        .arg(&out)
        .args(["--", "true"])
        .env("LD_LIBRARY_PATH", fake_lib_dir())
        .env_remove("FAKE_NVML_SCRIPT")
        .env_remove("CUDA_VISIBLE_DEVICES")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert!(ids(m).is_empty());
    assert!(
        notices(m).contains("NVML: libnvidia-ml.so.1 not available"),
        "{}",
        notices(m)
    );
}

/// One GPU that cannot be opened does not drop the others: they are measured, and the
/// failed one is named with why, and that the energy figure leaves it out.
#[test]
fn one_gpu_that_cannot_be_opened_leaves_the_others_measured() {
    let (r, out) = measure_with(
        "driver 550.54.15\ngpu uuid=GPU-0a power=300 counter=yes name=NVIDIA H100 80GB HBM3\ngpu uuid=GPU-1b power=300 counter=yes open=fail name=NVIDIA H100 80GB HBM3\ngpu uuid=GPU-2c power=300 counter=yes name=NVIDIA H100 80GB HBM3\n",
        &[],
        "0.5",
        &[],
    );
    let m = report(&r, &out);
    let ids = ids(&m);
    assert!(
        ids.contains(&"nvml:0".to_string()) && ids.contains(&"nvml:2".to_string()),
        "{ids:?}"
    );
    assert!(!ids.contains(&"nvml:1".to_string()), "{ids:?}");
    let n = notices(&m);
    assert!(n.contains("GPU 1") && n.contains("not measured"), "{n}");
}
