//! Errors a user can act on, and the exit codes they map to.
//!
//! An [`InputError`] is anything wrong with what the user gave us (a run file, a flag, a
//! profile directory): it becomes one line on stderr, `error: FILE:LINE: KEY: what is wrong`,
//! and exit code 2. Everything else that fails is a measurement or system failure (exit 3).
//! The design card fixes the codes: 0 ok, 1 budget exceeded, 2 invalid input or usage,
//! 3 measurement failed.

use std::fmt;

pub const EXIT_OK: i32 = 0;
pub const EXIT_BUDGET: i32 = 1;
pub const EXIT_INPUT: i32 = 2;
pub const EXIT_MEASURE: i32 = 3;

/// A problem with user input. Displayed on one line; never carries a backtrace.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file, as the user named it.
    pub file: Option<String>,
    /// 1-based line in that file.
    pub line: Option<usize>,
    /// Dotted key path (`hardware.device`).
    pub key: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        InputError {
            file: None,
            line: None,
            key: None,
            message: message.into(),
        }
    }

    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub fn for_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = String::new();
        if let Some(file) = &self.file {
            prefix.push_str(file);
            if let Some(line) = self.line {
                prefix.push_str(&format!(":{line}"));
            }
            prefix.push_str(": ");
        }
        if let Some(key) = &self.key {
            prefix.push_str(key);
            prefix.push_str(": ");
        }
        // One line, whatever the message holds (a TOML parser message may span several).
        let msg: String = self
            .message
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        write!(f, "{prefix}{msg}")
    }
}

impl std::error::Error for InputError {}

/// A measurement that could not be made (no sensor, the command could not start...): exit 3.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureError(pub String);

impl fmt::Display for MeasureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MeasureError {}

/// The exit code for an error that reached `main`.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err.downcast_ref::<InputError>().is_some() {
        EXIT_INPUT
    } else {
        EXIT_MEASURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_file_line_key() {
        let e = InputError::new("expected a number,\n found a string")
            .in_file("run.toml")
            .at_line(3)
            .for_key("hardware.count");
        assert_eq!(
            e.to_string(),
            "run.toml:3: hardware.count: expected a number, found a string"
        );
    }
}
