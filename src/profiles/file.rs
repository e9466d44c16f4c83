//! The profile files' format: what a `profiles/*.toml` (or a user's `--profiles` file) may
//! hold, parsed with a one-line error naming the file, line and key, and the plausibility
//! bounds every value is checked against. The registry (`super`) merges what these give.

use serde::Deserialize;

use super::{Family, Sourced};
use crate::error::InputError;

// ---- file format -------------------------------------------------------------------------

/// A profile value: a bare number (a user's own, sourced by their file) or a table with its
/// source and year.
#[derive(Clone, Debug)]
pub(super) enum SourcedDef {
    Bare(f64),
    Full {
        value: f64,
        source: String,
        year: Option<u16>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FullDef {
    pub(super) value: f64,
    pub(super) source: String,
    pub(super) year: Option<u16>,
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
    pub(super) fn resolve(self, origin: &str) -> Sourced {
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
pub(super) struct AcceleratorDef {
    pub(super) name: String,
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) aliases: Vec<String>,
    pub(super) tdp_w: Option<SourcedDef>,
    pub(super) peak_flops: Option<SourcedDef>,
    pub(super) memory_gb: Option<SourcedDef>,
    pub(super) price_usd_per_hour: Option<SourcedDef>,
    #[serde(default)]
    pub(super) prices: std::collections::BTreeMap<String, SourcedDef>,
    pub(super) embodied_kg_co2e: Option<SourcedDef>,
    pub(super) family: Option<Family>,
    pub(super) relative_utilization: Option<RelativeDef>,
}

/// A ratio with its range, source and year (`relative_utilization`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RelativeDef {
    pub(super) value: f64,
    pub(super) low: f64,
    pub(super) high: f64,
    pub(super) source: String,
    pub(super) year: u16,
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
pub(super) struct GridDef {
    pub(super) code: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) aliases: Vec<String>,
    pub(super) carbon_intensity_g_per_kwh: SourcedDef,
    pub(super) note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CloudDef {
    pub(super) code: String,
    #[serde(default)]
    pub(super) place: String,
    pub(super) carbon_intensity_g_per_kwh: Option<SourcedDef>,
    pub(super) grid: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct CpuTableDef {
    pub(super) source: Option<String>,
    pub(super) year: Option<u16>,
    pub(super) ram_w_per_gb: Option<SourcedDef>,
    pub(super) default_w_per_thread: Option<SourcedDef>,
    #[serde(default)]
    pub(super) tdp_w: std::collections::BTreeMap<String, f64>,
    /// A source (with its year) per entry of `tdp_w`, for tables that are not from one source.
    #[serde(default)]
    pub(super) sources: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProfileFile {
    #[serde(default)]
    pub(super) accelerator: Vec<AcceleratorDef>,
    #[serde(default)]
    pub(super) grid: Vec<GridDef>,
    #[serde(default)]
    pub(super) cloud: Vec<CloudDef>,
    #[serde(default)]
    pub(super) grid_year: Vec<GridYearDef>,
    pub(super) cpus: Option<CpuTableDef>,
}

/// A grid's intensity year by year (`profiles/grid-years.toml`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GridYearDef {
    pub(super) code: String,
    pub(super) source: String,
    /// Year (as a TOML key) → gCO2e/kWh.
    pub(super) g_per_kwh: std::collections::BTreeMap<String, f64>,
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
pub(super) fn key_at(before: &str) -> Option<String> {
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

pub(super) fn parse_file(origin: &str, text: &str) -> Result<ProfileFile, InputError> {
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
pub(super) struct Bound {
    /// The smallest plausible value (a peak of 1 FLOP/s is a typo, not a device).
    pub(super) min: f64,
    pub(super) max: f64,
    pub(super) unit: &'static str,
}

pub(super) const TDP_W: Bound = Bound {
    min: 1.0,
    max: 20_000.0,
    unit: "W per device",
};
pub(super) const PEAK_FLOPS: Bound = Bound {
    min: 1e9,
    max: 1e19,
    unit: "FLOP/s per device",
};
pub(super) const MEMORY_GB: Bound = Bound {
    min: 0.01,
    max: 1e5,
    unit: "GB",
};
pub(super) const PRICE: Bound = Bound {
    min: 0.0,
    max: 1e5,
    unit: "USD per device-hour",
};
pub(super) const EMBODIED: Bound = Bound {
    min: 0.0,
    max: 1e6,
    unit: "kg CO2e per device",
};
pub(super) const INTENSITY: Bound = Bound {
    min: 0.0,
    max: 2_000.0,
    unit: "gCO2e/kWh",
};
pub(super) const CPU_TDP: Bound = Bound {
    min: 0.1,
    max: 20_000.0,
    unit: "W per CPU",
};
pub(super) const RAM_W_PER_GB: Bound = Bound {
    min: 0.0,
    max: 100.0,
    unit: "W per GB",
};
pub(super) const W_PER_THREAD: Bound = Bound {
    min: 0.01,
    max: 1_000.0,
    unit: "W per thread",
};

/// A `relative_utilization` checked: ordered, and a plausible ratio (0.1 to 3).
pub(super) fn relative(
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

pub(super) fn check_value(
    origin: &str,
    what: &str,
    s: &Sourced,
    b: Bound,
) -> Result<(), InputError> {
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
