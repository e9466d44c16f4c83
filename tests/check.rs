//! `footprint check` end to end: exit codes, limits with units, --strict, every output format,
//! measurement reports, and the CI recipes as written.

mod common;
use common::*;

use quick_xml::Reader;
use quick_xml::events::Event;

/// 1000 W for 1 h = exactly 1 kWh; at 500 g/kWh exactly 0.5 kg; 2 USD/h.
const EXACT: &str = "name = \"exact\"\n[hardware]\npower_w = 1000\nhours = 1\nprice_usd_per_device_hour = 2\n[site]\ncarbon_intensity_g_per_kwh = 500\npue = 1.0\n";

fn exact() -> std::path::PathBuf {
    write_run("exact", EXACT)
}

fn check(args: &[&str]) -> Run {
    let mut a = vec!["check"];
    a.extend_from_slice(args);
    run(&a)
}

#[test]
fn within_every_limit_exits_0() {
    let p = exact();
    let r = check(&[
        p.to_str().unwrap(),
        "--max-co2e",
        "1kg",
        "--max-energy",
        "2kWh",
        "--max-cost",
        "$5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("PASS"), "{}", r.stdout);
    assert!(r.stderr.is_empty());
}

#[test]
fn each_exceeded_limit_exits_1_naming_limit_value_and_excess() {
    let p = exact();
    let p = p.to_str().unwrap();
    for (flag, limit, fragment) in [
        (
            "--max-co2e",
            "400g",
            "budget exceeded: CO2e 500 g > limit 400 g (over by 100 g)",
        ),
        (
            "--max-energy",
            "0.75kWh",
            "budget exceeded: energy 1 kWh > limit 750 Wh (over by 250 Wh)",
        ),
        (
            "--max-cost",
            "1.5usd",
            "budget exceeded: cost $2.00 > limit $1.50 (over by $0.50)",
        ),
    ] {
        let r = check(&[p, flag, limit]);
        assert_eq!(r.code, 1, "{flag}: {}", r.stderr);
        assert!(r.stderr.contains(fragment), "{flag}: {}", r.stderr);
        assert!(r.stdout.contains("FAIL"));
    }
}

#[test]
fn exactly_at_the_limit_passes_and_zero_limits_work() {
    let p = exact();
    let p = p.to_str().unwrap();
    assert_eq!(check(&[p, "--max-co2e", "0.5kg"]).code, 0);
    assert_eq!(check(&[p, "--max-co2e", "500g"]).code, 0);
    assert_eq!(check(&[p, "--max-energy", "1kWh"]).code, 0);
    assert_eq!(check(&[p, "--max-energy", "3.6MJ"]).code, 0);
    assert_eq!(check(&[p, "--max-cost", "2usd"]).code, 0);
    assert_eq!(check(&[p, "--max-co2e", "0kg"]).code, 1);
    let zero = write_run("zero", &EXACT.replace("= 500", "= 0"));
    assert_eq!(
        check(&[zero.to_str().unwrap(), "--max-co2e", "0g"]).code,
        0,
        "0 ≤ 0"
    );
}

#[test]
fn the_file_budget_and_flags_overriding_it() {
    let r = check(&["examples/ci/budgeted-run.toml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = check(&["examples/ci/budgeted-run.toml", "--max-co2e", "5kg"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("CO2e"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("cost"),
        "the file's cost limit still passes: {}",
        r.stderr
    );
}

#[test]
fn strict_flips_a_ranged_run() {
    let central = check(&["examples/ci/budgeted-run.toml", "-f", "json"]);
    assert_eq!(central.code, 0);
    let v = json(&central.stdout);
    assert_eq!(v["budget"]["basis"], "central");
    let strict = check(&["examples/ci/budgeted-run.toml", "--strict", "-f", "json"]);
    assert_eq!(strict.code, 1);
    let v = json(&strict.stdout);
    assert_eq!(v["budget"]["basis"], "high");
    assert_eq!(v["budget"]["ok"], false);
    let cost = v["budget"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "cost_usd")
        .unwrap();
    assert_eq!(cost["ok"], false);
    // 8 GPUs × 7 h at the GCP list price of an A100 80GB (the run is in gcp:us-central1)
    assert!((cost["value"].as_f64().unwrap() - 8.0 * 7.0 * 5.07).abs() < 1e-9);
}

#[test]
fn invalid_input_exits_2() {
    let p = exact();
    let p = p.to_str().unwrap();
    assert_input_error(
        &check(&[p, "--max-co2e", "50"]),
        &["--max-co2e", "needs a unit: mg, g, kg, t"],
    );
    assert_input_error(&check(&[p, "--max-co2e", "50lb"]), &["unknown unit 'lb'"]);
    assert_input_error(&check(&[p, "--max-energy=-1kWh"]), &["--max-energy"]);
    assert_input_error(
        &check(&[p, "--max-cost", "10eur"]),
        &["--max-cost", "unknown unit"],
    );
    assert_input_error(&check(&[p]), &["no budget"]);
    assert_input_error(
        &check(&["missing.toml", "--max-co2e", "1kg"]),
        &["missing.toml", "no such file"],
    );
    let no_price = write_run("noprice", "[hardware]\npower_w = 100\nhours = 1\n");
    assert_input_error(
        &check(&[no_price.to_str().unwrap(), "--max-cost", "1usd"]),
        &["no price"],
    );
    let bad = write_run("bad", "[hardware]\nhours = 1\ndevice = \"H10\"\n");
    assert_input_error(
        &check(&[bad.to_str().unwrap(), "--max-co2e", "1kg"]),
        &["did you mean H100"],
    );
}

#[test]
fn a_report_that_is_not_a_measurement_report() {
    let d = tempdir("notreport");
    let est = d.join("estimate.json");
    let r = run(&[
        "estimate",
        "examples/seed-example.toml",
        "-f",
        "json",
        "-o",
        est.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0);
    assert_input_error(
        &check(&[est.to_str().unwrap(), "--max-co2e", "1kg"]),
        &["not a measurement report"],
    );
    let junk = d.join("junk.json");
    std::fs::write(&junk, "{ not json").unwrap();
    assert_input_error(
        &check(&[junk.to_str().unwrap(), "--max-co2e", "1kg"]),
        &["not valid JSON"],
    );
}

#[test]
fn a_measurement_report_is_checked_on_its_measured_figures() {
    let d = tempdir("measured");
    let rep = d.join("m.json");
    let r = run(&[
        "measure",
        "--steps",
        "5",
        "--warmup",
        "1",
        "--width",
        "32",
        "--depth",
        "1",
        "-o",
        rep.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = json(&std::fs::read_to_string(&rep).unwrap());
    let measured_kwh = m["estimates"][0]["energy_kwh"]["central"].as_f64().unwrap();
    assert!(measured_kwh > 0.0);
    let pass = check(&[rep.to_str().unwrap(), "--max-energy", "1MWh", "-f", "json"]);
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    let v = json(&pass.stdout);
    assert_eq!(v["budget"]["model"], "measured");
    assert!((v["budget"]["checks"][0]["value"].as_f64().unwrap() - measured_kwh).abs() < 1e-15);
    assert!(v["measurement"].is_object());
    let fail = check(&[rep.to_str().unwrap(), "--max-energy", "0J"]);
    assert_eq!(fail.code, 1);
    assert!(
        fail.stderr.contains("budget exceeded: energy"),
        "{}",
        fail.stderr
    );
}

#[test]
fn json_output_carries_the_budget() {
    let p = exact();
    let r = check(&[
        p.to_str().unwrap(),
        "--max-co2e",
        "400g",
        "--max-energy",
        "2kWh",
        "-f",
        "json",
    ]);
    assert_eq!(r.code, 1);
    let v = json(&r.stdout);
    assert_eq!(v["schema_version"], 1);
    let b = &v["budget"];
    assert_eq!(b["ok"], false);
    let checks = b["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0]["metric"], "co2e_kg");
    assert_eq!(checks[0]["limit"], 0.4);
    assert_eq!(checks[0]["value"], 0.5);
    assert_eq!(checks[0]["ok"], false);
    assert_eq!(checks[1]["metric"], "energy_kwh");
    assert_eq!(checks[1]["ok"], true);
}

#[test]
fn junit_output_parses_with_one_case_per_limit() {
    let p = exact();
    let r = check(&[
        p.to_str().unwrap(),
        "--max-co2e",
        "400g",
        "--max-energy",
        "2kWh",
        "--max-cost",
        "1usd",
        "-f",
        "junit",
    ]);
    assert_eq!(r.code, 1);
    let mut reader = Reader::from_str(&r.stdout);
    let (mut cases, mut failures, mut suites) = (Vec::new(), 0, 0);
    let mut suite_failures = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "testsuite" => {
                    suites += 1;
                    for a in e.attributes() {
                        let a = a.unwrap();
                        if a.key.as_ref() == "failures" {
                            suite_failures = Some(a.value.to_string());
                        }
                    }
                }
                "testcase" => {
                    let name = e
                        .attributes()
                        .map(|a| a.unwrap())
                        .find(|a| a.key.as_ref() == "name")
                        .map(|a| a.value.to_string())
                        .unwrap();
                    cases.push(name);
                }
                "failure" => failures += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(suites, 1);
    assert_eq!(
        cases,
        [
            "co2e_kg within limit",
            "energy_kwh within limit",
            "cost_usd within limit"
        ]
    );
    assert_eq!(failures, 2);
    assert_eq!(suite_failures.as_deref(), Some("2"));
}

#[test]
fn markdown_output_and_summary_file() {
    let p = exact();
    let d = tempdir("summary");
    let summary = d.join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let r = check(&[
        p.to_str().unwrap(),
        "--max-co2e",
        "400g",
        "-f",
        "json",
        "--summary",
        summary.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    json(&r.stdout); // stdout keeps the chosen format
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("# earlier step\n"), "appended, not replaced");
    assert!(md.contains("**Budget: ❌ exceeded**"), "{md}");
    let table: Vec<&str> = md.lines().filter(|l| l.starts_with("| Limit")).collect();
    assert_eq!(table.len(), 1);
    let r = check(&[p.to_str().unwrap(), "--max-co2e", "1kg", "-f", "markdown"]);
    assert_eq!(r.code, 0);
    let rows: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.iter().any(|l| l.contains("pass")));
    assert!(rows.iter().any(|l| l.contains("---")));
    assert!(r.stdout.contains("✅ pass"));
}

/// The `footprint check` lines of the CI recipes run as written (with this build's binary).
#[test]
#[cfg(unix)] // the recipes are shell commands for Linux CI runners
fn ci_recipes_work_as_written() {
    let d = tempdir("ci");
    for file in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(example(&format!("ci/{file}"))).unwrap();
        // Join YAML folded (>-) continuation lines into one command.
        let mut cmds = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(l) = lines.next() {
            let t = l
                .trim()
                .trim_start_matches("- ")
                .trim_start_matches("run: >-")
                .trim();
            if let Some(pos) = t.find("target/release/footprint check") {
                cmds.push(t[pos..].to_string());
            } else if l.trim() == "run: >-" || l.trim().ends_with("run: >-") {
                let mut cmd = String::new();
                while let Some(n) = lines.peek() {
                    if n.trim().is_empty() || !n.starts_with("          ") {
                        break;
                    }
                    cmd.push_str(n.trim());
                    cmd.push(' ');
                    lines.next();
                }
                if cmd.contains("footprint check") {
                    cmds.push(cmd);
                }
            }
        }
        assert!(!cmds.is_empty(), "{file} has a footprint check command");
        for cmd in cmds {
            let summary = d.join("step-summary.md");
            let cmd = cmd
                .replace("target/release/footprint", bin())
                .replace("$GITHUB_STEP_SUMMARY", summary.to_str().unwrap());
            let gh_output = d.join("github-output");
            let out = std::process::Command::new("sh")
                .args(["-c", &cmd])
                .current_dir(root())
                .env(
                    "GITHUB_ACTIONS",
                    if file.starts_with("github") {
                        "true"
                    } else {
                        ""
                    },
                )
                .env("GITHUB_OUTPUT", &gh_output)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{file}: {cmd}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(d.join("step-summary.md").exists());
    // the GitHub step's outputs
    let outputs = std::fs::read_to_string(d.join("github-output")).unwrap();
    assert!(
        outputs.contains("budget_ok=true") && outputs.contains("co2e_kg="),
        "{outputs}"
    );
    assert!(root().join("footprint-budget.xml").exists());
    let xml = std::fs::read_to_string(root().join("footprint-budget.xml")).unwrap();
    assert!(xml.contains("<testsuites"));
    std::fs::remove_file(root().join("footprint-budget.xml")).unwrap();
}

/// In GitHub Actions an exceeded limit is an `::error::` annotation and the figures are step
/// outputs; with `--format junit`, even invalid input leaves a JUnit file saying why.
#[test]
fn ci_integrations() {
    let d = tempdir("gh");
    let out_file = d.join("out");
    let r = run_env(
        &[
            "check",
            "examples/laptop-finetune.toml",
            "--max-co2e",
            "100g",
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", out_file.to_str().unwrap()),
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("::error title=footprint budget (finetune-1.3b-a10g)::CO2e"),
        "{}",
        r.stdout
    );
    let outputs = std::fs::read_to_string(&out_file).unwrap();
    assert!(outputs.contains("budget_ok=false"), "{outputs}");
    // JSON on stdout stays JSON
    let r = run_env(
        &[
            "check",
            "examples/laptop-finetune.toml",
            "--max-co2e",
            "100g",
            "-f",
            "json",
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", out_file.to_str().unwrap()),
        ],
    );
    assert!(!r.stdout.contains("::error"), "{}", r.stdout);
    json(&r.stdout);
    // invalid input with junit: a JUnit document on stdout, the error on stderr, exit 2
    let r = run(&["check", "missing.toml", "--max-co2e", "1kg", "-f", "junit"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout
            .contains("<error message=\"missing.toml: no such file\""),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("no such file"));
}
