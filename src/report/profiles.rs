//! `footprint profiles list|show`: the embedded data, with the source of every value.

use comfy_table::{CellAlignment, Table};
use serde::Serialize;

use crate::error::InputError;
use crate::profiles::{Accelerator, CloudIntensity, Registry, Sourced};
use crate::units::sig4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Accelerators,
    Grids,
    Clouds,
    Cpus,
}

fn table(header: &[&str]) -> Table {
    let mut t = super::new_table();
    t.set_header(header.to_vec());
    t
}

fn opt(s: &Option<Sourced>, f: impl Fn(f64) -> String) -> String {
    s.as_ref().map_or_else(|| "—".to_string(), |s| f(s.value))
}

fn year(s: &Sourced) -> String {
    s.year.map_or_else(|| "—".to_string(), |y| y.to_string())
}

// The JSON listings. Keys are written in alphabetical order, as they always have been.

/// A value with its source, in a listing.
#[derive(Serialize)]
struct SourcedJson {
    source: String,
    value: f64,
    year: Option<u16>,
}

impl From<&Sourced> for SourcedJson {
    fn from(s: &Sourced) -> SourcedJson {
        SourcedJson {
            source: s.source.clone(),
            value: s.value,
            year: s.year,
        }
    }
}

fn sourced_json(s: &Option<Sourced>) -> Option<SourcedJson> {
    s.as_ref().map(SourcedJson::from)
}

#[derive(Serialize)]
struct AcceleratorJson<'a> {
    aliases: &'a [String],
    description: &'a Option<String>,
    embodied_kg_co2e: Option<SourcedJson>,
    memory_gb: Option<SourcedJson>,
    name: &'a str,
    peak_flops: Option<SourcedJson>,
    price_usd_per_hour: Option<SourcedJson>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    prices: std::collections::BTreeMap<String, SourcedJson>,
    tdp_w: Option<SourcedJson>,
}

#[derive(Serialize)]
struct GridJson<'a> {
    aliases: &'a [String],
    carbon_intensity_g_per_kwh: Option<SourcedJson>,
    code: &'a str,
    name: &'a str,
    note: &'a Option<String>,
}

#[derive(Serialize)]
struct CloudJson {
    carbon_intensity_g_per_kwh: SourcedJson,
    code: String,
    grid: Option<String>,
    place: String,
}

#[derive(Serialize)]
struct CpuJson<'a> {
    name: &'a str,
    tdp_w: f64,
}

#[derive(Serialize)]
struct CpusJson<'a> {
    source: &'a str,
    tdp_w: Vec<CpuJson<'a>>,
    year: Option<u16>,
}

/// Lists one kind of profile as a table or JSON.
/// One kind of profile, listed: a result that renders as a table or JSON.
pub(crate) struct ListView<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) kind: Kind,
}

impl super::Render for ListView<'_> {
    const WHAT: &'static str = "profiles list";
    const FORMATS: &'static [super::Format] = &[super::Format::Table, super::Format::Json];
    fn render_in(&self, format: super::Format) -> anyhow::Result<String> {
        Ok(list(
            self.registry,
            self.kind,
            format == super::Format::Json,
        )?)
    }
}

pub(crate) fn list(reg: &Registry, kind: Kind, as_json: bool) -> Result<String, InputError> {
    Ok(match kind {
        Kind::Accelerators => accelerators(reg, as_json),
        Kind::Grids => grids(reg, as_json),
        Kind::Clouds => clouds(reg, as_json)?,
        Kind::Cpus => cpus(reg, as_json),
    })
}

fn accelerators(reg: &Registry, as_json: bool) -> String {
    if as_json {
        let all: Vec<AcceleratorJson> = reg
            .accelerators()
            .iter()
            .map(|a| AcceleratorJson {
                aliases: &a.aliases,
                description: &a.description,
                embodied_kg_co2e: sourced_json(&a.embodied_kg_co2e),
                memory_gb: sourced_json(&a.memory_gb),
                name: &a.name,
                peak_flops: sourced_json(&a.peak_flops),
                price_usd_per_hour: sourced_json(&a.price_usd_per_hour),
                prices: a
                    .prices
                    .iter()
                    .map(|(k, v)| (k.clone(), SourcedJson::from(v)))
                    .collect(),
                tdp_w: sourced_json(&a.tdp_w),
            })
            .collect();
        return to_json(&all);
    }
    let mut t = table(&[
        "Name",
        "Aliases",
        "TDP",
        "Peak (dense)",
        "Memory",
        "Price/h",
        "Embodied",
    ]);
    for a in reg.accelerators() {
        t.add_row(vec![
            a.name.clone(),
            a.aliases.join(", "),
            opt(&a.tdp_w, |v| format!("{} W", sig4(v))),
            opt(&a.peak_flops, |v| format!("{} TFLOP/s", sig4(v / 1e12))),
            opt(&a.memory_gb, |v| format!("{} GB", sig4(v))),
            opt(&a.price_usd_per_hour, |v| format!("${v:.2}")),
            opt(&a.embodied_kg_co2e, |v| format!("{} kg", sig4(v))),
        ]);
    }
    right_align(&mut t, &[2, 3, 4, 5, 6]);
    format!("{t}\n`footprint profiles show NAME` gives the source of each value.\n")
}

