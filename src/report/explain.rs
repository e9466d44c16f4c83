//! `footprint explain KEY` for people (one block per default: when, range, evidence wrapped to
//! the terminal), in Markdown, and as JSON.

use super::{Format, Render};
use crate::record::{ExplainedDefault, Explanation};
use crate::units::sig4;

/// A default's range as people read it: `0.16 – 0.38 (central 0.26)`, `×0.55 – ×1 (×0.8)`.
fn range(d: &ExplainedDefault) -> String {
    let x = if d.multiplier { "×" } else { "" };
    format!(
        "{x}{} – {x}{} (central {x}{})",
        sig4(d.low),
        sig4(d.high),
        sig4(d.central)
    )
}

impl Render for Explanation {
    const WHAT: &'static str = "explain";
    const FORMATS: &'static [Format] = &[Format::Table, Format::Markdown, Format::Json];

    fn render_in(&self, format: Format) -> anyhow::Result<String> {
        match format {
            Format::Json => Ok(serde_json::to_string_pretty(self)? + "\n"),
            Format::Markdown => {
                let mut out = format!(
                    "### `{}`\n\n| When | Range | Evidence |\n| --- | --- | --- |\n",
                    self.key
                );
                for d in &self.defaults {
                    out.push_str(&super::markdown::table_row(&[
                        d.when.clone(),
                        range(d),
                        d.basis.clone(),
                    ]));
                }
                Ok(out)
            }
            _ => {
                let mut out = format!(
                    "{}: what footprint assumes when a run file does not give it\n",
                    self.key
                );
                for d in &self.defaults {
                    out.push('\n');
                    out.push_str(&super::table::wrapped(&format!("{}:", d.when), ""));
                    out.push_str(&super::table::wrapped(&range(d), "  "));
                    out.push_str(&super::table::wrapped(&d.basis, "  "));
                }
                out.push_str(
                    "\nWhy the ranges combine as they do, and every other default: docs/assumptions.md\n",
                );
                Ok(out)
            }
        }
    }
}
