//! Errors a user can act on, and the exit codes they map to.
//!
//! An [`InputError`] is anything wrong with what the user gave us (a run file, a flag, a
//! profile directory): it becomes one line on stderr, `error: FILE:LINE: KEY: what is wrong`,
//! and exit code 2. Everything else that fails is a measurement or system failure (exit 3).
//! The codes: 0 ok, 1 budget exceeded, 2 invalid input or usage, 3 measurement failed,
//! 4 an output could not be written (stdout, `-o`, `--summary`, `--trace`).
//!
//! Whatever an input holds, an error is one line: newlines, terminal escapes and bidi
//! overrides from input are shown escaped, never interpreted by the terminal.

use std::fmt;

pub(crate) const EXIT_OK: i32 = 0;
pub(crate) const EXIT_BUDGET: i32 = 1;
pub(crate) const EXIT_INPUT: i32 = 2;
pub(crate) const EXIT_MEASURE: i32 = 3;
pub(crate) const EXIT_IO: i32 = 4;

/// A problem with user input. Displayed on one line; never carries a backtrace.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file, as the user named it.
    pub(crate) file: Option<String>,
    /// 1-based line in that file.
    pub(crate) line: Option<usize>,
    /// Dotted key path (`hardware.device`).
    pub(crate) key: Option<String>,
    pub(crate) message: String,
}

impl InputError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        InputError {
            file: None,
            line: None,
            key: None,
            message: message.into(),
        }
    }

    pub(crate) fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub(crate) fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub(crate) fn for_key(mut self, key: impl Into<String>) -> Self {
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
        write!(f, "{}{}", printable(&prefix), printable(&msg))
    }
}

impl std::error::Error for InputError {}

/// A measurement that could not be made (no sensor, the command could not start...): exit 3.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MeasureError(pub String);

impl fmt::Display for MeasureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MeasureError {}

/// An output that could not be written: exit 4. `what` names it (`stdout`, a path).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutputError {
    pub(crate) what: String,
    pub(crate) message: String,
}

impl OutputError {
    pub(crate) fn new(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        OutputError {
            what: what.into(),
            message: message.to_string(),
        }
    }
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: cannot write: {}",
            printable(&self.what),
            printable(&self.message)
        )
    }
}

impl std::error::Error for OutputError {}

/// The exit code for an error that reached `main`.
pub(crate) fn exit_code(err: &anyhow::Error) -> i32 {
    if err.downcast_ref::<InputError>().is_some() {
        EXIT_INPUT
    } else if err.downcast_ref::<OutputError>().is_some() {
        EXIT_IO
    } else {
        EXIT_MEASURE
    }
}

/// Text from input made safe to print on one terminal line: control characters (newlines,
/// ESC, DEL, C1) and bidirectional overrides are written as escapes (`\n`, `\u{1b}`).
pub(crate) fn printable(s: &str) -> String {
    let risky = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(risky) {
        return s.to_string();
    }
    s.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '\t' => "\\t".to_string(),
            c if risky(c) => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Writes a line to stderr. A stderr that cannot be written (closed, full) is ignored: it must
/// never turn an exit code into a panic.
pub(crate) fn say(line: &str) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
    let _ = e.flush();
}

/// Writes text to stderr as it is (a report), ignoring a stderr that cannot be written.
pub(crate) fn say_raw(text: &str) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_never_reaches_the_terminal_raw() {
        let e = InputError::new("unknown device '\u{1b}[31mH100\u{202e}'").in_file("a\nb.toml");
        let shown = e.to_string();
        assert_eq!(
            shown,
            "a\\nb.toml: unknown device '\\u{1b}[31mH100\\u{202e}'"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
        assert_eq!(printable("plain – text ✓"), "plain – text ✓");
    }

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
