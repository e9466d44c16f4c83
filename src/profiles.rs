//! Hardware, grid and cloud data: embedded at build time, overridable by the user.
//!
//! The files in `profiles/` are compiled into the binary with `include_str!`, so the tool
//! needs no network and no data directory at run time. A user can add or replace entries
//! with their own TOML files in the same format (`--profiles DIR` or `FOOTPRINT_PROFILES`):
//! an entry whose name matches an existing name or alias replaces it, anything else is added.
//!
//! Every number carries its source and year (`{ value, source, year }`); in a user's file a
//! bare number is accepted and is attributed to that file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::InputError;
use crate::suggest::{Quote, did_you_mean, nearest, normalize};

// The embedded profiles, as build.rs compiled them from `profiles/*.toml` into JSON (read back
// about ten times faster than TOML: startup time is part of a measurement's overhead), with
// the TOML sources for the tests that check every value has a source and a year. The list of
// files is build.rs's `PROFILE_FILES`, written nowhere else.
include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The embedded JSON of one profile file, by its path (`profiles/cpus.toml`).
fn embedded(origin: &str) -> (&'static str, &'static str) {
    EMBEDDED_FILES
        .iter()
        .find(|(o, _)| *o == origin)
        .copied()
        .unwrap_or_else(|| panic!("build.rs embeds {origin}"))
}

/// The files of entries (accelerators, grids, clouds), merged in this order.
const ENTRY_FILES: [&str; 4] = [
    "profiles/accelerators.toml",
    "profiles/grids.toml",
    "profiles/grid-years.toml",
    "profiles/clouds.toml",
];
/// The generated CPU table, and hand-curated chips it lacks, each with its own source.
const CPU_FILE: &str = "profiles/cpus.toml";
const CPU_EXTRA_FILE: &str = "profiles/cpus-apple.toml";

fn parse_embedded(origin: &str, json: &str) -> ProfileFile {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("embedded {origin}: {e}"))
}

/// The grid used when a run names neither an intensity nor a region.
pub(crate) const DEFAULT_GRID: &str = "WORLD";

/// A number with where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sourced {
    pub(crate) value: f64,
    pub(crate) source: String,
    pub(crate) year: Option<u16>,
}

impl Sourced {
    /// "NVIDIA H100 datasheet, 2023".
    pub(crate) fn citation(&self) -> String {
        match self.year {
            Some(y) => format!("{}, {y}", self.source),
            None => self.source.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Accelerator {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) aliases: Vec<String>,
    /// Board power limit or TDP; `None` where the maker publishes none (Google's TPU v5 and v6).
    pub(crate) tdp_w: Option<Sourced>,
    pub(crate) peak_flops: Option<Sourced>,
    pub(crate) memory_gb: Option<Sourced>,
    /// The on-demand price per device-hour the profile gives by default (mostly AWS us-east-1;
    /// its source says which cloud and region).
    pub(crate) price_usd_per_hour: Option<Sourced>,
    /// On-demand prices per device-hour on named clouds (`aws`, `gcp`, `azure`), used for a run
    /// in that cloud's regions.
    pub(crate) prices: std::collections::BTreeMap<String, Sourced>,
    pub(crate) embodied_kg_co2e: Option<Sourced>,
    /// The architecture whose training evidence applies; every embedded accelerator has one,
    /// a user's new accelerator may leave it out (its utilization then gets the widest range).
    pub(crate) family: Option<Family>,
    /// Its achieved share of peak relative to H100's, where benchmarks of the same workload
    /// show it.
    pub(crate) relative_utilization: Option<Relative>,
    /// The file the entry came from.
    pub(crate) origin: String,
}

/// An accelerator's architecture: which published training runs and benchmarks describe it.
/// Data in `profiles/accelerators.toml`, so that a new accelerator says which evidence applies
/// instead of falling into a default by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Family {
    Pascal,
    Volta,
    Turing,
    Ampere,
    Ada,
    Hopper,
    Blackwell,
    /// AMD Instinct (CDNA 2 and 3).
    Cdna,
    /// Intel Gaudi.
    Gaudi,
    /// Google TPU.
    Tpu,
}

/// How a profile price relates to the run's place.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PriceMatch {
    /// The list price of the run's own cloud.
    SameCloud,
    /// The profile's default price, from another cloud than the run's (`run_cloud`).
    OtherCloud { run_cloud: String },
    /// A cloud list price for a run not in a cloud region (own hardware or unknown site).
    NotACloudRegion,
}

impl Accelerator {
    /// The price for a run in `region` ("gcp:us-central1", "FR", or none): the cloud's own
    /// when the profile has it, else the default, with how well it matches.
    pub(crate) fn price_for(&self, region: Option<&str>) -> Option<(&Sourced, PriceMatch)> {
        let cloud = region.and_then(|r| RegionName::parse(r).provider());
        match cloud {
            Some(c) => match self.prices.get(&c) {
                Some(p) => Some((p, PriceMatch::SameCloud)),
                None => self.price_usd_per_hour.as_ref().map(|p| {
                    let same = p.source.to_ascii_lowercase().starts_with(match c.as_str() {
                        "aws" => "aws",
                        "gcp" => "google",
                        "azure" => "azure",
                        other => other,
                    });
                    let m = if same {
                        PriceMatch::SameCloud
                    } else {
                        PriceMatch::OtherCloud {
                            run_cloud: c.clone(),
                        }
                    };
                    (p, m)
                }),
            },
            None => self
                .price_usd_per_hour
                .as_ref()
                .map(|p| (p, PriceMatch::NotACloudRegion)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Grid {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) carbon_intensity_g_per_kwh: Sourced,
    pub(crate) note: Option<String>,
    pub(crate) origin: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CloudIntensity {
    /// The provider publishes a figure for the region.
    Own(Sourced),
    /// Location-based: the intensity of the grid the region is in.
    Grid(String),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cloud {
    pub(crate) code: String,
    pub(crate) place: String,
    pub(crate) intensity: CloudIntensity,
    pub(crate) origin: String,
}

/// A grid intensity found for a `region = "..."`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Region {
    /// The canonical code (`FR`, `US-CA`, `aws:us-east-1`).
    pub(crate) code: String,
    /// For people: "France", "N. Virginia (aws:us-east-1) on the US-VA grid".
    pub(crate) label: String,
    pub(crate) intensity: Sourced,
    /// The grid whose yearly series applies (the region's own, or its cloud region's grid);
    /// `None` for a cloud region with a figure of its own.
    pub(crate) grid: Option<String>,
}

/// A region as a user names it: a cloud provider's region (`aws:us-east-1`) or a grid (`FR`,
/// `US-CA`, `SE3`, `France`). Parsed here once; nothing else looks for the colon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RegionName {
    Grid(String),
    Cloud { provider: String, region: String },
}

impl RegionName {
    pub(crate) fn parse(name: &str) -> RegionName {
        match name.split_once(':') {
            Some((provider, region)) => RegionName::Cloud {
                provider: provider.to_string(),
                region: region.to_string(),
            },
            None => RegionName::Grid(name.to_string()),
        }
    }

    pub(crate) fn is_cloud(&self) -> bool {
        matches!(self, RegionName::Cloud { .. })
    }

    /// The cloud provider, lower-cased, for a cloud region.
    pub(crate) fn provider(&self) -> Option<String> {
        match self {
            RegionName::Cloud { provider, .. } => Some(provider.to_ascii_lowercase()),
            RegionName::Grid(_) => None,
        }
    }
}

impl std::fmt::Display for RegionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegionName::Grid(g) => f.write_str(g),
            RegionName::Cloud { provider, region } => write!(f, "{provider}:{region}"),
        }
    }
}

