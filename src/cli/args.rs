//! The command line as clap sees it: commands, flags, their help and their value sets.
//!
//! The doc comments here are the `--help` text, where `[budget]` is the run file's notation for
//! a section, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::record::WorkloadKind;
use crate::report::Format;
use crate::train::workload;
use crate::units;

#[derive(Parser, Debug)]
#[command(
    name = "footprint",
    version,
    about = "What a training run costs in money, kWh and CO2e: before (estimate), while (measure) and in CI (check).",
    after_help = "Exit codes: 0 ok, 1 budget exceeded, 2 invalid input or usage, 3 measurement failed, 4 an output could not be written (stdout, -o, --summary, --trace). `measure -- CMD` exits with the command's code (128 + signal when interrupted)."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,

    /// Directory of extra profile files (*.toml) that add to or override the embedded ones.
    #[arg(long, global = true, env = "FOOTPRINT_PROFILES", value_name = "DIR")]
    pub(super) profiles: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
    /// Estimate cost, energy and CO2e of a run from its description (no hardware needed).
    Estimate(EstimateArgs),
    /// Train a real model (or run any command after `--`) and measure its energy.
    Measure(Box<MeasureArgs>),
    /// Check a run (or a measurement report) against an emission, energy or cost budget:
    /// exit 0 when every limit holds, 1 when one is exceeded, 2 on invalid input.
    Check(CheckArgs),
    /// Combine the reports of a multi-node job (measure -o per node) into one: energy summed,
    /// time spanned, each node's row and each device's source kept.
    Merge(MergeArgs),
    /// What-if: every combination of devices, regions, counts, utilizations, PUEs, epochs and
    /// prices, each estimated like `estimate`, best first.
    Sweep(SweepArgs),
    /// Draw a measurement's trace (measure --trace FILE): power over time per sensor, the
    /// warm-up marked, as SVG.
    Plot(PlotArgs),
    /// Compare estimates with published figures: every run file with a [published] section in
    /// the folders. Exit 1 when a reproduction is off its tolerance or a threshold is missed.
    Validate(ValidateArgs),
    /// Print a shell completion script: footprint completions bash > ~/.local/share/bash-completion/completions/footprint
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): footprint man > ~/.local/share/man/man1/footprint.1
    Man,
    /// Find the start time with the lowest CO2e in an hourly intensity series (a forecast):
    /// footprint when run.toml --intensity forecast.csv
    When(WhenArgs),
    /// Show the evidence behind one default: footprint explain hardware.utilization
    Explain(ExplainArgs),
    /// Show the embedded hardware, grid and cloud data.
    Profiles {
        #[command(subcommand)]
        command: ProfilesCommand,
    },
}

/// `-f` and `-o`, the same for every command that writes a report: `-o FILE` writes the format
/// `-f` names; without `-f`, the format its extension names (.json .csv .md .html .xml .txt);
/// without either, the command's default. `-o` may be given more than once.
#[derive(Args, Debug, Clone)]
pub(super) struct OutputArgs {
    /// Format: table, json, csv, markdown, junit or html (what each command supports is in its
    /// help and the README). Default: what is printed is a table; a file's format follows its
    /// extension.
    #[arg(long, short = 'f', value_enum)]
    pub(super) format: Option<FormatArg>,
    /// Write the report to FILE (atomically), in -f's format, else by FILE's extension (.json,
    /// .csv, .md, .html, .xml for JUnit, .txt for the table), else the command's default; `-`
    /// is stdout. Give it more than once to keep several formats of one run.
    #[arg(long = "output", short = 'o', value_name = "FILE")]
    pub(super) outputs: Vec<PathBuf>,
    /// In the table, print each assumption's sources in full, every figure and (sweep) every
    /// range (by default: a short basis and the central figures, so that the answer fits a
    /// screen). The other formats always carry everything.
    #[arg(long, short = 'v', visible_alias = "verbose")]
    pub(super) explain: bool,
}

