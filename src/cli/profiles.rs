//! `footprint profiles list|show`: the embedded data and where each value comes from.

use std::path::Path;

use super::args::ProfilesCommand;
use super::{check_outputs, emit, plan};
use crate::app;
use crate::error::EXIT_OK;

pub(super) fn profiles_cmd(
    command: ProfilesCommand,
    profiles_dir: Option<&Path>,
) -> anyhow::Result<i32> {
    let reg = app::registry(profiles_dir)?;
    use crate::report::{Format, profiles, terminal_safe};
    match command {
        ProfilesCommand::List { kind, out } => {
            let view = profiles::ListView {
                registry: &reg,
                kind: kind.into(),
            };
            let plan =
                plan::<profiles::ListView>(&out, out.format.map_or(Format::Table, Format::from))?;
            check_outputs(&plan.paths(), &app::inputs_of(None, profiles_dir))?;
            if plan.files.is_empty() {
                emit(&crate::report::render(&view, plan.printed)?, None)?;
            }
            plan.write_files(|f| crate::report::render(&view, f))?;
        }
        ProfilesCommand::Show { name } => {
            emit(&terminal_safe(&profiles::show(&reg, &name)?), None)?
        }
    }
    Ok(EXIT_OK)
}
