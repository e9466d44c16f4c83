//! `footprint measure` end to end on this (GPU-less) machine: the training loop, wrap mode,
//! signals, extrapolation to a run, and the report read back by `[measured]`.

mod common;
use common::*;

#[cfg(unix)]
use std::process::{Command, Stdio};
#[cfg(unix)]
use std::time::{Duration, Instant};

/// A small MLP so the test stays quick in debug builds too.
const SMALL: &[&str] = &[
    "--width",
    "64",
    "--depth",
    "1",
    "--batch-size",
    "32",
    "--warmup",
    "2",
];

fn measure(extra: &[&str], out: &std::path::Path) -> Run {
    let mut args = vec!["measure", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

/// A report of `steps` steps of the small MLP, written to `out`.
fn measure_small_steps(steps: u32, out: &std::path::Path) {
    let steps = steps.to_string();
    let mut args = vec!["--steps", &steps];
    args.extend_from_slice(SMALL);
    let r = measure(&args, out);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `estimate RUN -f json`, which must succeed.
fn estimate_json(run_file: &std::path::Path) -> serde_json::Value {
    let r = run(&["estimate", run_file.to_str().unwrap(), "-f", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    json(&r.stdout)
}

#[test]
fn training_loop_on_cpu_is_measured_and_labelled_modelled() {
    let d = tempdir("train");
    let out = d.join("r.json");
    // A window of a second, as a calibration has (the sampler's fixed start-up reading is a
    // large share of a window of milliseconds).
    let mut args = vec!["--duration", "1s"];
    args.extend_from_slice(SMALL);
    let r = measure(&args, &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Energy per sample"), "{}", r.stdout);
    assert!(r.stdout.contains("modelled"));
    assert!(
        !r.stderr.contains('\r'),
        "no progress line when stderr is not a terminal"
    );
    let v = json(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["primary"], "measured");
    let m = &v["measurement"];
    assert_eq!(m["schema_version"], 1);
    assert_eq!(m["status"], "complete");
    assert_eq!(m["mode"], "training");
    assert_eq!(
        m["quality"], "modelled",
        "no RAPL, no GPU here: the CPU is modelled"
    );
    let steps = m["steps"].as_u64().unwrap();
    assert!(steps >= 30, "a second is many steps of this model: {steps}");
    assert_eq!(m["samples"], steps * 32);
    assert!((m["duration_s"].as_f64().unwrap() - 1.0).abs() < 0.5);
    assert_eq!(m["warmup_steps"], 2);
    for k in [
        "energy_j",
        "joules_per_sample",
        "samples_per_second",
        "flops_per_second",
        "joules_per_flop",
        "duration_s",
    ] {
        assert!(m[k].as_f64().unwrap() > 0.0, "{k} = {}", m[k]);
    }
    let loss = &m["loss"];
    assert!(loss["last"].as_f64().unwrap() < loss["first"].as_f64().unwrap());
    let w = &m["workload"];
    assert_eq!(w["config"]["kind"], "mlp");
    assert_eq!(w["device"], "cpu");
    let sensors = m["sensors"].as_array().unwrap();
    let cpu = sensors.iter().find(|s| s["id"] == "cpu-model").unwrap();
    assert_eq!(cpu["source"], "modelled");
    assert!(m["sampler"]["overhead_pct_of_one_core"].as_f64().unwrap() < 5.0);
    // J/sample × samples = energy
    let jps = m["joules_per_sample"].as_f64().unwrap();
    let e = m["energy_j"].as_f64().unwrap();
    assert!((jps * (steps as f64 * 32.0) - e).abs() < 1e-9 * e);
}

#[test]
fn transformer_workload_runs() {
    let d = tempdir("tf");
    let out = d.join("r.json");
    let r = measure(
        &[
            "--workload",
            "transformer",
            "--steps",
            "3",
            "--warmup",
            "1",
            "--width",
            "32",
            "--depth",
            "1",
            "--heads",
            "2",
            "--seq-len",
            "16",
            "--batch-size",
            "4",
        ],
        &out,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["workload"]["config"]["kind"], "transformer");
    assert!(m["tokens_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(m["samples"], 12);
}

/// The training loop's candle tuning never leaks into a measured command's environment.
#[test]
#[cfg(unix)]
fn a_measured_command_gets_its_environment_unchanged() {
    let d = tempdir("wrap-env");
    let out = d.join("r.json");
    let r = measure(
        &[
            "--",
            "sh",
            "-c",
            "echo ${CANDLE_BARRIER_POOL_SPIN_LIMIT:-unset}",
        ],
        &out,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "unset");
}

#[test]
#[cfg(unix)] // runs Unix commands (sh, sleep, kill)
fn wrap_mode_passes_the_exit_code_and_writes_the_report() {
    let d = tempdir("wrap3");
    let out = d.join("r.json");
    let r = measure(&["--", "sh", "-c", "exit 3"], &out);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["mode"], "command");
    assert_eq!(m["exit_code"], 3);
    assert_eq!(m["command"], serde_json::json!(["sh", "-c", "exit 3"]));
    assert_eq!(m["quality"], "modelled");
    // the human report goes to stderr in wrap mode: stdout belongs to the command
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("Exit code"), "{}", r.stderr);
}

#[test]
#[cfg(unix)] // runs Unix commands (sh, sleep, kill)
fn wrap_mode_sleep_end_to_end() {
    let d = tempdir("sleep");
    let out = d.join("r.json");
    let t0 = Instant::now();
    let r = measure(&["--", "sleep", "1"], &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t0.elapsed() >= Duration::from_secs(1));
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    let dur = m["duration_s"].as_f64().unwrap();
    assert!((0.95..3.0).contains(&dur), "{dur}");
    assert!(m["sampler"]["ticks"].as_u64().unwrap() >= 5);
}

/// The CPU-time model on a real busy loop: the child's CPU seconds × W per thread.
#[test]
#[cfg(unix)] // runs Unix commands (sh, sleep, kill)
fn wrap_mode_charges_a_busy_child_its_cpu_time() {
    let d = tempdir("busy");
    let out = d.join("r.json");
    let r = measure(
        &[
            "--interval-ms",
            "20",
            "--",
            "sh",
            "-c",
            "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done",
        ],
        &out,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    let cpu_s = m["cpu_seconds"].as_f64().unwrap();
    assert!(cpu_s > 0.1, "the loop used CPU: {cpu_s}");
    let model = m["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "cpu-model")
        .unwrap()
        .clone();
    let w = model["details"]["w_per_thread"].as_f64().unwrap();
    let e = model["energy_j"].as_f64().unwrap();
    // CPU part exact up to the last tick; RAM part small (a shell is a few MB)
    assert!(
        e >= cpu_s * w * 0.97,
        "energy {e} J for {cpu_s} CPU s at {w} W"
    );
    assert!(
        e <= cpu_s * w * 1.05 + 0.05,
        "energy {e} J for {cpu_s} CPU s at {w} W"
    );
}

#[test]
fn a_command_that_does_not_exist() {
    let r = run(&["measure", "--", "no-such-command-footprint"]);
    assert_eq!(r.code, 127);
    assert!(
        r.stderr.contains("cannot run 'no-such-command-footprint'"),
        "{}",
        r.stderr
    );
}

#[cfg(unix)]
fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(bin())
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
#[cfg(unix)] // runs Unix commands (sh, sleep, kill)
fn sigint_in_wrap_mode_is_forwarded_and_the_report_marked_interrupted() {
    let d = tempdir("sigint-wrap");
    let out = d.join("r.json");
    let child = spawn(&["measure", "-o", out.to_str().unwrap(), "--", "sleep", "30"]);
    std::thread::sleep(Duration::from_millis(700));
    let t0 = Instant::now();
    send_signal(child.id(), "-INT");
    let res = child.wait_with_output().unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "the child got the signal"
    );
    assert_eq!(
        res.status.code(),
        Some(130),
        "sleep killed by SIGINT: 128 + 2"
    );
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["status"], "interrupted");
    assert_eq!(m["interrupted_by"], "SIGINT");
    assert!(m["duration_s"].as_f64().unwrap() > 0.5);
}

#[test]
#[cfg(unix)] // runs Unix commands (sh, sleep, kill)
fn sigterm_during_training_still_writes_the_report() {
    let d = tempdir("sigterm-train");
    let out = d.join("r.json");
    let trace = d.join("t.jsonl");
    // A count given: a 60 s run would otherwise spend its first seconds on the thread trial
    // (the next test stops one there).
    let mut args = vec![
        "measure",
        "--duration",
        "60s",
        "--threads",
        "1",
        "-o",
        out.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ];
    args.extend_from_slice(SMALL);
    let child = spawn(&args);
    std::thread::sleep(Duration::from_millis(1500));
    send_signal(child.id(), "-TERM");
    let res = child.wait_with_output().unwrap();
    assert_eq!(
        res.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["status"], "interrupted");
    assert_eq!(m["interrupted_by"], "SIGTERM");
    assert!(m["steps"].as_u64().unwrap() > 0);
    assert!(m["energy_j"].as_f64().unwrap() > 0.0);
    // the trace is complete JSON lines up to the stop
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(json).collect();
    assert_eq!(lines[0]["trace"], "footprint");
    assert!(lines.iter().any(|l| l["event"] == "mark"));
    assert_eq!(lines.last().unwrap()["event"], "stop");
}

/// A stop during the thread trial (a 60 s run tries counts first) ends the trial's child and
/// the run with a report that says so, instead of killing footprint with its child running.
#[test]
#[cfg(unix)]
fn sigterm_during_the_thread_trial_ends_the_run_with_a_report() {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return; // one CPU: nothing to try, so no trial to stop
    }
    let d = tempdir("sigterm-trial");
    let out = d.join("r.json");
    let mut args = vec!["measure", "--duration", "60s", "-o", out.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    let mut c = Command::new(bin());
    c.args(&args)
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("CANDLE_NUM_THREADS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    send_signal(child.id(), "-TERM");
    let started = Instant::now();
    let res = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the stop waited for the trials"
    );
    assert_eq!(
        res.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["status"], "interrupted");
    assert_eq!(m["interrupted_by"], "SIGTERM");
    let choice = &m["workload"]["thread_choice"];
    assert_eq!(choice["basis"], "default", "{choice}");
    assert!(
        choice["reason"]
            .as_str()
            .unwrap()
            .contains("stopped by a signal"),
        "{choice}"
    );
}

#[test]
fn cuda_without_the_feature_says_how_to_rebuild() {
    let r = run(&["measure", "--cuda", "--steps", "1"]);
    if cfg!(feature = "cuda") {
        return;
    }
    assert_input_error(&r, &["--features cuda"]);
}

#[test]
fn measurement_extrapolated_to_a_run() {
    let d = tempdir("run");
    let out = d.join("r.json");
    let mut args = vec!["--steps", "10", "--run", "examples/laptop-finetune.toml"];
    args.extend_from_slice(SMALL);
    let r = measure(&args, &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(v["name"], "finetune-1.3b-a10g");
    let models: Vec<&str> = v["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        models,
        ["calibrated", "compute"],
        "the run's FLOPs at the measured J/FLOP, beside the estimate"
    );
    // Measured on this CPU, the run is on an A10G: the calibration is for comparison only,
    // the estimate stays primary, and the report says why.
    assert_eq!(v["primary"], "compute");
    assert_eq!(v["estimates"][0]["advisory"], true);
    assert!(
        v["notes"].to_string().contains("for comparison only"),
        "{}",
        v["notes"]
    );
    let m = &v["measurement"];
    let e = &v["estimates"][0];
    // 200,000 samples × 3 epochs × 3.99e12 FLOPs at the measured J/FLOP
    let it = e["it_energy_kwh"]["central"].as_f64().unwrap();
    let want = m["joules_per_flop"].as_f64().unwrap() * 600_000.0 * 3.99e12 / 3.6e6;
    assert!((it - want).abs() < 1e-9 * want, "{it} vs {want}");
    assert!(e["energy_kwh"]["high"].as_f64().unwrap() > e["energy_kwh"]["low"].as_f64().unwrap());
    assert!(r.stdout.contains("What that means for the run"));
    // and a budget is checked on the estimate, not on the CPU's figures
    let c = run(&["check", out.to_str().unwrap(), "--max-co2e", "1g"]);
    assert_eq!(
        c.code, 1,
        "a 1 g budget fails on the A10G estimate: {}",
        c.stdout
    );
}

/// Same device, different workload: the training loop on this CPU calibrates a CPU run
/// described by its FLOPs, and that calibration is the primary figure.
#[test]
fn a_same_device_calibration_is_primary() {
    let d = tempdir("calib");
    let out = d.join("cpu.json");
    measure_small_steps(10, &out);
    let run_file = d.join("run.toml");
    std::fs::write(
        &run_file,
        "name = \"cpu-run\"\n[dataset]\nsamples = 10000\n[compute]\nflops_per_sample = 2e9\n[measured]\nreport = \"cpu.json\"\n",
    )
    .unwrap();
    let v = estimate_json(&run_file);
    assert_eq!(v["primary"], "calibrated");
    assert!(v["estimates"][0].get("advisory").is_none(), "not advisory");
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    let want = m["joules_per_flop"].as_f64().unwrap() * 1e4 * 2e9 / 3.6e6;
    let got = v["estimates"][0]["it_energy_kwh"]["central"]
        .as_f64()
        .unwrap();
    assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
    let hours = v["estimates"][0]["device_hours"].as_f64().unwrap();
    let want_h = 1e4 * 2e9 / m["flops_per_second"].as_f64().unwrap() / 3600.0;
    assert!(
        (hours - want_h).abs() < 1e-9 * want_h,
        "{hours} vs {want_h}"
    );
    // without FLOPs, a training-loop measurement cannot stand for another workload
    std::fs::write(
        &run_file,
        "[dataset]\nsamples = 10000\n[measured]\nreport = \"cpu.json\"\n",
    )
    .unwrap();
    assert_input_error(
        &run(&["estimate", run_file.to_str().unwrap()]),
        &["measured.report", "same_workload"],
    );
}

#[test]
fn a_run_file_reads_a_measurement_report() {
    let d = tempdir("measured");
    let out = d.join("measure.json");
    measure_small_steps(10, &out);
    let run_file = d.join("run.toml");
    std::fs::write(
        &run_file,
        "name = \"from-measurement\"\n[dataset]\nsamples = 1000000\nepochs = 2\n[measured]\nreport = \"measure.json\"\nsame_workload = true\n[site]\nregion = \"DE\"\n",
    )
    .unwrap();
    let v = estimate_json(&run_file);
    assert_eq!(v["primary"], "measured");
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    let want = m["joules_per_sample"].as_f64().unwrap() * 2e6 / 3.6e6;
    let got = v["estimates"][0]["it_energy_kwh"]["central"]
        .as_f64()
        .unwrap();
    assert!((got - want).abs() < 1e-9 * want);
    let a = v["assumptions"].as_array().unwrap();
    let jps = a
        .iter()
        .find(|x| x["input"] == "measured.joules_per_sample")
        .unwrap();
    assert_eq!(
        jps["source"], "modelled",
        "a modelled measurement stays labelled modelled"
    );

    // a JSON file that is not a measurement report
    std::fs::write(
        d.join("measure.json"),
        "{\"schema_version\": 1, \"estimates\": []}",
    )
    .unwrap();
    let r = run(&["estimate", run_file.to_str().unwrap()]);
    assert_input_error(
        &r,
        &["run.toml:6", "measured.report", "not a measurement report"],
    );
    std::fs::remove_file(d.join("measure.json")).unwrap();
    let r = run(&["estimate", run_file.to_str().unwrap()]);
    assert_input_error(&r, &["measured.report", "no such file"]);
}

#[test]
fn bad_measure_flags() {
    assert_input_error(&run(&["measure", "--interval-ms", "0"]), &["--interval-ms"]);
    assert_input_error(
        &run(&[
            "measure",
            "--workload",
            "transformer",
            "--width",
            "30",
            "--heads",
            "4",
        ]),
        &["--heads", "do not divide"],
    );
    assert_input_error(&run(&["measure", "--samples", "5"]), &["--samples"]);
    // the flag the user typed is the one named
    assert_input_error(
        &run(&["measure", "--steps", "5", "--", "true"]),
        &["--steps", "applies to the training loop"],
    );
    assert_input_error(
        &run(&["measure", "--duration", "1h30m", "--", "true"]),
        &["--duration", "applies to the training loop"],
    );
    let r = run(&["measure", "--duration", "5parsecs"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown unit"), "{}", r.stderr);
}

/// SIGKILL leaves no report (it is written atomically at the end) but a trace of whole lines.
#[test]
#[cfg(unix)] // runs Unix commands (sh, sleep, kill)
fn a_killed_measurement_leaves_a_readable_trace() {
    let d = tempdir("sigkill");
    let out = d.join("r.json");
    let trace = d.join("t.jsonl");
    // A duration no other test uses, so that the orphaned sleep can be found and stopped.
    let mut child = spawn_quiet(&[
        "measure",
        "--interval-ms",
        "10",
        "--trace",
        trace.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--",
        "sleep",
        "31.25",
    ]);
    std::thread::sleep(Duration::from_millis(800));
    send_signal(child.id(), "-KILL");
    let status = child.wait().unwrap();
    let _ = Command::new("pkill").args(["-f", "sleep 31.25"]).status();
    assert_eq!(status.code(), None, "killed");
    assert!(!out.exists(), "no half-written report");
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.ends_with('\n'), "whole lines only");
    let lines: Vec<serde_json::Value> = text.lines().map(json).collect();
    assert!(lines.len() > 20, "{} lines", lines.len());
    assert_eq!(lines[0]["trace"], "footprint");
}

/// A runtime budget stops the run when its measured window exceeds it: the report says
/// `budget-exceeded` and which limit, and footprint exits 1.
#[test]
#[cfg(unix)]
fn a_runtime_budget_stops_the_run() {
    let d = tempdir("runtime-budget");
    let out = d.join("r.json");
    let t0 = Instant::now();
    let r = run(&[
        "measure",
        "--no-progress",
        "--max-energy",
        "1J",
        "--kill-after",
        "2",
        "-o",
        out.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "stopped, not run forever"
    );
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["status"], "budget-exceeded");
    assert!(
        m["budget_exceeded"].as_str().unwrap().starts_with("energy"),
        "{m}"
    );
    // the training loop stops between steps
    let r = run(&[
        "measure",
        "--no-progress",
        "-f",
        "json",
        "--max-co2e",
        "1ug",
        "--steps",
        "100000",
    ]);
    assert_eq!(r.code, 2, "micrograms are not a unit here: {}", r.stderr);
    let r = run(&[
        "measure",
        "--no-progress",
        "-f",
        "json",
        "--max-energy",
        "2J",
        "--steps",
        "1000000",
        "--width",
        "64",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["measurement"]["status"], "budget-exceeded");
    assert!(v["measurement"]["steps"].as_u64().unwrap() < 1_000_000);
    // a cost limit needs a price, said before anything runs
    assert_input_error(
        &run(&["measure", "--max-cost", "$1", "--steps", "5"]),
        &["--max-cost", "price"],
    );
}

/// `--csv-append` writes CodeCarbon's emissions.csv columns: the header once, one row per run.
#[test]
#[cfg(unix)]
fn codecarbon_rows_are_appended() {
    let d = tempdir("codecarbon");
    let csv = d.join("emissions.csv");
    let c = csv.to_str().unwrap();
    for args in [
        vec![
            "measure",
            "--no-progress",
            "--region",
            "FR",
            "--csv-append",
            c,
            "--",
            "sleep",
            "0.2",
        ],
        vec![
            "measure",
            "--no-progress",
            "--steps",
            "3",
            "--width",
            "32",
            "--csv-append",
            c,
        ],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two rows: {text}");
    assert!(
        lines[0].starts_with("timestamp,project_name,run_id,experiment_id,duration,emissions,")
    );
    let header: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(header.len(), row.len(), "{}", lines[1]);
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("project_name"), "sleep 0.2");
    assert_eq!(col("country_iso_code"), "FR");
    assert_eq!(col("country_name"), "France");
    let kwh: f64 = col("energy_consumed").parse().unwrap();
    let kg: f64 = col("emissions").parse().unwrap();
    assert!(
        kwh > 0.0 && (kg / kwh - 0.04144).abs() < 1e-6,
        "{kg} kg for {kwh} kWh"
    );
    assert_eq!(col("gpu_energy"), "0");
    assert!(
        lines[2].split(',').nth(1) == Some("mlp on cpu"),
        "{}",
        lines[2]
    );
}

#[test]
fn without_steps_or_duration_the_loop_trains_for_five_seconds() {
    let d = tempdir("default-window");
    let out = d.join("r.json");
    let r = measure(SMALL, &out);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&std::fs::read_to_string(&out).unwrap());
    let secs = v["measurement"]["duration_s"].as_f64().unwrap();
    assert!((5.0..6.0).contains(&secs), "measured window {secs} s");
}

/// The deepest models the size flags allow train end to end on the training threads (whose
/// stacks candle's backward pass uses).
#[test]
fn the_deepest_allowed_models_train() {
    let d = tempdir("deep");
    for (i, args) in [
        &["--workload", "mlp", "--width", "8", "--batch-size", "2"][..],
        &[
            "--workload",
            "transformer",
            "--width",
            "16",
            "--heads",
            "2",
            "--seq-len",
            "8",
            "--batch-size",
            "2",
        ][..],
    ]
    .iter()
    .enumerate()
    {
        let out = d.join(format!("r{i}.json"));
        let mut all = vec!["--depth", "256", "--steps", "2", "--warmup", "0"];
        all.extend_from_slice(args);
        let r = measure(&all, &out);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
        assert_eq!(m["steps"], 2);
    }
}

/// A budget stop ends the command's whole process tree, as a scheduler's cgroup kill would:
/// a worker started by a shell script does not keep running after footprint says
/// `budget-exceeded`.
#[test]
#[cfg(target_os = "linux")]
fn a_budget_stop_ends_the_whole_process_tree() {
    let d = tempdir("budget-tree");
    let pidfile = d.join("worker.pid");
    let script = format!(
        "sh -c 'while :; do :; done' & echo $! > {}; wait",
        pidfile.display()
    );
    let r = run(&[
        "measure",
        "--no-progress",
        "--max-energy",
        "2J",
        "--kill-after",
        "2",
        "-f",
        "json",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let pid = pid.trim();
    // give the kernel a moment to reap it, then it must be gone
    let mut alive = true;
    for _ in 0..50 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        alive = !status.is_empty() && !status.contains(") Z ");
        if !alive {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if alive {
        let _ = std::process::Command::new("kill")
            .args(["-9", pid])
            .status();
    }
    assert!(
        !alive,
        "the worker {pid} was left running after the budget stop"
    );
}

/// A run that ends between two budget checks (one long interval) is still judged on its final
/// figures: exit 1 and `budget-exceeded`, as `footprint check` would say of its report.
#[test]
#[cfg(unix)]
fn the_budget_is_checked_on_the_final_figures() {
    let r = run(&[
        "measure",
        "--no-progress",
        "--interval-ms",
        "60000",
        "--max-energy",
        "1mJ",
        "-f",
        "json",
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let m = &json(&r.stderr[r.stderr.find('{').unwrap()..])["measurement"];
    // (on a loaded machine the live check may catch it first; either way it is not "complete")
    assert_eq!(m["status"], "budget-exceeded", "{m}");
}

/// The CPU-time model's maximum power is bounded by what the CPU can draw (every visible
/// thread busy), however short the interval it was derived over.
#[test]
#[cfg(target_os = "linux")]
fn the_cpu_models_power_is_physically_bounded() {
    let r = run(&["measure", "--no-progress", "-f", "json", "--", "true"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stderr[r.stderr.find('{').unwrap()..]);
    let cpu = v["measurement"]["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "cpu-model")
        .unwrap()
        .clone();
    let d = &cpu["details"];
    let mem_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib * 1024.0 / 1e9);
    let ceiling = d["w_per_thread"].as_f64().unwrap() * d["threads_visible"].as_f64().unwrap()
        + d["ram_w_per_gb"].as_f64().unwrap() * mem_gb
        + 1e-9;
    let max = cpu["power_w"]["max"].as_f64().unwrap_or(0.0);
    assert!(max <= ceiling, "max {max} W above {ceiling} W: {cpu}");
    let mean = cpu["power_w"]["mean"].as_f64().unwrap_or(0.0);
    let e = cpu["energy_j"].as_f64().unwrap();
    let t = cpu["duration_s"].as_f64().unwrap();
    assert!(
        t == 0.0 || (mean - e / t).abs() < 1e-9 * (1.0 + mean),
        "mean is energy ÷ time"
    );
}

/// `--threads N` sets the training loop's threads, and the report says how many it ran on;
/// a command after `--` sets its own.
#[test]
fn threads_are_chosen_and_reported() {
    let r = run(&[
        "measure",
        "--steps",
        "3",
        "--warmup",
        "1",
        "--threads",
        "1",
        "--no-progress",
        "-f",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let w = &json(&r.stdout)["measurement"]["workload"];
    assert_eq!(w["threads"], 1);
    assert_eq!(w["thread_choice"]["basis"], "flag");
    assert_eq!(w["thread_choice"]["reason"], "--threads 1");
    let r = run(&["measure", "--threads", "2", "--", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--threads"), "{}", r.stderr);
    for (args, flag) in [
        (&["measure", "--threads", "0"][..], "--threads"),
        (&["measure", "--threads", "most"][..], "--threads"),
        (
            &["measure", "--threads", "2", "--prefer", "speed"][..],
            "--prefer",
        ),
        (
            &["measure", "--prefer", "speed", "--", "true"][..],
            "--prefer",
        ),
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(flag), "{args:?}: {}", r.stderr);
    }
}

/// The training loop without these variables, so that its thread count is footprint's choice.
fn measure_unset_threads(args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut c = std::process::Command::new(bin());
    c.args(args)
        .current_dir(root())
        .env_remove("FOOTPRINT_PROFILES")
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("CANDLE_NUM_THREADS");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    json(&String::from_utf8_lossy(&out.stdout))["measurement"]["workload"].clone()
}

/// `--threads auto` trains each count that can help in a child for a short window and keeps
/// one that was tried; the report lists the trials, measured as the run is. Without a count,
/// the environment's or the default's basis is said.
#[test]
fn thread_counts_are_tried_and_the_choice_is_in_the_report() {
    let quick = [
        "measure",
        "--steps",
        "3",
        "--warmup",
        "1",
        "--no-progress",
        "-f",
        "json",
    ];
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let w = measure_unset_threads(&[&quick[..], &["--threads", "auto"]].concat(), &[]);
    let choice = &w["thread_choice"];
    if cpus < 2 {
        assert_eq!(choice["basis"], "default", "{choice}");
        assert!(choice["reason"].as_str().unwrap().contains("only count"));
        return;
    }
    assert_eq!(choice["basis"], "trial", "{choice}");
    let trials = choice["trials"].as_array().expect("the trials are listed");
    let tried: Vec<u64> = trials
        .iter()
        .map(|t| t["threads"].as_u64().unwrap())
        .collect();
    assert_eq!(tried[0], 1, "one thread is always tried: {tried:?}");
    assert!(
        tried.windows(2).all(|p| p[0] < p[1]) && tried.len() >= 2,
        "{tried:?}"
    );
    assert!(*tried.last().unwrap() <= cpus as u64, "{tried:?}");
    for t in trials {
        assert!(t["samples_per_second"].as_f64().unwrap() > 0.0, "{t}");
        assert!(t["joules_per_sample"].as_f64().unwrap() > 0.0, "{t}");
        assert!(!t["energy_source"].as_str().unwrap().is_empty(), "{t}");
    }
    let chosen = w["threads"].as_u64().unwrap();
    assert!(tried.contains(&chosen), "ran on {chosen}, tried {tried:?}");
    // The rule: within 5 % of the best throughput, the lowest J/sample.
    let best = trials
        .iter()
        .map(|t| t["samples_per_second"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let pick = trials
        .iter()
        .filter(|t| t["samples_per_second"].as_f64().unwrap() >= 0.95 * best)
        .min_by(|a, b| {
            let j = |t: &&serde_json::Value| t["joules_per_sample"].as_f64().unwrap();
            j(a).total_cmp(&j(b))
        })
        .unwrap();
    assert_eq!(pick["threads"].as_u64(), Some(chosen), "{choice}");

    let w = measure_unset_threads(&quick, &[("RAYON_NUM_THREADS", "1")]);
    assert_eq!(w["threads"], 1);
    assert_eq!(w["thread_choice"]["basis"], "environment");
    assert_eq!(w["thread_choice"]["reason"], "RAYON_NUM_THREADS=1");
    let w = measure_unset_threads(&quick, &[]);
    assert_eq!(w["thread_choice"]["basis"], "default");
    assert!(
        w["thread_choice"]["trials"].is_null(),
        "a short run is not tried"
    );
}
