//! The site: grid intensity (for the run's year), PUE and prices, resolved once.

use super::*;
use crate::defaults::GridYear;

/// Where a yearly figure came from, and how it stands for the run's year.
pub(super) fn year_citation(y: &crate::profiles::YearIntensity, asked: Option<u64>) -> String {
    let which = match asked {
        None => format!(
            "no [site] year given: the latest published year, {}",
            y.year
        ),
        Some(a) if y.after_series => {
            format!("{a} is after the series: its latest year, {}", y.year)
        }
        Some(a) if y.before_series => {
            format!("{a} is before the series: its first year, {}", y.year)
        }
        Some(_) => format!("the run's year, {}", y.year),
    };
    format!("{} ({which})", y.source)
}

/// How a single-year figure stands for the run's `year`, and the words that say so.
fn against_figure_year(year: Option<u64>, figure_year: Option<u16>) -> (GridYear, String) {
    match (year, figure_year.map(u64::from)) {
        (Some(y), Some(f)) if y < f => (
            GridYear::Earlier,
            format!(" (the run's year, {y}, is before this figure's)"),
        ),
        (Some(y), Some(f)) if y > f => (
            GridYear::Later,
            format!(" (the run's year, {y}, is after this figure's)"),
        ),
        (Some(_), _) => (GridYear::Published, String::new()),
        (None, _) => (
            GridYear::Later,
            " (no [site] year given: taken as a later year)".to_string(),
        ),
    }
}

/// The run's site at its central point: the intensity, PUE and prices that its central
/// estimate uses, for figures computed while a measurement runs (its budget, its Prometheus
/// file) and for the CodeCarbon row, so that they agree with the report.
pub(crate) fn site_rates(spec: &RunSpec, reg: &Registry) -> Result<SiteRates, InputError> {
    let mut b = Builder {
        spec,
        inputs: Inputs::default(),
        assumptions: Vec::new(),
        notes: Vec::new(),
    };
    let site = site(&mut b, reg)?;
    let device_price = match spec.hardware.as_ref() {
        Some(h) => {
            let device = match h.device.as_ref() {
                Some(d) => Some(
                    reg.accelerator(&d.value)
                        .map_err(|e| spec.error_at(d.line, &d.key, e.to_string()))?,
                ),
                None => None,
            };
            device_price(&mut b, h, device)
        }
        None => None,
    };
    let inputs = &b.inputs;
    Ok(SiteRates {
        pue: central(inputs, site.pue),
        intensity: central(inputs, site.intensity),
        electricity_price: site.electricity_price.map(|p| central(inputs, p)),
        device_price: device_price.map(|p| central(inputs, p)),
    })
}

pub(super) fn central<T: Quantity>(inputs: &Inputs, p: Param<T>) -> T {
    T::from_raw(inputs.get(p).central)
}

pub(super) fn site(b: &mut Builder<'_>, reg: &Registry) -> Result<Site, InputError> {
    let spec = b.spec;
    let s = &spec.site;
    let intensity = match (&s.carbon_intensity_g_per_kwh, &s.region) {
        (Some(i), _) => b.param(i.value, CarbonIntensity::from_g_per_kwh),
        (None, Some(region)) => {
            let r = reg
                .region(&region.value)
                .map_err(|e| spec.error_at(region.line, &region.key, e.to_string()))?;
            let year = s.year.as_ref().map(|y| y.value);
            let by_year = r.grid.as_deref().and_then(|g| reg.intensity_in(g, year));
            let (value, citation, when) = match &by_year {
                Some(y) => {
                    let when = if y.after_series {
                        GridYear::Later
                    } else if y.before_series {
                        GridYear::Earlier
                    } else {
                        GridYear::Published
                    };
                    (y.g_per_kwh, year_citation(y, year), when)
                }
                // No series (a cloud's own figure): the profile's one year.
                None => {
                    let (when, which) = against_figure_year(year, r.intensity.year);
                    (
                        r.intensity.value,
                        format!("{}{which}", r.intensity.citation()),
                        when,
                    )
                }
            };
            let spread = crate::defaults::grid_spread(value, when);
            let d = spread.times(value);
            b.assume(
                "site.carbon_intensity_g_per_kwh",
                AssumedValue::Range {
                    central: d.central,
                    high: d.high,
                    low: d.low,
                },
                Some("gCO2e/kWh"),
                Origin::Profile,
                format!(
                    "region {}: {citation}; spread x{}-x{}: {}",
                    r.label, spread.low, spread.high, spread.basis
                ),
            );
            b.inputs.uncertain(
                CarbonIntensity::from_g_per_kwh(d.low),
                CarbonIntensity::from_g_per_kwh(d.central),
                CarbonIntensity::from_g_per_kwh(d.high),
            )
        }
        (None, None) => {
            let year = s.year.as_ref().map(|y| y.value);
            let (value, citation) = match reg.intensity_in(DEFAULT_GRID, year) {
                Some(y) => (y.g_per_kwh, year_citation(&y, year)),
                None => {
                    let world = reg
                        .grid(DEFAULT_GRID)
                        .expect("the WORLD grid is embedded")
                        .carbon_intensity_g_per_kwh
                        .clone();
                    (world.value, world.citation())
                }
            };
            let d = crate::defaults::GRID_UNKNOWN;
            b.uncertain(
                "site.carbon_intensity_g_per_kwh",
                d.times(value),
                Some("gCO2e/kWh"),
                format!(
                    "no region or intensity given: world average, {citation}; {}",
                    d.basis
                ),
                CarbonIntensity::from_g_per_kwh,
            )
        }
    };
    let pue = match &s.pue {
        Some(p) => b.param(p.value, |x| x),
        None => {
            let cloud = s
                .region
                .as_ref()
                .is_some_and(|r| RegionName::parse(&r.value).is_cloud());
            let d = if cloud {
                crate::defaults::PUE_CLOUD
            } else {
                crate::defaults::PUE_UNKNOWN
            };
            let which = if cloud {
                "no PUE given, a cloud region"
            } else {
                "no PUE given, operator unknown"
            };
            b.uncertain("site.pue", d, None, format!("{which}: {}", d.basis), |x| x)
        }
    };
    let electricity_price = s
        .electricity_usd_per_kwh
        .as_ref()
        .map(|p| b.param(p.value, EnergyPrice::from_usd_per_kwh));
    let carbon_price = s
        .carbon_price_usd_per_t
        .as_ref()
        .map(|p| b.param(p.value, CarbonPrice::from_usd_per_tonne));
    Ok(Site {
        intensity,
        pue,
        electricity_price,
        carbon_price,
    })
}
