//! `footprint sweep` end to end: every option equals a single `estimate` of the same run with
//! the same values, sorted and marked; bad values refused up front.

mod common;
use common::*;

const RUN: &str = "examples/laptop-finetune.toml";

fn sweep_json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["sweep", RUN, "-f", "json"];
    a.extend_from_slice(args);
    let r = run(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    json(&r.stdout)
}

#[test]
fn each_option_equals_a_single_estimate() {
    let v = sweep_json(&["--device", "L4,H100", "--region", "FR,PL", "--count", "1,2"]);
    let options = v["options"].as_array().unwrap();
    assert_eq!(options.len(), 8);
    assert_eq!(v["options_evaluated"], 8);
    let text = std::fs::read_to_string(root().join(RUN)).unwrap();
    for o in options {
        let (device, region, count) = (
            o["device"].as_str().unwrap(),
            o["region"].as_str().unwrap(),
            o["count"].as_u64().unwrap(),
        );
        let edited = text
            .replace("device = \"A10G\"", &format!("device = \"{device}\""))
            .replace(
                "region = \"aws:eu-west-3\"",
                &format!("region = \"{region}\""),
            )
            .replace("count = 1\n", &format!("count = {count}\n"));
        let p = write_run("sweep-one", &edited);
        let r = run(&["estimate", p.to_str().unwrap(), "-f", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let single = json(&r.stdout);
        let primary = single["primary"].clone();
        let est = single["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["model"] == primary)
            .unwrap();
        assert_eq!(&o["estimate"], est, "{device} {region} {count}");
    }
}

#[test]
fn sorted_best_first_with_the_best_of_each_marked() {
    let v = sweep_json(&[
        "--device",
        "A10G,L4,H100,A100-80GB",
        "--region",
        "FR,PL,US-CA",
        "--sort",
        "co2e",
    ]);
    let opts = v["options"].as_array().unwrap();
    let co2e: Vec<f64> = opts
        .iter()
        .map(|o| o["estimate"]["co2e_kg"]["central"].as_f64().unwrap())
        .collect();
    assert!(co2e.windows(2).all(|w| w[0] <= w[1]), "{co2e:?}");
    assert!(opts[0]["marks"].to_string().contains("cleanest"));
    let marked = |m: &str| {
        opts.iter()
            .filter(|o| o["marks"].to_string().contains(m))
            .count()
    };
    assert_eq!(
        (marked("cleanest"), marked("cheapest"), marked("fastest")),
        (1, 1, 1)
    );
    let cheapest = opts
        .iter()
        .find(|o| o["marks"].to_string().contains("cheapest"))
        .unwrap();
    let min_cost = opts
        .iter()
        .map(|o| o["estimate"]["cost_usd"]["central"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(
        cheapest["estimate"]["cost_usd"]["central"]
            .as_f64()
            .unwrap(),
        min_cost
    );
    // by cost, and the top 3 only
    let v = sweep_json(&["--device", "A10G,L4,H100", "--sort", "cost", "--top", "2"]);
    let opts = v["options"].as_array().unwrap();
    assert_eq!(opts.len(), 2);
    let c: Vec<f64> = opts
        .iter()
        .map(|o| o["estimate"]["cost_usd"]["central"].as_f64().unwrap())
        .collect();
    assert!(c[0] <= c[1]);
    // every region and every device
    let v = sweep_json(&["--device", "all", "--region", "all", "--top", "1"]);
    assert!(v["options_evaluated"].as_u64().unwrap() > 10_000);
    // the other formats
    for f in ["table", "csv", "markdown"] {
        let r = run(&["sweep", RUN, "--device", "L4,H100", "-f", f]);
        assert_eq!(r.code, 0, "{f}: {}", r.stderr);
        assert!(r.stdout.contains("H100"), "{f}");
    }
}

#[test]
fn bad_values_are_refused_once_up_front() {
    assert_input_error(
        &run(&["sweep", RUN, "--device", "H100,H10"]),
        &["--device", "did you mean H100"],
    );
    assert_input_error(
        &run(&["sweep", RUN, "--region", "Frnace"]),
        &["--region", "did you mean France"],
    );
    assert_input_error(
        &run(&["sweep", RUN, "--utilization", "1.5"]),
        &["--utilization"],
    );
    assert_input_error(&run(&["sweep", RUN, "--count", "0"]), &["--count"]);
    assert_input_error(&run(&["sweep", RUN, "--pue", "0.9"]), &["--pue"]);
    assert_input_error(
        &run(&["sweep", "examples/seed-example.toml", "--device", "H100"]),
        &["seed-example.toml", "[hardware]"],
    );
    let r = run(&["sweep", RUN, "--sort", "weight"]);
    assert_eq!(r.code, 2);
    // A value named twice, in any spelling, would be two identical options.
    assert_input_error(
        &run(&["sweep", RUN, "--device", "H100,L4,H100-SXM5-80GB"]),
        &["--device", "given twice", "as H100 and H100-SXM5-80GB"],
    );
    assert_input_error(
        &run(&["sweep", RUN, "--region", "FR,PL,France"]),
        &["--region", "FR is given twice"],
    );
    assert_input_error(&run(&["sweep", RUN, "--count", "8,8"]), &["--count"]);
    assert_input_error(&run(&["sweep", RUN, "--pue", "1.1,1.10"]), &["--pue"]);
}

/// Every sweep value meets the rule of the run-file key it overrides, and an option that
/// would change nothing is refused.
#[test]
fn sweep_values_meet_the_run_files_rules() {
    let run_file = example("laptop-finetune.toml");
    let rf = run_file.to_str().unwrap();
    let r = run(&["sweep", rf, "--utilization", "1e-300"]);
    assert_input_error(&r, &["--utilization", "1e-300", "hardware.utilization"]);
    assert!(r.stderr.len() < 300, "a short message: {}", r.stderr);
    let r = run(&["sweep", rf, "--pue", "0.5"]);
    assert_input_error(&r, &["--pue", "site.pue"]);
    let d = tempdir("sweep-duration");
    let p = d.join("dur.toml");
    std::fs::write(&p, "[hardware]\ndevice = \"H100\"\nhours = 10\n").unwrap();
    let r = run(&["sweep", p.to_str().unwrap(), "--utilization", "0.3,0.4"]);
    assert_input_error(&r, &["--utilization", "no [compute]"]);
}

/// Options are counted before anything is built: seven axes of 20 values are refused at once
/// (not an allocation failure), and `--top` shows the same best options, marks included, as
/// the full ranking.
#[test]
fn sweeps_are_counted_first_and_top_matches_the_full_ranking() {
    let run_file = example("laptop-finetune.toml");
    let rf = run_file.to_str().unwrap();
    let twenty = (1..=20)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let fracs = (1..=20)
        .map(|i| format!("{}", i as f64 / 20.0))
        .collect::<Vec<_>>()
        .join(",");
    let pues = (0..20)
        .map(|i| format!("{}", 1.0 + i as f64 / 20.0))
        .collect::<Vec<_>>()
        .join(",");
    let t0 = std::time::Instant::now();
    let r = run(&[
        "sweep",
        rf,
        "--count",
        &twenty,
        "--utilization",
        &fracs,
        "--pue",
        &pues,
        "--epochs",
        &twenty,
        "--price",
        &twenty,
        "--region",
        "FR,DE,PL,SE,US,GB,ES,IT,NL,BE,AT,CH,NO,FI,DK,IE,PT,CZ,SK,HU",
    ]);
    assert_input_error(&r, &["combinations", "at most 5,000,000"]);
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    let args = |top: Option<&str>| {
        let mut v = vec![
            "sweep",
            rf,
            "--region",
            "FR,DE,PL,SE",
            "--pue",
            "1.1,1.3,1.5",
            "--price",
            "0.5,1,2",
            "-f",
            "json",
        ];
        if let Some(t) = top {
            v.extend(["--top", t]);
        }
        json(&run(&v).stdout)
    };
    let (full, top) = (args(None), args(Some("5")));
    assert_eq!(top["options_evaluated"], full["options_evaluated"]);
    let opts = |v: &serde_json::Value| v["options"].as_array().unwrap().clone();
    assert_eq!(opts(&top)[..], opts(&full)[..5]);
}

/// An FP8 run swept over devices: a device without FP8 units trains in BF16 (the same as an
/// estimate of the run without `precision` on that device), with a note; `estimate` on that
/// device alone refuses the key.
#[test]
fn an_fp8_run_sweeps_devices_without_fp8_in_bf16() {
    let fp8 = write_run(
        "sweep-fp8",
        "[compute]\nparameters = 8e9\ntokens = 1e12\nprecision = \"fp8\"\n[hardware]\ndevice = \"H100\"\ncount = 64\n[site]\nregion = \"FR\"\n",
    );
    let r = run(&[
        "sweep",
        fp8.to_str().unwrap(),
        "--device",
        "H100,A100",
        "-f",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("A100") && notes.contains("trains in BF16"),
        "{notes}"
    );
    let a100 = v["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["device"].as_str().unwrap().starts_with("A100"))
        .unwrap();
    let bf16 = write_run(
        "sweep-bf16",
        "[compute]\nparameters = 8e9\ntokens = 1e12\n[hardware]\ndevice = \"A100\"\ncount = 64\n[site]\nregion = \"FR\"\n",
    );
    let e = json(&run(&["estimate", bf16.to_str().unwrap(), "-f", "json"]).stdout);
    assert_eq!(a100["estimate"]["co2e_kg"], e["estimates"][0]["co2e_kg"]);
    let alone = fp8.to_str().unwrap().to_string();
    let text = std::fs::read_to_string(&alone)
        .unwrap()
        .replace("H100", "A100");
    std::fs::write(&alone, text).unwrap();
    assert_eq!(run(&["estimate", &alone]).code, 2);
}

/// A device whose utilization would be the generic default (no published run or benchmark) is
/// never ranked against devices with evidence, however good its peak FLOP/s makes it look: it
/// is listed after them, unranked and unmarked, with a note; `--utilization` ranks it.
#[test]
fn a_device_without_evidence_is_listed_after_the_ranked_ones() {
    let f = write_run(
        "sweep-generic",
        "[compute]\nparameters = 8e9\ntokens = 1e12\n[hardware]\ndevice = \"H100\"\ncount = 64\n[site]\nregion = \"US\"\nyear = 2025\n",
    );
    let path = f.to_str().unwrap();
    let json_of = |args: &[&str]| {
        let mut a = vec!["sweep", path, "-f", "json"];
        a.extend_from_slice(args);
        let r = run(&a);
        assert_eq!(r.code, 0, "{}", r.stderr);
        json(&r.stdout)
    };
    let v = json_of(&["--device", "Gaudi3,H100,MI300X", "--sort", "time"]);
    let options = v["options"].as_array().unwrap();
    let names: Vec<&str> = options
        .iter()
        .map(|o| o["device"].as_str().unwrap())
        .collect();
    assert_eq!(names.last(), Some(&"Gaudi3"), "{names:?}");
    let gaudi = options.last().unwrap();
    assert_eq!(gaudi["unranked"], true);
    assert_eq!(gaudi["marks"].as_array().unwrap().len(), 0);
    // Its central time is the shortest: only the rule keeps it from rank 1.
    let hours = |o: &serde_json::Value| {
        o["estimate"]["wall_clock_hours"]["central"]
            .as_f64()
            .unwrap()
    };
    assert!(options[..2].iter().all(|o| hours(o) > hours(gaudi)), "{v}");
    assert!(options[..2].iter().all(|o| o.get("unranked").is_none()));
    assert!(v["notes"].to_string().contains("Gaudi3"), "{v}");
    let table = run(&["sweep", path, "--device", "Gaudi3,H100"]);
    assert!(
        table.stdout.contains("best by co2e: H100"),
        "{}",
        table.stdout
    );
    // Given a utilization, it is ranked like any other.
    let v = json_of(&["--device", "Gaudi3,H100", "--utilization", "0.3"]);
    assert!(
        v["options"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o.get("unranked").is_none())
    );
}
