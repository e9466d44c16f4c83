//! `footprint when` and `--intensity`: series written here whose answers are known in closed
//! form (a square wave, a ramp), each bad-series class refused in one line, and the shipped
//! week of a public series planned end to end.

mod common;
use common::*;

use std::path::{Path, PathBuf};

/// A run of exactly 6 h and 10 kWh at the facility: a duration run with its power and PUE
/// given, so the planner's arithmetic can be checked by hand (point values, no default).
const SIX_HOURS: &str = r#"name = "six-hours"
[hardware]
power_w = 1000
hours = 6
count = 1
host_power_w = 0
[site]
carbon_intensity_g_per_kwh = 300
pue = 1.0
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `timestamp,g_per_kwh` rows, hourly from 2024-06-03T00:00Z.
fn hourly(values: impl IntoIterator<Item = f64>) -> String {
    let start = 1_717_372_800u64;
    let mut out = String::from("timestamp,g_per_kwh\n");
    for (i, v) in values.into_iter().enumerate() {
        out.push_str(&format!("{},{v}\n", start + 3600 * i as u64));
    }
    out
}

fn plan(runfile: &Path, series: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "when",
        runfile.to_str().unwrap(),
        "--intensity",
        series.to_str().unwrap(),
        "--now",
        "2024-06-03T00:00:00Z",
        "-f",
        "json",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn a_square_wave_gives_its_known_best_worst_and_now() {
    let d = tempdir("when-square");
    let r = write(&d, "run.toml", SIX_HOURS);
    // 12 h at 100 g/kWh, 12 h at 500, for three days.
    let s = write(
        &d,
        "s.csv",
        &hourly((0..72).map(|h| if h % 24 < 12 { 100.0 } else { 500.0 })),
    );
    let out = plan(&r, &s, &["--within", "72h", "--step", "1h"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = json(&out.stdout);
    let starts = v["starts"].as_array().unwrap();
    let pick = |name: &str| starts.iter().find(|x| x["pick"] == name).unwrap();
    // 6 kWh... the run draws 1 kW for 6 h: 6 kWh; at 100 g/kWh, 0.6 kg.
    assert_eq!(v["energy_kwh"]["central"], 6.0);
    assert_eq!(pick("best")["co2e_kg"]["central"], 0.6);
    assert_eq!(pick("best")["start_utc"], "2024-06-03 00:00");
    assert_eq!(pick("next best")["start_utc"], "2024-06-03 06:00");
    assert_eq!(pick("worst")["co2e_kg"]["central"], 3.0);
    assert_eq!(pick("worst")["start_utc"], "2024-06-03 12:00");
    assert_eq!(pick("now")["co2e_kg"]["central"], 0.6);
    assert_eq!(v["starts_compared"], 67);
    // The annual-average figure beside it: 6 kWh at 300 g/kWh.
    assert_eq!(v["annual_average_co2e_kg"]["central"], 1.8);
    assert_eq!(v["best_vs_now_percent"], 0.0);
}

#[test]
fn a_ramp_is_best_where_it_is_lowest_and_now_counts_from_the_clock_given() {
    let d = tempdir("when-ramp");
    let r = write(&d, "run.toml", SIX_HOURS);
    // Falling 500 → 30 over 48 h; from now = 12:00 within 24 h, the best start is 36:00
    // (the last that fits within 24 h of now, since 24 + 6 ≤ 48 leaves room to 42:00).
    let s = write(
        &d,
        "s.csv",
        &hourly((0..48).map(|h| 500.0 - 10.0 * h as f64)),
    );
    let out = run(&[
        "when",
        r.to_str().unwrap(),
        "--intensity",
        s.to_str().unwrap(),
        "--now",
        "2024-06-03T12:00:00Z",
        "--within",
        "24h",
        "--step",
        "30m",
        "-f",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = json(&out.stdout);
    let best = &v["starts"][0];
    assert_eq!(best["pick"], "best");
    assert_eq!(best["start_utc"], "2024-06-04 12:00");
    // Hours 36-41: 140 … 90, mean 115 g/kWh; 6 kWh → 0.69 kg.
    assert_eq!(best["mean_g_per_kwh"], 115.0);
    assert!((best["co2e_kg"]["central"].as_f64().unwrap() - 0.69).abs() < 1e-9);
    // Now (12:00-18:00): 380 … 330, mean 355.
    let now = v["starts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["pick"] == "now")
        .unwrap();
    assert_eq!(now["mean_g_per_kwh"], 355.0);
}

#[test]
fn bad_series_are_refused_before_planning_in_one_line() {
    let d = tempdir("when-bad");
    let r = write(&d, "run.toml", SIX_HOURS);
    let cases: [(&str, &str, &str); 7] = [
        (
            "gap.csv",
            "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,1\n2024-06-03T01:00:00Z,1\n2024-06-03T09:00:00Z,1\n",
            "gap.csv:4: a gap",
        ),
        (
            "unsorted.csv",
            "timestamp,g_per_kwh\n2024-06-03T01:00:00Z,1\n2024-06-03T00:00:00Z,1\n",
            "time order",
        ),
        (
            "negative.csv",
            "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,-1\n",
            "≥ 0",
        ),
        (
            "absurd.csv",
            "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,99999\n",
            "another unit",
        ),
        (
            "local.csv",
            "timestamp,g_per_kwh\n2024-06-03T00:00:00,1\n",
            "no UTC offset",
        ),
        ("other.csv", "when,what\n1,2\n", "not an intensity series"),
        (
            "zones.csv",
            "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),Carbon Intensity gCO₂eq/kWh (LCA)\n2024-06-03 00:00:00,Germany,Germany,DE,300,350\n2024-06-03 01:00:00,France,France,FR,30,40\n",
            "zone `FR`",
        ),
    ];
    for (name, text, expected) in cases {
        let s = write(&d, name, text);
        let out = plan(&r, &s, &[]);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{name}");
        assert_eq!(out.stderr.lines().count(), 1, "{name}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{name}: {}", out.stderr);
    }
    // A series that ends before now, and a run that does not fit.
    let s = write(&d, "short.csv", &hourly([100.0; 4]));
    let out = plan(&r, &s, &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("leaves room for the run's 6 h"),
        "{}",
        out.stderr
    );
    let out = run(&[
        "when",
        r.to_str().unwrap(),
        "--intensity",
        s.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("before now") && out.stderr.contains("--now 2024-06-03T00:00:00Z"),
        "{}",
        out.stderr
    );
    let out = plan(&r, &s, &["--step", "10s"]);
    assert!(
        out.code == 2 && out.stderr.contains("--step"),
        "{}",
        out.stderr
    );
    let out = run(&[
        "when",
        r.to_str().unwrap(),
        "--intensity",
        s.to_str().unwrap(),
        "--now",
        "noon",
    ]);
    assert!(
        out.code == 2 && out.stderr.contains("--now"),
        "{}",
        out.stderr
    );
}

/// The shipped week of Electricity Maps' hourly German series: planned in every format, the
/// chart drawn, the best start before the worst by the series' own daily swing.
#[test]
fn the_shipped_week_plans_in_every_format() {
    let series = example("intensity/DE-2022-06-13-week.csv");
    let plain = example("intensity/DE-2022-06-13-week.plain.csv");
    let runfile = example("laptop-finetune.toml");
    let d = tempdir("when-week");
    let svg = d.join("when.svg");
    let base = [
        "when",
        runfile.to_str().unwrap(),
        "--intensity",
        series.to_str().unwrap(),
        "--now",
        "2022-06-13T00:00:00Z",
        "--within",
        "5d",
    ];
    let mut args = base.to_vec();
    args.extend(["--plot", svg.to_str().unwrap()]);
    let t = run(&args);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(
        t.stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("≈ start 2022-06-"),
        "{}",
        t.stdout
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    for f in ["json", "csv", "markdown", "html"] {
        let mut a = base.to_vec();
        a.extend(["-f", f]);
        let out = run(&a);
        assert_eq!(out.code, 0, "{f}: {}", out.stderr);
        assert!(!out.stdout.is_empty());
    }
    let mut a = base.to_vec();
    a.extend(["-f", "junit"]);
    assert_eq!(run(&a).code, 2);
    // The LCA column and the plain file made from it plan the same.
    let j = |s: &Path| {
        let mut a = base.to_vec();
        a[3] = s.to_str().unwrap();
        a.extend(["-f", "json"]);
        json(&run(&a).stdout)["starts"].clone()
    };
    assert_eq!(j(&series), j(&plain));
    let mut a = base.to_vec();
    a.extend(["--basis", "direct", "-f", "json"]);
    let direct = json(&run(&a).stdout);
    assert!(direct["series"].as_str().unwrap().contains("direct"));
}

/// An hourly series around the current hour, at `g` g/kWh.
fn around_now(g: f64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let start = now / 3600 * 3600 - 3600;
    hourly_from(start, [g; 4])
}

fn hourly_from(start: u64, values: impl IntoIterator<Item = f64>) -> String {
    let mut out = String::from("timestamp,g_per_kwh\n");
    for (i, v) in values.into_iter().enumerate() {
        out.push_str(&format!("{},{v}\n", start + 3600 * i as u64));
    }
    out
}

/// `measure --intensity`: the measured energy at the series' intensity, beside the annual
/// figure; CO2e = energy × intensity, now minute by minute.
#[test]
fn a_measurement_is_reckoned_at_the_hours_it_ran() {
    let d = tempdir("measure-intensity");
    let s = write(&d, "now.csv", &around_now(1000.0));
    let report = d.join("m.json");
    let r = run(&[
        "measure",
        "--duration",
        "1s",
        "--no-progress",
        "--intensity",
        s.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let m = &v["measurement"];
    let t = &m["time_resolved"];
    assert_eq!(t["mean_g_per_kwh"], 1000.0, "{t}");
    assert_eq!(t["energy_covered"], 1.0);
    // Without a run file the window is at PUE 1: kWh × 1000 g/kWh.
    let kwh = m["energy_j"].as_f64().unwrap() / 3.6e6;
    let ratio = t["co2e_kg"].as_f64().unwrap() / kwh;
    assert!((ratio - 1.0).abs() < 1e-9, "{t} vs {kwh} kWh");
    assert!(m["energy_timeline"].as_array().unwrap().len() >= 2);
    assert!(r.stdout.contains("CO2e at the hour"), "{}", r.stdout);

    // A series of another day: nothing covered, said so, the annual figure used.
    let s = write(&d, "old.csv", &hourly_from(1_717_372_800, [50.0; 3]));
    let r = run(&[
        "measure",
        "--duration",
        "1s",
        "--no-progress",
        "--intensity",
        s.to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let t = &v["measurement"]["time_resolved"];
    assert_eq!(t["energy_covered"], 0.0);
    assert_eq!(t["mean_g_per_kwh"], t["annual_g_per_kwh"]);
    assert!(
        v["notes"]
            .to_string()
            .contains("covers 0 % of the measured energy"),
        "{}",
        v["notes"]
    );

    // A bad series is refused before anything runs: no report written.
    let bad = write(
        &d,
        "bad.csv",
        "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,-5\n",
    );
    let out = d.join("never.json");
    let r = run(&[
        "measure",
        "--duration",
        "1s",
        "--intensity",
        bad.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad.csv:2"), "{}", r.stderr);
    assert!(!out.exists());
    // And -o onto the series is refused: it is an input.
    let r = run(&[
        "measure",
        "--duration",
        "1s",
        "--intensity",
        s.to_str().unwrap(),
        "-o",
        s.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// `[site] intensity_series` names the series in the run file (relative to it): `when` and
/// `measure --run` use it without `--intensity`, and `-o` may not overwrite it.
#[test]
fn the_run_file_can_name_its_series() {
    let d = tempdir("when-runfile");
    write(
        &d,
        "s.csv",
        &hourly((0..72).map(|h| if h % 24 < 12 { 100.0 } else { 500.0 })),
    );
    let r = write(
        &d,
        "run.toml",
        &SIX_HOURS.replace("pue = 1.0\n", "pue = 1.0\nintensity_series = \"s.csv\"\n"),
    );
    let out = run(&[
        "when",
        r.to_str().unwrap(),
        "--now",
        "2024-06-03T00:00:00Z",
        "-f",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json(&out.stdout)["starts"][0]["co2e_kg"]["central"], 0.6);
    let s = d.join("s.csv");
    let out = run(&[
        "when",
        r.to_str().unwrap(),
        "--now",
        "2024-06-03T00:00:00Z",
        "-o",
        s.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let none = write(&d, "none.toml", SIX_HOURS);
    let out = run(&["when", none.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("intensity_series"), "{}", out.stderr);
    let missing = write(
        &d,
        "missing.toml",
        &SIX_HOURS.replace(
            "pue = 1.0\n",
            "pue = 1.0\nintensity_series = \"nope.csv\"\n",
        ),
    );
    let out = run(&["when", missing.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("nope.csv"), "{}", out.stderr);
}
