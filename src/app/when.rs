//! `footprint when`: the run's estimate (its duration and energy) over an intensity series, and
//! the start with the lowest CO2e.

use std::path::Path;

use super::{evaluate_run, registry};
use crate::error::InputError;
use crate::intensity::plan::{Job, Start, candidates, pick, start_at};
use crate::intensity::{Basis, Series, parse::show_time};
use crate::record::{Field, JsonBand, WhenPlan, WhenRow};
use crate::runfile;
use crate::units::{Duration, Energy};

/// The largest series file read (a year at one-minute steps is about 20 MB of CSV).
const MAX_SERIES_BYTES: u64 = 64 << 20;

/// What `footprint when` asks.
#[derive(Clone, Debug)]
pub(crate) struct WhenRequest<'a> {
    pub(crate) run: &'a Path,
    pub(crate) profiles: Option<&'a Path>,
    /// `--intensity`; else the run file's `[site] intensity_series`.
    pub(crate) series: Option<&'a Path>,
    pub(crate) basis: Basis,
    pub(crate) within: Duration,
    pub(crate) step: Duration,
    /// Unix seconds; the clock when not given.
    pub(crate) now: f64,
}

/// The plan, and the series it was made on (for the chart).
pub(crate) struct Planned {
    pub(crate) plan: WhenPlan,
    pub(crate) series: Series,
}

/// Reads and checks an intensity series file.
pub(crate) fn read_series(path: &Path, basis: Basis) -> Result<Series, InputError> {
    let text = crate::files::read_text(path, MAX_SERIES_BYTES)?;
    crate::intensity::parse::parse(&path.display().to_string(), &text, basis)
}

pub(crate) fn when(req: &WhenRequest<'_>) -> Result<Planned, InputError> {
    let reg = registry(req.profiles)?;
    let spec = runfile::load(req.run)?;
    let series_path = match (req.series, &spec.site.intensity_series) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some((_, p))) => p.clone(),
        (None, None) => {
            return Err(InputError::new(
                "no intensity series: give --intensity FILE, or [site] intensity_series in the run file",
            )
            .for_key("--intensity"));
        }
    };
    let series = read_series(&series_path, req.basis)?;
    let rates = crate::scenario::site_rates(&spec, &reg)?;
    let name = spec.name.clone();
    let ev = evaluate_run(spec, &reg)?;
    let run_file = req.run.display().to_string();
    let e = crate::impact::primary(&ev.estimates)
        .ok_or_else(|| InputError::new("the run has no estimate to plan").in_file(&run_file))?;
    let ends = |f: Field| -> Option<[f64; 3]> {
        Some([f.value(&e.low)?, f.value(&e.central)?, f.value(&e.high)?])
    };
    let Some(hours) = ends(Field::WallClock) else {
        return Err(InputError::new(
            "`when` needs the run's wall-clock time, which the per-sample model does not give: describe the run by [compute] or [hardware] hours, with [hardware] count",
        )
        .in_file(&run_file));
    };
    let kwh = ends(Field::Energy).expect("every model has energy");
    let operational = ends(Field::Operational).expect("every model has operational CO2e");
    let job = Job {
        duration: hours.map(Duration::from_hours),
        energy: kwh.map(Energy::from_kwh),
    };
    let annual = rates.intensity;
    let starts = candidates(
        &series,
        &job,
        req.now,
        req.within.seconds(),
        req.step.seconds(),
        annual,
    );
    let Some(picks) = pick(&starts, &job) else {
        return Err(no_room(&series, &job, req.now).in_file(series_path.display().to_string()));
    };
    let now = start_at(&series, &job, req.now, annual);
    let row = |pick: &'static str, s: &Start| WhenRow {
        pick,
        start_unix_s: s.at,
        start_utc: show_time(s.at),
        mean_g_per_kwh: crate::record::tidy(s.intensity.raw()),
        co2e_kg: band(s.co2e.map(|m| m.kg())),
        covered: s.covered,
    };
    let mut rows = vec![row("best", &picks.best)];
    rows.extend(picks.next.as_ref().map(|n| row("next best", n)));
    rows.push(row("now", &now));
    rows.push(row("worst", &picks.worst));
    let mut notes = vec![
        "the run's power is taken as constant over its duration (the estimate's mean); CO2e is operational: embodied emissions do not depend on the start".to_string(),
        format!(
            "the series' figures are taken as given ({}); the range is the run's own (energy and duration), not the grid's",
            series.label
        ),
    ];
    if now.covered < 1.0 {
        notes.push(format!(
            "now ({}) is {} outside the series: that part is at the annual figure, {} g/kWh",
            show_time(req.now),
            if now.covered == 0.0 {
                "wholly"
            } else {
                "partly"
            },
            crate::units::sig4(annual.raw())
        ));
    }
    if picks.best.covered < 1.0 || picks.worst.covered < 1.0 {
        notes.push(
            "the high end of some starts runs past the series' end: that part is at the annual figure".to_string(),
        );
    }
    let best_vs_now = (now.covered > 0.0 && now.co2e[1].raw() > 0.0)
        .then(|| crate::record::tidy(100.0 * (picks.best.co2e[1].raw() / now.co2e[1].raw() - 1.0)));
    let plan = WhenPlan {
        schema_version: crate::record::REPORT_SCHEMA,
        command: "when",
        name,
        series: series.label.clone(),
        series_file: series_path.display().to_string(),
        series_start_utc: show_time(series.start()),
        series_end_utc: show_time(series.end()),
        now_utc: show_time(req.now),
        within_hours: crate::record::tidy(req.within.hours()),
        step_minutes: crate::record::tidy(req.step.seconds() / 60.0),
        starts_compared: starts.len(),
        duration_hours: band(hours),
        energy_kwh: band(kwh),
        annual_average_co2e_kg: band(operational),
        annual_g_per_kwh: crate::record::tidy(annual.raw()),
        starts: rows,
        best_vs_now_percent: best_vs_now,
        notes,
    };
    Ok(Planned { plan, series })
}

/// A low, central, high triple as the JSON band; the ends are ordered, since a start's
/// low-energy end may have the longer duration and so reach other hours of the series.
fn band(x: [f64; 3]) -> JsonBand {
    JsonBand::from(crate::impact::Band {
        low: x[0].min(x[2]),
        central: x[1],
        high: x[0].max(x[2]),
    })
}

/// Why no start fits: the series ends before the run could, from `now`.
fn no_room(series: &Series, job: &Job, now: f64) -> InputError {
    let hours = crate::units::sig4(job.duration[1].hours());
    if now >= series.end() {
        InputError::new(format!(
            "the series ends at {} UTC, before now ({} UTC): give a forecast that covers the coming hours, or --now {} to plan inside it",
            show_time(series.end()),
            show_time(now),
            rfc3339(series.start())
        ))
    } else {
        InputError::new(format!(
            "no start from {} UTC leaves room for the run's {hours} h before the series ends at {} UTC: give a longer series",
            show_time(now.max(series.start())),
            show_time(series.end())
        ))
    }
}

/// Unix seconds as RFC 3339 (for a flag a person can paste).
fn rfc3339(t: f64) -> String {
    format!(
        "{}:00Z",
        show_time((t / 60.0).floor() * 60.0).replace(' ', "T")
    )
}
