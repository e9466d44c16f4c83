//! Byte-for-byte outputs of every shipped example and published case, in every machine format
//! (and Markdown), compared with files recorded in `tests/golden/`. A refactor that changes
//! what users or scripts read fails here; a deliberate change re-records with
//! `FOOTPRINT_BLESS=1 cargo test --release --test golden` and shows up in the diff.

mod common;

use std::path::{Path, PathBuf};

use common::{root, run};

/// Every run file under `examples/`.
fn run_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        "examples",
        "examples/ci",
        "examples/published/reproduction",
        "examples/published/prediction",
    ] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 30, "the examples are where they should be");
    files
}

fn golden_name(rel: &Path, what: &str) -> String {
    let stem = rel.to_string_lossy().replace(['/', '\\'], "_");
    format!("{}.{what}", stem.trim_end_matches(".toml"))
}

/// Compares `actual` with the recorded file, or records it when blessing.
fn compare(name: &str, actual: &str, failures: &mut Vec<String>) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("FOOTPRINT_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => {
            let line = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .map_or(expected.lines().count().min(actual.lines().count()), |i| i);
            failures.push(format!(
                "{name}: differs from line {}: expected {:?}, got {:?}",
                line + 1,
                expected.lines().nth(line),
                actual.lines().nth(line)
            ));
        }
        Err(e) => failures.push(format!("{name}: {e} (record with FOOTPRINT_BLESS=1)")),
    }
}

#[test]
fn every_example_renders_as_recorded() {
    let mut failures = Vec::new();
    for file in run_files() {
        let rel = file.strip_prefix(root()).unwrap().to_path_buf();
        let rel_s = rel.to_string_lossy().into_owned();
        for (format, ext) in [
            ("json", "json"),
            ("csv", "csv"),
            ("markdown", "md"),
            ("table", "txt"),
        ] {
            let r = run(&["estimate", &rel_s, "--format", format]);
            assert_eq!(r.code, 0, "{rel_s} --format {format}: {}", r.stderr);
            compare(&golden_name(&rel, ext), &r.stdout, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A measurement report recorded once (`tests/fixtures/measurement-cpu.json`, written by
/// `footprint measure --steps 20 -o`), read back by `check` and by `[measured]`.
#[test]
fn a_recorded_measurement_reads_back_as_recorded() {
    let mut failures = Vec::new();
    for (args, name) in [
        (
            vec![
                "check",
                "tests/fixtures/measurement-cpu.json",
                "--max-energy",
                "1kWh",
                "-f",
                "json",
            ],
            "check-measurement.json",
        ),
        (
            vec![
                "check",
                "tests/fixtures/measurement-cpu.json",
                "--max-co2e",
                "1g",
                "-f",
                "markdown",
            ],
            "check-measurement.md",
        ),
        (
            vec![
                "estimate",
                "tests/fixtures/from-measurement.toml",
                "-f",
                "json",
            ],
            "from-measurement.json",
        ),
        (
            vec![
                "estimate",
                "tests/fixtures/from-measurement.toml",
                "-f",
                "csv",
            ],
            "from-measurement.csv",
        ),
    ] {
        let r = run(&args);
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
        compare(name, &r.stdout, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The profile listings and one profile shown, as recorded.
#[test]
fn profiles_list_and_show_as_recorded() {
    let mut failures = Vec::new();
    for (args, name) in [
        (
            vec!["profiles", "list", "gpus", "-f", "json"],
            "profiles-gpus.json",
        ),
        (
            vec!["profiles", "list", "grids", "-f", "json"],
            "profiles-grids.json",
        ),
        (
            vec!["profiles", "list", "clouds", "-f", "json"],
            "profiles-clouds.json",
        ),
        (vec!["profiles", "list", "gpus"], "profiles-gpus.txt"),
        (vec!["profiles", "show", "H100"], "profiles-show-h100.txt"),
        (
            vec!["profiles", "show", "aws:us-east-1"],
            "profiles-show-aws.txt",
        ),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        compare(name, &r.stdout, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The README's sample outputs are the tool's output, at 80 columns: each block that follows a
/// `<!-- sample: ARGS -->` line starts with `$ footprint ARGS` and holds exactly what that
/// command prints with `COLUMNS=80`. `FOOTPRINT_BLESS=1` rewrites them.
#[test]
fn readme_samples_are_the_current_output() {
    let path = root().join("README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    let mut drift = Vec::new();
    let mut samples = 0;
    while let Some(at) = rest.find("<!-- sample: ") {
        let line_end = at + rest[at..].find('\n').unwrap();
        let args = rest[at + "<!-- sample: ".len()..line_end]
            .trim_end()
            .trim_end_matches("-->")
            .trim()
            .to_string();
        // The fenced block right after the marker.
        let open = line_end + 1;
        assert!(
            rest[open..].starts_with("```\n"),
            "a block follows `{args}`"
        );
        let body = open + 4;
        let close = body + rest[body..].find("\n```").unwrap() + 1;
        let argv: Vec<&str> = args.split_whitespace().collect();
        let r = common::run_env(&argv, &[("COLUMNS", "80")]);
        let expected = format!("$ footprint {args}\n{}", r.stdout);
        if rest[body..close] != expected {
            drift.push(args.clone());
        }
        out.push_str(&rest[..body]);
        out.push_str(&expected);
        rest = &rest[close..];
        samples += 1;
    }
    out.push_str(rest);
    assert!(samples >= 3, "the README keeps its samples");
    if std::env::var_os("FOOTPRINT_BLESS").is_some() {
        std::fs::write(&path, out).unwrap();
        return;
    }
    assert!(
        drift.is_empty(),
        "README samples differ from the output (record with FOOTPRINT_BLESS=1): {drift:?}"
    );
}
