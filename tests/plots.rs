//! Charts and HTML: `estimate --plot`, `sweep --plot`, `footprint plot TRACE`, and
//! `--format html`, read back as XML: one mark per option, model or sensor, axes with units,
//! nothing executable, and bad paths refused before any work.

mod common;
use common::*;

use quick_xml::Reader;
use quick_xml::events::Event;

/// An element's name and attributes.
type Element = (String, Vec<(String, String)>);

/// Every element (name, attributes) and every text node of a well-formed XML document;
/// panics where the document is not well-formed.
fn read_xml(doc: &str) -> (Vec<Element>, Vec<String>) {
    let mut reader = Reader::from_str(doc);
    let (mut elements, mut texts) = (Vec::new(), Vec::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("well-formed attribute");
                        (a.key.as_ref().to_string(), a.value.to_string())
                    })
                    .collect();
                elements.push((name, attrs));
            }
            Event::Text(t) => texts.push(t.as_ref().to_string()),
            Event::Eof => break,
            _ => {}
        }
    }
    (elements, texts)
}

fn count_class(elements: &[Element], class: &str) -> usize {
    elements
        .iter()
        .filter(|(_, a)| a.iter().any(|(k, v)| k == "class" && v == class))
        .count()
}

fn axis_labels(elements: &[Element]) -> usize {
    count_class(elements, "axis-label")
}