/// CPU model → TDP, and the CPU-time model's constants.
#[derive(Clone, Debug, Default)]
pub struct CpuTable {
    pub(crate) entries: Vec<(String, f64)>,
    /// A source of its own for an entry (by normalized name), where the entry has one.
    pub(crate) entry_sources: std::collections::BTreeMap<String, String>,
    pub(crate) source: String,
    pub(crate) year: Option<u16>,
    /// Memory power per GB resident.
    pub(crate) ram_w_per_gb: Option<Sourced>,
    /// Power per busy hardware thread for a CPU not in the table.
    pub(crate) default_w_per_thread: Option<Sourced>,
}

// ---- file format -------------------------------------------------------------------------

/// A profile value: a bare number (a user's own, sourced by their file) or a table with its
/// source and year.
#[derive(Clone, Debug)]
enum SourcedDef {
    Bare(f64),
    Full {
        value: f64,
        source: String,
        year: Option<u16>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullDef {
    value: f64,
    source: String,
    year: Option<u16>,
}

impl<'de> Deserialize<'de> for SourcedDef {
    /// By hand rather than `untagged`, whose error ("did not match any variant") says nothing
    /// about what was expected.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SourcedDef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a number, or a table { value = NUMBER, source = \"...\", year = YEAR }",
                )
            }
            fn visit_f64<E: serde::de::Error>(self, x: f64) -> Result<SourcedDef, E> {
                Ok(SourcedDef::Bare(x))
            }
            fn visit_i64<E: serde::de::Error>(self, x: i64) -> Result<SourcedDef, E> {
                Ok(SourcedDef::Bare(x as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, x: u64) -> Result<SourcedDef, E> {
                Ok(SourcedDef::Bare(x as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<SourcedDef, A::Error> {
                let f = FullDef::deserialize(serde::de::value::MapAccessDeserializer::new(m))?;
                Ok(SourcedDef::Full {
                    value: f.value,
                    source: f.source,
                    year: f.year,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl SourcedDef {
    fn resolve(self, origin: &str) -> Sourced {
        match self {
            SourcedDef::Bare(value) => Sourced {
                value,
                source: format!("user profile {origin}"),
                year: None,
            },
            SourcedDef::Full {
                value,
                source,
                year,
            } => Sourced {
                value,
                source,
                year,
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceleratorDef {
    name: String,
    description: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    tdp_w: Option<SourcedDef>,
    peak_flops: Option<SourcedDef>,
    memory_gb: Option<SourcedDef>,
    price_usd_per_hour: Option<SourcedDef>,
    #[serde(default)]
    prices: std::collections::BTreeMap<String, SourcedDef>,
    embodied_kg_co2e: Option<SourcedDef>,
    family: Option<Family>,
    relative_utilization: Option<RelativeDef>,
}

/// A ratio with its range, source and year (`relative_utilization`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelativeDef {
    value: f64,
    low: f64,
    high: f64,
    source: String,
    year: u16,
}

/// A device's achieved share of its own peak in training relative to H100's, with its range
/// and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Relative {
    pub(crate) low: f64,
    pub(crate) central: f64,
    pub(crate) high: f64,
    pub(crate) source: String,
    pub(crate) year: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GridDef {
    code: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    carbon_intensity_g_per_kwh: SourcedDef,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloudDef {
    code: String,
    #[serde(default)]
    place: String,
    carbon_intensity_g_per_kwh: Option<SourcedDef>,
    grid: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct CpuTableDef {
    source: Option<String>,
    year: Option<u16>,
    ram_w_per_gb: Option<SourcedDef>,
    default_w_per_thread: Option<SourcedDef>,
    #[serde(default)]
    tdp_w: std::collections::BTreeMap<String, f64>,
    /// A source (with its year) per entry of `tdp_w`, for tables that are not from one source.
    #[serde(default)]
    sources: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    accelerator: Vec<AcceleratorDef>,
    #[serde(default)]
    grid: Vec<GridDef>,
    #[serde(default)]
    cloud: Vec<CloudDef>,
    #[serde(default)]
    grid_year: Vec<GridYearDef>,
    cpus: Option<CpuTableDef>,
}

/// A grid's intensity year by year (`profiles/grid-years.toml`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GridYearDef {
    code: String,
    source: String,
    /// Year (as a TOML key) → gCO2e/kWh.
    g_per_kwh: std::collections::BTreeMap<String, f64>,
}

/// A grid's published yearly intensities, and where they come from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GridYears {
    pub(crate) by_year: std::collections::BTreeMap<u64, f64>,
    pub(crate) source: String,
    pub(crate) origin: String,
}

/// A grid's intensity for a run's year, as picked from its series.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct YearIntensity {
    pub(crate) g_per_kwh: f64,
    /// The year whose figure it is.
    pub(crate) year: u64,
    /// The run's year is after the series' last (or not given): the last year stands in.
    pub(crate) after_series: bool,
    /// The run's year is before the series' first: the first year stands in.
    pub(crate) before_series: bool,
    pub(crate) source: String,
}

/// The dotted key whose value starts where `before` (a line up to the error) ends.
fn key_at(before: &str) -> Option<String> {
    let mut path = Vec::new();
    let mut rest = before;
    // Each `key =` followed by `{` opens a level; the last `key =` is the one at fault.
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .rsplit([',', '{'])
            .next()
            .unwrap_or(key)
            .trim()
            .trim_matches('"');
        if key.is_empty() || key.len() > 80 || key.contains(['[', '}']) {
            return None;
        }
        path.push(key.to_string());
        let after = after.trim_start();
        match after.strip_prefix('{') {
            Some(inner) if after.rfind('}').is_none() => rest = inner,
            _ => {
                // A value and maybe more keys of the same table on this line.
                match after.rfind(',') {
                    Some(i) if after[i..].contains('=') || !after[i..].trim().is_empty() => {
                        path.pop();
                        rest = &after[i + 1..];
                    }
                    _ => break,
                }
            }
        }
    }
    (!path.is_empty()).then(|| path.join("."))
}

fn parse_file(origin: &str, text: &str) -> Result<ProfileFile, InputError> {
    toml::from_str::<ProfileFile>(text).map_err(|e| {
        let mut err = InputError::new(format!("invalid profile: {}", e.message())).in_file(origin);
        if let Some(span) = e.span() {
            let start = span.start.min(text.len());
            let line = crate::text::line_of(text.as_bytes(), start);
            err = err.at_line(line);
            // The key the error is about, inner keys of an inline table included:
            // `tdp_w = { value = 300, year = -1 }` names `tdp_w.year`.
            let line_text = text[..start].rsplit('\n').next().unwrap_or("");
            if let Some(key) = key_at(line_text) {
                err = err.for_key(key);
            }
        }
        err
    })
}

/// The plausible range of a profile value: the same bounds a run file's value of the same
/// kind has, so that no profile can make a product of inputs overflow.
#[derive(Clone, Copy)]
struct Bound {
    /// The smallest plausible value (a peak of 1 FLOP/s is a typo, not a device).
    min: f64,
    max: f64,
    unit: &'static str,
}

const TDP_W: Bound = Bound {
    min: 1.0,
    max: 20_000.0,
    unit: "W per device",
};
const PEAK_FLOPS: Bound = Bound {
    min: 1e9,
    max: 1e19,
    unit: "FLOP/s per device",
};
const MEMORY_GB: Bound = Bound {
    min: 0.01,
    max: 1e5,
    unit: "GB",
};
const PRICE: Bound = Bound {
    min: 0.0,
    max: 1e5,
    unit: "USD per device-hour",
};
const EMBODIED: Bound = Bound {
    min: 0.0,
    max: 1e6,
    unit: "kg CO2e per device",
};
const INTENSITY: Bound = Bound {
    min: 0.0,
    max: 2_000.0,
    unit: "gCO2e/kWh",
};
const CPU_TDP: Bound = Bound {
    min: 0.1,
    max: 20_000.0,
    unit: "W per CPU",
};
const RAM_W_PER_GB: Bound = Bound {
    min: 0.0,
    max: 100.0,
    unit: "W per GB",
};
const W_PER_THREAD: Bound = Bound {
    min: 0.01,
    max: 1_000.0,
    unit: "W per thread",
};

/// A `relative_utilization` checked: ordered, and a plausible ratio (0.1 to 3).
fn relative(
    origin: &str,
    what: &str,
    d: Option<RelativeDef>,
) -> Result<Option<Relative>, InputError> {
    let Some(d) = d else {
        return Ok(None);
    };
    let ok = [d.low, d.value, d.high]
        .iter()
        .all(|x| x.is_finite() && (0.1..=3.0).contains(x))
        && d.low <= d.value
        && d.value <= d.high;
    if !ok {
        return Err(InputError::new(format!(
            "{what}: relative_utilization needs 0.1 <= low <= value <= high <= 3, got {}, {}, {}",
            d.low, d.value, d.high
        ))
        .in_file(origin));
    }
    Ok(Some(Relative {
        low: d.low,
        central: d.value,
        high: d.high,
        source: d.source,
        year: d.year,
    }))
}

fn check_value(origin: &str, what: &str, s: &Sourced, b: Bound) -> Result<(), InputError> {
    if !(s.value.is_finite() && (b.min..=b.max).contains(&s.value)) {
        let shown = if s.value.abs() >= 1e6 {
            format!("{:e}", s.value)
        } else {
            s.value.to_string()
        };
        return Err(InputError::new(format!(
            "{what} is {shown}: expected a number from {} to {} ({})",
            b.min, b.max, b.unit
        ))
        .in_file(origin));
    }
    Ok(())
}

// ---- registry ----------------------------------------------------------------------------

/// What kind of name a lookup was for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LookupKind {
    /// An accelerator (`H100`).
    Device,
    /// A cloud region (`aws:us-east-1`).
    Cloud,
    /// A grid: a country, a US state, a zone (`FR`, `US-CA`, `SE3`).
    Region,
    /// A cloud region whose profile names a grid that does not exist (a profile's fault).
    BrokenCloud { grid: String, origin: String },
}

/// A name not found in the profiles, with the nearest known one when there is a plausible one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LookupError {
    pub(crate) kind: LookupKind,
    pub(crate) name: String,
    pub(crate) suggestion: Option<String>,
}

impl LookupError {
    fn new(kind: LookupKind, name: &str, suggestion: Option<&str>) -> LookupError {
        LookupError {
            kind,
            name: name.to_string(),
            suggestion: suggestion.map(String::from),
        }
    }
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, list) = match &self.kind {
            LookupKind::Device => ("device", "gpus"),
            LookupKind::Cloud => ("cloud region", "clouds"),
            LookupKind::Region => ("region", "grids"),
            LookupKind::BrokenCloud { grid, origin } => {
                return write!(
                    f,
                    "cloud region {} points at unknown grid {grid} ({origin})",
                    self.name
                );
            }
        };
        let hint = match &self.suggestion {
            Some(s) => did_you_mean(s, Quote::Bare),
            None => format!(" (see `footprint profiles list {list}`)"),
        };
        // A device footprint does not know can be described in a profile of the user's own.
        let add = if self.kind == LookupKind::Device {
            "; to add one, put an [[accelerator]] with name, tdp_w and peak_flops in a *.toml under --profiles DIR"
        } else {
            ""
        };
        write!(f, "unknown {what} '{}'{hint}{add}", self.name)
    }
}

impl std::error::Error for LookupError {}

/// All profiles, searchable by name or alias (ignoring case and punctuation).
#[derive(Debug, Default)]
pub struct Registry {
    accelerators: Vec<Accelerator>,
    grids: Vec<Grid>,
    clouds: Vec<Cloud>,
    accel_index: HashMap<String, usize>,
    grid_index: HashMap<String, usize>,
    cloud_index: HashMap<String, usize>,
    /// Normalised accelerator names and aliases, grid codes and cloud codes → entry, kept up
    /// to date while files are added (so that an override finds its entry in O(1)).
    accel_keys: HashMap<String, usize>,
    grid_codes: HashMap<String, usize>,
    cloud_codes: HashMap<String, usize>,
    cpu_overrides: Vec<(String, CpuTableDef)>,
    cpus: OnceLock<CpuTable>,
    /// Yearly intensities by normalised grid code.
    grid_years: HashMap<String, GridYears>,
}

impl Registry {
    /// The embedded profiles only.
    pub fn embedded() -> Registry {
        let mut r = Registry::default();
        for (origin, json) in ENTRY_FILES.map(embedded) {
            r.add(origin, parse_embedded(origin, json))
                .expect("embedded profiles are valid (tested)");
        }
        r.reindex();
        r
    }

    /// The embedded profiles, then every `*.toml` in `dir` (in name order) on top.
    pub(crate) fn with_user_dir(dir: Option<&Path>) -> Result<Registry, InputError> {
        let mut r = Registry::embedded();
        let Some(dir) = dir else {
            return Ok(r);
        };
        let shown = dir.display().to_string();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            InputError::new(format!("cannot read the profile directory: {e}")).in_file(&shown)
        })?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let origin = path.display().to_string();
            let text = crate::files::read_text(&path, 16 << 20)?;
            let file = parse_file(&origin, &text)?;
            r.add(&origin, file)?;
        }
        r.reindex();
        Ok(r)
    }

    /// One profile file's entries: new ones added, existing ones (same name, code) overridden.
    fn add(&mut self, origin: &str, file: ProfileFile) -> Result<(), InputError> {
        self.add_accelerators(origin, file.accelerator)?;
        self.add_grids(origin, file.grid)?;
        self.add_clouds(origin, file.cloud)?;
        self.add_grid_years(origin, file.grid_year)?;
        if let Some(cpus) = file.cpus {
            self.add_cpus(origin, cpus)?;
        }
        Ok(())
    }

    fn add_accelerators(
        &mut self,
        origin: &str,
        defs: Vec<AcceleratorDef>,
    ) -> Result<(), InputError> {
        for a in defs {
            let what = format!("accelerator {}", a.name);
            let key = normalize(&a.name);
            let existing = self.accel_keys.get(&key).copied();
            let given = |s: Option<SourcedDef>| s.map(|s| s.resolve(origin));
            let acc = match existing {
                // An override: what the file gives replaces, the rest is kept.
                Some(i) => {
                    let old = &self.accelerators[i];
                    let mut aliases = old.aliases.clone();
                    aliases.extend(a.aliases);
                    Accelerator {
                        name: old.name.clone(),
                        description: a.description.or_else(|| old.description.clone()),
                        aliases,
                        tdp_w: given(a.tdp_w).or_else(|| old.tdp_w.clone()),
                        peak_flops: given(a.peak_flops).or_else(|| old.peak_flops.clone()),
                        memory_gb: given(a.memory_gb).or_else(|| old.memory_gb.clone()),
                        price_usd_per_hour: given(a.price_usd_per_hour)
                            .or_else(|| old.price_usd_per_hour.clone()),
                        prices: {
                            let mut p = old.prices.clone();
                            for (k, v) in a.prices {
                                p.insert(k.to_ascii_lowercase(), v.resolve(origin));
                            }
                            p
                        },
                        embodied_kg_co2e: given(a.embodied_kg_co2e)
                            .or_else(|| old.embodied_kg_co2e.clone()),
                        family: a.family.or(old.family),
                        relative_utilization: relative(origin, &what, a.relative_utilization)?
                            .or_else(|| old.relative_utilization.clone()),
                        origin: format!("{} + {origin}", old.origin),
                    }
                }
                None if a.tdp_w.is_none() && a.peak_flops.is_none() => {
                    return Err(InputError::new(format!(
                        "{what}: a new accelerator needs tdp_w or peak_flops (or both)"
                    ))
                    .in_file(origin));
                }
                None => Accelerator {
                    tdp_w: given(a.tdp_w),
                    name: a.name,
                    description: a.description,
                    aliases: a.aliases,
                    peak_flops: given(a.peak_flops),
                    memory_gb: given(a.memory_gb),
                    price_usd_per_hour: given(a.price_usd_per_hour),
                    prices: a
                        .prices
                        .into_iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.resolve(origin)))
                        .collect(),
                    embodied_kg_co2e: given(a.embodied_kg_co2e),
                    family: a.family,
                    relative_utilization: relative(origin, &what, a.relative_utilization)?,
                    origin: origin.to_string(),
                },
            };
            for (k, v, b) in [
                ("tdp_w", &acc.tdp_w, TDP_W),
                ("peak_flops", &acc.peak_flops, PEAK_FLOPS),
                ("memory_gb", &acc.memory_gb, MEMORY_GB),
                ("price_usd_per_hour", &acc.price_usd_per_hour, PRICE),
                ("embodied_kg_co2e", &acc.embodied_kg_co2e, EMBODIED),
            ] {
                if let Some(v) = v {
                    check_value(origin, &format!("{what}: {k}"), v, b)?;
                }
            }
            for (cloud, v) in &acc.prices {
                check_value(origin, &format!("{what}: prices.{cloud}"), v, PRICE)?;
            }
            if acc.tdp_w.as_ref().is_some_and(|p| p.value == 0.0)
                || acc.peak_flops.as_ref().is_some_and(|p| p.value == 0.0)
            {
                return Err(InputError::new(format!(
                    "{what}: tdp_w and peak_flops must be greater than 0"
                ))
                .in_file(origin));
            }
            let i = match existing {
                Some(i) => {
                    self.accelerators[i] = acc;
                    i
                }
                None => {
                    self.accelerators.push(acc);
                    self.accelerators.len() - 1
                }
            };
            let entry = &self.accelerators[i];
            for k in std::iter::once(&entry.name).chain(&entry.aliases) {
                self.accel_keys.entry(normalize(k)).or_insert(i);
            }
        }
        Ok(())
    }

    fn add_grids(&mut self, origin: &str, defs: Vec<GridDef>) -> Result<(), InputError> {
        for g in defs {
            let grid = Grid {
                code: g.code,
                name: g.name,
                aliases: g.aliases,
                carbon_intensity_g_per_kwh: g.carbon_intensity_g_per_kwh.resolve(origin),
                note: g.note,
                origin: origin.to_string(),
            };
            check_value(
                origin,
                &format!("grid {}: carbon_intensity_g_per_kwh", grid.code),
                &grid.carbon_intensity_g_per_kwh,
                INTENSITY,
            )?;
            let key = normalize(&grid.code);
            match self.grid_codes.get(&key) {
                Some(&i) => self.grids[i] = grid,
                None => {
                    self.grids.push(grid);
                    self.grid_codes.insert(key, self.grids.len() - 1);
                }
            }
        }
        Ok(())
    }

    fn add_grid_years(&mut self, origin: &str, defs: Vec<GridYearDef>) -> Result<(), InputError> {
        for d in defs {
            let mut by_year = std::collections::BTreeMap::new();
            for (year, v) in d.g_per_kwh {
                let what = format!("grid_year {}: g_per_kwh.{year}", d.code);
                let y: u64 = year
                    .parse()
                    .ok()
                    .filter(|y| (1990..=2100).contains(y))
                    .ok_or_else(|| {
                        InputError::new(format!("{what}: the key must be a year from 1990 to 2100"))
                            .in_file(origin)
                    })?;
                let s = Sourced {
                    value: v,
                    source: d.source.clone(),
                    year: Some(y as u16),
                };
                check_value(origin, &what, &s, INTENSITY)?;
                by_year.insert(y, v);
            }
            if by_year.is_empty() {
                return Err(InputError::new(format!(
                    "grid_year {}: g_per_kwh has no years",
                    d.code
                ))
                .in_file(origin));
            }
            self.grid_years.insert(
                normalize(&d.code),
                GridYears {
                    by_year,
                    source: d.source,
                    origin: origin.to_string(),
                },
            );
        }
        Ok(())
    }

    /// The intensity of grid `code` in `year` from its yearly series, if it has one: that
    /// year's figure, else the nearest year's (the last for a later year or none given, the
    /// first for an earlier one), marked as such.
    pub(crate) fn intensity_in(&self, code: &str, year: Option<u64>) -> Option<YearIntensity> {
        let s = self.grid_years.get(&normalize(code))?;
        let (&first, _) = s.by_year.first_key_value()?;
        let (&last, _) = s.by_year.last_key_value()?;
        let pick = match year {
            None => last,
            Some(y) if y > last => last,
            Some(y) if y < first => first,
            Some(y) => *s.by_year.range(..=y).next_back()?.0,
        };
        Some(YearIntensity {
            g_per_kwh: s.by_year[&pick],
            year: pick,
            after_series: year.is_none_or(|y| y > last),
            before_series: year.is_some_and(|y| y < first),
            source: s.source.clone(),
        })
    }

    fn add_clouds(&mut self, origin: &str, defs: Vec<CloudDef>) -> Result<(), InputError> {
        for c in defs {
            let intensity = match (c.carbon_intensity_g_per_kwh, c.grid) {
                (Some(s), None) => CloudIntensity::Own(s.resolve(origin)),
                (None, Some(g)) => CloudIntensity::Grid(g),
                _ => {
                    return Err(InputError::new(format!(
                        "cloud {}: give exactly one of carbon_intensity_g_per_kwh or grid",
                        c.code
                    ))
                    .in_file(origin));
                }
            };
            if let CloudIntensity::Own(s) = &intensity {
                check_value(
                    origin,
                    &format!("cloud {}: carbon_intensity_g_per_kwh", c.code),
                    s,
                    INTENSITY,
                )?;
            }
            let cloud = Cloud {
                code: c.code,
                place: c.place,
                intensity,
                origin: origin.to_string(),
            };
            let key = normalize(&cloud.code);
            match self.cloud_codes.get(&key) {
                Some(&i) => self.clouds[i] = cloud,
                None => {
                    self.clouds.push(cloud);
                    self.cloud_codes.insert(key, self.clouds.len() - 1);
                }
            }
        }
        Ok(())
    }

    /// A CPU table's values are checked here; the table itself is merged when looked up.
    fn add_cpus(&mut self, origin: &str, cpus: CpuTableDef) -> Result<(), InputError> {
        for (name, tdp) in &cpus.tdp_w {
            let v = Sourced {
                value: *tdp,
                source: String::new(),
                year: None,
            };
            check_value(origin, &format!("cpus.tdp_w \"{name}\""), &v, CPU_TDP)?;
        }
        for (k, v, b) in [
            ("cpus.ram_w_per_gb", &cpus.ram_w_per_gb, RAM_W_PER_GB),
            (
                "cpus.default_w_per_thread",
                &cpus.default_w_per_thread,
                W_PER_THREAD,
            ),
        ] {
            if let Some(v) = v {
                check_value(origin, k, &v.clone().resolve(origin), b)?;
            }
        }
        self.cpu_overrides.push((origin.to_string(), cpus));
        Ok(())
    }

    /// Names first, then aliases that no name claims; a later entry wins a tie.
    fn reindex(&mut self) {
        self.accel_index.clear();
        for (i, a) in self.accelerators.iter().enumerate() {
            self.accel_index.insert(normalize(&a.name), i);
        }
        for (i, a) in self.accelerators.iter().enumerate() {
            for al in &a.aliases {
                let k = normalize(al);
                let taken_by_a_name = self
                    .accel_index
                    .get(&k)
                    .is_some_and(|&j| normalize(&self.accelerators[j].name) == k);
                if !taken_by_a_name {
                    self.accel_index.insert(k, i);
                }
            }
        }
        self.grid_index.clear();
        for (i, g) in self.grids.iter().enumerate() {
            self.grid_index.insert(normalize(&g.code), i);
        }
        for (i, g) in self.grids.iter().enumerate() {
            for al in std::iter::once(&g.name).chain(&g.aliases) {
                self.grid_index.entry(normalize(al)).or_insert(i);
            }
        }
        self.cloud_index = self
            .clouds
            .iter()
            .enumerate()
            .map(|(i, c)| (normalize(&c.code), i))
            .collect();
    }

    /// The profile of a device as its driver names it ("NVIDIA A100-SXM4-80GB", "NVIDIA H100
    /// 80GB HBM3"): the accelerator whose name or alias is the longest part of that name.
    pub(crate) fn accelerator_named_by_driver(&self, driver_name: &str) -> Option<&Accelerator> {
        let hay = normalize(driver_name);
        self.accelerators
            .iter()
            .flat_map(|a| {
                std::iter::once(&a.name)
                    .chain(&a.aliases)
                    .map(move |k| (normalize(k), a))
            })
            .filter(|(k, _)| k.len() >= 2 && hay.contains(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, a)| a)
    }

    pub(crate) fn accelerators(&self) -> &[Accelerator] {
        &self.accelerators
    }

    pub(crate) fn grids(&self) -> &[Grid] {
        &self.grids
    }

    pub(crate) fn clouds(&self) -> &[Cloud] {
        &self.clouds
    }

    /// An accelerator by name or alias; the error suggests the nearest name.
    pub(crate) fn accelerator(&self, name: &str) -> Result<&Accelerator, LookupError> {
        if let Some(&i) = self.accel_index.get(&normalize(name)) {
            return Ok(&self.accelerators[i]);
        }
        let all = self.accelerators.iter().flat_map(|a| {
            std::iter::once(a.name.as_str()).chain(a.aliases.iter().map(String::as_str))
        });
        Err(LookupError::new(
            LookupKind::Device,
            name,
            nearest(name, all),
        ))
    }

    pub(crate) fn grid(&self, code: &str) -> Option<&Grid> {
        self.grid_index
            .get(&normalize(code))
            .map(|&i| &self.grids[i])
    }

    pub(crate) fn cloud(&self, code: &str) -> Option<&Cloud> {
        self.cloud_index
            .get(&normalize(code))
            .map(|&i| &self.clouds[i])
    }

    /// A region: a cloud region (`aws:us-east-1`), a country (`FR`, `FRA`, `France`),
    /// a US state (`US-CA`) or a grid zone (`SE3`).
    pub(crate) fn region(&self, name: &str) -> Result<Region, LookupError> {
        if RegionName::parse(name).is_cloud() {
            if let Some(c) = self.cloud(name) {
                return match &c.intensity {
                    CloudIntensity::Own(s) => Ok(Region {
                        code: c.code.clone(),
                        label: format!("{} ({})", c.code, c.place),
                        intensity: s.clone(),
                        grid: None,
                    }),
                    CloudIntensity::Grid(g) => {
                        let grid = self.grid(g).ok_or_else(|| LookupError {
                            kind: LookupKind::BrokenCloud {
                                grid: g.clone(),
                                origin: c.origin.clone(),
                            },
                            name: c.code.clone(),
                            suggestion: None,
                        })?;
                        Ok(Region {
                            code: c.code.clone(),
                            label: format!(
                                "{} ({}), on the {} grid ({})",
                                c.code, c.place, grid.code, grid.name
                            ),
                            intensity: grid.carbon_intensity_g_per_kwh.clone(),
                            grid: Some(grid.code.clone()),
                        })
                    }
                };
            }
            let near = nearest(name, self.clouds.iter().map(|c| c.code.as_str()));
            return Err(LookupError::new(LookupKind::Cloud, name, near));
        }
        if let Some(g) = self.grid(name) {
            return Ok(Region {
                code: g.code.clone(),
                label: format!("{} ({})", g.code, g.name),
                intensity: g.carbon_intensity_g_per_kwh.clone(),
                grid: Some(g.code.clone()),
            });
        }
        let all = self.grids.iter().flat_map(|g| {
            std::iter::once(g.code.as_str()).chain(g.aliases.iter().map(String::as_str))
        });
        Err(LookupError::new(
            LookupKind::Region,
            name,
            nearest(name, all),
        ))
    }

    /// The CPU table (parsed on first use: it is large and only `measure` needs it).
    pub fn cpus(&self) -> &CpuTable {
        self.cpus.get_or_init(|| {
            let mut t = CpuTable::default();
            let (origin, json) = embedded(CPU_FILE);
            let file = parse_embedded(origin, json);
            let def = file.cpus.expect("embedded cpus.toml has [cpus]");
            t.source = def.source.unwrap_or_default();
            t.year = def.year;
            t.entries = table_entries(&def.tdp_w);
            t.ram_w_per_gb = def.ram_w_per_gb.map(|s| s.resolve(origin));
            t.default_w_per_thread = def.default_w_per_thread.map(|s| s.resolve(origin));
            let (extra_origin, extra_json) = embedded(CPU_EXTRA_FILE);
            let extra = parse_embedded(extra_origin, extra_json)
                .cpus
                .expect("embedded cpus-apple.toml has [cpus]");
            // Measured figures replace the generated table's entries of the same chip.
            for (name, tdp) in table_entries(&extra.tdp_w) {
                let k = normalize(&name);
                match t.entries.iter().position(|(n, _)| normalize(n) == k) {
                    Some(i) => t.entries[i] = (name, tdp),
                    None => t.entries.push((name, tdp)),
                }
            }
            for (name, src) in &extra.sources {
                t.entry_sources
                    .insert(normalize(name), format!("{src} ({extra_origin})"));
            }
            for (origin, def) in &self.cpu_overrides {
                if let Some(s) = &def.ram_w_per_gb {
                    t.ram_w_per_gb = Some(s.clone().resolve(origin));
                }
                if let Some(s) = &def.default_w_per_thread {
                    t.default_w_per_thread = Some(s.clone().resolve(origin));
                }
                for (name, src) in &def.sources {
                    t.entry_sources
                        .insert(normalize(name), format!("{src} ({origin})"));
                }
                for (name, tdp) in table_entries(&def.tdp_w) {
                    let k = normalize(&name);
                    match t.entries.iter().position(|(n, _)| normalize(n) == k) {
                        Some(i) => t.entries[i] = (name, tdp),
                        None => t.entries.push((name, tdp)),
                    }
                }
                if def.source.is_none() {
                    t.source = format!("{}; overrides from {origin}", t.source);
                }
            }
            t
        })
    }
}

fn table_entries(t: &std::collections::BTreeMap<String, f64>) -> Vec<(String, f64)> {
    t.iter()
        .filter(|(_, x)| x.is_finite() && **x > 0.0)
        .map(|(k, x)| (k.clone(), *x))
        .collect()
}

impl CpuTable {
    /// Where an entry's TDP comes from: its own source, else the table's.
    pub(crate) fn source_of(&self, name: &str) -> String {
        match self.entry_sources.get(&normalize(name)) {
            Some(s) => s.clone(),
            None => match self.year {
                Some(y) => format!("{}, {y}", self.source),
                None => self.source.clone(),
            },
        }
    }

