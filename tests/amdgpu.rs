//! AMD GPUs without the hardware: a fake sysfs tree (amdgpu cards with hwmon files, written
//! while the run goes on) under `FOOTPRINT_SYSFS_ROOT`, and a fake AMD SMI library
//! (tests/fake-amdsmi/) and a fake Habana hlml for Intel Gaudi (tests/fake-hlml/), compiled
//! here with `cc`, all read by the real binary.
#![cfg(target_os = "linux")]

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One fake card: `cardN` with its PCI slot, vendor, name, UUID and hwmon directory.
fn card(
    root: &Path,
    n: u32,
    slot: &str,
    vendor: &str,
    product: Option<&str>,
    uid: &str,
) -> PathBuf {
    let dev = root.join(format!("class/drm/card{n}/device"));
    let hwmon = dev.join(format!("hwmon/hwmon{n}"));
    std::fs::create_dir_all(&hwmon).unwrap();
    std::fs::write(dev.join("vendor"), format!("{vendor}\n")).unwrap();
    std::fs::write(dev.join("device"), "0x74a1\n").unwrap();
    std::fs::write(
        dev.join("uevent"),
        format!("DRIVER=amdgpu\nPCI_SLOT_NAME={slot}\n"),
    )
    .unwrap();
    std::fs::write(dev.join("unique_id"), format!("{uid}\n")).unwrap();
    std::fs::write(dev.join("gpu_busy_percent"), "87\n").unwrap();
    if let Some(p) = product {
        std::fs::write(dev.join("product_name"), format!("{p}\n")).unwrap();
    }
    std::fs::write(hwmon.join("name"), "amdgpu\n").unwrap();
    hwmon
}

/// A node: card0 an MI300X with an energy counter at 500 W, card1 a Radeon with a power
/// average of 200 W, plus what discovery must skip (a connector, a render node, an NVIDIA card).
fn node(tag: &str) -> (PathBuf, PathBuf, PathBuf) {
    let root = tempdir(tag);
    let mi = card(
        &root,
        0,
        "0000:c1:00.0",
        "0x1002",
        Some("AMD Instinct MI300X"),
        "a1b2c3d4e5f60718",
    );
    std::fs::write(mi.join("power1_input"), "500000000\n").unwrap();
    std::fs::write(mi.join("energy1_input"), "1000000000\n").unwrap();
    let rx = card(&root, 1, "0000:03:00.0", "0x1002", None, "0f0e0d0c0b0a0908");
    std::fs::write(rx.join("power1_average"), "200000000\n").unwrap();
    let nv = card(&root, 2, "0000:41:00.0", "0x10de", Some("not AMD"), "x");
    std::fs::write(nv.join("power1_average"), "1\n").unwrap();
    std::fs::create_dir_all(root.join("class/drm/card0-DP-1")).unwrap();
    std::fs::create_dir_all(root.join("class/drm/renderD128/device")).unwrap();
    (root, mi, rx)
}

/// Advances card0's energy counter at 500 W until stopped (the driver's job on real cards).
fn counting(mi: PathBuf) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let h = std::thread::spawn(move || {
        let t0 = Instant::now();
        while !s.load(Ordering::Relaxed) {
            let uj = 1e9 + 500.0 * t0.elapsed().as_secs_f64() * 1e6;
            let tmp = mi.join(".energy");
            std::fs::write(&tmp, format!("{uj:.0}\n")).unwrap();
            std::fs::rename(&tmp, mi.join("energy1_input")).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (stop, h)
}

fn measure(sys: &Path, args: &[&str], env: &[(&str, &str)], secs: &str) -> Run {
    let mut c = Command::new(bin());
    c.args(["measure", "--no-progress", "--interval-ms", "50"])
        .args(args)
        .args(["--", "sleep", secs])
        .current_dir(root())
        .env("FOOTPRINT_SYSFS_ROOT", sys)
        .env("LD_LIBRARY_PATH", sys) // no libnvidia-ml or libamd_smi here: sysfs only
        .env_remove("ROCR_VISIBLE_DEVICES")
        .env_remove("HIP_VISIBLE_DEVICES");
    for (k, v) in env {
        c.env(k, v);
    }
    finish(c.stdin(Stdio::null()).output().unwrap())
}

fn fake_amdsmi_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| fake_library("fake-amdsmi/fake_amdsmi.c", "libamd_smi.so"))
}

