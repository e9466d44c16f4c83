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

use sections::{
    budget, check_models, compute, dataset, embodied, hardware, measured, per_sample, published,
    site,
};
pub(crate) use walk::{In, RangeValue, Rule};
use walk::{Source, Table};

use crate::error::InputError;

/// The years a run may say it ran in (`[site] year`): from the first GPU-trained models to
/// as far ahead as anyone plans a run.
pub(crate) const YEARS: std::ops::RangeInclusive<u64> = 2000..=2100;

/// A run file larger than this is not a run description (a wrong path, a data file).
pub(crate) const MAX_FILE_BYTES: u64 = 1 << 20;

pub(crate) mod keys;
mod rules;
mod sections;

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

/// The number format a run's matrix multiplies train in (`[compute] precision`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Precision {
    /// BF16 or FP16 (the profiles' peak and the utilization evidence are in these).
    Half,
    /// FP8 (Transformer Engine and its kin): more FLOP/s from the same device.
    Fp8,
}

impl Precision {
    /// The names the key accepts.
    pub(crate) const NAMES: [&'static str; 3] = ["bf16", "fp16", "fp8"];

    pub(crate) fn parse(s: &str) -> Option<Precision> {
        match s.to_ascii_lowercase().as_str() {
            "bf16" | "fp16" => Some(Precision::Half),
            "fp8" => Some(Precision::Fp8),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Compute {
    pub(crate) flops: FlopsSpec,
    /// `precision`, when given (absent: BF16/FP16, what the defaults' evidence trained in).
    pub(crate) precision: Option<In<Precision>>,
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
pub(crate) struct Measured {
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
    /// A measurement's own window, made by `measure` without `--run`: no file behind it, so
    /// nothing can be added to it (no advice to give a price, say).
    pub(crate) measured_window: bool,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) dataset: Option<Dataset>,
    pub(crate) per_sample: Option<PerSample>,
    pub(crate) compute: Option<Compute>,
    pub(crate) hardware: Option<Hardware>,
    pub(crate) site: Site,
    pub(crate) embodied: Option<Embodied>,
    pub(crate) measured: Option<Measured>,
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
            measured_window: true,
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
        measured_window: false,
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
