//! A measurement for people: the headline figures and one row per sensor, with its source.
//!
//! Reads the measurement's JSON form, so the report module does not depend on `measure`.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use serde_json::Value;

use crate::units::{
    Duration, Energy, FlopRate, Power, human_duration, human_energy, human_flop_rate, human_power,
    sig4,
};

fn f(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Headline lines: (label, value).
pub(crate) fn headline(m: &Value) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let quality = s(m, "quality");
    let mut push = |k: &str, v: String| rows.push((k.to_string(), v));
    if s(m, "status") == "interrupted" {
        push(
            "Status",
            format!(
                "INTERRUPTED by {}: figures cover what ran until then",
                s(m, "interrupted_by")
            ),
        );
    }
    push("Ran on", s(m, "device").to_string());
    if let Some(cmd) = m.get("command").and_then(Value::as_array) {
        let words: Vec<&str> = cmd.iter().filter_map(Value::as_str).collect();
        push("Command", words.join(" "));
        if let Some(c) = f(m, "exit_code") {
            push("Exit code", format!("{c}"));
        }
    }
    if let Some(w) = m.get("workload").filter(|w| w.is_object()) {
        let cfg = &w["config"];
        push(
            "Workload",
            format!(
                "{} on {}, batch {}, {} parameters, {} steps after {} warm-up",
                s(cfg, "kind"),
                s(w, "device"),
                cfg["batch_size"],
                sig4(f(w, "parameters").unwrap_or(0.0)),
                m["steps"],
                m["warmup_steps"]
            ),
        );
    }
    if let Some(l) = m.get("loss").filter(|l| l.is_object()) {
        push(
            "Loss",
            format!(
                "{:.4} → {:.4}",
                f(l, "first").unwrap_or(f64::NAN),
                f(l, "last").unwrap_or(f64::NAN)
            ),
        );
    }
    let dur = Duration::from_seconds(f(m, "duration_s").unwrap_or(0.0));
    push("Measured window", human_duration(dur));
    let e = Energy::from_joules(f(m, "energy_j").unwrap_or(0.0));
    push(
        "Energy",
        format!("{} ({})", human_energy(e), s(m, "energy_source")),
    );
    if dur.seconds() > 0.0 {
        push("Mean power", human_power(e / dur));
    }
    if let Some(x) = f(m, "samples_per_second") {
        push("Throughput", format!("{} samples/s", sig4(x)));
    }
    if let Some(x) = f(m, "tokens_per_second") {
        push("Tokens", format!("{} tokens/s", sig4(x)));
    }
    if let Some(x) = f(m, "joules_per_sample") {
        push("Energy per sample", format!("{} J ({quality})", sig4(x)));
    }
    if let Some(x) = f(m, "flops_per_second") {
        push("Achieved", human_flop_rate(FlopRate::from_flop_per_s(x)));
    }
    if let Some(x) = f(m, "joules_per_flop") {
        push("Energy per FLOP", format!("{} pJ", sig4(x * 1e12)));
    }
    if let Some(sm) = m.get("sampler") {
        push(
            "Sampler",
            format!(
                "{} ms interval, {} ticks, {}% of one core",
                sig4(f(sm, "interval_ms").unwrap_or(0.0)),
                sm["ticks"],
                sig4(f(sm, "overhead_pct_of_one_core").unwrap_or(0.0))
            ),
        );
    }
    rows
}

/// The whole section as text for the table report.
pub(crate) fn people(m: &Value) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in headline(m) {
        t.add_row(vec![k, v]);
    }
    let mut out = format!("{t}\n");
    if let Some(sensors) = m.get("sensors").and_then(Value::as_array) {
        let counted: Vec<&str> = m
            .get("counted")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec![
                "Sensor",
                "Source",
                "Energy",
                "Mean",
                "Min – max",
                "Readings",
                "Counted",
            ]);
        for d in sensors {
            let p = &d["power_w"];
            let w = |k: &str| {
                f(p, k)
                    .map(|x| human_power(Power::from_watts(x)))
                    .unwrap_or_else(|| "—".into())
            };
            let mut readings = format!("{}", d["readings"]);
            if let Some(n) = f(d, "failed_reads").filter(|n| *n > 0.0) {
                readings.push_str(&format!(" ({n} failed)"));
            }
            t.add_row(vec![
                format!("{} {}", s(d, "id"), s(d, "name")),
                s(d, "source").to_string(),
                human_energy(Energy::from_joules(f(d, "energy_j").unwrap_or(0.0))),
                w("mean"),
                format!("{} – {}", w("min"), w("max")),
                readings,
                if counted.contains(&s(d, "id")) {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]);
        }
        for i in 2..6 {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&format!("{t}\n"));
        for d in sensors {
            if let Some(notes) = d.get("notes").and_then(Value::as_array) {
                for n in notes.iter().filter_map(Value::as_str) {
                    out.push_str(&format!("  - {}: {n}\n", s(d, "id")));
                }
            }
        }
    }
    if let Some(n) = m.get("notices").and_then(Value::as_array) {
        for x in n.iter().filter_map(Value::as_str) {
            out.push_str(&format!("  - {x}\n"));
        }
    }
    out
}