fn fake_hlml_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| fake_library("fake-hlml/fake_hlml.c", "libhlml.so"))
}

fn report(root: &Path, args: &[&str], env: &[(&str, &str)], secs: &str) -> serde_json::Value {
    let out = root.join("r.json");
    let mut a = vec!["-o", out.to_str().unwrap()];
    a.extend_from_slice(args);
    let r = measure(root, &a, env, secs);
    assert_eq!(r.code, 0, "{}", r.stderr);
    json(&std::fs::read_to_string(out).unwrap())["measurement"].clone()
}

fn amd(m: &serde_json::Value) -> Vec<serde_json::Value> {
    m["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"].as_str().unwrap().starts_with("amdgpu:"))
        .cloned()
        .collect()
}

fn ids(m: &serde_json::Value) -> Vec<String> {
    amd(m)
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn each_card_is_read_by_its_best_source_in_pci_order() {
    let (root, mi, _) = node("amd-two");
    let (stop, h) = counting(mi);
    let m = report(&root, &[], &[], "0.8");
    stop.store(true, Ordering::Relaxed);
    h.join().unwrap();
    // PCI order: the Radeon at 03:00.0 before the MI300X at c1:00.0; the NVIDIA card skipped
    assert_eq!(ids(&m), ["amdgpu:1", "amdgpu:0"]);
    let s = amd(&m);
    let (rx, mi) = (&s[0], &s[1]);
    assert_eq!(mi["name"], "AMD Instinct MI300X");
    assert_eq!(mi["source"], "measured-counter");
    assert!((mean_w(mi) / 500.0 - 1.0).abs() < 0.1, "{mi}");
    assert_eq!(rx["name"], "AMD GPU [1002:74a1]");
    assert_eq!(rx["source"], "measured-power");
    assert!((mean_w(rx) / 200.0 - 1.0).abs() < 0.01, "{rx}");
    assert!(
        rx["details"]["power_file"]
            .as_str()
            .unwrap()
            .contains("average")
    );
    assert_eq!(rx["utilization_pct_mean"], 87.0);
    assert!(m["counted"].to_string().contains("amdgpu:0"));
    assert!(
        m["energy_source"]
            .as_str()
            .unwrap()
            .contains("amdgpu:0 measured-counter")
    );
}

#[test]
fn rocm_visibility_variables_choose_the_cards() {
    let (root, _, _) = node("amd-visible");
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case] = &[
        (&[("ROCR_VISIBLE_DEVICES", "1")], &["amdgpu:0"]),
        (
            &[("ROCR_VISIBLE_DEVICES", "GPU-0f0e0d0c0b0a0908")],
            &["amdgpu:1"],
        ),
        (
            &[
                ("ROCR_VISIBLE_DEVICES", "1,0"),
                ("HIP_VISIBLE_DEVICES", "1"),
            ],
            &["amdgpu:1"],
        ),
        (&[("ROCR_VISIBLE_DEVICES", "0,5,1")], &["amdgpu:1"]),
    ];
    for (env, want) in cases {
        let m = report(&root, &[], env, "0.2");
        assert_eq!(&ids(&m), want, "{env:?}");
    }
    let m = report(&root, &[], &[("ROCR_VISIBLE_DEVICES", "0,5,1")], "0.2");
    assert!(
        m["notices"]
            .to_string()
            .contains("\\\"5\\\" names no AMD GPU"),
        "{}",
        m["notices"]
    );
    // --gpus numbers the AMD cards when there is no NVIDIA GPU, and refuses what is not there
    let m = report(&root, &["--gpus", "1"], &[], "0.2");
    assert_eq!(ids(&m), ["amdgpu:0"]);
    let r = measure(&root, &["--gpus", "4"], &[], "0.2");
    assert_input_error(&r, &["--gpus", "only 2 AMD GPUs"]);
}

