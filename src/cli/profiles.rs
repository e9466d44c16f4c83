//! `footprint profiles list|show`: the embedded data and where each value comes from.

use std::path::Path;

use super::args::{ListFormat, ProfilesCommand};
use super::emit;
use crate::app;
use crate::error::EXIT_OK;

pub(super) fn profiles_cmd(
    command: ProfilesCommand,
    profiles: Option<&Path>,
) -> anyhow::Result<i32> {
    let reg = app::registry(profiles)?;
    match command {
        ProfilesCommand::List { kind, format } => {
            emit(
                &crate::report::profiles::list(
                    &reg,
                    kind.into(),
                    matches!(format, ListFormat::Json),
                )?,
                None,
            )?;
        }
        ProfilesCommand::Show { name } => emit(&crate::report::profiles::show(&reg, &name)?, None)?,
    }
    Ok(EXIT_OK)
}
