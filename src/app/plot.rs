//! `footprint plot`: a `measure --trace` file drawn as power over time.

use std::path::Path;

use crate::error::InputError;
use crate::files;
use crate::record::trace::{TraceData, parse_trace};

/// Largest trace read: a ten-hour trace of several sensors at 100 ms is a few hundred MB.
const MAX_TRACE_BYTES: u64 = 2 << 30;

/// The trace read back, and the name to title its chart with (the file's name).
pub(crate) fn plot(trace: &Path) -> Result<(TraceData, String), InputError> {
    let shown = trace.display().to_string();
    let text = files::read_text(trace, MAX_TRACE_BYTES)?;
    let parsed = parse_trace(&text, &shown)?;
    if parsed.series.iter().all(|s| s.points.is_empty()) {
        return Err(InputError::new("the trace has no power readings to draw").in_file(&shown));
    }
    let name = trace
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    Ok((parsed, name))
}
