//! The run description (`run.toml`, format 1): its keys, their defaults and their checks.
//!
//! `docs/run-format.md` is the contract; this module is its one reader. It turns a file into a
//! [`RunSpec`] in which every value still knows its line, so that later steps (profile
//! lookups in `scenario`) can point at the exact place of a problem. Nothing here knows about
//! profiles or the calculator: the checks are the ones that hold for any run ("utilization is
//! at most 1", "PUE is at least 1", "one way to give FLOPs").

mod walk;

use std::path::{Path, PathBuf};

use toml::de::DeTable;

pub(crate) use walk::{In, RangeValue, Rule};
use walk::{Source, Table};

use crate::error::InputError;

/// The years a run may say it ran in (`[site] year`): from the first GPU-trained models to
/// as far ahead as anyone plans a run.
pub(crate) const YEARS: std::ops::RangeInclusive<u64> = 2000..=2100;

/// A run file larger than this is not a run description (a wrong path, a data file).
pub(crate) const MAX_FILE_BYTES: u64 = 1 << 20;

/// The keys of each section: the contract of docs/run-format.md, in one place.
pub(crate) mod keys {
    pub(crate) const TOP: &[&str] = &[
        "name",
        "description",
        "dataset",
        "per_sample",
        "compute",
        "hardware",
        "site",
        "embodied",
        "measured",
        "budget",
        "published",
    ];
    pub(crate) const DATASET: &[&str] = &["samples", "sample_bytes", "epochs", "shards"];
    pub(crate) const SHARD: &[&str] = &["samples", "sample_bytes"];
    pub(crate) const PER_SAMPLE: &[&str] = &[
        "cost_usd",
        "energy_kwh",
        "energy_j",
        "scaling",
        "reference_bytes",
    ];
    pub(crate) const COMPUTE: &[&str] = &[
        "flops",
        "parameters",
        "tokens",
        "flops_per_sample",
        "active_parameters",
    ];
    pub(crate) const HARDWARE: &[&str] = &[
        "device",
        "count",
        "utilization",
        "power_w",
        "hours",
        "device_hours",
        "host_power_w",
        "price_usd_per_device_hour",
    ];
    pub(crate) const SITE: &[&str] = &[
        "carbon_intensity_g_per_kwh",
        "region",
        "pue",
        "electricity_usd_per_kwh",
        "carbon_price_usd_per_t",
        "year",
        "intensity_series",
    ];
    pub(crate) const EMBODIED: &[&str] = &["kg_co2e_per_device", "lifetime_years"];
    pub(crate) const MEASURED: &[&str] = &["report", "same_workload"];
    pub(crate) const BUDGET: &[&str] = &["max_co2e_kg", "max_energy_kwh", "max_cost_usd"];
    pub(crate) const PUBLISHED: &[&str] = &[
        "energy_kwh",
        "co2e_kg",
        "device_hours",
        "cost_usd",
        "tolerance",
        "source",
    ];

    /// Every section with its keys, for "`pue` belongs in [site]" hints.
    pub(crate) const ALL: &[(&str, &[&str])] = &[
        ("", &["name", "description"]),
        ("dataset", DATASET),
        ("per_sample", PER_SAMPLE),
        ("compute", COMPUTE),
        ("hardware", HARDWARE),
        ("site", SITE),
        ("embodied", EMBODIED),
        ("measured", MEASURED),
        ("budget", BUDGET),
        ("published", PUBLISHED),
    ];
}

/// What is wrong with `value` for the run-file key `key` (`hardware.utilization`, `site.pue`,
/// `dataset.epochs`, `hardware.price_usd_per_device_hour`), by the same rule the run file's
/// own value meets: a value given another way (a `sweep` option) is held to it too.
pub(crate) fn violation(key: &str, value: f64) -> Option<String> {
    let rule = match key {
        "hardware.utilization" => rules::UTILIZATION,
        "site.pue" => rules::PUE,
        "dataset.epochs" => rules::EPOCHS,
        "hardware.price_usd_per_device_hour" => rules::PRICE_PER_HOUR,
        _ => return None,
    };
    rule.violation(value)
}

/// Physical plausibility limits, with the reason a user sees when a value breaks one.
mod rules {
    use super::Rule;

