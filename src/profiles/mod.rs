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

mod accelerator;
mod cpu;
mod file;
mod load;
mod region;

pub(crate) use accelerator::{Accelerator, Family, PriceMatch};
pub(crate) use cpu::CpuTable;
use file::*;
pub(crate) use file::{GridYears, Relative, YearIntensity};
pub(crate) use region::{Cloud, CloudIntensity, Grid, Region, RegionName};

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