#[derive(Args, Debug)]
pub(super) struct WhenArgs {
    /// The run description (TOML, format 1): its estimate gives the duration and energy.
    pub(super) run: PathBuf,
    /// The grid's carbon intensity over time: `timestamp,g_per_kwh` CSV, an Electricity Maps
    /// export, the UK Carbon Intensity API's JSON or the Carbon Aware SDK's emissions JSON
    /// (default: the run file's `[site] intensity_series`).
    #[arg(long, value_name = "FILE")]
    pub(super) intensity: Option<PathBuf>,
    /// Which figures of a series that has two (Electricity Maps): life-cycle, as the profiles
    /// use, or direct (combustion) emissions.
    #[arg(long, value_enum, default_value = "lifecycle")]
    pub(super) basis: BasisArg,
    /// Consider starts from now to this much later.
    #[arg(long, value_parser = units::parse::parse_duration, value_name = "TIME", default_value = "48h")]
    pub(super) within: crate::units::Duration,
    /// The spacing of the starts considered.
    #[arg(long, value_parser = units::parse::parse_duration, value_name = "TIME", default_value = "15m")]
    pub(super) step: crate::units::Duration,
    /// Plan as if it were this time (RFC 3339, e.g. 2024-06-03T08:00:00Z, or Unix seconds),
    /// not the clock: for a past series, or to reproduce a plan.
    #[arg(long, value_name = "TIME")]
    pub(super) now: Option<String>,
    /// Also draw the intensity with the windows shaded as an SVG chart in FILE.
    #[arg(long, value_name = "FILE")]
    pub(super) plot: Option<PathBuf>,
    #[command(flatten)]
    pub(super) out: OutputArgs,
}

/// `--basis`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum BasisArg {
    Lifecycle,
    Direct,
}

impl From<BasisArg> for crate::intensity::Basis {
    fn from(b: BasisArg) -> Self {
        match b {
            BasisArg::Lifecycle => crate::intensity::Basis::Lifecycle,
            BasisArg::Direct => crate::intensity::Basis::Direct,
        }
    }
}

#[derive(Args, Debug)]
pub(super) struct ExplainArgs {
    /// The run-file input: hardware.utilization, hardware.power_w, hardware.host_power_w,
    /// site.pue or site.carbon_intensity_g_per_kwh.
    pub(super) key: String,
    #[command(flatten)]
    pub(super) out: OutputArgs,
}

#[derive(Args, Debug)]
pub(super) struct EstimateArgs {
    /// The run description (TOML, format 1).
    pub(super) run: PathBuf,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    /// Also draw low/central/high per model (energy, CO2e, cost) as an SVG chart in FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub(super) plot: Option<PathBuf>,
}