#[test]
fn a_card_that_vanishes_leaves_a_labelled_gap_and_the_others_count() {
    let (root, mi, rx) = node("amd-vanish");
    let (stop, h) = counting(mi);
    let gone = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        std::fs::remove_file(rx.join("power1_average")).unwrap();
    });
    let m = report(&root, &[], &[], "1.0");
    stop.store(true, Ordering::Relaxed);
    h.join().unwrap();
    gone.join().unwrap();
    let s = amd(&m);
    let rx = &s[0];
    assert!(rx["failed_reads"].as_u64().unwrap() > 0, "{rx}");
    assert!(
        rx["first_error"].as_str().unwrap().contains("amdgpu:1"),
        "{rx}"
    );
    assert!(
        rx["notes"].to_string().contains("filled at the mean power"),
        "{rx}"
    );
    assert!(
        (mean_w(&s[1]) / 500.0 - 1.0).abs() < 0.1,
        "the other card still counts"
    );
}

#[test]
fn a_card_without_power_files_and_gaudi_devices_are_reported_not_hidden() {
    let root = tempdir("amd-none");
    card(&root, 0, "0000:01:00.0", "0x1002", Some("AMD Radeon"), "1");
    let accel = root.join("class/accel/accel0/device");
    std::fs::create_dir_all(&accel).unwrap();
    std::fs::write(accel.join("vendor"), "0x1da3\n").unwrap();
    let m = report(&root, &[], &[], "0.2");
    assert!(ids(&m).is_empty());
    let n = m["notices"].to_string();
    assert!(n.contains("reports neither energy nor power"), "{n}");
    assert!(
        n.contains("Intel Gaudi") && n.contains("accel0") && n.contains("not measured"),
        "{n}"
    );
    assert!(n.contains("libhlml.so not found"), "{n}");
}

#[test]
fn gaudi_devices_are_read_through_hlml_where_installed() {
    let root_dir = tempdir("gaudi");
    let script = root_dir.join("hlml.txt");
    std::fs::write(
        &script,
        "gaudi power=600 name=HL-325L\ngaudi power=550 counter=no name=HL-325L\ngaudi power=580 name=HL-325L\n",
    )
    .unwrap();
    let lib = fake_hlml_dir().to_str().unwrap().to_string();
    let env = [
        ("LD_LIBRARY_PATH", lib.as_str()),
        ("FAKE_HLML_SCRIPT", script.to_str().unwrap()),
        ("HABANA_VISIBLE_DEVICES", "0,1"),
    ];
    let m = report(&root_dir, &[], &env, "0.6");
    let g: Vec<&serde_json::Value> = m["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"].as_str().unwrap().starts_with("gaudi:"))
        .collect();
    assert_eq!(g.len(), 2, "HABANA_VISIBLE_DEVICES=0,1");
    assert_eq!(
        (g[0]["source"].as_str(), g[1]["source"].as_str()),
        (Some("measured-counter"), Some("measured-power"))
    );
    assert_eq!(g[0]["name"], "HL-325L");
    assert!((mean_w(g[0]) / 600.0 - 1.0).abs() < 0.05, "{}", g[0]);
    assert!((mean_w(g[1]) / 550.0 - 1.0).abs() < 0.02, "{}", g[1]);
    assert!(m["counted"].to_string().contains("gaudi:1"));
}

