//! Never lose a measurement, never write where you must not: the hostile cases of issue 9,
//! each driven through the real binary. docs/reliability.md lists the classes and results.

mod common;
use common::*;

use std::path::Path;
#[cfg(unix)]
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: &str = "examples/seed-example.toml";

fn run_in_dir(args: &[&str], dir: &Path) -> Run {
    run_in(args, dir)
}

/// Runs the binary through `sh -c`, for redirections a test cannot make otherwise.
#[cfg(unix)]
fn shell(script: &str) -> Run {
    let out = Command::new("sh")
        .args(["-c", script])
        .env("FP", bin())
        .current_dir(root())
        .env_remove("FOOTPRINT_PROFILES")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ---- 1-3: where outputs go -----------------------------------------------------------------

#[cfg(unix)]
#[test]
fn an_output_keeps_its_permissions_and_leaves_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempdir("perm");
    let out = d.join("r.json");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = run(&["estimate", SEED, "-f", "json", "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "the target's mode is kept"
    );
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("schema_version")
    );
    let names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "only the output is left: {names:?}");
    // a new file gets the usual mode (0666 less the umask), not the temporary file's 0600
    let fresh = d.join("new.json");
    let r = run(&["estimate", SEED, "-o", fresh.to_str().unwrap()]);
    assert_eq!(r.code, 0);
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_ne!(
        mode, 0o600,
        "a new output is readable like any file the user creates"
    );
}