fn grids(reg: &Registry, as_json: bool) -> String {
    if as_json {
        let all: Vec<GridJson> = reg
            .grids()
            .iter()
            .map(|g| GridJson {
                aliases: &g.aliases,
                carbon_intensity_g_per_kwh: Some(SourcedJson::from(&g.carbon_intensity_g_per_kwh)),
                code: &g.code,
                name: &g.name,
                note: &g.note,
            })
            .collect();
        return to_json(&all);
    }
    let mut t = table(&["Code", "Name", "gCO2e/kWh", "Year"]);
    for g in reg.grids() {
        t.add_row(vec![
            g.code.clone(),
            g.name.clone(),
            sig4(g.carbon_intensity_g_per_kwh.value),
            year(&g.carbon_intensity_g_per_kwh),
        ]);
    }
    right_align(&mut t, &[2, 3]);
    format!("{t}\n")
}

fn clouds(reg: &Registry, as_json: bool) -> Result<String, InputError> {
    let mut json = Vec::new();
    let mut t = table(&["Region", "Place", "gCO2e/kWh", "Basis"]);
    for c in reg.clouds() {
        let r = reg
            .region(&c.code)
            .map_err(|e| InputError::new(e.to_string()))?;
        if as_json {
            json.push(CloudJson {
                carbon_intensity_g_per_kwh: SourcedJson::from(&r.intensity),
                code: c.code.clone(),
                grid: match &c.intensity {
                    CloudIntensity::Grid(g) => Some(g.clone()),
                    CloudIntensity::Own(_) => None,
                },
                place: c.place.clone(),
            });
            continue;
        }
        let basis = match &c.intensity {
            CloudIntensity::Own(s) => format!("provider figure, {}", year(s)),
            CloudIntensity::Grid(g) => format!("{g} grid, {}", year(&r.intensity)),
        };
        t.add_row(vec![
            c.code.clone(),
            c.place.clone(),
            sig4(r.intensity.value),
            basis,
        ]);
    }
    if as_json {
        return Ok(to_json(&json));
    }
    right_align(&mut t, &[2]);
    Ok(format!("{t}\n"))
}

fn cpus(reg: &Registry, as_json: bool) -> String {
    let cpus = reg.cpus();
    if as_json {
        return to_json(&CpusJson {
            source: &cpus.source,
            tdp_w: cpus
                .entries
                .iter()
                .map(|(n, w)| CpuJson { name: n, tdp_w: *w })
                .collect(),
            year: cpus.year,
        });
    }
    let mut t = table(&["CPU", "TDP"]);
    for (n, w) in &cpus.entries {
        t.add_row(vec![n.clone(), format!("{} W", sig4(*w))]);
    }
    right_align(&mut t, &[1]);
    format!(
        "{t}\nSource: {}{}\n",
        cpus.source,
        cpus.year.map(|y| format!(", {y}")).unwrap_or_default()
    )
}

fn to_json(v: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("serializable");
    s.push('\n');
    s
}