    pub(crate) const UTILIZATION: Rule = Rule {
        min: Some((1e-6, true)),
        max: Some((1.0, true)),
        why: "utilization is achieved FLOP/s ÷ the device's peak FLOP/s",
    };
    pub(crate) const PUE: Rule = Rule {
        min: Some((1.0, true)),
        max: Some((5.0, true)),
        why: "PUE is facility energy ÷ IT energy, at least 1",
    };
    pub(crate) const DEVICE_POWER: Rule = Rule::positive_up_to(
        20_000.0,
        "power is per device: no accelerator draws more than a few kW",
    );
    pub(crate) const HOST_POWER: Rule = Rule::non_negative_up_to(
        20_000.0,
        "host power is the per-device share of CPU, RAM and network",
    );
    pub(crate) const INTENSITY: Rule = Rule::non_negative_up_to(
        2_000.0,
        "grid intensities are 0-1,200 gCO2e/kWh; is this in g/kWh, not lbs/MWh?",
    );
    pub(crate) const LIFETIME: Rule = Rule {
        min: Some((0.01, true)),
        max: Some((50.0, true)),
        why: "lifetime is in years",
    };
    // Upper bounds far beyond any real run, so that no product of inputs overflows.
    pub(crate) const SAMPLE_BYTES: Rule = Rule::positive_up_to(1e15, "bytes per sample");
    pub(crate) const REFERENCE_BYTES: Rule = Rule {
        min: Some((1e-3, true)),
        max: Some((1e15, true)),
        why: "bytes of the reference sample",
    };
    pub(crate) const EPOCHS: Rule = Rule::positive_up_to(1e6, "passes over the data");
    pub(crate) const COST_PER_SAMPLE: Rule = Rule::non_negative_up_to(1e9, "USD per sample");
    pub(crate) const ENERGY_PER_SAMPLE_KWH: Rule = Rule::positive_up_to(1e6, "kWh per sample");
    pub(crate) const ENERGY_PER_SAMPLE_J: Rule = Rule::positive_up_to(3.6e12, "J per sample");
    pub(crate) const FLOPS: Rule =
        Rule::positive_up_to(1e32, "frontier training runs are about 1e26 FLOPs");
    pub(crate) const PARAMETERS: Rule = Rule::positive_up_to(1e16, "parameters of the model");
    pub(crate) const TOKENS: Rule = Rule::positive_up_to(1e18, "training tokens");
    pub(crate) const FLOPS_PER_SAMPLE: Rule = Rule::positive_up_to(1e24, "FLOPs per sample");
    pub(crate) const HOURS: Rule =
        Rule::positive_up_to(1e6, "wall-clock hours (1e6 h is 114 years)");
    pub(crate) const DEVICE_HOURS: Rule = Rule::positive_up_to(1e12, "device-hours");
    pub(crate) const PRICE_PER_HOUR: Rule = Rule::non_negative_up_to(1e5, "USD per device-hour");
    pub(crate) const CARBON_PRICE: Rule = Rule::non_negative_up_to(1e5, "USD per tonne CO2e");
    pub(crate) const EMBODIED: Rule = Rule::non_negative_up_to(1e6, "kg CO2e to make one device");
    pub(crate) const LIMIT: Rule = Rule::non_negative_up_to(1e15, "a budget limit");
    pub(crate) const PUBLISHED: Rule = Rule::positive_up_to(1e15, "a published figure");
    pub(crate) const TOLERANCE: Rule = Rule {
        min: Some((0.0, false)),
        max: Some((1.0, false)),
        why: "a relative tolerance: 0.02 is ±2 %",
    };
    pub(crate) const ELECTRICITY: Rule =
        Rule::non_negative_up_to(10.0, "electricity prices are in USD per kWh");
}

