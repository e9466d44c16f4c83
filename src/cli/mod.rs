//! Command-line definitions and dispatch: flags → an [`app`](crate::app) call → a rendered
//! report and an exit code. Nothing here computes a figure or reads an input file.

use clap::{CommandFactory, Parser};

use crate::error::{EXIT_INPUT, EXIT_OK, OutputError, exit_code, printable, say};

mod args;
mod check;
mod estimate;
mod explain;
mod measure;
mod merge;
mod output;
mod plot;
mod profiles;
mod sweep;
mod validate;
mod when;

use check::check_cmd;
use estimate::estimate;
use explain::explain_cmd;
use measure::measure_cmd;
use merge::merge_cmd;
pub(crate) use output::emit;
use output::{check_outputs, flag_error, plan};
use plot::plot_cmd;
use profiles::profiles_cmd;
use sweep::sweep_cmd;
use validate::validate_cmd;
use when::when_cmd;

pub(crate) use args::Cli;
use args::Command;

/// Runs the command line and returns the process exit code. Errors are printed here, on one
/// line each.
pub fn main() -> i32 {
    // An empty FOOTPRINT_PROFILES means "no extra profiles", not a flag given without a value.
    if std::env::var_os("FOOTPRINT_PROFILES").is_some_and(|v| v.is_empty()) {
        // SAFETY: nothing else runs yet: no other thread reads the environment.
        unsafe { std::env::remove_var("FOOTPRINT_PROFILES") };
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // clap's own rendering: the error, a "did you mean" tip, the valid values and the
            // subcommand's usage. A stderr that cannot be written changes nothing.
            let _ = e.print();
            return EXIT_INPUT;
        }
        Err(e) => {
            let _ = e.print();
            return EXIT_OK;
        }
    };
    if let Command::Measure(a) = &cli.command
        && a.command.is_empty()
    {
        // The training loop: candle's workers park soon instead of spinning between ops
        // (a command after `--` never sees this).
        // SAFETY: nothing else runs yet: no other thread reads the environment.
        unsafe { crate::train::limit_candle_spinning() };
    }
    if let Command::Measure(a) = &cli.command
        && a.command.is_empty()
        && let Some(args::ThreadsArg::Count(n)) = a.threads
    {
        // SAFETY: as above, nothing else runs yet.
        unsafe { crate::train::use_threads(usize::from(n)) };
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            say(&format!("error: {}", printable(&format!("{e:#}"))));
            exit_code(&e)
        }
    }
}

fn run(mut cli: Cli) -> anyhow::Result<i32> {
    // An empty FOOTPRINT_PROFILES (or --profiles "") means no extra profiles.
    cli.profiles = cli.profiles.filter(|p| !p.as_os_str().is_empty());
    match cli.command {
        Command::Estimate(a) => estimate(&a, cli.profiles.as_deref()),
        Command::Measure(a) => measure_cmd(&a, cli.profiles.as_deref()),
        Command::Check(a) => check_cmd(&a, cli.profiles.as_deref()),
        Command::Validate(a) => validate_cmd(&a, cli.profiles.as_deref()),
        Command::Sweep(a) => sweep_cmd(&a, cli.profiles.as_deref()),
        Command::Plot(a) => plot_cmd(&a),
        Command::Merge(a) => merge_cmd(&a, cli.profiles.as_deref()),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "footprint", &mut out);
            emit(&String::from_utf8_lossy(&out), None)?;
            Ok(EXIT_OK)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| OutputError::new("the man page", e))?;
            emit(&String::from_utf8_lossy(&out), None)?;
            Ok(EXIT_OK)
        }
        Command::Explain(a) => explain_cmd(&a),
        Command::When(a) => when_cmd(&a, cli.profiles.as_deref()),
        Command::Profiles { command } => profiles_cmd(command, cli.profiles.as_deref()),
    }
}
