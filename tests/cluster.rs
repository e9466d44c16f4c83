//! Beyond one machine: identity from Slurm and torchrun, placeholders, once per node, merging
//! node reports, and the Prometheus text file, on a machine without a cluster or a GPU.

mod common;
#[cfg(unix)]
use common::*;

#[cfg(unix)]
fn measure_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut a = vec!["measure", "--no-progress"];
    a.extend_from_slice(args);
    run_env(&a, env)
}

#[cfg(unix)]
#[test]
fn slurm_identity_names_the_report_and_is_recorded() {
    let d = tempdir("slurm");
    let pattern = format!("{}/r-{{job}}-{{node}}-{{rank}}.json", d.display());
    let env = [
        ("SLURM_JOB_ID", "4242"),
        ("SLURM_PROCID", "3"),
        ("SLURM_LOCALID", "0"),
        ("SLURM_NODEID", "1"),
        ("SLURMD_NODENAME", "gpu-07"),
        ("SLURM_NTASKS", "8"),
    ];
    let r = measure_env(&["-o", &pattern, "--", "sleep", "0.2"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = d.join("r-4242-gpu-07-3.json");
    let m = &json(&std::fs::read_to_string(&path).unwrap())["measurement"];
    let p = &m["placement"];
    assert_eq!(p["launcher"], "slurm");
    assert_eq!(
        (
            p["job_id"].as_str(),
            p["node"].as_str(),
            p["rank"].as_u64(),
            p["world_size"].as_u64()
        ),
        (Some("4242"), Some("gpu-07"), Some(3), Some(8))
    );
    // torchrun's variables, and a placeholder that does not exist
    let r = measure_env(
        &[
            "-o",
            &format!("{}/t-{{rank}}.json", d.display()),
            "--",
            "true",
        ],
        &[("RANK", "5"), ("LOCAL_RANK", "1"), ("WORLD_SIZE", "8")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = &json(&std::fs::read_to_string(d.join("t-5.json")).unwrap())["measurement"];
    assert_eq!(m["placement"]["launcher"], "torchrun");
    let r = measure_env(&["-o", "r-{gpu}.json", "--", "true"], &[]);
    assert_input_error(&r, &["-o", "unknown placeholder {gpu}"]);
}

#[cfg(unix)]
#[test]
fn once_per_node_measures_only_local_rank_zero() {
    let d = tempdir("once");
    let out = d.join("r.json");
    let o = out.to_str().unwrap();
    // local rank 1: the command runs (its exit code passes through), nothing is measured
    let r = measure_env(
        &["--once-per-node", "-o", o, "--", "sh", "-c", "exit 5"],
        &[("SLURM_JOB_ID", "1"), ("SLURM_LOCALID", "1")],
    );
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(!out.exists(), "no report from a rank that does not measure");
    assert!(
        r.stderr.contains("only local rank 0 measures"),
        "{}",
        r.stderr
    );
    // local rank 0 measures
    let r = measure_env(
        &["--once-per-node", "-o", o, "--", "true"],
        &[("SLURM_JOB_ID", "1"), ("SLURM_LOCALID", "0")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.exists());
}

#[cfg(unix)]
fn node_report(
    d: &std::path::Path,
    job: &str,
    node: &str,
    rank: &str,
    secs: &str,
) -> std::path::PathBuf {
    let out = d.join(format!("{node}-{rank}.json"));
    let env = [
        ("SLURM_JOB_ID", job),
        ("SLURM_PROCID", rank),
        ("SLURM_LOCALID", "0"),
        ("SLURMD_NODENAME", node),
    ];
    let r = measure_env(
        &[
            "--samples",
            "100",
            "-o",
            out.to_str().unwrap(),
            "--",
            "sleep",
            secs,
        ],
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

#[cfg(unix)]
#[test]
fn merge_sums_spans_and_refuses_what_would_double_count() {
    let d = tempdir("merge");
    let a = node_report(&d, "77", "gpu-a", "0", "0.3");
    let b = node_report(&d, "77", "gpu-b", "1", "0.2");
    let job = d.join("job.json");
    let r = run(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        job.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let read = |p: &std::path::Path| json(&std::fs::read_to_string(p).unwrap());
    let (ma, mb, mj) = (
        read(&a)["measurement"].clone(),
        read(&b)["measurement"].clone(),
        read(&job)["measurement"].clone(),
    );
    let e = |m: &serde_json::Value| m["energy_j"].as_f64().unwrap();
    assert!(
        (e(&mj) - (e(&ma) + e(&mb))).abs() < 1e-12,
        "energy is the sum"
    );
    let start = |m: &serde_json::Value| m["started_at_unix_s"].as_f64().unwrap();
    let end = |m: &serde_json::Value| start(m) + m["duration_s"].as_f64().unwrap();
    assert!((start(&mj) - start(&ma).min(start(&mb))).abs() < 1e-9);
    assert!(
        (end(&mj) - end(&ma).max(end(&mb))).abs() < 1e-9,
        "time is the span"
    );
    assert_eq!(mj["samples"], 200);
    assert_eq!(mj["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(mj["placement"]["job_id"], "77");
    assert!(
        mj["counted"].to_string().contains("gpu-a/cpu-model")
            && mj["counted"].to_string().contains("gpu-b/cpu-model")
    );
    assert_eq!(read(&job)["name"], "job 77, 2 nodes");
    // usable by check and by every format
    assert_eq!(
        run(&["check", job.to_str().unwrap(), "--max-energy", "1kWh"]).code,
        0
    );
    for f in ["csv", "markdown", "table"] {
        assert_eq!(
            run(&["merge", a.to_str().unwrap(), b.to_str().unwrap(), "-f", f]).code,
            0
        );
    }
    // another job's report, and the same node twice
    let c = node_report(&d, "78", "gpu-c", "0", "0.1");
    assert_input_error(
        &run(&["merge", a.to_str().unwrap(), c.to_str().unwrap()]),
        &["different jobs", "--force"],
    );
    assert_eq!(
        run(&["merge", a.to_str().unwrap(), c.to_str().unwrap(), "--force"]).code,
        0
    );
    assert_input_error(
        &run(&["merge", a.to_str().unwrap(), a.to_str().unwrap()]),
        &["gpu-a", "twice"],
    );
    // the same node in a later job is other energy, not a double count: --force merges it
    let a_later = node_report(&tempdir("merge-later"), "79", "gpu-a", "0", "0.1");
    let r = run(&[
        "merge",
        a.to_str().unwrap(),
        a_later.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// One Prometheus sample: metric name, labels, value.
#[cfg(unix)]
type Sample = (String, Vec<(String, String)>, f64);

/// A strict reader of the Prometheus text format: HELP and TYPE before their samples, known
/// types, metric and label names by the format's grammar, escaped label values, numbers.
#[cfg(unix)]
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut typed = std::collections::HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            assert!(name_ok(rest.split(' ').next().unwrap()), "{line}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (n, t) = (it.next().unwrap(), it.next().unwrap());
            assert!(name_ok(n) && ["counter", "gauge"].contains(&t), "{line}");
            assert!(
                t != "counter" || n.ends_with("_total"),
                "counters end in _total: {line}"
            );
            typed.insert(n.to_string(), t.to_string());
        } else {
            assert!(!line.starts_with('#'), "{line}");
            let open = line.find('{').expect("labels");
            let close = line.rfind('}').expect("labels");
            let name = &line[..open];
            assert!(typed.contains_key(name), "a sample before its TYPE: {line}");
            let mut labels = Vec::new();
            let body = &line[open + 1..close];
            let mut rest = body;
            while !rest.is_empty() {
                let eq = rest.find("=\"").expect("label=\"value\"");
                let key = &rest[..eq];
                assert!(name_ok(key), "{line}");
                let mut value = String::new();
                let mut chars = rest[eq + 2..].char_indices();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => value.push(chars.next().expect("escape").1),
                        '"' => {
                            end = Some(eq + 2 + i + 1);
                            break;
                        }
                        c => value.push(c),
                    }
                }
                labels.push((key.to_string(), value));
                rest = &rest[end.expect("closed value")..];
                rest = rest.strip_prefix(',').unwrap_or(rest);
            }
            let v: f64 = line[close + 1..].trim().parse().expect("a number");
            assert!(v.is_finite() && v >= 0.0, "{line}");
            samples.push((name.to_string(), labels, v));
        }
    }
    samples
}

#[cfg(unix)]
#[test]
fn the_prometheus_textfile_reads_back() {
    let d = tempdir("prom");
    let prom = d.join("footprint-{node}.prom");
    let r = measure_env(
        &[
            "--region",
            "DE",
            "--interval-ms",
            "50",
            "--prometheus-textfile",
            prom.to_str().unwrap(),
            "--",
            "sleep",
            "0.4",
        ],
        &[("SLURM_JOB_ID", "9"), ("SLURMD_NODENAME", "gpu-x")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(d.join("footprint-gpu-x.prom")).unwrap();
    let samples = parse_prometheus(&text);
    let names: std::collections::BTreeSet<&str> = samples.iter().map(|s| s.0.as_str()).collect();
    for n in [
        "footprint_energy_joules_total",
        "footprint_power_watts",
        "footprint_co2e_grams_total",
    ] {
        assert!(names.contains(n), "{n} in {text}");
    }
    let (_, labels, joules) = samples
        .iter()
        .find(|s| s.0 == "footprint_energy_joules_total")
        .unwrap();
    let get = |k: &str| labels.iter().find(|l| l.0 == k).map(|l| l.1.as_str());
    assert_eq!(
        (get("job"), get("node"), get("device"), get("source")),
        (
            Some("9"),
            Some("gpu-x"),
            Some("cpu-model"),
            Some("modelled")
        )
    );
    let grams = samples
        .iter()
        .find(|s| s.0 == "footprint_co2e_grams_total")
        .unwrap()
        .2;
    // Germany's grid: about 380 g/kWh
    if *joules > 0.0 {
        let g_per_kwh = grams / (joules / 3.6e6);
        assert!((300.0..450.0).contains(&g_per_kwh), "{g_per_kwh}");
    }
    assert!(
        !d.read_dir()
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains(".tmp")),
        "no temporary file left"
    );
}

/// A merged report merged again with one of its own inputs would count that node twice:
/// refused. Reports far apart (merged with --force) count each one's own device time, not the
/// span between them.
#[cfg(unix)]
#[test]
fn merge_refuses_a_report_twice_and_counts_device_time_as_measured() {
    let d = tempdir("merge-twice");
    let a = node_report(&d, "90", "gpu-a", "0", "0.2");
    let b = node_report(&d, "90", "gpu-b", "1", "0.2");
    let ab = d.join("ab.json");
    let r = run(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        ab.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["merge", ab.to_str().unwrap(), a.to_str().unwrap()]);
    assert_input_error(&r, &["gpu-a", "merged twice"]);
    // two runs, the second made to look a day later: device-hours are each run's own
    let c = node_report(&tempdir("merge-day"), "91", "gpu-c", "0", "0.2");
    let mut v = json(&std::fs::read_to_string(&c).unwrap());
    let t = v["measurement"]["started_at_unix_s"].as_f64().unwrap();
    v["measurement"]["started_at_unix_s"] = serde_json::json!(t + 86_400.0);
    std::fs::write(&c, v.to_string()).unwrap();
    let r = run(&[
        "merge",
        a.to_str().unwrap(),
        c.to_str().unwrap(),
        "--force",
        "-f",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = json(&r.stdout);
    let hours = m["estimates"][0]["device_hours"].as_f64().unwrap();
    assert!(
        hours < 0.01,
        "device-hours are the runs' own, not a day's: {hours}"
    );
}
