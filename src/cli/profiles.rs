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
    use crate::report::{profiles, terminal_safe};
    match command {
        ProfilesCommand::List { kind, format } => {
            let json = matches!(format, ListFormat::Json);
            let text = profiles::list(&reg, kind.into(), json)?;
            emit(&if json { text } else { terminal_safe(&text) }, None)?;
        }
        ProfilesCommand::Show { name } => {
            emit(&terminal_safe(&profiles::show(&reg, &name)?), None)?
        }
    }
    Ok(EXIT_OK)
}
