//! `footprint merge`: one report from the node reports of a multi-node job.
//!
//! Energy is summed per device and in total; time is the span from the first start to the
//! last end; each node keeps its row and each device its source (a node read by counter and
//! one modelled stay labelled so). Reports of different jobs are refused unless forced, and the
//! same node's device twice is refused: that is the classic double count.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{MAX_REPORT_BYTES, measurement_report, registry};
use crate::error::InputError;
use crate::record::{
    DeviceEnergy, Measurement, MeasurementReport, Mode, NodeRow, Placement, Quality, Status,
};
use crate::report::Report;

/// Reads and merges the reports, refusing mixed jobs (unless `force`) and duplicates.
pub(crate) fn merge(
    paths: &[PathBuf],
    force: bool,
    region: Option<&str>,
    profiles: Option<&Path>,
) -> Result<Report, InputError> {
    if paths.len() < 2 {
        return Err(InputError::new("merge needs two reports or more").for_key("REPORTS"));
    }
    let mut read = Vec::new();
    for p in paths {
        let shown = p.display().to_string();
        let text = crate::files::read_text(p, MAX_REPORT_BYTES)?;
        read.push((
            shown.clone(),
            MeasurementReport::from_json(&text, &shown)?.measurement,
        ));
    }
    let merged = merge_measurements(&read, force)?;
    let reg = registry(profiles)?;
    let mut report = measurement_report(merged, None, region.map(String::from), &reg)
        .map_err(|e| InputError::new(e.to_string()))?;
    let job = report
        .measurement
        .as_ref()
        .and_then(|m| m.placement.as_ref())
        .and_then(|p| p.job_id.clone());
    report.name = match job {
        Some(j) => format!("job {j}, {} nodes", read.len()),
        None => format!("{} nodes", read.len()),
    };
    report.notes.insert(
        0,
        format!(
            "merged from {} reports: {}",
            paths.len(),
            read.iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    Ok(report)
}

fn node_of(m: &Measurement) -> String {
    m.placement
        .as_ref()
        .map_or_else(|| "?".to_string(), |p| p.node.clone())
}

/// The merge itself (no files): `reports` are (name shown in errors, measurement).
pub(crate) fn merge_measurements(
    reports: &[(String, Measurement)],
    force: bool,
) -> Result<Measurement, InputError> {
    check_one_job(reports, force)?;
    check_no_report_twice(reports)?;
    check_no_device_twice(reports)?;
    let (start, span) = window(reports);
    let names = || {
        reports
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let energy: f64 = reports.iter().map(|(_, m)| m.energy_j).sum();
    if !energy.is_finite() {
        return Err(InputError::new(format!(
            "the energies of the reports ({}) add up past any representable figure",
            names()
        )));
    }
    let samples = match reports
        .iter()
        .map(|(_, m)| m.samples)
        .collect::<Option<Vec<u64>>>()
    {
        Some(v) => Some(
            v.iter()
                .try_fold(0u64, |a, b| a.checked_add(*b))
                .ok_or_else(|| {
                    InputError::new(format!(
                        "the sample counts of the reports ({}) add up past 2^64",
                        names()
                    ))
                })?,
        ),
        None => None,
    };
    // Device time is each report's own, summed: reports hours apart (merged with --force)
    // used their devices for their own windows, not for the whole span between them.
    let device_seconds: f64 = reports
        .iter()
        .map(|(_, m)| {
            m.device_seconds
                .unwrap_or(m.duration_s * m.devices_used.max(1.0))
        })
        .sum();
    let (sensors, counted) = devices(reports);
    let sources: BTreeSet<String> = reports
        .iter()
        .map(|(_, m)| format!("{}: {}", node_of(m), m.energy_source))
        .collect();
    let first = &reports[0].1;
    let mut notices = Vec::new();
    for (_, m) in reports {
        notices.extend(m.notices.iter().map(|n| format!("{}: {n}", node_of(m))));
    }
    let have = |x: f64| (span > 0.0).then_some(x);
    Ok(Measurement {
        schema_version: crate::record::MEASUREMENT_SCHEMA,
        status: reports
            .iter()
            .map(|(_, m)| m.status)
            .find(|s| *s != Status::Complete)
            .unwrap_or(Status::Complete),
        interrupted_by: reports.iter().find_map(|(_, m)| m.interrupted_by.clone()),
        mode: if reports.iter().all(|(_, m)| m.mode == Mode::Command) {
            Mode::Command
        } else {
            Mode::Training
        },
        started_at_unix_s: start,
        duration_s: span,
        energy_j: energy,
        energy_source: sources.into_iter().collect::<Vec<_>>().join("; "),
        quality: reports
            .iter()
            .map(|(_, m)| m.quality)
            .max()
            .unwrap_or(Quality::Modelled),
        device: format!("{} nodes", reports.len()),
        devices_used: reports.iter().map(|(_, m)| m.devices_used).sum(),
        samples,
        samples_per_second: samples.and_then(|n| have(n as f64 / span)),
        joules_per_sample: samples.filter(|n| *n > 0).map(|n| energy / n as f64),
        tokens_per_second: None,
        flops: None,
        flops_per_second: None,
        joules_per_flop: None,
        steps: None,
        warmup_steps: None,
        loss: None,
        workload: None,
        command: first.command.clone(),
        exit_code: reports
            .iter()
            .filter_map(|(_, m)| m.exit_code)
            .find(|c| *c != 0)
            .or(first.exit_code),
        cpu_seconds: reports.iter().map(|(_, m)| m.cpu_seconds).sum(),
        sensors,
        counted,
        notices,
        sampler: sampler_stats(reports),
        trace_error: None,
        // Each node's timeline counts from its own window: CO2e at the hour is per node.
        energy_timeline: Vec::new(),
        time_resolved: None,
        budget_exceeded: reports.iter().find_map(|(_, m)| m.budget_exceeded.clone()),
        placement: Some(placement(reports)),
        nodes: Some(reports.iter().flat_map(|(_, m)| node_rows(m)).collect()),
        device_seconds: Some(device_seconds),
    })
}

/// Refuses reports of different jobs unless `force`.
fn check_one_job(reports: &[(String, Measurement)], force: bool) -> Result<(), InputError> {
    let jobs: BTreeSet<Option<String>> = reports
        .iter()
        .map(|(_, m)| m.placement.as_ref().and_then(|p| p.job_id.clone()))
        .collect();
    if jobs.len() > 1 && !force {
        let shown: Vec<String> = jobs
            .iter()
            .map(|j| j.clone().unwrap_or_else(|| "(none)".to_string()))
            .collect();
        return Err(InputError::new(format!(
            "the reports are from different jobs ({}): merge one job's reports, or pass --force",
            shown.join(", ")
        )));
    }
    Ok(())
}

/// The same device of the same node in two reports whose windows overlap is the same energy
/// twice: refused. (One node in two jobs at different times, merged with --force, is not.)
/// A node's report may reach a merge once: directly, or inside a merged report, not both (a
/// merged report merged again with its own inputs would count their energy twice). Reports are
/// told apart by node, rank, start and length, the identity a merged report keeps per node.
fn check_no_report_twice(reports: &[(String, Measurement)]) -> Result<(), InputError> {
    let mut seen: Vec<(NodeRow, &str)> = Vec::new();
    for (name, m) in reports {
        let leaves = node_rows(m);
        for leaf in leaves {
            let same = |r: &NodeRow| {
                r.node == leaf.node
                    && r.rank == leaf.rank
                    && (r.started_at_unix_s - leaf.started_at_unix_s).abs() < 1e-6
                    && (r.duration_s - leaf.duration_s).abs() < 1e-6
            };
            if let Some((_, first)) = seen.iter().find(|(r, _)| same(r)) {
                return Err(InputError::new(format!(
                    "the report of node {} (rank {}) is in {first} and again in {name}: merged twice, its energy would count twice; merge each node's report once",
                    leaf.node,
                    leaf.rank.map_or("none".to_string(), |r| r.to_string())
                )));
            }
            seen.push((leaf, name.as_str()));
        }
    }
    Ok(())
}

fn check_no_device_twice(reports: &[(String, Measurement)]) -> Result<(), InputError> {
    let mut seen: Vec<(String, &str, f64, f64)> = Vec::new();
    for (name, m) in reports {
        let (a, b) = (m.started_at_unix_s, m.started_at_unix_s + m.duration_s);
        for d in m.sensors.iter().filter(|d| m.counted.contains(&d.id)) {
            let node = node_of(m);
            let twice = seen
                .iter()
                .any(|(n, id, s, e)| *n == node && *id == d.id && a <= *e && *s <= b);
            if twice {
                return Err(InputError::new(format!(
                    "{} of node {node} is in two reports over the same time (the second: {name}): the same devices measured twice would be counted twice; measure once per node (--once-per-node)",
                    d.id
                )));
            }
            seen.push((node, &d.id, a, b));
        }
    }
    Ok(())
}

/// The first start and the span to the last end.
fn window(reports: &[(String, Measurement)]) -> (f64, f64) {
    let start = reports
        .iter()
        .map(|(_, m)| m.started_at_unix_s)
        .fold(f64::INFINITY, f64::min);
    let end = reports
        .iter()
        .map(|(_, m)| m.started_at_unix_s + m.duration_s)
        .fold(f64::NEG_INFINITY, f64::max);
    (start, (end - start).max(0.0))
}

/// Every node's sensors, their ids prefixed with the node ("node-a/gpu0"), and which count.
fn devices(reports: &[(String, Measurement)]) -> (Vec<DeviceEnergy>, Vec<String>) {
    let prefix = |m: &Measurement, id: &str| format!("{}/{id}", node_of(m));
    let sensors = reports
        .iter()
        .flat_map(|(_, m)| {
            m.sensors.iter().map(move |d| DeviceEnergy {
                id: prefix(m, &d.id),
                name: format!("{} on {}", d.name, node_of(m)),
                ..d.clone()
            })
        })
        .collect();
    let counted = reports
        .iter()
        .flat_map(|(_, m)| m.counted.iter().map(move |id| prefix(m, id)))
        .collect();
    (sensors, counted)
}

/// A node's row in the merged report.
/// A report's node rows: its own, or those of the reports a merged one was made of.
fn node_rows(m: &Measurement) -> Vec<NodeRow> {
    m.nodes.clone().unwrap_or_else(|| vec![node_row(m)])
}

fn node_row(m: &Measurement) -> NodeRow {
    NodeRow {
        node: node_of(m),
        rank: m.placement.as_ref().and_then(|p| p.rank),
        started_at_unix_s: m.started_at_unix_s,
        duration_s: m.duration_s,
        energy_j: m.energy_j,
        energy_source: m.energy_source.clone(),
        quality: m.quality,
        devices_used: m.devices_used,
        status: m.status,
    }
}

/// The samplers together: readings and their CPU time summed, the worst overhead.
fn sampler_stats(reports: &[(String, Measurement)]) -> crate::record::SamplerStats {
    crate::record::SamplerStats {
        interval_ms: reports[0].1.sampler.interval_ms,
        ticks: reports.iter().map(|(_, m)| m.sampler.ticks).sum(),
        cpu_seconds: reports.iter().map(|(_, m)| m.sampler.cpu_seconds).sum(),
        overhead_pct_of_one_core: reports
            .iter()
            .map(|(_, m)| m.sampler.overhead_pct_of_one_core)
            .fold(0.0, f64::max),
    }
}

/// The job's placement: its launcher, id and world size, on "N nodes".
fn placement(reports: &[(String, Measurement)]) -> Placement {
    let first = reports[0].1.placement.as_ref();
    Placement {
        launcher: first.map_or(crate::record::Launcher::None, |p| p.launcher),
        job_id: first.and_then(|p| p.job_id.clone()),
        node: format!("{} nodes", reports.len()),
        node_index: None,
        rank: None,
        local_rank: None,
        world_size: first.and_then(|p| p.world_size),
    }
}