    /// The TDP of a CPU model string as `/proc/cpuinfo` writes it ("AMD EPYC 7763 64-Core
    /// Processor", "Intel(R) Xeon(R) Platinum 8480+"): the longest table name whose words all
    /// appear in it, after dropping the (R)/(TM) marks.
    pub(crate) fn lookup(&self, model: &str) -> Option<(&str, f64)> {
        let clean = clean_cpu_name(model);
        let words: Vec<&str> = clean.split_whitespace().collect();
        let mut best: Option<(&str, f64, usize)> = None;
        for (name, tdp) in &self.entries {
            let cn = clean_cpu_name(name);
            let nw: Vec<&str> = cn.split_whitespace().collect();
            if nw.is_empty() || !nw.iter().all(|w| words.contains(w)) {
                continue;
            }
            // The model number must be there: "Intel Xeon" alone says nothing.
            if !nw.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())) {
                continue;
            }
            let len = cn.len();
            if best.is_none_or(|(_, _, l)| len > l) {
                best = Some((name, *tdp, len));
            }
        }
        best.map(|(n, t, _)| (n, t))
    }
}

fn clean_cpu_name(s: &str) -> String {
    s.replace("(R)", " ")
        .replace("(TM)", " ")
        .replace("(tm)", " ")
        .replace("CPU", " ")
        .replace('@', " ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_error_names_the_inner_key() {
        assert_eq!(key_at("tdp_w = ").as_deref(), Some("tdp_w"));
        assert_eq!(
            key_at("tdp_w = { value = 300, source = \"s\", year = ").as_deref(),
            Some("tdp_w.year")
        );
        assert_eq!(
            key_at("peak_flops = { value = ").as_deref(),
            Some("peak_flops.value")
        );
        let Err(e) = parse_file(
            "p.toml",
            "[[accelerator]]\nname = \"X\"\ntdp_w = { value = 300, source = \"s\", year = -1 }\n",
        ) else {
            panic!("a negative year is refused");
        };
        let e = e.to_string();
        assert!(e.contains("tdp_w.year"), "{e}");
        // and a peak of 1 FLOP/s is a typo, not a device
        let mut r = Registry::default();
        let f = parse_file(
            "p.toml",
            "[[accelerator]]\nname = \"X\"\npeak_flops = 1\ntdp_w = 300\n",
        )
        .unwrap();
        let e = r.add("p.toml", f).unwrap_err().to_string();
        assert!(e.contains("peak_flops"), "{e}");
    }

    #[test]
    fn embedded_profiles_parse_and_are_sourced() {
        for (origin, text) in EMBEDDED_SOURCES {
            let f = parse_file(origin, text).unwrap_or_else(|e| panic!("{e}"));
            for a in &f.accelerator {
                assert!(
                    a.family.is_some(),
                    "{origin}: accelerator {} has no family: say which evidence describes it",
                    a.name
                );
                for s in [
                    a.tdp_w.as_ref(),
                    a.peak_flops.as_ref(),
                    a.memory_gb.as_ref(),
                    a.price_usd_per_hour.as_ref(),
                ]
                .into_iter()
                .chain(a.prices.values().map(Some))
                .chain([a.embodied_kg_co2e.as_ref()])
                .flatten()
                {
                    assert!(
                        matches!(s, SourcedDef::Full { year: Some(_), source, .. } if !source.is_empty()),
                        "{}: every accelerator value needs a source and a year",
                        a.name
                    );
                }
            }
            for g in &f.grid {
                assert!(
                    matches!(
                        &g.carbon_intensity_g_per_kwh,
                        SourcedDef::Full { year: Some(_), .. }
                    ),
                    "grid {} needs a source and year",
                    g.code
                );
            }
            for c in &f.cloud {
                if let Some(s) = &c.carbon_intensity_g_per_kwh {
                    assert!(
                        matches!(s, SourcedDef::Full { year: Some(_), .. }),
                        "{}",
                        c.code
                    );
                }
            }
            if let Some(c) = &f.cpus {
                assert!(c.source.is_some() && c.year.is_some());
                if c.sources.is_empty() {
                    for s in [&c.ram_w_per_gb, &c.default_w_per_thread] {
                        assert!(matches!(s, Some(SourcedDef::Full { year: Some(_), .. })));
                    }
                } else {
                    // a table of many sources: every entry has its own, ending in its year
                    for name in c.tdp_w.keys() {
                        let src = c
                            .sources
                            .get(name)
                            .unwrap_or_else(|| panic!("{name} has no source"));
                        let year: String = src.chars().rev().take(4).collect();
                        assert!(year.chars().all(|ch| ch.is_ascii_digit()), "{name}: {src}");
                    }
                }
            }
        }
    }

    #[test]
    fn no_alias_collides() {
        let r = Registry::embedded();
        let mut seen = HashMap::new();
        for a in r.accelerators() {
            for k in std::iter::once(&a.name).chain(&a.aliases) {
                if let Some(prev) = seen.insert(normalize(k), a.name.clone()) {
                    assert_eq!(prev, a.name, "alias {k} used twice");
                }
            }
        }
        // every grid code resolves to itself
        for g in r.grids() {
            assert_eq!(r.grid(&g.code).unwrap().code, g.code);
        }
        // every cloud region resolves
        for c in r.clouds() {
            r.region(&c.code).unwrap();
        }
    }

    #[test]
    fn required_accelerators_are_there() {
        let r = Registry::embedded();
        for (name, tdp, peak) in [
            ("V100", 300.0, 125e12),
            ("A100-SXM4-40GB", 400.0, 312e12),
            ("A100-80GB", 400.0, 312e12),
            ("A100-PCIe", 300.0, 312e12),
            ("H100", 700.0, 989e12),
            ("h100-sxm", 700.0, 989e12),
            ("H100 PCIe", 350.0, 756e12),
            ("H200", 700.0, 989e12),
            ("L4", 72.0, 121e12),
            ("T4", 70.0, 65e12),
            ("A10G", 300.0, 70e12),
            ("RTX 4090", 450.0, 165.2e12),
            ("TPUv3", 262.0, 123e12),
            ("TPU v4", 192.0, 275e12),
        ] {
            let a = r.accelerator(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(a.tdp_w.as_ref().unwrap().value, tdp, "{name}");
            assert_eq!(a.peak_flops.as_ref().unwrap().value, peak, "{name}");
        }
    }

    #[test]
    fn apple_silicon_chips_have_their_own_sources() {
        let r = Registry::embedded();
        let t = r.cpus();
        for (brand, want) in [
            ("Apple M4 Pro", 36.0),
            ("Apple M4", 25.0),
            ("Apple M3 Ultra", 77.0),
            ("Apple M1 Max", 30.0),
            ("Apple M2 Pro", 35.0),
        ] {
            let (name, tdp) = t.lookup(brand).unwrap_or_else(|| panic!("{brand}"));
            assert_eq!((name, tdp), (brand, want));
        }
        assert!(t.source_of("Apple M4 Pro").contains("Notebookcheck"));
        assert!(t.source_of("Apple M4 Pro").contains("2024"));
        assert!(t.source_of("AMD EPYC 7763").contains("CodeCarbon"));
    }

    #[test]
    fn driver_names_find_their_profile() {
        let r = Registry::embedded();
        let by = |n: &str| r.accelerator_named_by_driver(n).map(|a| a.name.as_str());
        assert_eq!(by("NVIDIA A100-SXM4-80GB"), Some("A100-SXM4-80GB"));
        assert_eq!(by("NVIDIA H100 80GB HBM3"), Some("H100-SXM5-80GB"));
        assert_eq!(by("NVIDIA A10G"), Some("A10G"));
        assert_eq!(by("Tesla T4"), Some("T4"));
        assert_eq!(by("AMD EPYC 7763"), None);
    }

    #[test]
    fn typos_get_suggestions() {
        let r = Registry::embedded();
        let e = r.accelerator("H10").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("unknown device 'H10' — did you mean H100?"),
            "{e}"
        );
        assert!(e.to_string().contains("--profiles DIR"), "{e}");
        assert_eq!(
            (e.kind, e.suggestion.as_deref()),
            (LookupKind::Device, Some("H100"))
        );
        let e = r.region("Frnace").unwrap_err();
        assert_eq!(
            (e.kind, e.suggestion.as_deref()),
            (LookupKind::Region, Some("France"))
        );
        let e = r.region("aws:us-east-7").unwrap_err();
        assert!(e.to_string().contains("did you mean aws:us-east-1"), "{e}");
        assert_eq!(e.kind, LookupKind::Cloud);
        let e = r.accelerator("completely-unknown").unwrap_err();
        assert_eq!(e.suggestion, None);
        assert!(
            e.to_string()
                .contains("(see `footprint profiles list gpus`); to add one"),
            "{e}"
        );
    }

    #[test]
    fn regions_by_code_alias_name_cloud() {
        let r = Registry::embedded();
        let fr = r.region("FR").unwrap();
        assert_eq!(fr.code, "FR");
        assert!((fr.intensity.value - 56.039).abs() < 1e-9);
        assert_eq!(r.region("fra").unwrap().code, "FR");
        assert_eq!(r.region("France").unwrap().code, "FR");
        let ca = r.region("US-CA").unwrap();
        assert!((ca.intensity.value - 394.769 * 0.453592).abs() < 0.01);
        let va = r.region("aws:us-east-1").unwrap();
        assert_eq!(va.intensity, r.region("US-VA").unwrap().intensity);
        assert_eq!(r.region("gcp:europe-west1").unwrap().intensity.value, 122.0);
        assert_eq!(r.region("gcp:me-central1").unwrap().intensity.value, 575.0);
        assert_eq!(r.region("WORLD").unwrap().intensity.value, 475.0);
        assert_eq!(r.region("SE3").unwrap().intensity.value, 27.0);
        // Georgia the country keeps its name; the US state is US-GA.
        assert_eq!(r.region("Georgia").unwrap().code, "GE");
    }

    #[test]
    fn every_country_of_the_reference_data_is_there() {
        let r = Registry::embedded();
        // 213 countries in the mix, one left out for a zero intensity, 51 US entries, 9 zones, WORLD.
        assert_eq!(r.grids().len(), 212 + 51 + 9 + 1);
    }

    #[test]
    fn cpu_lookup_matches_proc_cpuinfo_names() {
        let r = Registry::embedded();
        let t = r.cpus();
        assert!(t.entries.len() > 4000);
        let (name, tdp) = t.lookup("AMD EPYC 7763 64-Core Processor").unwrap();
        assert_eq!(name, "AMD EPYC 7763");
        assert_eq!(tdp, 280.0);
        assert!(t.lookup("AMD EPYC").is_none());
        assert!(t.lookup("Some Unknown CPU").is_none());
    }

    #[test]
    fn user_dir_overrides_and_adds() {
        let dir = std::env::temp_dir().join(format!("fp-prof-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("mine.toml"),
            "[[accelerator]]\nname = \"MyChip\"\ntdp_w = 123\npeak_flops = 1e15\n\n[[accelerator]]\nname = \"H100\"\ntdp_w = { value = 650, source = \"our lab\", year = 2026 }\n\n[[grid]]\ncode = \"LAB\"\nname = \"Our lab\"\ncarbon_intensity_g_per_kwh = 12\n",
        )
        .unwrap();
        let r = Registry::with_user_dir(Some(&dir)).unwrap();
        assert_eq!(
            r.accelerator("mychip")
                .unwrap()
                .tdp_w
                .as_ref()
                .unwrap()
                .value,
            123.0
        );
        assert!(
            r.accelerator("mychip")
                .unwrap()
                .tdp_w
                .as_ref()
                .unwrap()
                .source
                .contains("mine.toml")
        );
        let h = r.accelerator("H100").unwrap();
        assert_eq!(h.tdp_w.as_ref().unwrap().value, 650.0);
        assert_eq!(h.name, "H100-SXM5-80GB");
        assert_eq!(
            h.peak_flops.as_ref().unwrap().value,
            989e12,
            "kept from the embedded entry"
        );
        assert_eq!(r.region("LAB").unwrap().intensity.value, 12.0);
        std::fs::write(dir.join("mine.toml"), "[[accelerator]]\nname = \"X\"\n").unwrap();
        let e = Registry::with_user_dir(Some(&dir)).unwrap_err();
        assert!(e.to_string().contains("mine.toml"), "{e}");
        assert!(e.to_string().contains("needs tdp_w or peak_flops"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
