//! A one-line live status on stderr while a measurement runs.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use super::sampler::Sampler;
use crate::units::{human_energy, human_power};

/// A one-line status on stderr, redrawn in place; only when stderr is a terminal.
pub(crate) struct Progress {
    on: bool,
    last: Option<Instant>,
}

impl Progress {
    pub(crate) fn new(wanted: bool) -> Progress {
        Progress {
            // A dumb terminal cannot redraw a line in place: no escape codes for it.
            on: wanted
                && std::io::stderr().is_terminal()
                && std::env::var("TERM").map_or(true, |t| t != "dumb"),
            last: None,
        }
    }

    pub(crate) fn show(&mut self, line: impl FnOnce() -> String) {
        if !self.on || self.last.is_some_and(|t| t.elapsed().as_millis() < 200) {
            return;
        }
        self.last = Some(Instant::now());
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[K{}", line());
        let _ = e.flush();
    }

    pub(crate) fn done(&mut self) {
        if self.on && self.last.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

pub(crate) fn live_line(s: &Sampler) -> String {
    let l = s.live();
    format!(
        "{} · {} · {} so far",
        crate::units::human_duration(l.elapsed),
        human_power(l.power),
        human_energy(l.energy)
    )
}