#[test]
fn sweep_plot_has_one_bar_per_option_in_each_panel_with_units() {
    let d = tempdir("plot-sweep");
    let svg = d.join("sweep.svg");
    let r = run(&[
        "sweep",
        example("laptop-finetune.toml").to_str().unwrap(),
        "--device",
        "H100,A100-80GB,L4",
        "--region",
        "FR,PL,US-CA",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = std::fs::read_to_string(&svg).unwrap();
    let (el, texts) = read_xml(&doc);
    // 9 options, CO2e and cost panels
    assert_eq!(count_class(&el, "bar"), 18);
    assert_eq!(count_class(&el, "range"), 18, "every option has a range");
    assert_eq!(axis_labels(&el), 2);
    let all = texts.join("\n");
    assert!(
        all.contains("CO2e (g CO2e)") || all.contains("CO2e (kg CO2e)"),
        "{all}"
    );
    assert!(all.contains("Cost (USD)"));
    assert!(
        all.contains("finetune-1.3b-a10g"),
        "the title names the run"
    );
    assert!(all.contains("cleanest") && all.contains("cheapest"));
    // --top limits the chart too
    let r = run(&[
        "sweep",
        example("laptop-finetune.toml").to_str().unwrap(),
        "--region",
        "FR,PL,US-CA,DE",
        "--top",
        "2",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (el, _) = read_xml(&std::fs::read_to_string(&svg).unwrap());
    assert_eq!(count_class(&el, "bar"), 4);
}

#[test]
fn estimate_plot_draws_each_model_per_figure() {
    let d = tempdir("plot-estimate");
    let svg = d.join("e.svg");
    let out = run(&[
        "estimate",
        example("laptop-finetune.toml").to_str().unwrap(),
        "-f",
        "json",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let models = json(&out.stdout)["estimates"].as_array().unwrap().len();
    let doc = std::fs::read_to_string(&svg).unwrap();
    let (el, texts) = read_xml(&doc);
    let all = texts.join("\n");
    // energy, CO2e and cost, named as the table names them (no embodied in this run, so the
    // total: the table's "Total CO2e")
    assert!(all.contains("Energy (× PUE) (kWh)"), "{all}");
    assert!(all.contains("Total CO2e ("));
    assert!(!all.contains("Operational"));
    assert!(all.contains("Cost (USD)"));
    assert!(!all.contains("Embodied"));
    assert_eq!(count_class(&el, "bar"), 3 * models);
    assert_eq!(axis_labels(&el), 3, "each panel's axis says its unit");
}

#[test]
fn a_trace_plots_one_line_per_sensor_with_the_warm_up_marked() {
    let d = tempdir("plot-trace");
    let trace = d.join("t.jsonl");
    let r = run(&[
        "measure",
        "--no-progress",
        "--steps",
        "30",
        "--warmup",
        "3",
        "--width",
        "64",
        "--depth",
        "1",
        "--interval-ms",
        "20",
        "--trace",
        trace.to_str().unwrap(),
        "-o",
        d.join("m.json").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let svg = d.join("power.svg");
    let r = run(&["plot", trace.to_str().unwrap(), "-o", svg.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = std::fs::read_to_string(&svg).unwrap();
    let (el, texts) = read_xml(&doc);
    let m = json(&std::fs::read_to_string(d.join("m.json")).unwrap());
    let sensors = m["measurement"]["sensors"].as_array().unwrap().len();
    assert_eq!(count_class(&el, "series"), sensors);
    assert_eq!(count_class(&el, "span"), 1, "the warm-up is shaded");
    let all = texts.join("\n");
    assert!(all.contains("time since start (s)") && all.contains("power (W)"));
    assert!(all.contains("warm-up"));
    // to stdout as well; a file that is not a trace is refused with its name
    let r = run(&["plot", trace.to_str().unwrap()]);
    assert!(r.code == 0 && r.stdout.starts_with("<svg"));
    let r = run(&["plot", example("laptop-finetune.toml").to_str().unwrap()]);
    assert_input_error(&r, &["laptop-finetune.toml", "not a footprint trace"]);
}

#[test]
fn html_reports_are_one_well_formed_page_with_their_charts() {
    let d = tempdir("html");
    let est = run(&[
        "estimate",
        example("laptop-finetune.toml").to_str().unwrap(),
        "-f",
        "html",
    ]);
    assert_eq!(est.code, 0, "{}", est.stderr);
    let sweep = run(&[
        "sweep",
        example("laptop-finetune.toml").to_str().unwrap(),
        "--region",
        "FR,PL",
        "-f",
        "html",
    ]);
    assert_eq!(sweep.code, 0, "{}", sweep.stderr);
    let m = d.join("m.json");
    let r = run(&[
        "measure",
        "--no-progress",
        "-o",
        m.to_str().unwrap(),
        "--",
        "true",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let merged = run(&[
        "check",
        m.to_str().unwrap(),
        "--max-energy",
        "1kWh",
        "-f",
        "html",
    ]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    for (what, page, bars) in [
        ("estimate", &est.stdout, None),
        ("sweep", &sweep.stdout, Some(4)), // 2 options × CO2e and cost
        ("measurement", &merged.stdout, None),
    ] {
        let (el, _) = read_xml(page);
        let names: Vec<&str> = el.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"svg"), "{what}: a chart inline");
        assert!(names.contains(&"table"), "{what}: the tables");
        assert!(!names.contains(&"script"), "{what}: no JavaScript");
        assert!(
            !page.contains("http://")
                || page.matches("http://").count()
                    == page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
            "{what}: nothing fetched from the network"
        );
        if let Some(b) = bars {
            assert_eq!(count_class(&el, "bar"), b);
        }
    }
}

#[test]
fn bad_plot_paths_are_refused_before_any_work() {
    let run_file = example("laptop-finetune.toml");
    let r = run(&[
        "estimate",
        run_file.to_str().unwrap(),
        "--plot",
        run_file.to_str().unwrap(),
    ]);
    assert_input_error(&r, &["--plot", "also an input"]);
    let r = run(&[
        "sweep",
        run_file.to_str().unwrap(),
        "--region",
        "FR",
        "--plot",
        "/nonexistent-dir/x.svg",
    ]);
    assert_input_error(&r, &["--plot"]);
}

/// The chart the README shows is what `sweep --plot` draws today (re-record with
/// `FOOTPRINT_BLESS=1 cargo test --release --test plots`).
#[test]
fn the_readme_chart_is_current() {
    let path = root().join("docs/img/sweep-finetune.svg");
    let d = tempdir("readme-chart");
    let out = d.join("s.svg");
    let r = run(&[
        "sweep",
        "examples/laptop-finetune.toml",
        "--device",
        "H100,A100-80GB,L4",
        "--region",
        "FR,PL,US-CA",
        "--plot",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let now = std::fs::read_to_string(&out).unwrap();
    if std::env::var_os("FOOTPRINT_BLESS").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "docs/img/sweep-finetune.svg is stale: FOOTPRINT_BLESS=1 cargo test --release --test plots"
    );
}