#[cfg(unix)]
#[test]
fn a_planted_link_in_the_directory_is_never_written_through() {
    // The old temporary name was predictable (.NAME.PID.tmp). Plant links at every name the
    // next pids could give: none may be followed.
    let d = tempdir("plant");
    let victim = d.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let me = std::process::id();
    for pid in me..me + 200 {
        let _ = std::os::unix::fs::symlink(&victim, d.join(format!(".r.json.{pid}.tmp")));
    }
    let out = d.join("r.json");
    let r = run(&["estimate", SEED, "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn dash_is_stdout_and_a_device_is_written_in_place() {
    let r = run(&["estimate", SEED, "-f", "json", "-o", "-"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(json(&r.stdout)["estimates"].is_array());
    assert!(!Path::new(&root()).join("-").exists(), "no file named -");
    #[cfg(unix)]
    {
        let r = run(&["estimate", SEED, "-o", "/dev/null"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let m = std::fs::metadata("/dev/null").unwrap();
        assert!(!m.is_file(), "/dev/null is still a device");
    }
}

/// A named pipe at `path`.
#[cfg(unix)]
fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn a_fifo_output_is_written_through() {
    let d = tempdir("fifo-out");
    let fifo = d.join("pipe");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let r = run(&["estimate", SEED, "-f", "json", "-o", fifo.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(json(&reader.join().unwrap())["estimates"].is_array());
    let m = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(!m.is_file(), "the FIFO was not replaced by a file");
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_runs() {
    let d = tempdir("same");
    let run_file = d.join("a.toml");
    std::fs::copy(root().join(SEED), &run_file).unwrap();
    let before = std::fs::read_to_string(&run_file).unwrap();
    let a = run_file.to_str().unwrap();
    assert_input_error(&run(&["estimate", a, "-o", a]), &["-o", "also an input"]);
    let budgeted = root().join("examples/ci/budgeted-run.toml");
    let b = d.join("b.toml");
    std::fs::copy(&budgeted, &b).unwrap();
    let b = b.to_str().unwrap();
    assert_input_error(
        &run(&["check", b, "--summary", b]),
        &["--summary", "also an input"],
    );
    // the same file named another way
    let dotted = format!("{}/./a.toml", d.display());
    assert_input_error(&run(&["estimate", a, "-o", &dotted]), &["also an input"]);
    // measure: refused before the command runs
    let t0 = Instant::now();
    let r = run_in_dir(
        &[
            "measure", "--run", "a.toml", "--trace", "a.toml", "--", "sleep", "5",
        ],
        &d,
    );
    assert_input_error(&r, &["--trace", "also an input"]);
    let r = run_in_dir(
        &[
            "measure", "--trace", "x.jsonl", "-o", "x.jsonl", "--", "sleep", "5",
        ],
        &d,
    );
    assert_input_error(&r, &["--trace", "same file"]);
    assert!(t0.elapsed() < Duration::from_secs(4), "nothing ran");
    assert_eq!(std::fs::read_to_string(&run_file).unwrap(), before);
}

// ---- 4-5: write errors are never silent, stderr never panics -------------------------------

#[cfg(target_os = "linux")]
#[test]
fn write_errors_name_what_failed_and_exit_4() {
    let r = shell("\"$FP\" estimate examples/seed-example.toml >/dev/full");
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("stdout") && r.stderr.contains("cannot write"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    // a stdout closed by its reader (`| head`) is an error too: the list was not all written
    let mut child = Command::new(bin())
        .args(["profiles", "list", "cpus"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdout"));
    // a trace that cannot be written is reported, and the measurement still exits non-zero
    let r = run(&[
        "measure",
        "--trace",
        "/dev/full",
        "--no-progress",
        "--",
        "sleep",
        "0.3",
    ]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("trace"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn an_unwritable_stderr_keeps_the_exit_code() {
    for (cmd, code) in [
        ("\"$FP\" estimate missing.toml 2>/dev/full", 2),
        (
            "\"$FP\" check examples/ci/budgeted-run.toml --max-co2e 1g >/dev/null 2>/dev/full",
            1,
        ),
        ("\"$FP\" estimate missing.toml 2>&-", 2),
        (
            "\"$FP\" measure --no-progress -- sh -c 'exit 7' 2>/dev/full",
            7,
        ),
    ] {
        let r = shell(cmd);
        assert_eq!(r.code, code, "{cmd}: {}", r.stderr);
    }
}

// ---- 6-7: measure checks first, and keeps what it measured ---------------------------------

#[test]
fn measure_checks_its_outputs_and_inputs_before_running() {
    let d = tempdir("pre");
    let t0 = Instant::now();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["-o", "no/such/dir/r.json"],
            vec!["-o", "does not exist"],
        ),
        (
            vec!["--trace", "no/such/dir/t.jsonl"],
            vec!["--trace", "does not exist"],
        ),
        (vec!["-o", "."], vec!["-o", "directory"]),
        (vec!["--format", "junit"], vec!["--format", "check"]),
        (
            vec!["--region", "Atlantis"],
            vec!["--region", "unknown region"],
        ),
        (
            vec!["--run", "missing.toml"],
            vec!["missing.toml", "no such file"],
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["measure"];
        args.extend(&flags);
        args.extend(["--", "sleep", "5"]);
        assert_input_error(&run_in_dir(&args, &d), &want);
    }
    std::fs::write(
        d.join("nodata.toml"),
        "[hardware]\nhours = 1\npower_w = 100\n",
    )
    .unwrap();
    assert_input_error(
        &run_in_dir(&["measure", "--run", "nodata.toml", "--steps", "5"], &d),
        &["[dataset]"],
    );
    std::fs::copy(root().join(SEED), d.join("seed.toml")).unwrap();
    assert_input_error(
        &run_in_dir(&["measure", "--run", "seed.toml", "--", "sleep", "5"], &d),
        &["--samples"],
    );
    assert!(
        t0.elapsed() < Duration::from_secs(4),
        "nothing was run: {:?}",
        t0.elapsed()
    );
}

#[cfg(unix)]
#[test]
fn a_measurement_that_cannot_be_written_is_kept_elsewhere() {
    let d = tempdir("keep");
    std::fs::create_dir(d.join("out")).unwrap();
    // the output directory disappears while the command runs
    let r = run_in_dir(
        &[
            "measure",
            "--no-progress",
            "-o",
            "out/r.json",
            "--",
            "sh",
            "-c",
            "rm -rf out; sleep 0.3",
        ],
        &d,
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("out/r.json"), "{}", r.stderr);
    let kept = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("the measurement is kept in "))
        .unwrap_or_else(|| panic!("no fallback path named: {}", r.stderr));
    let kept = kept.split(" (").next().unwrap();
    let v = json(&std::fs::read_to_string(kept).unwrap());
    assert_eq!(v["measurement"]["mode"], "command");
    assert!(
        r.stderr.contains("Measured window"),
        "the human report is shown too"
    );
    // and it reads back
    let c = run(&["check", kept, "--max-energy", "1kWh"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    std::fs::remove_file(kept).unwrap();
}

// ---- 8-9, 11-12: commands that misbehave ---------------------------------------------------

#[cfg(unix)]
#[test]
fn a_command_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let d = tempdir("stubborn");
    let out = d.join("r.json");
    let mut child = spawn_quiet(&[
        "measure",
        "--no-progress",
        "--kill-after",
        "1",
        "-o",
        out.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "trap '' TERM INT; sleep 30; sleep 30",
    ]);
    std::thread::sleep(Duration::from_millis(600));
    let t0 = Instant::now();
    send_signal(child.id(), "-TERM");
    let status = child.wait().unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(8),
        "escalated: {:?}",
        t0.elapsed()
    );
    assert_eq!(
        status.code(),
        Some(143),
        "footprint was terminated: 128 + 15"
    );
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["status"], "interrupted");
    assert!(m["notices"].to_string().contains("killed"), "{m}");
}

#[cfg(unix)]
#[test]
fn a_second_ctrl_c_kills_at_once_and_sighup_counts_as_a_stop() {
    let d = tempdir("twice");
    let out = d.join("r.json");
    let mut child = spawn_quiet(&[
        "measure",
        "--no-progress",
        "--kill-after",
        "60",
        "-o",
        out.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "trap '' INT TERM HUP; sleep 30; sleep 30",
    ]);
    std::thread::sleep(Duration::from_millis(600));
    let t0 = Instant::now();
    send_signal(child.id(), "-HUP");
    std::thread::sleep(Duration::from_millis(300));
    send_signal(child.id(), "-INT");
    let status = child.wait().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(matches!(status.code(), Some(129) | Some(130)), "{status:?}");
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["status"], "interrupted");
}

#[cfg(unix)]
#[test]
fn sighup_writes_the_report_marked_interrupted() {
    let d = tempdir("hup");
    let out = d.join("r.json");
    let mut child = spawn_quiet(&[
        "measure",
        "--no-progress",
        "-o",
        out.to_str().unwrap(),
        "--",
        "sleep",
        "30",
    ]);
    std::thread::sleep(Duration::from_millis(600));
    send_signal(child.id(), "-HUP");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(129));
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["status"], "interrupted");
    assert_eq!(m["interrupted_by"], "SIGHUP");
}

#[cfg(target_os = "linux")]
#[test]
fn background_processes_left_running_are_named() {
    let d = tempdir("bg");
    let out = d.join("r.json");
    let r = run(&[
        "measure",
        "--no-progress",
        "-o",
        out.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "sleep 2.5 & exit 0",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert!(m["notices"].to_string().contains("still running"), "{m}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_command_with_arguments_that_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let arg = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let out = Command::new(bin())
        .args(["measure", "--no-progress", "--", "printf", "%s"])
        .arg(arg)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout, b"caf\xe9",
        "the argument reached the command unchanged"
    );
}

// ---- 10: training sizes -------------------------------------------------------------------

#[test]
fn training_sizes_past_memory_are_refused_before_allocating() {
    for (flags, want) in [
        (vec!["--width", "100000"], "--width"),
        (
            vec!["--workload", "transformer", "--seq-len", "200000"],
            "--seq-len",
        ),
        (vec!["--depth", "20000"], "--depth"),
        (vec!["--steps", "0"], "--steps"),
        (vec!["--width", "60000", "--depth", "200"], "needs about"),
        (
            vec!["--workload", "transformer", "--batch-size", "1000000"],
            "needs about",
        ),
    ] {
        let mut args = vec!["measure", "--no-progress"];
        args.extend(&flags);
        assert_input_error(&run(&args), &[want]);
    }
}

#[test]
fn a_window_too_short_to_measure_is_flagged() {
    let r = run(&[
        "measure",
        "--no-progress",
        "-f",
        "json",
        "--steps",
        "1",
        "--width",
        "8",
        "--depth",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert!(
        v["measurement"]["notices"]
            .to_string()
            .contains("shorter than two sampling intervals"),
        "{}",
        v["measurement"]["notices"]
    );
}

// ---- 13-15: check ----------------------------------------------------------------------------

#[test]
fn limits_keep_their_si_prefix_case() {
    let run_file = "examples/ci/budgeted-run.toml";
    let energy = |limit: &str| {
        let r = run(&["check", run_file, "--max-energy", limit, "-f", "json"]);
        (r.code, r.stdout, r.stderr)
    };
    let energy_limit = |out: &str| {
        let v = json(out);
        let checks = v["budget"]["checks"].as_array().unwrap().clone();
        checks.iter().find(|c| c["metric"] == "energy_kwh").unwrap()["limit"]
            .as_f64()
            .unwrap()
    };
    let (_, out, _) = energy("900mWh");
    assert!((energy_limit(&out) - 0.0009).abs() < 1e-12, "{out}");
    let (_, out, _) = energy("1MWh");
    assert_eq!(energy_limit(&out), 1000.0);
    let (code, _, err) = energy("3mwh");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("mWh or MWh"), "{err}");
    assert_input_error(
        &run(&["check", run_file, "--max-co2e", "1e308t"]),
        &["too large"],
    );
    assert_input_error(
        &run(&["check", run_file, "--max-co2e", "1e400kg"]),
        &["--max-co2e"],
    );
}

#[test]
fn an_impossible_report_is_invalid_never_a_pass() {
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/measurement-cpu.json")).unwrap();
    let d = tempdir("impossible");
    let mut v = json(&fixture);
    v["estimates"][0]["co2e_kg"]["low"] = serde_json::json!(5.0);
    v["estimates"][0]["co2e_kg"]["high"] = serde_json::json!(1.0);
    let p = d.join("inverted.json");
    std::fs::write(&p, v.to_string()).unwrap();
    assert_input_error(
        &run(&["check", p.to_str().unwrap(), "--max-co2e", "1t"]),
        &["not in order"],
    );
    let mut v = json(&fixture);
    v["estimates"][0]["energy_kwh"]["central"] = serde_json::json!(-1.0);
    std::fs::write(&p, v.to_string()).unwrap();
    assert_input_error(
        &run(&["check", p.to_str().unwrap(), "--max-co2e", "1t"]),
        &["energy_kwh"],
    );
    // no Rust debug text in what users read
    let mut v = json(&fixture);
    v["measurement"]["schema_version"] = serde_json::json!(2);
    std::fs::write(&p, v.to_string()).unwrap();
    let r = run(&["check", p.to_str().unwrap(), "--max-co2e", "1t"]);
    assert_input_error(&r, &["schema 2"]);
    assert!(!r.stderr.contains("Some("), "{}", r.stderr);
    let mut v = json(&fixture);
    v["estimates"][0]["model"] = serde_json::json!("magic");
    std::fs::write(&p, v.to_string()).unwrap();
    let r = run(&["check", p.to_str().unwrap(), "--max-co2e", "1t"]);
    assert_input_error(&r, &["magic"]);
    assert!(!r.stderr.contains("Some("), "{}", r.stderr);
}

#[test]
fn an_unwritable_summary_does_not_hide_the_verdict() {
    let r = run(&[
        "check",
        "examples/ci/budgeted-run.toml",
        "--max-co2e",
        "1g",
        "--summary",
        "/nonexistent/dir/summary.md",
    ]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stdout.contains("FAIL"),
        "the verdict is printed: {}",
        r.stdout
    );
    assert!(r.stderr.contains("budget exceeded"), "{}", r.stderr);
    assert!(r.stderr.contains("summary.md"), "{}", r.stderr);
}

// ---- 16, 20-23: messages and limits ------------------------------------------------------------

#[cfg(unix)]
#[test]
fn input_never_reaches_the_terminal_raw() {
    let d = tempdir("esc");
    let name = d.join("evil\n\u{1b}[2Jname\u{202e}.toml");
    std::fs::write(
        &name,
        "[hardware]\ndevice = \"\u{1b}]0;pwned\u{7}H100\"\nhours = 1\n",
    )
    .unwrap();
    let r = run(&["estimate", name.to_str().unwrap()]);
    assert_input_error(&r, &["\\n", "\\u{1b}", "\\u{202e}"]);
    assert!(
        !r.stderr.trim_end().chars().any(|c| c.is_control()),
        "{:?}",
        r.stderr
    );
}

#[test]
fn a_huge_run_file_parses_in_linear_time() {
    let mut text = String::from("name = \"big\"\n[dataset]\nshards = [\n");
    for _ in 0..70_000 {
        text.push_str("{samples=1},\n");
    }
    text.push_str("]\n[per_sample]\nenergy_kwh = 1e-9\n");
    let p = write_run("huge", &text);
    let t0 = Instant::now();
    let r = run(&["estimate", p.to_str().unwrap(), "-f", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Quadratic line counting took 10 s here; linear takes well under one.
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
}

#[test]
fn an_empty_profiles_variable_means_none() {
    let r = run_env(&["estimate", SEED], &[("FOOTPRINT_PROFILES", "")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn a_terminal_of_zero_columns_does_not_shred_tables() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("this test needs util-linux `script` for a terminal");
    }
    let r = shell(
        "script -qec \"stty cols 0; '$FP' estimate examples/laptop-finetune.toml\" /dev/null",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = r
        .stdout
        .lines()
        .find(|l| l.contains("Device-hours"))
        .unwrap_or_else(|| panic!("rows are whole: {}", r.stdout));
    assert!(row.contains("27.14 h"), "{row}");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_not_read_as_a_run_file() {
    let d = tempdir("fifo-in");
    let fifo = d.join("run.toml");
    mkfifo(&fifo);
    let t0 = Instant::now();
    let r = run(&["estimate", fifo.to_str().unwrap()]);
    assert_input_error(&r, &["not a regular file"]);
    assert!(t0.elapsed() < Duration::from_secs(3));
    std::fs::write(d.join("p.toml"), "").unwrap();
    let r = run(&["--profiles", d.to_str().unwrap(), "estimate", SEED]);
    assert_input_error(&r, &["not a regular file"]);
}

/// A long training step does not hold up a stop: Ctrl-C answers within a second or two with
/// an interrupted report, even though the step in progress (several seconds on a 2-core
/// machine) has not finished.
#[cfg(unix)]
#[test]
fn ctrl_c_during_a_long_training_step_stops_at_once() {
    let d = tempdir("long-step");
    let out = d.join("r.json");
    let mut child = spawn_quiet(&[
        "measure",
        "--no-progress",
        "--workload",
        "transformer",
        "--seq-len",
        "4096",
        "--width",
        "512",
        "--heads",
        "1",
        "--batch-size",
        "4",
        "--depth",
        "2",
        "--warmup",
        "0",
        "--steps",
        "3",
        "-o",
        out.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = Instant::now();
    send_signal(child.id(), "-INT");
    let status = child.wait().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(status.code(), Some(130));
    let m = &json(&std::fs::read_to_string(&out).unwrap())["measurement"];
    assert_eq!(m["status"], "interrupted");
    if m["steps"] == 0 {
        assert!(
            m["notices"].to_string().contains("middle of a step"),
            "{}",
            m["notices"]
        );
    }
}

// ---- issue 21: the second hostile round ------------------------------------------------------

/// Every file a command reads is an input, not only those on its command line: the report a
/// run's `[measured]` section names and the files under `--profiles`. No output may be one.
#[test]
fn outputs_onto_inputs_the_command_line_does_not_name_are_refused() {
    let d = tempdir("hidden-inputs");
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/measurement-cpu.json")).unwrap();
    let report = d.join("m.json");
    std::fs::write(&report, &fixture).unwrap();
    let run_file = d.join("run.toml");
    std::fs::write(
        &run_file,
        "[dataset]\nsamples = 1000\n[measured]\nreport = \"m.json\"\nsame_workload = true\n",
    )
    .unwrap();
    let rf = run_file.to_str().unwrap();
    let out = report.to_str().unwrap();
    for args in [
        vec!["estimate", rf, "-o", out],
        vec!["estimate", rf, "--plot", out],
        vec!["check", rf, "--max-co2e", "1t", "--summary", out],
        vec!["sweep", rf, "--pue", "1.1,1.2", "-o", out],
    ] {
        let r = run(&args);
        assert_input_error(&r, &["is also an input"]);
        assert_eq!(
            std::fs::read_to_string(&report).unwrap(),
            fixture,
            "{args:?}"
        );
    }
    // a profile file under --profiles
    let prof = d.join("prof");
    std::fs::create_dir_all(&prof).unwrap();
    let lab = prof.join("lab.toml");
    std::fs::write(
        &lab,
        "[[grid]]\ncode = \"LAB\"\nname = \"Lab\"\ncarbon_intensity_g_per_kwh = 20\n",
    )
    .unwrap();
    let r = run(&[
        "estimate",
        SEED,
        "--profiles",
        prof.to_str().unwrap(),
        "-o",
        lab.to_str().unwrap(),
    ]);
    assert_input_error(&r, &["is also an input"]);
    assert!(std::fs::read_to_string(&lab).unwrap().contains("LAB"));
}

/// Two outputs on one file would corrupt each other: refused before anything runs.
#[test]
fn two_outputs_on_one_file_are_refused() {
    let d = tempdir("two-outputs");
    let x = d.join("x");
    let xs = x.to_str().unwrap();
    let t0 = Instant::now();
    let r = run(&[
        "measure",
        "--steps",
        "1000000",
        "-o",
        xs,
        "--csv-append",
        xs,
    ]);
    assert_input_error(&r, &["--csv-append", "two outputs on one file"]);
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "refused before the run"
    );
    let r = run(&[
        "measure",
        "--steps",
        "3",
        "--trace",
        xs,
        "--prometheus-textfile",
        xs,
    ]);
    assert_input_error(&r, &["--prometheus-textfile", "two outputs on one file"]);
    let r = run(&["estimate", SEED, "-o", xs, "--plot", xs]);
    assert_input_error(&r, &["--plot", "two outputs on one file"]);
    assert!(!x.exists(), "nothing was written");
}

/// A link planted at an output's name in a directory others can write to (a sticky /tmp) is
/// not followed: the file it points to keeps its content.
#[cfg(unix)]
#[test]
fn a_link_planted_in_a_shared_directory_is_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempdir("shared-dir");
    let shared = d.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = d.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = shared.join("r.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let l = link.to_str().unwrap();
    for args in [
        vec!["estimate", SEED, "-o", l],
        vec!["check", SEED, "--max-co2e", "1t", "--summary", l],
        vec!["measure", "--steps", "2", "-o", l],
        vec!["measure", "--steps", "2", "--trace", l],
        vec!["measure", "--steps", "2", "--csv-append", l],
    ] {
        let r = run(&args);
        assert_input_error(&r, &["symbolic link in a directory others can write to"]);
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "precious",
            "{args:?}"
        );
    }
    // a link in the user's own directory is followed, as before
    let own = d.join("own.json");
    std::os::unix::fs::symlink(&victim, &own).unwrap();
    let r = run(&["estimate", SEED, "-f", "json", "-o", own.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        std::fs::read_to_string(&victim)
            .unwrap()
            .contains("estimates")
    );
}

/// A FIFO output is not opened by the check before the run (its reader would see an end of
/// file and leave), so the reader gets the measurement; and `-` means stdout for every
/// output flag, never a file named `-`.
#[cfg(unix)]
#[test]
fn a_fifo_output_gets_the_measurement_and_dash_is_stdout_everywhere() {
    let d = tempdir("fifo-measure");
    let fifo = d.join("pipe");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let r = run(&[
        "measure",
        "--steps",
        "3",
        "--no-progress",
        "-o",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(json(&reader.join().unwrap())["measurement"].is_object());
    let r = run_in_dir(
        &[
            "check",
            &root().join(SEED).display().to_string(),
            "--max-co2e",
            "1t",
            "--summary",
            "-",
        ],
        &d,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("| "),
        "the Markdown summary went to stdout: {}",
        r.stdout
    );
    assert!(!d.join("-").exists(), "no file named -");
}

/// `--csv-append` onto a file whose last line has no newline starts a new line; onto a file
/// with another header it is refused before the run (nothing mixed into someone's table).
#[test]
fn csv_append_keeps_rows_whole_and_tables_apart() {
    let d = tempdir("csv-append");
    let csv = d.join("emissions.csv");
    let c = csv.to_str().unwrap();
    let r = run(&[
        "measure",
        "--steps",
        "2",
        "--no-progress",
        "--csv-append",
        c,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // a file cut short: no newline at its end
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text.trim_end()).unwrap();
    let r = run(&[
        "measure",
        "--steps",
        "2",
        "--no-progress",
        "--csv-append",
        c,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "header and two whole rows: {text}");
    let cols = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == cols), "{text}");
    // another table
    let other = d.join("other.csv");
    std::fs::write(&other, "a,b,c\n1,2,3\n").unwrap();
    let r = run(&[
        "measure",
        "--steps",
        "2",
        "--no-progress",
        "--csv-append",
        other.to_str().unwrap(),
    ]);
    assert_input_error(&r, &["--csv-append", "another header"]);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "a,b,c\n1,2,3\n");
}

/// Names from files (a run's name, a profile's name) never reach a terminal raw, and never
/// become live HTML in Markdown.
#[test]
fn names_from_files_are_inert_on_a_terminal_and_in_markdown() {
    let d = tempdir("inject");
    // a measurement report whose name carries a terminal escape, checked and merged
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/measurement-cpu.json")).unwrap();
    let mut v = json(&fixture);
    v["name"] = serde_json::json!("evil\u{1b}[31m\u{1b}]0;pwned\u{7}");
    v["measurement"]["device"] = serde_json::json!("dev\u{1b}[2J");
    let report = d.join("m.json");
    std::fs::write(&report, v.to_string()).unwrap();
    let r = run(&["check", report.to_str().unwrap(), "--max-energy", "1kWh"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stdout.contains('\u{1b}'),
        "raw escape on the terminal: {}",
        r.stdout
    );
    assert!(r.stdout.contains("\\u{1b}"), "shown escaped: {}", r.stdout);
    // a run name with HTML stays text in Markdown
    let p = d.join("run.toml");
    std::fs::write(
        &p,
        "name = \"x <img src=x onerror=alert(1)> <details>\"\n[hardware]\ndevice = \"H100\"\nhours = 1\n",
    )
    .unwrap();
    let r = run(&["estimate", p.to_str().unwrap(), "-f", "markdown"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("<img"), "{}", r.stdout);
    assert!(r.stdout.contains("&lt;img"), "{}", r.stdout);
    // a profile's name
    let prof = d.join("prof");
    std::fs::create_dir_all(&prof).unwrap();
    std::fs::write(
        prof.join("x.toml"),
        "[[accelerator]]\nname = \"Chip\\u001b]0;pwned\\u0007\"\nfamily = \"hopper\"\ntdp_w = 300\npeak_flops = 1e14\n",
    )
    .unwrap();
    let r = run(&[
        "profiles",
        "list",
        "gpus",
        "--profiles",
        prof.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}'),
        "raw control characters"
    );
}
