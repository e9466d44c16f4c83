//! `footprint estimate` end to end: the shipped examples, the published cases, every format.

mod common;
use common::*;

fn estimate_json(path: &std::path::Path) -> serde_json::Value {
    let r = run(&["estimate", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    json(&r.stdout)
}

fn central(v: &serde_json::Value, field: &str) -> f64 {
    v[field]["central"]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

/// Every published training footprint is reproduced within the paper's rounding, from the
/// paper's own inputs (`[published]` with a tolerance), by `footprint validate`.
#[test]
fn published_cases_within_tolerance() {
    let r = run(&[
        "validate",
        "examples/published/reproduction",
        "examples",
        "-f",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = json(&r.stdout);
    let s = &v["summary"];
    assert!(s["reproduction_figures"].as_u64().unwrap() >= 15, "{s}");
    assert_eq!(s["reproduction_within"], s["reproduction_figures"]);
    for f in v["figures"].as_array().unwrap() {
        assert_eq!(f["tier"], "reproduction", "{f}");
        assert_eq!(f["pass"], true, "{f}");
    }
}

/// Described only by what is known before a run (parameters, tokens, device, count, region),
/// published runs fall inside footprint's range at least 90 % of the time, and the range is
/// informative: a median high ÷ low of at most 3.
#[test]
fn predictions_hold_the_published_figures() {
    let r = run(&[
        "validate",
        "examples/published/prediction",
        "-f",
        "json",
        "--min-coverage",
        "0.9",
        "--max-median-width",
        "3",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let s = &json(&r.stdout)["summary"];
    let n = s["prediction_figures"].as_u64().unwrap();
    assert!(n >= 30, "{n} predicted figures");
    assert!(s["prediction_coverage"].as_f64().unwrap() >= 0.9, "{s}");
    assert!(s["median_width"].as_f64().unwrap() <= 3.0, "{s}");
    // and validate itself says no when a threshold is missed
    let strict = run(&[
        "validate",
        "examples/published/prediction",
        "--max-median-width",
        "1.5",
    ]);
    assert_eq!(strict.code, 1);
    assert!(strict.stderr.contains("median width"), "{}", strict.stderr);
}

/// The time-split tier: runs whose figures were published from 2025 on, after the evidence
/// the defaults were fitted on, predicted by defaults that never saw them: at least 90 % inside
/// (23 of 25; the misses are a Jean Zay run whose hours hold more than training and a reasoning
/// post-training run), at a median width of at most 3. A run added later may lower it: the
/// defaults are not refitted on these runs.
#[test]
fn runs_published_after_the_cutoff_are_predicted() {
    let r = run(&[
        "validate",
        "examples/published/time-split",
        "-f",
        "json",
        "--min-coverage",
        "0.9",
        "--max-median-width",
        "3",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let s = &json(&r.stdout)["summary"];
    assert!(s["prediction_figures"].as_u64().unwrap() >= 25, "{s}");
    assert!(s["prediction_coverage"].as_f64().unwrap() >= 0.9, "{s}");
    assert!(s["median_width"].as_f64().unwrap() <= 3.0, "{s}");
}

#[test]
fn seed_example_is_ten_dollars_one_kwh_one_gram() {
    let v = estimate_json(&example("seed-example.toml"));
    let e = &v["estimates"][0];
    assert_eq!(e["model"], "per_sample");
    assert!((central(e, "cost_usd") - 10.0).abs() < 1e-9);
    assert!((central(e, "energy_kwh") - 1.0).abs() < 1e-9);
    assert!(
        (central(e, "co2e_kg") - 0.001).abs() < 1e-12,
        "1 g, not 1 kg"
    );
    let r = run(&["estimate", "examples/seed-example.toml"]);
    assert!(r.stdout.contains("1 g"), "{}", r.stdout);
    assert!(r.stdout.contains("$10.00"));
    assert!(r.stdout.contains("1 kWh"));
}

#[test]
fn gpt3_table_for_people() {
    let r = run(&[
        "estimate",
        "examples/published/reproduction/gpt3-patterson.toml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1,289 MWh"), "{}", r.stdout);
    assert!(r.stdout.contains("553.1 t"), "{}", r.stdout);
    assert!(r.stdout.contains("3,552,000 h"));
    assert!(r.stdout.contains("Assumed"));
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn json_schema_1_fields() {
    let v = estimate_json(&example("published/reproduction/gpt3-patterson.toml"));
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["name"], "gpt3-175b");
    assert_eq!(v["primary"], "duration");
    let e = &v["estimates"][0];
    assert_eq!(e["model"], "duration");
    assert!((e["device_hours"].as_f64().unwrap() - 3_552_000.0).abs() < 1e-6);
    for f in [
        "energy_kwh",
        "it_energy_kwh",
        "co2e_kg",
        "operational_co2e_kg",
        "embodied_co2e_kg",
        "cost_usd",
    ] {
        for k in ["low", "central", "high"] {
            assert!(e[f][k].is_number(), "{f}.{k}");
        }
    }
    assert!((central(e, "energy_kwh") - 1_289_376.0).abs() < 1e-3);
    let a = v["assumptions"].as_array().unwrap();
    assert!(
        a.iter()
            .all(|x| x["input"].is_string() && x["source"].is_string())
    );
    assert!(v["budget"].is_null());
}

#[test]
fn region_fr_uses_france_and_says_so() {
    let p = write_run(
        "fr",
        "[hardware]\ndevice = \"H100\"\ncount = 8\nhours = 24\n[site]\nregion = \"FR\"\npue = 1.2\n",
    );
    let v = estimate_json(&p);
    let a = v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["input"] == "site.carbon_intensity_g_per_kwh")
        .expect("intensity assumption");
    assert_eq!(a["source"], "profile");
    assert!(a["reference"].as_str().unwrap().contains("France"));
    // no [site] year: France's latest published year (2025, Our World in Data / Ember)
    assert_eq!(a["value"]["central"], 41.44);
    assert!(
        a["reference"]
            .as_str()
            .unwrap()
            .contains("latest published year, 2025")
    );
    // 8 × 24 h × (80 % of 700 W + 20 % host) × 1.2 at 41.44 g/kWh, central
    let kwh = 8.0 * 24.0 * 700.0 * (0.8 + 0.2) / 1000.0 * 1.2;
    let e = &v["estimates"][0];
    assert!((central(e, "energy_kwh") - kwh).abs() < 1e-9);
    assert!((central(e, "co2e_kg") - kwh * 0.04144).abs() < 1e-9);
    assert!(
        e["co2e_kg"]["low"].as_f64().unwrap() < kwh * 0.04144,
        "the grid's spread shows"
    );
    let r = run(&["estimate", p.to_str().unwrap()]);
    assert!(r.stdout.contains("profile: region FR"), "{}", r.stdout);
    let r = run(&["estimate", p.to_str().unwrap(), "--explain"]);
    assert!(r.stdout.contains("France"), "{}", r.stdout);
}

#[test]
fn no_region_uses_the_flagged_world_default() {
    let p = write_run(
        "world",
        "[hardware]\npower_w = 1000\nhours = 1\n[site]\npue = 1.0\n",
    );
    let v = estimate_json(&p);
    let a = v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["input"] == "site.carbon_intensity_g_per_kwh")
        .unwrap();
    assert_eq!(a["source"], "default");
    // the world's latest published year (2025, Our World in Data / Ember)
    assert_eq!(a["value"]["central"], 458.29);
    assert!((central(&v["estimates"][0], "co2e_kg") - 0.45829).abs() < 1e-12);
}

#[test]
fn ranged_run_has_three_columns_and_ordered_bands() {
    let v = estimate_json(&example("laptop-finetune.toml"));
    let e = &v["estimates"][0];
    for f in ["energy_kwh", "co2e_kg", "cost_usd"] {
        let (l, c, h) = (
            e[f]["low"].as_f64().unwrap(),
            e[f]["central"].as_f64().unwrap(),
            e[f]["high"].as_f64().unwrap(),
        );
        assert!(l < c && c < h, "{f}: {l} {c} {h}");
    }
    let r = run(&["estimate", "examples/laptop-finetune.toml"]);
    assert!(
        r.stdout.contains("compute low") && r.stdout.contains("high"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("aws:eu-west-3"), "{}", r.stdout);
}

#[test]
fn csv_has_one_row_per_model() {
    let p = write_run(
        "csv",
        "name = \"three, models\"\n[dataset]\nsamples = 1000\n[per_sample]\nenergy_kwh = 0.001\n[compute]\nflops_per_sample = 1e15\n[hardware]\ndevice = \"T4\"\nhours = 2\n",
    );
    let r = run(&["estimate", p.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(&header[..3], ["name", "model", "primary"]);
    assert!(header.contains(&"co2e_kg") && header.contains(&"energy_kwh_high"));
    assert!(
        lines[1].starts_with("\"three, models\",duration,true,"),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains(",compute,false,"));
    assert!(lines[3].contains(",per_sample,false,"));
    // the quoted name holds a comma: split that off before counting fields
    for l in &lines[1..] {
        let rest = l.split_once("\",").unwrap().1;
        assert_eq!(rest.split(',').count() + 1, header.len(), "{l}");
    }
}

#[test]
fn markdown_is_a_table() {
    let r = run(&[
        "estimate",
        "examples/published/reproduction/gpt3-patterson.toml",
        "-f",
        "markdown",
    ]);
    assert_eq!(r.code, 0);
    let table: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with('|')).collect();
    assert!(table.len() > 5);
    assert!(table[1].contains("---"), "{}", table[1]);
    let cols = table[0].matches('|').count();
    assert!(table.iter().take(8).all(|l| l.matches('|').count() == cols));
    assert!(r.stdout.contains("1,289 MWh"));
}

#[test]
fn output_file_is_written() {
    let d = tempdir("out");
    let out = d.join("r.json");
    let r = run(&[
        "estimate",
        "examples/seed-example.toml",
        "-f",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let v = json(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(v["name"], "seed-example");
}

#[test]
fn several_models_side_by_side_with_primary_marked() {
    let p = write_run(
        "multi",
        "[dataset]\nsamples = 1000\n[per_sample]\nenergy_kwh = 0.001\n[hardware]\ndevice = \"T4\"\nhours = 2\n",
    );
    let r = run(&["estimate", p.to_str().unwrap()]);
    assert!(r.stdout.contains("duration *"), "{}", r.stdout);
    assert!(r.stdout.contains("per-sample"));
    assert!(
        r.stdout
            .contains("primary model (budgets use it): duration")
    );
}

#[test]
fn budget_in_the_file_is_reported() {
    let p = write_run(
        "budget",
        "[hardware]\npower_w = 1000\nhours = 10\n[site]\ncarbon_intensity_g_per_kwh = 100\npue = 1.0\n[budget]\nmax_co2e_kg = 0.5\n",
    );
    let v = estimate_json(&p);
    assert_eq!(v["budget"]["ok"], false);
    assert_eq!(v["budget"]["checks"][0]["metric"], "co2e_kg");
    assert_eq!(v["budget"]["checks"][0]["value"], 1.0);
    assert_eq!(v["budget"]["checks"][0]["limit"], 0.5);
}

#[test]
fn user_profiles_by_flag_and_by_environment() {
    let d = tempdir("prof");
    std::fs::write(
        d.join("lab.toml"),
        "[[accelerator]]\nname = \"LabChip\"\ntdp_w = 250\npeak_flops = 5e14\n\n[[grid]]\ncode = \"LAB\"\nname = \"Our lab\"\ncarbon_intensity_g_per_kwh = 20\n",
    )
    .unwrap();
    let p = write_run(
        "prof",
        "[hardware]\ndevice = \"labchip\"\nhours = 4\npower_w = 250\nhost_power_w = 0\n[site]\nregion = \"LAB\"\npue = 1.0\n",
    );
    let dir = d.to_str().unwrap();
    for r in [
        run(&[
            "estimate",
            p.to_str().unwrap(),
            "-f",
            "json",
            "--profiles",
            dir,
        ]),
        run_env(
            &["estimate", p.to_str().unwrap(), "-f", "json"],
            &[("FOOTPRINT_PROFILES", dir)],
        ),
    ] {
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v = json(&r.stdout);
        // 250 W × 4 h = 1 kWh at 20 g
        assert!((central(&v["estimates"][0], "co2e_kg") - 0.02).abs() < 1e-12);
    }
    let r = run(&["estimate", p.to_str().unwrap()]);
    assert_input_error(&r, &["unknown device 'labchip'"]);
}

/// Every embedded accelerator can be estimated; a user's accelerator without a TDP needs the
/// run's own power, and says so (exit 2, naming the key).
#[test]
fn a_device_without_a_tdp_asks_for_power() {
    let d = tempdir("notdp");
    std::fs::write(
        d.join("chip.toml"),
        "[[accelerator]]\nname = \"NoTdpChip\"\npeak_flops = 5e14\n",
    )
    .unwrap();
    let p = write_run(
        "notdp",
        "[compute]\nparameters = 2e9\ntokens = 1e12\n[hardware]\ndevice = \"NoTdpChip\"\n",
    );
    let r = run(&[
        "estimate",
        p.to_str().unwrap(),
        "--profiles",
        d.to_str().unwrap(),
    ]);
    assert_input_error(&r, &["hardware.power_w", "NoTdpChip profile has no TDP"]);
}

/// The devices of 2024-26 public runs estimate (TPU v5p, GH200), a mixture of experts is
/// counted on its active parameters, and a run's year picks its grid's year.
#[test]
fn current_devices_moe_and_years_estimate() {
    for device in [
        "TPU v5p", "TPU v5e", "TPU v6e", "GH200", "GB200", "MI300X", "Gaudi3",
    ] {
        let p = write_run(
            "dev",
            &format!(
                "[compute]\nparameters = 8e9\ntokens = 1e12\n[hardware]\ndevice = \"{device}\"\n[site]\nregion = \"US\"\nyear = 2025\n"
            ),
        );
        let r = run(&["estimate", p.to_str().unwrap(), "-f", "json"]);
        assert_eq!(r.code, 0, "{device}: {}", r.stderr);
    }
    let co2e = |extra: &str| {
        let p = write_run(
            "moe",
            &format!(
                "[compute]\nparameters = 400e9\ntokens = 1e12\n{extra}[hardware]\ndevice = \"H100\"\n[site]\nregion = \"FR\"\nyear = 2024\n"
            ),
        );
        central(&estimate_json(&p)["estimates"][0], "co2e_kg")
    };
    let dense = co2e("");
    let moe = co2e("active_parameters = 17e9\n");
    // 6 · 17B · T instead of 6 · 400B · T, at a lower utilization (x0.8) and a smaller model's
    assert!(moe < dense / 10.0 && moe > dense / 40.0, "{moe} vs {dense}");
    let p = write_run(
        "badmoe",
        "[compute]\nparameters = 7e9\nactive_parameters = 8e9\ntokens = 1e12\n[hardware]\ndevice = \"H100\"\n",
    );
    assert_input_error(
        &run(&["estimate", p.to_str().unwrap()]),
        &["compute.active_parameters", "cannot exceed"],
    );
    let p = write_run(
        "badyear",
        "[hardware]\ndevice = \"H100\"\nhours = 1\n[site]\nregion = \"FR\"\nyear = 1850\n",
    );
    assert_input_error(
        &run(&["estimate", p.to_str().unwrap()]),
        &["site.year", "from 2000 to 2100"],
    );
    // A date says the year too: the same estimate as the year; a time alone does not.
    let with = |year: &str| {
        let p = write_run(
            "dateyear",
            &format!(
                "[hardware]\ndevice = \"H100\"\nhours = 1\n[site]\nregion = \"FR\"\nyear = {year}\n"
            ),
        );
        run(&["estimate", p.to_str().unwrap(), "-f", "json"])
    };
    let (date, year) = (with("2024-03-01"), with("2024"));
    assert_eq!(date.code, 0, "{}", date.stderr);
    assert_eq!(
        json(&date.stdout)["estimates"],
        json(&year.stdout)["estimates"]
    );
    assert_eq!(with("2024-03-01T09:00:00Z").code, 0);
    assert_input_error(&with("09:00:00"), &["site.year", "without a date"]);
}

/// The seed documents' worked example as the seed gives it (no PUE): 1 kWh, 1 g, 10 USD.
#[test]
fn the_seed_example_without_pue_is_exact() {
    let p = write_run(
        "seed",
        "[dataset]\nsamples = 100\n[per_sample]\nenergy_kwh = 0.01\ncost_usd = 0.1\n[site]\ncarbon_intensity_g_per_kwh = 1\n",
    );
    let v = estimate_json(&p);
    let e = &v["estimates"][0];
    assert!((central(e, "energy_kwh") - 1.0).abs() < 1e-12);
    assert!((central(e, "co2e_kg") - 0.001).abs() < 1e-15);
    assert!((central(e, "cost_usd") - 10.0).abs() < 1e-12);
    assert!(
        !v["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["input"] == "site.pue"),
        "no PUE is assumed where none applies"
    );
}

#[test]
fn profiles_list_and_show() {
    let r = run(&["profiles", "list", "gpus"]);
    assert_eq!(r.code, 0);
    for n in [
        "V100",
        "A100-SXM4-40GB",
        "A100-SXM4-80GB",
        "A100-PCIe",
        "H100-SXM5-80GB",
        "H100-PCIe",
        "H200",
        "L4",
        "T4",
        "A10G",
        "RTX-4090",
        "TPUv3",
        "TPUv4",
    ] {
        assert!(r.stdout.contains(n), "{n} missing");
    }
    let r = run(&["profiles", "list", "grids", "--format", "json"]);
    let v = json(&r.stdout);
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    for c in ["FR", "US", "DE", "US-CA", "US-TX", "SE3", "WORLD"] {
        assert!(codes.contains(&c), "{c}");
    }
    let r = run(&["profiles", "list", "clouds"]);
    for c in ["aws:us-east-1", "gcp:europe-west1", "azure:westeurope"] {
        assert!(r.stdout.contains(c), "{c}");
    }
    let r = run(&["profiles", "show", "H100"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("989 TFLOP/s") && r.stdout.contains("2023"),
        "{}",
        r.stdout
    );
    let r = run(&["profiles", "show", "H10"]);
    assert_input_error(&r, &["no profile named 'H10'", "did you mean H100"]);
}

#[test]
fn errors_are_one_line_exit_2() {
    let cases: &[(&str, &[&str])] = &[
        (
            "[hardware]\nhours = 1\ndevice = \"H10\"\n",
            &[
                "run.toml:3",
                "hardware.device",
                "unknown device 'H10' — did you mean H100?",
            ],
        ),
        (
            "[hardware]\nhours = 10\nutilization = 1.5\n",
            &["run.toml:3", "hardware.utilization", "1.5 is above"],
        ),
        (
            "[hardware]\nhours = 10\npower_w = 300\n[site]\npue = 0.8\n",
            &["run.toml:5", "site.pue", "at least 1"],
        ),
        (
            "[hardware]\nhours = -3\npower_w = 300\n",
            &["run.toml:2", "hardware.hours", "greater than 0"],
        ),
        (
            "[hardware]\nhours = nan\npower_w = 300\n",
            &["hardware.hours", "nan"],
        ),
        (
            "[hardware]\nhours = 1\npower_w = 300\n[site]\nregion = \"Frnace\"\n",
            &["site.region", "did you mean France"],
        ),
        (
            "[datset]\nsamples = 1\n",
            &[
                "run.toml:1",
                "unknown key `datset`",
                "did you mean `dataset`",
            ],
        ),
        (
            "[hardware]\nhours = 1\npower_w = 300\n[measured]\nreport = \"m.json\"\n",
            &["measured.report"],
        ),
        ("this is not toml\n", &["run.toml:1", "invalid TOML"]),
    ];
    for (text, frags) in cases {
        let p = write_run("err", text);
        let r = run(&["estimate", p.to_str().unwrap()]);
        assert_input_error(&r, frags);
    }
    let r = run(&["estimate", "does/not/exist.toml"]);
    assert_input_error(&r, &["does/not/exist.toml", "no such file"]);
    let r = run(&["estimate", "examples"]);
    assert_input_error(&r, &["examples", "is a directory"]);
    let r = run(&["estimate", "examples/seed-example.toml", "--format", "yaml"]);
    assert_eq!(r.code, 2, "a usage error is exit 2: {}", r.stderr);
}

/// Usage errors are clap's own, whole: a "did you mean" for a misspelt command, the valid
/// values of a flag, and the usage of the subcommand; exit 2.
#[test]
fn usage_errors_are_whole() {
    let r = run(&["estmate", "x.toml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("similar subcommand exists: 'estimate'"),
        "{}",
        r.stderr
    );
    let r = run(&["profiles", "list"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("<KIND>") && r.stderr.contains("Usage: footprint profiles list"),
        "{}",
        r.stderr
    );
    let r = run(&["estimate", "examples/seed-example.toml", "--format", "xml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("possible values: table, json, csv, markdown, junit"),
        "{}",
        r.stderr
    );
    // and a limit's message names its flag once
    let r = run(&["check", "examples/seed-example.toml", "--max-co2e", "50"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.matches("--max-co2e").count(), 1, "{}", r.stderr);
}

/// Reports carry no arithmetic noise, tables label every column and drop rows that repeat
/// their total, and rates say what they count.
#[test]
fn output_polish() {
    // noise: a run of zeros or nines before a last stray digit (8.360000000000001)
    let noisy = |text: &str| {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .any(|n| n.contains("0000000001") || n.contains("0000000002") || n.contains("99999999"))
    };
    for f in ["json", "csv"] {
        let r = run(&[
            "estimate",
            "examples/published/prediction/bloom-176b.toml",
            "-f",
            f,
        ]);
        assert!(!noisy(&r.stdout), "{}", r.stdout);
    }
    let r = run(&["estimate", "examples/laptop-finetune.toml"]);
    assert!(
        r.stdout.contains("compute low") && r.stdout.contains("compute high"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("Compute cost"),
        "same as Cost: {}",
        r.stdout
    );
    assert!(r.stdout.contains("│ Cost"), "{}", r.stdout);
}

/// Shell completions load in bash; the man page renders where `man` exists.
#[cfg(unix)]
#[test]
fn completions_and_man_page() {
    let d = tempdir("completions");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("footprint"), "{shell}");
    }
    let r = run(&["completions", "bash"]);
    let script = d.join("footprint.bash");
    std::fs::write(&script, &r.stdout).unwrap();
    let ok = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(ok.success(), "bash -n rejects the completion script");
    let r = run(&["man"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains(".TH footprint 1"),
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
    let page = d.join("footprint.1");
    std::fs::write(&page, &r.stdout).unwrap();
    if let Ok(out) = std::process::Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .output()
    {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("SYNOPSIS"));
    }
}

/// A rental price comes from the run's own cloud where the profile has it; one from another
/// cloud, or a cloud price for a site outside any cloud, is flagged in the assumption and the
/// notes.
#[test]
fn prices_match_the_place() {
    let base = "[compute]\nparameters = 7e9\ntokens = 1e12\n[hardware]\ndevice = \"H100\"\ncount = 64\n[site]\nregion = \"REGION\"\n";
    let price = |region: &str| {
        let p = write_run("price", &base.replace("REGION", region));
        let v = estimate_json(&p);
        let a = v["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["input"] == "hardware.price_usd_per_device_hour")
            .unwrap()
            .clone();
        (
            a["value"].as_f64().unwrap(),
            a["reference"].as_str().unwrap().to_string(),
            v["notes"].to_string(),
        )
    };
    let (gcp, gcp_ref, gcp_notes) = price("gcp:us-central1");
    assert_eq!(gcp, 11.06);
    assert!(
        gcp_ref.contains("a3-highgpu-8g") && !gcp_notes.contains("cloud list price"),
        "{gcp_ref}"
    );
    let (aws, aws_ref, _) = price("aws:us-east-1");
    assert_eq!(aws, 6.88);
    assert!(aws_ref.contains("p5.48xlarge"), "{aws_ref}");
    let (_, fr_ref, fr_notes) = price("FR");
    assert!(fr_ref.contains("not a cloud region"), "{fr_ref}");
    assert!(fr_notes.contains("cloud list price"), "{fr_notes}");
    // a cloud the profile has no price for: the default, flagged as another cloud's
    let p = write_run(
        "price",
        &base.replace("H100", "L4").replace("REGION", "azure:eastus"),
    );
    let v = estimate_json(&p);
    assert!(
        v["assumptions"].to_string().contains("ANOTHER CLOUD"),
        "{}",
        v["assumptions"]
    );
}

/// Every command renders through one output system: a format a result does not support is
/// refused before any work (exit 2, one line naming the formats it does), never rendered as
/// another format without a word.
#[test]
fn an_unsupported_format_is_refused_with_the_supported_list() {
    let r = run(&["validate", "examples/published/prediction", "-f", "html"]);
    assert_input_error(&r, &["--format", "table, json, markdown", "not html"]);
    let r = run(&["validate", "examples/published/prediction", "-f", "csv"]);
    assert_input_error(&r, &["--format", "not csv"]);
    let run_file = example("laptop-finetune.toml");
    let r = run(&[
        "sweep",
        run_file.to_str().unwrap(),
        "--region",
        "FR,DE",
        "-f",
        "junit",
    ]);
    assert_input_error(
        &r,
        &["--format", "table, json, csv, markdown, html", "not junit"],
    );
    // and each supported one renders
    for f in ["table", "json", "markdown"] {
        let r = run(&["validate", "examples/published/reproduction", "-f", f]);
        assert_eq!(r.code, 0, "{f}: {}", r.stderr);
        assert!(!r.stdout.is_empty());
    }
}

/// A validation that checked nothing is not a pass: files without `[published]` exit 1.
#[test]
fn a_validation_that_checks_nothing_fails() {
    let d = tempdir("vacuous");
    std::fs::copy(
        root().join("examples/laptop-finetune.toml"),
        d.join("a.toml"),
    )
    .unwrap();
    let r = run(&["validate", d.to_str().unwrap(), "--min-coverage", "0.9"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("no published figure was checked"),
        "{}",
        r.stderr
    );
}

/// The answer first and last: the default table shows each assumption's basis in short and
/// ends with one line a person can paste; `--explain` prints the sources in full.
#[test]
fn the_table_is_short_by_default_and_explains_on_request() {
    let f = example("laptop-finetune.toml");
    let short = run(&["estimate", f.to_str().unwrap()]);
    let long = run(&["estimate", f.to_str().unwrap(), "--explain"]);
    assert_eq!((short.code, long.code), (0, 0));
    assert!(
        short.stdout.contains("--explain shows the sources"),
        "{}",
        short.stdout
    );
    assert!(
        !short.stdout.contains("Baseten"),
        "a full citation in the short table"
    );
    assert!(long.stdout.contains("Baseten"), "{}", long.stdout);
    assert!(
        short.stdout.lines().count() < long.stdout.lines().count()
            || short.stdout.len() < long.stdout.len()
    );
    let last = short.stdout.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("≈ ") && last.contains("CO2e") && last.contains("kWh"),
        "{last}"
    );
    // the machine formats keep the full text
    let json = run(&["estimate", f.to_str().unwrap(), "-f", "json"]);
    assert!(json.stdout.contains("Baseten"));
}

/// `validate` over several folders says each tier on its own as well as together.
#[test]
fn validate_prints_each_tier() {
    let r = run(&[
        "validate",
        "examples/published/prediction",
        "examples/published/time-split",
        "-f",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let tiers = v["tiers"].as_array().unwrap();
    assert_eq!(tiers.len(), 2);
    let n = |t: &serde_json::Value| t["summary"]["prediction_figures"].as_u64().unwrap();
    assert_eq!(
        n(&tiers[0]) + n(&tiers[1]),
        v["summary"]["prediction_figures"].as_u64().unwrap()
    );
    let r = run(&[
        "validate",
        "examples/published/prediction",
        "examples/published/time-split",
    ]);
    assert!(
        r.stdout.contains("examples/published/time-split: ranges: "),
        "{}",
        r.stdout
    );
}

/// A folder given twice, in any spelling, is refused (its figures would count twice); a folder
/// given beside one inside it is a tier of its own files only.
#[test]
fn validate_counts_each_folder_once() {
    let r = run(&[
        "validate",
        "examples/published/time-split",
        "examples/published/../published/time-split",
    ]);
    assert_input_error(&r, &["given twice", "examples/published/time-split"]);
    let v = json(
        &run(&[
            "validate",
            "examples/published/reproduction",
            "examples",
            "-f",
            "json",
        ])
        .stdout,
    );
    let n = |t: &serde_json::Value| t["summary"]["reproduction_figures"].as_u64().unwrap();
    let tiers = v["tiers"].as_array().unwrap();
    assert_eq!(
        n(&tiers[0]) + n(&tiers[1]),
        v["summary"]["reproduction_figures"].as_u64().unwrap(),
        "{v}"
    );
}

/// `footprint explain KEY` prints the evidence behind one default from the data the estimates
/// use; an input without a default is refused in one line that names the known ones.
#[test]
fn explain_prints_the_evidence_behind_a_default() {
    let r = run(&["explain", "hardware.utilization"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Pythia"), "{}", r.stdout);
    assert!(
        r.stdout.contains("0.16 – 0.38 (central 0.26)"),
        "{}",
        r.stdout
    );
    let j = run(&["explain", "site.pue", "-f", "json"]);
    assert_eq!(j.code, 0, "{}", j.stderr);
    let v = json(&j.stdout);
    assert_eq!(v["defaults"][0]["low"], 1.08);
    let bad = run(&["explain", "site.pu"]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("did you mean `site.pue`"),
        "{}",
        bad.stderr
    );
    let csv = run(&["explain", "site.pue", "-f", "csv"]);
    assert_eq!(csv.code, 2, "{}", csv.stderr);
}

/// `[compute] precision = "fp8"`: on an NVIDIA FP8 device the utilization default is the BF16
/// one times the published FP8 speed-up (so less device time and energy, a wider range); a
/// given utilization is taken as it is; on AMD the BF16 default is kept and the basis says why.
#[test]
fn fp8_training_speeds_up_the_default_only_where_evidence_says_so() {
    let est = |device: &str, extra_compute: &str, extra_hw: &str| {
        let p = write_run(
            "fp8",
            &format!(
                "[compute]\nparameters = 8e9\ntokens = 1e12\n{extra_compute}[hardware]\ndevice = \"{device}\"\ncount = 64\n{extra_hw}[site]\nregion = \"FR\"\nyear = 2025\n"
            ),
        );
        estimate_json(&p)
    };
    let hours = |v: &serde_json::Value| central(&v["estimates"][0], "device_hours_range");
    let basis = |v: &serde_json::Value| {
        v["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["input"] == "hardware.utilization")
            .map(|a| a["reference"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    let fp8 = "precision = \"fp8\"\n";
    let (bf16, with_fp8) = (est("H100", "", ""), est("H100", fp8, ""));
    let ratio = hours(&bf16) / hours(&with_fp8);
    assert!((ratio - 1.35).abs() < 0.01, "FP8 central speed-up {ratio}");
    assert!(
        basis(&with_fp8).contains("FP8 x1.15-x1.65"),
        "{}",
        basis(&with_fp8)
    );
    // "bf16" and "fp16" are the default's own precision
    assert_eq!(
        hours(&est("H100", "precision = \"BF16\"\n", "")),
        hours(&bf16)
    );
    // a given utilization is already the run's own: FP8 does not multiply it
    let given = "utilization = 0.3\n";
    assert_eq!(
        hours(&est("H100", fp8, given)),
        hours(&est("H100", "", given))
    );
    // AMD: accepted, the BF16 default kept, and the basis says so
    let mi = est("MI300X", fp8, "");
    assert_eq!(hours(&mi), hours(&est("MI300X", "", "")));
    assert!(
        basis(&mi).contains("no published FP8-over-BF16 speed-up"),
        "{}",
        basis(&mi)
    );
}

/// `[embodied]` without a figure: a device's published figure with its spread, or, for a
/// device without one, a figure modelled from its memory and labelled modelled; never an error
/// for a device the profiles know.
#[test]
fn embodied_is_a_range_published_or_modelled() {
    let embodied = |device: &str| {
        let p = write_run(
            "embodied",
            &format!("[hardware]\ndevice = \"{device}\"\nhours = 100\ncount = 8\n[embodied]\n"),
        );
        let v = estimate_json(&p);
        let a = v["assumptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["input"] == "embodied.kg_co2e_per_device")
            .cloned()
            .expect("the per-device figure is an assumption");
        (a, v["estimates"][0]["embodied_co2e_kg"].clone())
    };
    let (h100, band) = embodied("H100");
    assert_eq!(h100["value"]["central"], 165.0, "{h100}");
    assert!((h100["value"]["low"].as_f64().unwrap() - 165.0 * 0.75).abs() < 1e-9);
    assert!((h100["value"]["high"].as_f64().unwrap() - 165.0 * 1.7).abs() < 1e-9);
    assert!(band["low"].as_f64().unwrap() < band["high"].as_f64().unwrap());
    let (l4, _) = embodied("L4");
    let reference = l4["reference"].as_str().unwrap();
    assert!(reference.starts_with("modelled"), "{reference}");
    // 24 GB × 0.853 + 95.75 kg
    let central = l4["value"]["central"].as_f64().unwrap();
    assert!(
        (central - (24.0 * 546.0 / 640.0 + 95.75)).abs() < 1e-6,
        "{central}"
    );
    for device in ["MI300X", "TPUv5p", "Gaudi3", "GH200", "T4"] {
        let (a, _) = embodied(device);
        assert!(a["value"]["low"].as_f64().unwrap() > 0.0, "{device}: {a}");
    }
}