/// How per-sample figures scale with the sample size d.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scaling {
    /// f(d) = g(d) = 1.
    PerSample,
    /// f(d) = g(d) = d / reference_bytes.
    PerByte { reference_bytes: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Shard {
    pub(crate) samples: In<u64>,
    pub(crate) sample_bytes: Option<In<f64>>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Dataset {
    /// One shard when `samples`/`sample_bytes` are given directly.
    pub(crate) shards: Vec<Shard>,
    pub(crate) epochs: Option<In<RangeValue>>,
    pub(crate) line: usize,
}

impl Dataset {
    pub(crate) fn total_samples(&self) -> u64 {
        self.shards.iter().map(|s| s.samples.value).sum()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PerSample {
    pub(crate) cost_usd: Option<In<RangeValue>>,
    /// IT energy per sample, in kWh (an `energy_j` value is converted on reading).
    pub(crate) energy_kwh: In<RangeValue>,
    pub(crate) scaling: Scaling,
    /// True when per_byte was asked for without reference_bytes (then 1 byte is used).
    pub(crate) reference_bytes_defaulted: bool,
    pub(crate) line: usize,
}

/// The three ways to give training FLOPs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FlopsSpec {
    Total(In<RangeValue>),
    /// FLOPs = 6 · parameters · tokens (dense transformer training).
    ParamsTokens {
        parameters: In<RangeValue>,
        tokens: In<RangeValue>,
        /// A mixture-of-experts model's parameters used per token: FLOPs = 6 · active · tokens.
        active: Option<In<RangeValue>>,
    },
    /// FLOPs = flops_per_sample × samples × epochs.
    PerSample(In<RangeValue>),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Compute {
    pub(crate) flops: FlopsSpec,
    pub(crate) line: usize,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Hardware {
    pub(crate) device: Option<In<String>>,
    pub(crate) count: Option<In<u64>>,
    pub(crate) utilization: Option<In<RangeValue>>,
    pub(crate) power_w: Option<In<RangeValue>>,
    pub(crate) hours: Option<In<RangeValue>>,
    pub(crate) device_hours: Option<In<RangeValue>>,
    pub(crate) host_power_w: Option<In<RangeValue>>,
    pub(crate) price_usd_per_device_hour: Option<In<RangeValue>>,
    pub(crate) line: usize,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Site {
    pub(crate) carbon_intensity_g_per_kwh: Option<In<RangeValue>>,
    pub(crate) region: Option<In<String>>,
    pub(crate) pue: Option<In<RangeValue>>,
    pub(crate) electricity_usd_per_kwh: Option<In<RangeValue>>,
    pub(crate) carbon_price_usd_per_t: Option<In<RangeValue>>,
    /// The year the run draws its power (its grid's intensity, and the software of its time).
    pub(crate) year: Option<In<u64>>,
    /// An hourly intensity series for `when` and `measure --run` (as written, and resolved
    /// against the run file's folder).
    pub(crate) intensity_series: Option<(In<String>, PathBuf)>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Embodied {
    pub(crate) kg_co2e_per_device: Option<In<RangeValue>>,
    pub(crate) lifetime_years: Option<In<RangeValue>>,
    pub(crate) line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// As written in the file.
    pub(crate) report: In<String>,
    /// Resolved against the run file's directory.
    pub(crate) path: PathBuf,
    /// The user says the measurement ran this run's own workload, so its J/sample carries
    /// over (a measured command with `--samples` is taken to, footprint's training loop not).
    pub(crate) same_workload: Option<In<bool>>,
}

impl Measured {
    /// The measurement being reported, rather than a report named in a run file.
    pub(crate) fn this_measurement() -> Measured {
        Measured {
            report: In {
                value: "(this measurement)".to_string(),
                line: 0,
                key: "measured.report".to_string(),
            },
            path: PathBuf::new(),
            same_workload: None,
        }
    }
}

/// What a paper or model card reported for this run: `footprint validate` compares the
/// estimate with it, and `estimate` shows it beside the estimate.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Published {
    pub(crate) energy_kwh: Option<In<f64>>,
    pub(crate) co2e_kg: Option<In<f64>>,
    pub(crate) device_hours: Option<In<f64>>,
    pub(crate) cost_usd: Option<In<f64>>,
    /// Reproduction: the central estimate must be within this relative distance. Without
    /// one, prediction: the figure must lie within the estimate's low-high range.
    pub(crate) tolerance: Option<In<f64>>,
    pub(crate) source: Option<In<String>>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Budget {
    pub(crate) max_co2e_kg: Option<In<f64>>,
    pub(crate) max_energy_kwh: Option<In<f64>>,
    pub(crate) max_cost_usd: Option<In<f64>>,
}

/// A parsed and checked run description.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// The file as the user named it (for messages).
    pub(crate) file: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) dataset: Option<Dataset>,
    pub(crate) per_sample: Option<PerSample>,
    pub(crate) compute: Option<Compute>,
    pub(crate) hardware: Option<Hardware>,
    pub(crate) site: Site,
    pub(crate) embodied: Option<Embodied>,
    pub measured: Option<Measured>,
    pub(crate) budget: Option<Budget>,
    pub(crate) published: Option<Published>,
}

impl RunSpec {
    /// An error at a line of this run file (line 0: a value from the command line, which has
    /// no line).
    pub(crate) fn error_at(&self, line: usize, key: &str, msg: impl Into<String>) -> InputError {
        let e = InputError::new(msg).in_file(&self.file).for_key(key);
        if line > 0 { e.at_line(line) } else { e }
    }

    /// The run a measurement describes when there is no run file to extrapolate to: the
    /// measured window itself, `samples` samples once, on `region`'s grid (a `--region` flag).
    /// Its values come from the command line, so they have no line (0).
    pub(crate) fn measured_window(name: String, samples: u64, region: Option<String>) -> RunSpec {
        let flag = |key: &str, value| In {
            value,
            line: 0,
            key: key.to_string(),
        };
        RunSpec {
            file: "(command line)".to_string(),
            name,
            description: Some(
                "the measured window itself, not extrapolated (give --run RUN.toml to extrapolate)"
                    .to_string(),
            ),
            dataset: Some(Dataset {
                shards: vec![Shard {
                    samples: In {
                        value: samples,
                        line: 0,
                        key: "dataset.samples".to_string(),
                    },
                    sample_bytes: None,
                }],
                epochs: Some(In {
                    value: RangeValue::point(1.0),
                    line: 0,
                    key: "dataset.epochs".to_string(),
                }),
                line: 0,
            }),
            per_sample: None,
            compute: None,
            hardware: None,
            site: Site {
                region: region.map(|r| flag("--region", r)),
                // The measured draw is the machine's own: no facility around it is assumed.
                pue: Some(In {
                    value: RangeValue::point(1.0),
                    line: 0,
                    key: "site.pue".to_string(),
                }),
                ..Site::default()
            },
            embodied: None,
            measured: Some(Measured::this_measurement()),
            budget: None,
            published: None,
        }
    }

    /// An error about the file as a whole.
    pub(crate) fn error(&self, msg: impl Into<String>) -> InputError {
        InputError::new(msg).in_file(&self.file)
    }
}

/// Reads and checks a run file. Every failure is an [`InputError`] naming the file.
pub(crate) fn load(path: &Path) -> Result<RunSpec, InputError> {
    let shown = path.display().to_string();
    let text = crate::files::read_text(path, MAX_FILE_BYTES)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&text, &shown, &dir)
}

/// Parses the text of a run file. `file` is only used in messages; `dir` resolves relative
/// paths inside the file (`[measured] report`).
pub fn parse(text: &str, file: &str, dir: &Path) -> Result<RunSpec, InputError> {
    let src = Source::new(file, text);
    if text.trim().is_empty() {
        return Err(InputError::new(
            "the file is empty; a run description needs at least one of [per_sample], [compute], [hardware] hours, [measured]",
        )
        .in_file(file));
    }
    if text.contains('\0') {
        let at = text.find('\0').unwrap_or(0);
        return Err(src.error(&(at..at), "", "contains NUL bytes: not a TOML text file"));
    }
    let doc = DeTable::parse(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        src.error(&span, "", format!("invalid TOML: {}", e.message()))
    })?;
    let root = Table::root(&src, &doc);
    root.check_keys(keys::TOP, keys::ALL)?;

    let name = match root.string("name")? {
        Some(n) => n.value,
        None => Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".to_string()),
    };
    let description = root.string("description")?.map(|d| d.value);

    let dataset = root.table("dataset")?.map(|t| dataset(&t)).transpose()?;
    let per_sample = root
        .table("per_sample")?
        .map(|t| per_sample(&t, dataset.as_ref()))
        .transpose()?;
    let compute = root
        .table("compute")?
        .map(|t| compute(&t, dataset.as_ref()))
        .transpose()?;
    let hardware = root.table("hardware")?.map(|t| hardware(&t)).transpose()?;
    let site = match root.table("site")? {
        Some(t) => site(&t, dir)?,
        None => Site::default(),
    };
    let embodied = root.table("embodied")?.map(|t| embodied(&t)).transpose()?;
    let measured = root
        .table("measured")?
        .map(|t| measured(&t, dir))
        .transpose()?;
    let budget = root.table("budget")?.map(|t| budget(&t)).transpose()?;
    let published = root
        .table("published")?
        .map(|t| published(&t))
        .transpose()?;

    let spec = RunSpec {
        file: file.to_string(),
        name,
        description,
        dataset,
        per_sample,
        compute,
        hardware,
        site,
        embodied,
        measured,
        budget,
        published,
    };
    check_models(&spec, &root)?;
    Ok(spec)
}

fn dataset(t: &Table<'_, '_>) -> Result<Dataset, InputError> {
    t.check_keys(keys::DATASET, keys::ALL)?;
    let epochs = t.range("epochs", rules::EPOCHS)?;
    let shards = match t.tables("shards")? {
        Some(list) => {
            if t.has("samples") || t.has("sample_bytes") {
                return Err(t.key_error(
                    "shards",
                    "give either samples/sample_bytes or [[dataset.shards]], not both",
                ));
            }
            if list.is_empty() {
                return Err(t.key_error("shards", "needs at least one shard"));
            }
            list.iter().map(shard).collect::<Result<Vec<_>, _>>()?
        }
        None => {
            let Some(samples) = t.whole("samples", 1)? else {
                return Err(t
                    .error("missing `samples` (N, the number of samples; or [[dataset.shards]])")
                    .for_key("dataset.samples"));
            };
            vec![Shard {
                samples,
                sample_bytes: t.number("sample_bytes", rules::SAMPLE_BYTES)?,
            }]
        }
    };
    Ok(Dataset {
        shards,
        epochs,
        line: t.line(),
    })
}

fn shard(t: &Table<'_, '_>) -> Result<Shard, InputError> {
    t.check_keys(keys::SHARD, &[])?;
    let Some(samples) = t.whole("samples", 1)? else {
        return Err(t
            .error("every shard needs `samples`")
            .for_key(format!("{}.samples", t.path)));
    };
    Ok(Shard {
        samples,
        sample_bytes: t.number("sample_bytes", rules::SAMPLE_BYTES)?,
    })
}

fn per_sample(t: &Table<'_, '_>, ds: Option<&Dataset>) -> Result<PerSample, InputError> {
    t.check_keys(keys::PER_SAMPLE, keys::ALL)?;
    let cost_usd = t.range("cost_usd", rules::COST_PER_SAMPLE)?;
    let energy_kwh = match (
        t.range("energy_kwh", rules::ENERGY_PER_SAMPLE_KWH)?,
        t.range("energy_j", rules::ENERGY_PER_SAMPLE_J)?,
    ) {
        (Some(_), Some(_)) => {
            return Err(t.key_error("energy_j", "give energy_kwh or energy_j, not both"));
        }
        (Some(k), None) => k,
        (None, Some(j)) => j.map(|r| r.scale(1.0 / 3.6e6)),
        (None, None) => {
            return Err(t
                .error("missing `energy_kwh` (or `energy_j`): the IT energy per sample")
                .for_key("per_sample.energy_kwh"));
        }
    };
    let reference = t.number("reference_bytes", rules::REFERENCE_BYTES)?;
    let scaling_name = t.string("scaling")?;
    let (scaling, reference_bytes_defaulted) = match scaling_name.as_ref().map(|s| s.value.as_str())
    {
        None | Some("per_sample") => {
            if let Some(r) = &reference {
                return Err(t.key_error(
                    "reference_bytes",
                    format!(
                        "only used with scaling = \"per_byte\" (line {}); remove it or set scaling",
                        r.line
                    ),
                ));
            }
            (Scaling::PerSample, false)
        }
        Some("per_byte") => (
            Scaling::PerByte {
                reference_bytes: reference.as_ref().map_or(1.0, |r| r.value),
            },
            reference.is_none(),
        ),
        Some(other) => {
            let hint = crate::suggest::nearest(other, ["per_sample", "per_byte"])
                .map(|s| crate::suggest::did_you_mean(s, crate::suggest::Quote::Double))
                .unwrap_or_default();
            return Err(t.key_error(
                "scaling",
                format!(
                    "unknown scaling \"{other}\"; expected \"per_sample\" or \"per_byte\"{hint}"
                ),
            ));
        }
    };
    let Some(ds) = ds else {
        return Err(t.error(
            "[per_sample] needs [dataset] with `samples` (N) to know how many samples there are",
        ));
    };
    if matches!(scaling, Scaling::PerByte { .. }) {
        for (i, s) in ds.shards.iter().enumerate() {
            if s.sample_bytes.is_none() {
                let which = if ds.shards.len() == 1 {
                    "dataset.sample_bytes".to_string()
                } else {
                    format!("dataset.shards[{i}].sample_bytes")
                };
                return Err(t.key_error(
                    "scaling",
                    format!("scaling = \"per_byte\" needs the sample size: {which} is missing"),
                ));
            }
        }
    }
    Ok(PerSample {
        cost_usd,
        energy_kwh,
        scaling,
        reference_bytes_defaulted,
        line: t.line(),
    })
}

fn compute(t: &Table<'_, '_>, ds: Option<&Dataset>) -> Result<Compute, InputError> {
    t.check_keys(keys::COMPUTE, keys::ALL)?;
    let flops = t.range("flops", rules::FLOPS)?;
    let parameters = t.range("parameters", rules::PARAMETERS)?;
    let tokens = t.range("tokens", rules::TOKENS)?;
    let per_sample = t.range("flops_per_sample", rules::FLOPS_PER_SAMPLE)?;
    let active = t.range("active_parameters", rules::PARAMETERS)?;
    let forms = [
        flops.is_some(),
        parameters.is_some() || tokens.is_some(),
        per_sample.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if forms > 1 {
        return Err(t.error(
            "give FLOPs one way: `flops`, or `parameters` with `tokens`, or `flops_per_sample`",
        ));
    }
    if active.is_some() && parameters.is_none() {
        return Err(t.key_error(
            "active_parameters",
            "needs `parameters` (the total) and `tokens`: FLOPs = 6 · active_parameters · tokens",
        ));
    }
    let spec = match (flops, parameters, tokens, per_sample) {
        (Some(f), ..) => FlopsSpec::Total(f),
        (None, Some(p), Some(tk), None) => {
            if let Some(a) = &active
                && a.value.high > p.value.high
            {
                return Err(t.key_error(
                    "active_parameters",
                    "cannot exceed `parameters` (the total): a mixture-of-experts model uses a part of its parameters per token",
                ));
            }
            FlopsSpec::ParamsTokens {
                parameters: p,
                tokens: tk,
                active,
            }
        }
        (None, Some(_), None, None) => {
            return Err(t.key_error(
                "parameters",
                "needs `tokens` too (FLOPs = 6 · parameters · tokens)",
            ));
        }
        (None, None, Some(_), None) => {
            return Err(t.key_error(
                "tokens",
                "needs `parameters` too (FLOPs = 6 · parameters · tokens)",
            ));
        }
        (None, None, None, Some(ps)) => {
            if ds.is_none() {
                return Err(t.key_error(
                    "flops_per_sample",
                    "needs [dataset] with `samples` (FLOPs = flops_per_sample × samples × epochs)",
                ));
            }
            FlopsSpec::PerSample(ps)
        }
        _ => {
            return Err(t.error(
                "[compute] is empty: give `flops`, or `parameters` and `tokens`, or `flops_per_sample`",
            ));
        }
    };
    Ok(Compute {
        flops: spec,
        line: t.line(),
    })
}

fn hardware(t: &Table<'_, '_>) -> Result<Hardware, InputError> {
    t.check_keys(keys::HARDWARE, keys::ALL)?;
    let h = Hardware {
        device: t.string("device")?,
        count: t.whole("count", 1)?,
        utilization: t.range("utilization", rules::UTILIZATION)?,
        power_w: t.range("power_w", rules::DEVICE_POWER)?,
        hours: t.range("hours", rules::HOURS)?,
        device_hours: t.range("device_hours", rules::DEVICE_HOURS)?,
        host_power_w: t.range("host_power_w", rules::HOST_POWER)?,
        price_usd_per_device_hour: t.range("price_usd_per_device_hour", rules::PRICE_PER_HOUR)?,
        line: t.line(),
    };
    if let Some(c) = &h.count
        && c.value > 100_000_000
    {
        return Err(t.key_error(
            "count",
            format!(
                "{} devices is above the largest plausible value 100000000",
                c.value
            ),
        ));
    }
    if h.hours.is_some() && h.device_hours.is_some() {
        return Err(t.key_error(
            "device_hours",
            "give hours (wall-clock, × count) or device_hours, not both",
        ));
    }
    Ok(h)
}

fn site(t: &Table<'_, '_>, dir: &Path) -> Result<Site, InputError> {
    t.check_keys(keys::SITE, keys::ALL)?;
    let series = t.string("intensity_series")?.map(|v| {
        let path = dir.join(&v.value);
        (v, path)
    });
    let s = Site {
        intensity_series: series,
        carbon_intensity_g_per_kwh: t.range("carbon_intensity_g_per_kwh", rules::INTENSITY)?,
        region: t.string("region")?,
        pue: t.range("pue", rules::PUE)?,
        electricity_usd_per_kwh: t.range("electricity_usd_per_kwh", rules::ELECTRICITY)?,
        carbon_price_usd_per_t: t.range("carbon_price_usd_per_t", rules::CARBON_PRICE)?,
        year: t.whole("year", 0)?,
    };
    if let Some(y) = &s.year
        && !(YEARS.contains(&y.value))
    {
        return Err(t.key_error(
            "year",
            format!(
                "must be a year from {} to {}, got {}",
                YEARS.start(),
                YEARS.end(),
                y.value
            ),
        ));
    }
    if s.carbon_intensity_g_per_kwh.is_some() && s.region.is_some() {
        return Err(t.key_error(
            "region",
            "give carbon_intensity_g_per_kwh or region, not both",
        ));
    }
    Ok(s)
}

fn embodied(t: &Table<'_, '_>) -> Result<Embodied, InputError> {
    t.check_keys(keys::EMBODIED, keys::ALL)?;
    Ok(Embodied {
        kg_co2e_per_device: t.range("kg_co2e_per_device", rules::EMBODIED)?,
        lifetime_years: t.range("lifetime_years", rules::LIFETIME)?,
        line: t.line(),
    })
}

fn measured(t: &Table<'_, '_>, dir: &Path) -> Result<Measured, InputError> {
    t.check_keys(keys::MEASURED, keys::ALL)?;
    let Some(report) = t.string("report")? else {
        return Err(t
            .error("missing `report`: the path of a `footprint measure -o` JSON report")
            .for_key("measured.report"));
    };
    let path = dir.join(&report.value);
    Ok(Measured {
        report,
        path,
        same_workload: t.boolean("same_workload")?,
    })
}

fn budget(t: &Table<'_, '_>) -> Result<Budget, InputError> {
    t.check_keys(keys::BUDGET, keys::ALL)?;
    let b = Budget {
        max_co2e_kg: t.number("max_co2e_kg", rules::LIMIT)?,
        max_energy_kwh: t.number("max_energy_kwh", rules::LIMIT)?,
        max_cost_usd: t.number("max_cost_usd", rules::LIMIT)?,
    };
    if b.max_co2e_kg.is_none() && b.max_energy_kwh.is_none() && b.max_cost_usd.is_none() {
        return Err(t.error("[budget] is empty: give max_co2e_kg, max_energy_kwh or max_cost_usd"));
    }
    Ok(b)
}

fn published(t: &Table<'_, '_>) -> Result<Published, InputError> {
    t.check_keys(keys::PUBLISHED, keys::ALL)?;
    let p = Published {
        energy_kwh: t.number("energy_kwh", rules::PUBLISHED)?,
        co2e_kg: t.number("co2e_kg", rules::PUBLISHED)?,
        device_hours: t.number("device_hours", rules::PUBLISHED)?,
        cost_usd: t.number("cost_usd", rules::PUBLISHED)?,
        tolerance: t.number("tolerance", rules::TOLERANCE)?,
        source: t.string("source")?,
    };
    if p.energy_kwh.is_none()
        && p.co2e_kg.is_none()
        && p.device_hours.is_none()
        && p.cost_usd.is_none()
    {
        return Err(t.error(
            "[published] has no figure: give energy_kwh, co2e_kg, device_hours or cost_usd",
        ));
    }
    Ok(p)
}

/// The run must give at least one way to know how much work it is.
fn check_models(spec: &RunSpec, root: &Table<'_, '_>) -> Result<(), InputError> {
    let hw = spec.hardware.as_ref();
    let has_duration = hw.is_some_and(|h| h.hours.is_some() || h.device_hours.is_some());
    // Without a device the compute model has no peak FLOP/s; a measurement's J/FLOP can
    // still calibrate the FLOPs ([measured]).
    if spec.compute.is_some() && hw.is_none_or(|h| h.device.is_none()) && spec.measured.is_none() {
        return Err(root
            .key_error(
                "compute",
                "the compute model needs [hardware] `device` (its peak FLOP/s; see `footprint profiles list gpus`)",
            )
            .for_key("hardware.device"));
    }
    if hw.is_some_and(|h| h.utilization.is_some()) && spec.compute.is_none() {
        let u = hw.and_then(|h| h.utilization.as_ref()).expect("checked");
        return Err(spec.error_at(
            u.line,
            &u.key,
            "utilization is only used by the compute model: add [compute] or remove it",
        ));
    }
    if spec.per_sample.is_none()
        && spec.compute.is_none()
        && !has_duration
        && spec.measured.is_none()
    {
        let msg = if hw.is_some() {
            "no work model: [hardware] needs `hours` or `device_hours` (duration model), or add [compute], [per_sample] or [measured]"
        } else {
            "no work model: give [per_sample], [compute] with [hardware], [hardware] hours or device_hours, or [measured]"
        };
        return Err(spec.error(msg));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<RunSpec, InputError> {
        parse(text, "run.toml", Path::new("."))
    }

    fn err(text: &str) -> String {
        p(text).unwrap_err().to_string()
    }

    const SEED: &str = "name = \"seed\"\n[dataset]\nsamples = 100\nsample_bytes = 500\n[per_sample]\ncost_usd = 0.1\nenergy_kwh = 0.01\n[site]\ncarbon_intensity_g_per_kwh = 1\n";

    #[test]
    fn seed_example_parses() {
        let s = p(SEED).unwrap();
        assert_eq!(s.name, "seed");
        assert_eq!(s.dataset.as_ref().unwrap().total_samples(), 100);
        let ps = s.per_sample.unwrap();
        assert_eq!(ps.energy_kwh.value, RangeValue::point(0.01));
        assert_eq!(ps.scaling, Scaling::PerSample);
    }

    #[test]
    fn name_defaults_to_file_stem() {
        let s = parse(
            "[hardware]\nhours = 1\npower_w = 100\n",
            "dir/my-run.toml",
            Path::new("dir"),
        )
        .unwrap();
        assert_eq!(s.name, "my-run");
    }

    #[test]
    fn energy_j_is_converted() {
        let s = p("[dataset]\nsamples = 1\n[per_sample]\nenergy_j = 3.6e6\n").unwrap();
        assert!((s.per_sample.unwrap().energy_kwh.value.low - 1.0).abs() < 1e-12);
    }

    #[test]
    fn shards_replace_samples() {
        let s = p("[dataset]\n[[dataset.shards]]\nsamples = 60\nsample_bytes = 400\n[[dataset.shards]]\nsamples = 40\nsample_bytes = 650\n[per_sample]\nenergy_kwh = 1\nscaling = \"per_byte\"\nreference_bytes = 500\n").unwrap();
        assert_eq!(s.dataset.unwrap().total_samples(), 100);
        assert!(
            err("[dataset]\nsamples = 3\n[[dataset.shards]]\nsamples = 1\n[per_sample]\nenergy_kwh = 1\n")
                .contains("not both")
        );
    }

    #[test]
    fn errors_name_file_line_and_key() {
        assert_eq!(
            err("[hardware]\nhours = 10\nutilization = 1.2\n"),
            "run.toml:3: hardware.utilization: 1.2 is above the largest plausible value 1 (utilization is achieved FLOP/s ÷ the device's peak FLOP/s)"
        );
        assert_eq!(
            err("[hardware]\nhours = 10\n[site]\npue = 0.9\n"),
            "run.toml:4: site.pue: must be at least 1, got 0.9 (PUE is facility energy ÷ IT energy, at least 1)"
        );
        assert!(err("[dataset]\nsampels = 3\n").contains("did you mean `samples`"));
        assert!(err("[hardware]\nhours = 1\npue = 1.2\n").contains("belongs in [site]"));
        assert!(err("samples = 1\n").contains("belongs in [dataset]"));
        assert!(err("[hardware\n").starts_with("run.toml:1: invalid TOML"));
        assert!(err("").contains("empty"));
        assert!(err("[dataset]\nsamples = -5\n").contains("dataset.samples: must not be negative"));
        assert!(err("[dataset]\nsamples = 0\n").contains("at least 1"));
        assert!(err("[hardware]\nhours = 1\ncount = 2.5\n").contains("whole number"));
        assert!(err("[hardware]\nhours = nan\n").contains("nan"));
        assert!(err("[hardware]\nhours = inf\n").contains("finite"));
        assert!(err("[hardware]\nhours = \"10\"\n").contains("without quotes"));
        assert!(err("dataset = 5\n").contains("expected a table"));
    }

    #[test]
    fn conflicts_and_missing_parts() {
        assert!(err("[hardware]\nhours = 1\ndevice_hours = 2\n").contains("not both"));
        assert!(
            err("[hardware]\nhours = 1\n[site]\nregion = \"FR\"\ncarbon_intensity_g_per_kwh = 3\n")
                .contains("not both")
        );
        assert!(
            err("[compute]\nflops = 1e20\nparameters = 1e9\ntokens = 1e9\n").contains("one way")
        );
        assert!(err("[compute]\nparameters = 1e9\n").contains("needs `tokens`"));
        assert!(err("[compute]\nflops = 1e20\n").contains("needs [hardware] `device`"));
        assert!(err("[hardware]\ndevice = \"H100\"\n").contains("no work model"));
        assert!(err("name = \"x\"\n").contains("no work model"));
        assert!(err("[per_sample]\nenergy_kwh = 1\n").contains("needs [dataset]"));
        assert!(err("[dataset]\nsamples = 1\n[per_sample]\ncost_usd = 1\n").contains("energy_kwh"));
        assert!(
            err("[dataset]\nsamples = 1\n[per_sample]\nenergy_kwh = 1\nscaling = \"per_byte\"\n")
                .contains("sample_bytes is missing")
        );
        assert!(
            err("[dataset]\nsamples = 1\n[per_sample]\nenergy_kwh = 1\nscaling = \"perbyte\"\n")
                .contains("did you mean \"per_byte\"")
        );
        assert!(err("[hardware]\nhours = 1\n[budget]\n").contains("[budget] is empty"));
        assert!(
            err("[hardware]\nhours = 1\nutilization = 0.5\n")
                .contains("only used by the compute model")
        );
    }

    #[test]
    fn physical_limits() {
        assert!(err("[hardware]\nhours = 1\npower_w = 50000\n").contains("per device"));
        assert!(
            err("[hardware]\nhours = 1\n[site]\ncarbon_intensity_g_per_kwh = 5000\n")
                .contains("lbs/MWh")
        );
        assert!(err("[hardware]\nhours = 1\n[site]\npue = [1.1, 0.8]\n").contains("above high"));
        assert!(
            err("[hardware]\nhours = 1\n[embodied]\nlifetime_years = 0\n")
                .contains("at least 0.01")
        );
        assert!(
            err("[compute]\nflops = 1e40\n[hardware]\ndevice = \"H100\"\n")
                .contains("about 1e26 FLOPs")
        );
        assert!(err("[hardware]\nhours = 1e9\npower_w = 1\n").contains("114 years"));
        assert!(err("[hardware]\nhours = 1\npower_w = 1\ncount = 1e12\n").contains("100000000"));
        assert!(
            err("[hardware]\nhours = 1\n[site]\nelectricity_usd_per_kwh = -1\n")
                .contains("negative")
        );
    }
}