/// `footprint plot`.
#[derive(Args, Debug)]
pub(super) struct PlotArgs {
    /// A trace written by `footprint measure --trace FILE` (JSON lines).
    pub(super) trace: PathBuf,
    /// Write the SVG chart to FILE (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE.svg")]
    pub(super) output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(super) struct MergeArgs {
    /// Reports written by `footprint measure -o` on each node.
    #[arg(required = true, value_name = "REPORTS")]
    pub(super) reports: Vec<PathBuf>,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    /// Merge reports of different jobs anyway.
    #[arg(long)]
    pub(super) force: bool,
    /// Grid for the merged CO2e (default: world average).
    #[arg(long)]
    pub(super) region: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct SweepArgs {
    /// The run description whose inputs are varied.
    pub(super) run: PathBuf,
    /// Devices: H100,A100-80GB,L4 (or `all`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(super) device: Vec<String>,
    /// Regions: FR,US-CA,PL,aws:us-west-2 (or `all`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(super) region: Vec<String>,
    /// Device counts: 8,16.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(super) count: Vec<u64>,
    /// Utilizations (compute model): 0.3,0.5.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(super) utilization: Vec<f64>,
    /// PUEs: 1.1,1.4.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(super) pue: Vec<f64>,
    /// Epochs: 1,3.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(super) epochs: Vec<f64>,
    /// Rental prices, USD per device-hour: 2.5,4.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(super) price: Vec<f64>,
    /// What the options are ordered by.
    #[arg(long, value_enum, default_value_t = SortArg::Co2e)]
    pub(super) sort: SortArg,
    /// Show only the best N.
    #[arg(long, value_name = "N")]
    pub(super) top: Option<usize>,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    /// Also draw CO2e and cost per option, with their ranges, as an SVG chart in FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub(super) plot: Option<PathBuf>,
}

/// `--sort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum SortArg {
    Co2e,
    Energy,
    Cost,
    Time,
}

#[derive(Args, Debug)]
pub(super) struct ValidateArgs {
    /// Folders of run files with [published] figures (e.g. examples/published/prediction).
    #[arg(required = true)]
    pub(super) dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    /// Fail unless at least this share of predicted figures lies inside its range (0-1).
    #[arg(long, value_name = "SHARE")]
    pub(super) min_coverage: Option<f64>,
    /// Fail unless the median width (high ÷ low) of predictions is at most this.
    #[arg(long, value_name = "RATIO")]
    pub(super) max_median_width: Option<f64>,
}

#[derive(Args, Debug)]
pub(super) struct CheckArgs {
    /// A run description (.toml) or a report written by `footprint measure -o` (.json).
    pub(super) file: PathBuf,
    /// CO2e limit: 50kg, 0.5t, 800g (overrides [budget] max_co2e_kg).
    #[arg(long, value_name = "MASS")]
    pub(super) max_co2e: Option<String>,
    /// Energy limit (facility energy, × PUE): 120kWh, 1.5MWh, 500Wh, 3.6MJ.
    #[arg(long, value_name = "ENERGY")]
    pub(super) max_energy: Option<String>,
    /// Cost limit: 400usd or $400.
    #[arg(long, value_name = "MONEY")]
    pub(super) max_cost: Option<String>,
    /// Check the high end of each range instead of the central figure.
    #[arg(long)]
    pub(super) strict: bool,
    #[command(flatten)]
    pub(super) out: OutputArgs,
    /// Also append the Markdown report to FILE (e.g. "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "FILE")]
    pub(super) summary: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub(super) struct MeasureArgs {
    /// Train on the GPU with candle's CUDA backend (a build with `--features cuda`).
    #[arg(long)]
    pub(super) cuda: bool,
    /// GPUs to measure, e.g. `0,2` (a command: all visible by default; --cuda trains on the first).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(super) gpus: Option<Vec<u32>>,
    /// The model to train.
    #[arg(long, value_enum, default_value_t = WorkloadArg::Mlp)]
    pub(super) workload: WorkloadArg,
    /// Measured training steps (without this or --duration: 5 seconds of training).
    #[arg(long, conflicts_with = "duration")]
    pub(super) steps: Option<u64>,
    /// CPU threads for the training loop: N, or `auto` to try 1, the physical cores and the
    /// logical CPUs for 2 s each first and keep the lowest J/sample within 5 % of the best
    /// samples/s. Default: RAYON_NUM_THREADS when set; else `auto` for a --duration of 1 min
    /// or more, and the physical cores otherwise.
    #[arg(long, value_name = "N|auto", value_parser = parse_threads)]
    pub(super) threads: Option<ThreadsArg>,
    /// What the thread trial keeps: the lowest J/sample at ≥ 95 % of the best samples/s
    /// (energy), or the most samples/s (speed).
    #[arg(long, value_enum)]
    pub(super) prefer: Option<PreferArg>,
    /// Train for this long instead of a number of steps: 30s, 2m, 1h (default 5s).
    #[arg(long, value_parser = units::parse::parse_duration, value_name = "TIME")]
    pub(super) duration: Option<units::Duration>,
    /// Steps before the measured window starts (not in the figures).
    #[arg(long, default_value_t = 5)]
    pub(super) warmup: u64,
    #[command(flatten)]
    pub(super) sizes: workload::Sizes,
    /// AdamW learning rate.
    #[arg(long)]
    pub(super) lr: Option<f64>,
    /// Seed of the synthetic data and the initial weights.
    #[arg(long, default_value_t = 42)]
    pub(super) seed: u64,
    /// Sampling interval in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub(super) interval_ms: u64,
    /// Stream every reading to this JSON-lines file as it is taken. In this path and in -o,
    /// --csv-append and --prometheus-textfile, {node}, {rank}, {local_rank}, {job} and {host}
    /// are filled in from the launcher (Slurm, torchrun).
    #[arg(long, value_name = "FILE")]
    pub(super) trace: Option<PathBuf>,
    /// Extrapolate to this run description (its N × epochs, grid, PUE, prices).
    #[arg(long, value_name = "RUN.toml")]
    pub(super) run: Option<PathBuf>,
    /// The --run is the measured workload itself: extrapolate its J/sample (otherwise the
    /// training loop's J/FLOP calibrates the run's FLOPs).
    #[arg(long, requires = "run")]
    pub(super) same_workload: bool,
    /// Grid for the measured window's CO2e when there is no --run (default: world average).
    #[arg(long, conflicts_with = "run")]
    pub(super) region: Option<String>,
    /// Samples the measured command processes (gives J/sample for a command).
    #[arg(long)]
    pub(super) samples: Option<u64>,
    // -f: what is printed (stdout for training, stderr for a command) and the format of each
    // -o file; -o without -f or an extension writes the JSON report that `check`, `merge` and
    // `[measured]` read.
    #[command(flatten)]
    pub(super) out: OutputArgs,
    /// Seconds a command may run on after Ctrl-C/SIGTERM before it and its processes are killed
    /// (a second Ctrl-C kills at once).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub(super) kill_after: f64,
    /// Stop the run when its measured energy (× the run's PUE) exceeds this: 2kWh, 500Wh.
    #[arg(long, value_name = "ENERGY")]
    pub(super) max_energy: Option<String>,
    /// Stop the run when its CO2e (at the run's or the region's intensity) exceeds this: 1kg.
    #[arg(long, value_name = "MASS")]
    pub(super) max_co2e: Option<String>,
    /// Stop the run when its cost (the --run file's price) exceeds this: $20.
    #[arg(long, value_name = "MONEY")]
    pub(super) max_cost: Option<String>,
    /// Also append one row to this CSV with CodeCarbon's emissions.csv columns (header when new).
    #[arg(long, value_name = "FILE")]
    pub(super) csv_append: Option<PathBuf>,
    /// Under a launcher (srun, torchrun): measure only in the first process of each node
    /// (local rank 0); the others just run the command. Measuring the same GPUs once per rank
    /// would count them several times.
    #[arg(long)]
    pub(super) once_per_node: bool,
    /// Keep an OpenMetrics/Prometheus text file up to date during the run (replaced each
    /// interval), for node_exporter's textfile collector.
    #[arg(long, value_name = "FILE")]
    pub(super) prometheus_textfile: Option<PathBuf>,
    /// Also reckon the CO2e with each minute's energy at the grid's intensity of its hour, from
    /// this series (timestamp,g_per_kwh CSV, an Electricity Maps export, the UK Carbon
    /// Intensity API's or the Carbon Aware SDK's JSON), beside the annual-average figure.
    #[arg(long, value_name = "FILE")]
    pub(super) intensity: Option<PathBuf>,
    /// Which figures of a series that has two: life-cycle (as the profiles) or direct.
    #[arg(long, value_enum, default_value = "lifecycle")]
    pub(super) basis: BasisArg,
    /// No progress line on stderr.
    #[arg(long)]
    pub(super) no_progress: bool,
    /// The command to measure, after `--`: footprint measure -- python train.py
    #[arg(last = true, value_name = "COMMAND", value_parser = clap::value_parser!(std::ffi::OsString))]
    pub(super) command: Vec<std::ffi::OsString>,
}

#[derive(Subcommand, Debug)]
pub(super) enum ProfilesCommand {
    /// List the profiles of one kind.
    List {
        #[arg(value_enum)]
        kind: ProfileKind,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Show one profile (an accelerator, a region or a CPU) with the source of every value.
    Show {
        /// A name or alias: H100, FR, US-CA, aws:us-east-1, "AMD EPYC 7763"...
        name: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum ProfileKind {
    /// Accelerators (GPUs and TPUs).
    #[value(alias = "accelerators")]
    Gpus,
    /// Electricity grids: countries, US states, bidding zones.
    #[value(alias = "regions")]
    Grids,
    /// Cloud regions.
    Clouds,
    /// CPU models and their TDP.
    Cpus,
}

impl From<ProfileKind> for crate::report::profiles::Kind {
    fn from(k: ProfileKind) -> Self {
        use crate::report::profiles::Kind;
        match k {
            ProfileKind::Gpus => Kind::Accelerators,
            ProfileKind::Grids => Kind::Grids,
            ProfileKind::Clouds => Kind::Clouds,
            ProfileKind::Cpus => Kind::Cpus,
        }
    }
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum FormatArg {
    /// Aligned table for people (default).
    Table,
    /// JSON, schema 1 (docs/run-format.md).
    Json,
    /// CSV, one row per model.
    Csv,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// JUnit XML, one test case per budget limit (check only).
    Junit,
    /// One self-contained HTML page with the tables and SVG charts (no JavaScript).
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Junit => Format::Junit,
            FormatArg::Html => Format::Html,
        }
    }
}

/// `--threads`: a count, or a trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ThreadsArg {
    Auto,
    Count(u16),
}

fn parse_threads(s: &str) -> Result<ThreadsArg, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(ThreadsArg::Auto);
    }
    match s.parse::<u16>() {
        Ok(n @ 1..=1024) => Ok(ThreadsArg::Count(n)),
        _ => Err(format!(
            "'{s}' is not a thread count: give 1 to 1024, or auto"
        )),
    }
}

/// `--prefer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum PreferArg {
    /// The lowest J/sample within 5 % of the best samples/s.
    Energy,
    /// The most samples/s.
    Speed,
}

impl From<PreferArg> for crate::train::Prefer {
    fn from(p: PreferArg) -> crate::train::Prefer {
        match p {
            PreferArg::Energy => crate::train::Prefer::Energy,
            PreferArg::Speed => crate::train::Prefer::Speed,
        }
    }
}

/// `--workload`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum WorkloadArg {
    /// A multi-layer perceptron classifier.
    Mlp,
    /// A small decoder-only transformer language model.
    Transformer,
}

impl From<WorkloadArg> for WorkloadKind {
    fn from(w: WorkloadArg) -> WorkloadKind {
        match w {
            WorkloadArg::Mlp => WorkloadKind::Mlp,
            WorkloadArg::Transformer => WorkloadKind::Transformer,
        }
    }
}
