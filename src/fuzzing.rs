//! The fuzz target's body (`fuzz/fuzz_targets/parse_calculate.rs`): any bytes as a run file
//! through the `estimate` pipeline. Parsing, validation, profile lookups, the calculator and
//! every exporter must not panic, and an accepted run must give finite, ordered figures.
//!
//! It lives in the crate so the fuzz target needs one public function, not the pipeline's
//! types.

use std::path::Path;
use std::sync::OnceLock;

use crate::app;
use crate::profiles::Registry;
use crate::record::{MeasuredFigures, Mode, Per};
use crate::report::{Format, ReportKind, exporter};
use crate::runfile::parse;

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(Registry::embedded)
}

/// Runs `data` through parse → evaluate → every exporter; panics when an invariant breaks.
pub fn parse_calculate(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = parse(text, "fuzz.toml", Path::new(".")) else {
        return;
    };
    // A fixed measurement stands in for the report a [measured] section names.
    let figures = MeasuredFigures {
        joules_per_sample: 2.5,
        samples_per_second: 1000.0,
        devices: 1.0,
        energy_source: "fuzz".to_string(),
        device: "fuzz".to_string(),
        modelled: true,
        per: Per::Sample,
        joules_per_flop: Some(1e-10),
        flops_per_second: Some(1e12),
        mode: Mode::Training,
        gpus: Vec::new(),
    };
    // The same pipeline as `footprint estimate`; an overflow is refused there, not here.
    let used = match &spec.measured {
        Some(_) => match app::plan_measured(&spec, registry(), figures, "fuzz") {
            Ok(u) => Some(u),
            Err(_) => return,
        },
        None => None,
    };
    let Ok(ev) = app::evaluate(spec, registry(), used.as_ref()) else {
        return;
    };
    assert!(!ev.estimates.is_empty());
    for e in &ev.estimates {
        assert!(
            e.is_finite(),
            "non-finite figures for accepted input: {e:?}"
        );
        let eps = |x: f64| 1e-9 * x.abs().max(1e-300);
        for (l, c, h) in [
            (
                e.low.energy.raw(),
                e.central.energy.raw(),
                e.high.energy.raw(),
            ),
            (e.low.co2e.raw(), e.central.co2e.raw(), e.high.co2e.raw()),
        ] {
            assert!(
                l <= c + eps(c) && c <= h + eps(h),
                "unordered band {l} {c} {h}"
            );
        }
    }
    let report = ev.into_report(ReportKind::Estimate, None);
    for f in [Format::Table, Format::Json, Format::Csv, Format::Markdown] {
        let out = exporter(f).render(&report).expect("renders");
        if f == Format::Json {
            let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
            assert!(!out.contains("NaN") && !v["estimates"][0]["co2e_kg"]["central"].is_null());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_calculate;

    #[test]
    fn shipped_examples_and_garbage_pass_the_fuzz_invariants() {
        parse_calculate(include_bytes!("../examples/laptop-finetune.toml"));
        parse_calculate(b"[dataset]\nsamples = 1e308\n");
        parse_calculate(&[0xff, 0xfe, 0x00]);
    }
}