#[test]
fn amd_smi_energy_is_preferred_where_installed_and_its_failure_falls_back() {
    let (root_dir, _, _) = node("amd-smi");
    let script = root_dir.join("smi.txt");
    // card0 (c1:00.0) through AMD SMI at 450 W, while its hwmon files say 500 W
    std::fs::write(&script, "gpu bdf=0000:c1:00.0 power=450 resolution=15.3\n").unwrap();
    let lib = fake_amdsmi_dir().to_str().unwrap().to_string();
    let env = [
        ("LD_LIBRARY_PATH", lib.as_str()),
        ("FAKE_AMDSMI_SCRIPT", script.to_str().unwrap()),
    ];
    let m = report(&root_dir, &[], &env, "0.6");
    let s = amd(&m);
    let (rx, mi) = (&s[0], &s[1]);
    assert_eq!(mi["details"]["energy_counter"], "amdsmi_get_energy_count");
    assert_eq!(mi["source"], "measured-counter");
    assert!((mean_w(mi) / 450.0 - 1.0).abs() < 0.05, "{mi}");
    // a card AMD SMI does not list keeps the driver's files
    assert_eq!(rx["source"], "measured-power");
    // the counter failing mid-run: those intervals use the driver's power, and say so
    std::fs::write(&script, "gpu bdf=0000:c1:00.0 power=450 fail_after=0.3\n").unwrap();
    let m = report(&root_dir, &[], &env, "0.8");
    let mi = &amd(&m)[1];
    assert_eq!(mi["source"], "measured-power", "{mi}");
    assert!(mi["seconds_by_counter"].as_f64().unwrap() > 0.1, "{mi}");
    assert!(mi["seconds_by_power"].as_f64().unwrap() > 0.1, "{mi}");
    assert!(
        mi["notes"].to_string().contains("power samples used there"),
        "{mi}"
    );
}

/// A tree under `FOOTPRINT_SYSFS_ROOT` can hold anything: a FIFO where a power file should be,
/// a link to `/dev/zero` where the vendor is. Reading it never blocks and never reads
/// gigabytes; the card's readings fail (counted), the measurement finishes.
#[test]
fn fifos_and_endless_files_in_sysfs_neither_hang_nor_flood() {
    let root = tempdir("sysfs-hostile");
    let hw = card(
        &root,
        0,
        "0000:c1:00.0",
        "0x1002",
        Some("AMD Instinct MI300X"),
        "u0",
    );
    let made = Command::new("mkfifo").arg(hw.join("power1_input")).status();
    assert!(made.is_ok_and(|s| s.success()));
    let made = Command::new("mkfifo")
        .arg(hw.join("energy1_input"))
        .status();
    assert!(made.is_ok_and(|s| s.success()));
    let other = card(&root, 1, "0000:c2:00.0", "0x1002", None, "u1");
    std::fs::remove_file(other.parent().unwrap().parent().unwrap().join("vendor")).unwrap();
    std::os::unix::fs::symlink(
        "/dev/zero",
        other.parent().unwrap().parent().unwrap().join("vendor"),
    )
    .unwrap();
    let t0 = Instant::now();
    let r = measure(&root, &["-f", "json"], &[], "0.3");
    assert!(t0.elapsed() < Duration::from_secs(20), "no hang");
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// A reading outside what a device can draw (hwmon reporting -5 W, or 1e300 W) is a failed
/// read, counted and noted, never a figure: no negative or 300-digit energy, and `check`
/// accepts the report it wrote.
#[test]
fn implausible_readings_are_failed_reads_not_figures() {
    for value in ["-5000000", "1e300"] {
        let root = tempdir("implausible");
        let hw = card(
            &root,
            0,
            "0000:c1:00.0",
            "0x1002",
            Some("AMD Instinct MI300X"),
            "u0",
        );
        std::fs::write(hw.join("power1_input"), format!("{value}\n")).unwrap();
        let out = root.join("r.json");
        let r = measure(&root, &["-o", out.to_str().unwrap()], &[], "0.3");
        assert_eq!(r.code, 0, "{value}: {}", r.stderr);
        let v = json(&std::fs::read_to_string(&out).unwrap());
        let m = &v["measurement"];
        let e = m["energy_j"].as_f64().unwrap();
        assert!(e.is_finite() && (0.0..1e6).contains(&e), "{value}: {e}");
        let gpu = &amd(m)[0];
        assert!(gpu["failed_reads"].as_u64().unwrap() > 0, "{value}: {gpu}");
        assert!(
            gpu["first_error"].as_str().unwrap().contains("implausible"),
            "{gpu}"
        );
        let c = run(&["check", out.to_str().unwrap(), "--max-energy", "1kWh"]);
        assert_eq!(c.code, 0, "{value}: {}", c.stderr);
    }
}
