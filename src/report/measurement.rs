//! A measurement for people: the headline figures and one row per sensor, with its source.

use comfy_table::CellAlignment;

use crate::record::{Measurement, Status, ThreadBasis, ThreadChoice};
use crate::units::{
    Duration, Energy, FlopRate, Power, human_duration, human_energy, human_flop_rate, human_power,
    sig4,
};

/// The training loop's thread count and the trials behind it: "1 by trial (1: 15,680/s at
/// 0.0003 J/sample; 2: …)"; with `detail`, the rule or reason in words as well.
fn thread_line(threads: Option<usize>, t: &ThreadChoice, detail: bool) -> String {
    let count = threads.map_or("?".to_string(), |n| n.to_string());
    let trials: Vec<String> = t
        .trials
        .iter()
        .map(|x| {
            format!(
                "{}: {}/s at {}",
                x.threads,
                sig4(x.samples_per_second),
                human_energy(Energy::from_joules(x.joules_per_sample))
            )
        })
        .collect();
    let how = if detail || trials.is_empty() {
        format!("{count}: {}", t.reason)
    } else {
        format!("{count} by trial")
    };
    if trials.is_empty() {
        how
    } else {
        format!("{how} ({})", trials.join("; "))
    }
}

/// Headline lines: (label, value).
pub(crate) fn headline(m: &Measurement) -> Vec<(String, String)> {
    headline_rows(m, true)
}

/// The headline rows; without `detail`, the rate and per-FLOP figures and the sampler's own
/// statistics are left out (the terminal's short form; JSON and `--explain` keep them).
fn headline_rows(m: &Measurement, detail: bool) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let quality = m.quality.as_str();
    let mut push = |k: &str, v: String| rows.push((k.to_string(), v));
    if m.status == Status::Interrupted {
        push(
            "Status",
            format!(
                "INTERRUPTED by {}: figures cover what ran until then",
                m.interrupted_by.as_deref().unwrap_or("")
            ),
        );
    }
    push("Ran on", m.device.clone());
    if let Some(cmd) = &m.command {
        push("Command", cmd.join(" "));
        if let Some(c) = m.exit_code {
            push("Exit code", format!("{c}"));
        }
    }
    if let Some(w) = &m.workload {
        let count = |x: Option<u64>| x.map_or("null".to_string(), |n| n.to_string());
        push(
            "Workload",
            format!(
                "{} on {}{}, batch {}, {} parameters, {} steps after {} warm-up",
                w.config.kind.as_str(),
                w.device,
                w.threads
                    .map(|n| format!(" ({n} thread{})", if n == 1 { "" } else { "s" }))
                    .unwrap_or_default(),
                w.config.batch_size,
                sig4(w.parameters as f64),
                count(m.steps),
                count(m.warmup_steps)
            ),
        );
    }
    if let Some(w) = &m.workload
        && let Some(t) = &w.thread_choice
        && (detail || t.basis == ThreadBasis::Trial)
    {
        push("Threads", thread_line(w.threads, t, detail));
    }
    if let Some(l) = &m.loss {
        push("Loss", format!("{:.4} → {:.4}", l.first, l.last));
    }
    let dur = Duration::from_seconds(m.duration_s);
    push("Measured window", human_duration(dur));
    let e = Energy::from_joules(m.energy_j);
    push(
        "Energy",
        format!("{} ({})", human_energy(e), m.energy_source),
    );
    if dur.seconds() > 0.0 {
        push("Mean power", human_power(e / dur));
    }
    if let Some(x) = m.samples_per_second {
        push("Throughput", format!("{} samples/s", sig4(x)));
    }
    if let Some(x) = m.tokens_per_second {
        push("Tokens", format!("{} tokens/s", sig4(x)));
    }
    if let Some(x) = m.joules_per_sample {
        push("Energy per sample", format!("{} J ({quality})", sig4(x)));
    }
    if let Some(x) = m.flops_per_second.filter(|_| detail) {
        push("Achieved", human_flop_rate(FlopRate::from_flop_per_s(x)));
    }
    if let Some(x) = m.joules_per_flop.filter(|_| detail) {
        push("Energy per FLOP", format!("{} pJ", sig4(x * 1e12)));
    }
    if let Some(t) = &m.time_resolved {
        let kg = |x: f64| crate::units::human_mass(crate::units::Mass::from_kg(x));
        push(
            "CO2e at the hour",
            format!(
                "{} at {} g/kWh, energy-weighted ({}); annual average {} at {} g/kWh ({:+.0} %)",
                kg(t.co2e_kg),
                sig4(t.mean_g_per_kwh),
                t.series,
                kg(t.annual_average_co2e_kg),
                sig4(t.annual_g_per_kwh),
                t.difference_percent
            ),
        );
    }
    let sm = &m.sampler;
    if !detail {
        return rows;
    }
    push(
        "Sampler",
        format!(
            "{} ms interval, {} ticks, {}% of one core",
            sig4(sm.interval_ms),
            sm.ticks,
            sig4(sm.overhead_pct_of_one_core)
        ),
    );
    rows
}

