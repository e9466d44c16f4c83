//! Helpers shared by the CLI tests: run the real binary, capture what it says.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_footprint")
}

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn example(rel: &str) -> PathBuf {
    root().join("examples").join(rel)
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// The binary started with `args`, stdin, stdout and stderr all null: for tests that signal
/// or kill it mid-run and then read what it wrote.
pub(crate) fn spawn_quiet(args: &[&str]) -> std::process::Child {
    Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start footprint")
}

/// Sends a signal (`-TERM`, `-INT`, `-KILL`…) to a process with the `kill` command.
#[cfg(unix)]
pub(crate) fn send_signal(pid: u32, sig: &str) {
    let sent = Command::new("kill").args([sig, &pid.to_string()]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill {sig} {pid}");
}

/// The exit code and the output of a finished command.
pub(crate) fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `footprint ARGS` with no FOOTPRINT_PROFILES from the environment.
pub(crate) fn run(args: &[&str]) -> Run {
    run_in(args, &root())
}

pub(crate) fn run_in(args: &[&str], dir: &Path) -> Run {
    let out = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("FOOTPRINT_PROFILES")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    finish(out)
}

pub(crate) fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(root())
        .env_remove("FOOTPRINT_PROFILES");
    for (k, v) in env {
        c.env(k, v);
    }
    finish(c.stdin(Stdio::null()).output().expect("the binary runs"))
}

/// A fresh temporary directory for one test.
pub(crate) fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "footprint-test-{tag}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a run file into a temporary directory and returns its path.
pub(crate) fn write_run(tag: &str, text: &str) -> PathBuf {
    let d = tempdir(tag);
    let p = d.join("run.toml");
    std::fs::write(&p, text).unwrap();
    p
}

pub(crate) fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

/// Asserts the run failed as invalid input: exit 2, one line on stderr containing every
/// fragment, nothing on stdout, no panic.
pub(crate) fn assert_input_error(r: &Run, fragments: &[&str]) {
    assert_eq!(r.code, 2, "exit code; stderr: {}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing on stdout, got: {}", r.stdout);
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    assert!(
        !r.stderr.contains("RUST_BACKTRACE"),
        "backtrace hint: {}",
        r.stderr
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {}", r.stderr);
    for f in fragments {
        assert!(r.stderr.contains(f), "stderr lacks {f:?}: {}", r.stderr);
    }
}

/// Compiles `tests/{src}` (C) into a shared library named `lib` in a directory of its own under
/// the target's temporary directory, and returns that directory for `LD_LIBRARY_PATH`: the
/// stand-ins for the GPU vendors' libraries. Uses `$CC`, else `cc` (the C compiler Rust links
/// with on Linux).
pub(crate) fn fake_library(src: &str, lib: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(lib);
    std::fs::create_dir_all(&dir).unwrap();
    let src = root().join("tests").join(src);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(dir.join(lib))
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("the fake {lib} needs a C compiler ({cc}): {e}"));
    assert!(status.success(), "compiling {} failed", src.display());
    dir
}

/// A sensor's mean power over its window: `energy_j / duration_s` of a report's sensor.
pub(crate) fn mean_w(sensor: &serde_json::Value) -> f64 {
    sensor["energy_j"].as_f64().unwrap() / sensor["duration_s"].as_f64().unwrap()
}