fn right_align(t: &mut Table, cols: &[usize]) {
    for &i in cols {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn show_accelerator(a: &Accelerator) -> String {
    let mut out = a.name.clone();
    if let Some(d) = &a.description {
        out.push_str(&format!(" — {d}"));
    }
    out.push('\n');
    if !a.aliases.is_empty() {
        out.push_str(&format!("aliases: {}\n", a.aliases.join(", ")));
    }
    let mut t = table(&["Field", "Value", "Source"]);
    let mut row = |k: &str, s: &Option<Sourced>, f: &dyn Fn(f64) -> String| {
        if let Some(s) = s {
            t.add_row(vec![k.to_string(), f(s.value), s.citation()]);
        }
    };
    row("tdp_w", &a.tdp_w, &|v| format!("{} W", sig4(v)));
    row("peak_flops", &a.peak_flops, &|v| {
        format!("{} TFLOP/s", sig4(v / 1e12))
    });
    row("memory_gb", &a.memory_gb, &|v| format!("{} GB", sig4(v)));
    row("price_usd_per_hour", &a.price_usd_per_hour, &|v| {
        format!("${v:.3}")
    });
    for (cloud, p) in &a.prices {
        row(&format!("prices.{cloud}"), &Some(p.clone()), &|v| {
            format!("${v:.3}")
        });
    }
    row("embodied_kg_co2e", &a.embodied_kg_co2e, &|v| {
        format!("{} kg", sig4(v))
    });
    out.push_str(&format!("{t}\nfrom {}\n", a.origin));
    out
}

/// Shows one profile: an accelerator, else a region, else a CPU model.
pub(crate) fn show(reg: &Registry, name: &str) -> Result<String, InputError> {
    if let Ok(a) = reg.accelerator(name) {
        return Ok(show_accelerator(a));
    }
    if let Ok(r) = reg.region(name) {
        let mut t = table(&["Field", "Value", "Source"]);
        t.add_row(vec![
            "carbon_intensity_g_per_kwh".to_string(),
            format!("{} gCO2e/kWh", sig4(r.intensity.value)),
            r.intensity.citation(),
        ]);
        let series = r.grid.as_deref().and_then(|g| reg.grid_series(g));
        if let Some(s) = series {
            for (year, v) in &s.by_year {
                t.add_row(vec![
                    format!("  in {year}"),
                    format!("{} gCO2e/kWh", sig4(*v)),
                    "the yearly series (below)".to_string(),
                ]);
            }
        }
        let mut out = format!("{}\n{t}\n", r.label);
        if let Some(s) = series
            && let Some(last) = s.by_year.keys().next_back()
        {
            // Say which figure an estimate takes, so that the first row is not read as it.
            out.push_str(&format!(
                "Yearly series: {}\nAn estimate takes the yearly figure of its [site] year (none given: {last}, the latest, with a wider spread); the first row is the profile's own figure.\n",
                s.source
            ));
        }
        if let Some(note) = reg.grid(&r.code).and_then(|g| g.note.clone()) {
            out.push_str(&format!("note: {note}\n"));
        }
        return Ok(out);
    }
    if let Some((n, w)) = reg.cpus().lookup(name) {
        let c = reg.cpus();
        return Ok(format!("{n}\nTDP {} W — {}\n", sig4(w), c.source_of(n)));
    }
    // Nothing matched: suggest from every kind.
    let hint = reg
        .accelerator(name)
        .err()
        .and_then(|e| e.suggestion)
        .or_else(|| reg.region(name).err().and_then(|e| e.suggestion))
        .map(|s| crate::suggest::did_you_mean(&s, crate::suggest::Quote::Bare))
        .unwrap_or_else(|| " (try `footprint profiles list gpus|grids|clouds|cpus`)".to_string());
    Err(InputError::new(format!("no profile named '{name}'{hint}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_show() {
        let r = Registry::embedded();
        let g = list(&r, Kind::Accelerators, false).unwrap();
        assert!(g.contains("H100-SXM5-80GB") && g.contains("989 TFLOP/s"));
        let j: serde_json::Value =
            serde_json::from_str(&list(&r, Kind::Grids, true).unwrap()).unwrap();
        assert!(j.as_array().unwrap().len() > 250);
        assert!(
            list(&r, Kind::Clouds, false)
                .unwrap()
                .contains("aws:us-east-1")
        );
        let s = show(&r, "H100").unwrap();
        assert!(s.contains("NVIDIA H100 Tensor Core GPU datasheet"), "{s}");
        let fr = show(&r, "FR").unwrap();
        assert!(
            fr.contains("56.04") && fr.contains("in 2024") && fr.contains("40.48"),
            "{fr}"
        );
        assert!(fr.contains("An estimate takes the yearly figure"), "{fr}");
        let ca = show(&r, "US-CA").unwrap();
        assert!(ca.contains("in 2019") && ca.contains("182.6"), "{ca}");
        assert!(show(&r, "AMD EPYC 7763").unwrap().contains("280 W"));
        let e = show(&r, "H10").unwrap_err().to_string();
        assert!(e.contains("did you mean H100"), "{e}");
    }
}