/// One row per sensor: header and cells, shared by the table and the HTML.
pub(crate) fn sensor_rows(m: &Measurement) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "Sensor",
        "Source",
        "Energy",
        "Mean",
        "Min – max",
        "Readings",
        "Counted",
    ]
    .map(String::from)
    .to_vec();
    let w = |x: Option<f64>| x.map_or_else(|| "—".into(), |x| human_power(Power::from_watts(x)));
    let rows = m
        .sensors
        .iter()
        .map(|d| {
            let mut readings = format!("{}", d.readings);
            if d.failed_reads > 0 {
                readings.push_str(&format!(" ({} failed)", d.failed_reads));
            }
            vec![
                format!("{} {}", d.id, d.name),
                d.source.as_str().to_string(),
                human_energy(Energy::from_joules(d.energy_j)),
                w(d.power_w.map(|p| p.mean)),
                format!(
                    "{} – {}",
                    w(d.power_w.map(|p| p.min)),
                    w(d.power_w.map(|p| p.max))
                ),
                readings,
                if m.counted.contains(&d.id) {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]
        })
        .collect();
    (header, rows)
}

/// One row per node of a merged report (none for a single node's).
pub(crate) fn node_rows(m: &Measurement) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let nodes = m.nodes.as_ref()?;
    let header = ["Node", "Rank", "Window", "Energy", "Source", "Status"]
        .map(String::from)
        .to_vec();
    let rows = nodes
        .iter()
        .map(|n| {
            vec![
                n.node.clone(),
                n.rank.map_or("—".to_string(), |r| r.to_string()),
                human_duration(Duration::from_seconds(n.duration_s)),
                human_energy(Energy::from_joules(n.energy_j)),
                format!("{} ({})", n.energy_source, n.quality.as_str()),
                n.status.as_str().to_string(),
            ]
        })
        .collect();
    Some((header, rows))
}

/// Every note of the section: per sensor, then the run's.
pub(crate) fn notes(m: &Measurement) -> Vec<String> {
    let mut out: Vec<String> = m
        .sensors
        .iter()
        .flat_map(|d| d.notes.iter().map(move |n| format!("{}: {n}", d.id)))
        .collect();
    out.extend(m.notices.iter().cloned());
    out
}

/// The whole section as text for the table report. The per-sensor table is left out when one
/// sensor gave everything (the headline's energy names it) unless `explain` asks for it.
pub(crate) fn people(m: &Measurement, explain: bool) -> String {
    let mut t = super::new_table();
    for (k, v) in headline_rows(m, explain) {
        t.add_row(vec![k, v]);
    }
    let mut out = format!("{t}\n");
    if explain || m.sensors.len() > 1 {
        out.push_str(&sensor_table(m));
    }
    // each sensor's notes under the sensors, the run's notices after the nodes
    for d in &m.sensors {
        for n in &d.notes {
            out.push_str(&super::table::note_line(&format!("{}: {n}", d.id)));
        }
    }
    if let Some((header, rows)) = node_rows(m) {
        let mut t = super::new_table();
        t.set_header(header);
        for r in rows {
            t.add_row(r);
        }
        out.push_str(&format!("{t}\n"));
    }
    for n in &m.notices {
        out.push_str(&super::table::note_line(n));
    }
    out
}

/// One row per sensor, as a table.
fn sensor_table(m: &Measurement) -> String {
    let (header, rows) = sensor_rows(m);
    let mut t = super::new_table();
    t.set_header(header);
    for r in rows {
        t.add_row(r);
    }
    for i in 2..6 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    format!("{t}\n")
}
