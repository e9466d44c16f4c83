//! One rule for outputs across commands (issue 26): `-o FILE` writes the format `-f` names,
//! else the one its extension names, else the command's default; `-o` may be given more than
//! once; an unsupported format is exit 2 with the list, never another format without a word.

mod common;
use common::*;

use std::path::Path;

const SEED: &str = "examples/seed-example.toml";
const BUDGETED: &str = "examples/ci/budgeted-run.toml";

/// What a file holds, told from its first bytes.
fn kind_of(path: &Path) -> &'static str {
    let text = std::fs::read_to_string(path).unwrap();
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        "json"
    } else if t.starts_with("<?xml") || t.starts_with("<testsuites") {
        "xml"
    } else if t.starts_with("<!DOCTYPE html") || t.starts_with("<html") {
        "html"
    } else if t.starts_with('┌') || t.starts_with("footprint ") {
        "table"
    } else if t.starts_with("###") || t.starts_with("| ") {
        "markdown"
    } else if t.contains(',') && t.lines().next().is_some_and(|l| !l.contains(' ')) {
        "csv"
    } else {
        "table"
    }
}

#[test]
fn every_command_writes_what_f_or_the_extension_says() {
    let d = tempdir("outputs");
    let f = |name: &str| d.join(name).display().to_string();
    // a measurement to merge and check
    let (m, m2) = (f("m.json"), f("m2.json"));
    for out in [&m, &m2] {
        let r = run(&["measure", "--steps", "2", "--no-progress", "-o", out]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(kind_of(Path::new(out)), "json");
    }
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["estimate".into(), SEED.into()], "estimate"),
        (
            vec![
                "sweep".into(),
                SEED.into(),
                "--pue".into(),
                "1.1,1.2".into(),
            ],
            "sweep",
        ),
        (
            vec![
                "check".into(),
                BUDGETED.into(),
                "--max-co2e".into(),
                "1t".into(),
            ],
            "check",
        ),
        (vec!["merge".into(), m.clone(), m2.clone()], "merge"),
        (
            vec!["validate".into(), "examples/published/reproduction".into()],
            "validate",
        ),
    ];
    // every format each command supports, by -f into a file without an extension
    let supported = |name: &str| -> &'static [&'static str] {
        match name {
            "validate" => &["table", "json", "markdown"],
            "check" => &["table", "json", "csv", "markdown", "html", "junit"],
            _ => &["table", "json", "csv", "markdown", "html"],
        }
    };
    for (base, name) in &cases {
        for fmt in supported(name) {
            let out = f(&format!("{name}-every-{fmt}"));
            let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
            args.extend(["-f", fmt, "-o", &out]);
            let r = run(&args);
            assert!(
                r.code == 0 || (*name == "check" && r.code == 1),
                "{name} -f {fmt}: {}",
                r.stderr
            );
            let want = match *fmt {
                "junit" => "xml",
                other => other,
            };
            assert_eq!(kind_of(Path::new(&out)), want, "{name} -f {fmt}");
        }
        for (ext, kind) in [("json", "json"), ("md", "markdown"), ("html", "html")] {
            let out = f(&format!("{name}.{ext}"));
            let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
            args.extend(["-o", &out]);
            let r = run(&args);
            if *name == "validate" && ext == "html" {
                assert_input_error(&r, &["--format", "not html"]);
                continue;
            }
            assert!(
                r.code == 0 || (*name == "check" && r.code == 1),
                "{name} {ext}: {}",
                r.stderr
            );
            assert_eq!(kind_of(Path::new(&out)), kind, "{name} -o {out}");
        }
        // -f wins over no extension, and two -o keep two formats of one run
        let (a, b) = (f(&format!("{name}-a")), f(&format!("{name}-b.json")));
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend(["-f", "markdown", "-o", &a]);
        let r = run(&args);
        assert!(r.code == 0 || r.code == 1, "{name}: {}", r.stderr);
        assert_eq!(
            kind_of(Path::new(&a)),
            "markdown",
            "{name} -f markdown -o {a}"
        );
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        let md = f(&format!("{name}-two.md"));
        args.extend(["-o", &b, "-o", &md]);
        let r = run(&args);
        assert!(r.code == 0 || r.code == 1, "{name}: {}", r.stderr);
        assert_eq!(kind_of(Path::new(&b)), "json", "{name} two outputs");
        assert_eq!(kind_of(Path::new(&md)), "markdown", "{name} two outputs");
        // an extension that contradicts -f is refused before anything runs
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        let clash = f(&format!("{name}-clash.json"));
        args.extend(["-f", "markdown", "-o", &clash]);
        assert_input_error(
            &run(&args),
            &["-o", "extension says json", "-f says markdown"],
        );
        assert!(!Path::new(&clash).exists());
    }
}

/// `measure -f html -o meas.html` writes HTML (it used to write JSON into it), and says once
/// that no JSON report is kept; `measure -o report.json` is as it always was.
#[test]
fn measure_writes_the_format_it_is_asked_for() {
    let d = tempdir("measure-out");
    let html = d.join("meas.html");
    let r = run(&[
        "measure",
        "--steps",
        "2",
        "--no-progress",
        "-f",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(kind_of(&html), "html");
    assert!(r.stderr.contains("no -o is JSON"), "{}", r.stderr);
    let json = d.join("r.json");
    let junit = run(&[
        "measure",
        "--steps",
        "2",
        "-o",
        d.join("x.xml").to_str().unwrap(),
    ]);
    assert_input_error(&junit, &["--format", "junit"]);
    let r = run(&[
        "measure",
        "--steps",
        "2",
        "--no-progress",
        "-o",
        json.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(kind_of(&json), "json");
    assert!(!r.stderr.contains("no -o is JSON"));
}

/// `profiles list` takes the same -f and -o as every other command.
#[test]
fn profiles_list_writes_what_it_is_asked_for() {
    let d = tempdir("profiles-out");
    let (json, txt) = (d.join("gpus.json"), d.join("gpus.txt"));
    let r = run(&[
        "profiles",
        "list",
        "gpus",
        "-o",
        json.to_str().unwrap(),
        "-o",
        txt.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "written to the files: {}", r.stdout);
    assert_eq!(kind_of(&json), "json");
    assert_eq!(kind_of(&txt), "table");
    let md = d.join("gpus.md");
    let r = run(&["profiles", "list", "gpus", "-o", md.to_str().unwrap()]);
    assert_input_error(&r, &["--format", "table, json", "not markdown"]);
    assert_eq!(run(&["profiles", "list", "gpus", "-f", "json"]).code, 0);
}
