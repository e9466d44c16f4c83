//! Reading back a `measure --trace` file: JSON lines, a header naming the sensors, then one
//! line per reading (`t`, `sensor`, `power_w`, `counter_j`, or `error`), and the events `mark`
//! (the measured window starts) and `stop`.
//!
//! Power over time is what people want to see. Between two readings of an energy counter the
//! counter's difference over the time between them is the exact mean power, so it is used where
//! a sensor has a counter; the sensor's own power reading otherwise (NVML's may be a 1 s
//! average). A run killed mid-write can leave a last line cut short: it is skipped.

use serde_json::Value;

use crate::error::InputError;

/// One sensor's power over time.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TraceSeries {
    pub(crate) id: String,
    pub(crate) name: String,
    /// How the sensor's figures are obtained (`measured-counter`, `measured-power`, `modelled`).
    pub(crate) quality: String,
    /// (seconds since the trace began, watts).
    pub(crate) points: Vec<(f64, f64)>,
    /// Readings that failed.
    pub(crate) errors: usize,
}

/// A whole trace.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TraceData {
    pub(crate) series: Vec<TraceSeries>,
    /// When the measured window began (after warm-up), if it did.
    pub(crate) mark: Option<f64>,
    /// When sampling stopped.
    pub(crate) stop: Option<f64>,
}

fn bad(file: &str, line: usize, msg: impl Into<String>) -> InputError {
    InputError::new(msg).in_file(file).at_line(line)
}

/// Parses a trace. `file` is the name errors give.
pub(crate) fn parse_trace(text: &str, file: &str) -> Result<TraceData, InputError> {
    let lines: Vec<&str> = text.lines().collect();
    let header: Value = lines
        .first()
        .and_then(|l| serde_json::from_str(l).ok())
        .filter(|v: &Value| v["trace"] == "footprint")
        .ok_or_else(|| {
            bad(
                file,
                1,
                "not a footprint trace (written by `footprint measure --trace FILE`)",
            )
        })?;
    let mut series: Vec<TraceSeries> = header["sensors"]
        .as_array()
        .ok_or_else(|| bad(file, 1, "sensors: missing from the trace's header"))?
        .iter()
        .map(|s| TraceSeries {
            id: s["id"].as_str().unwrap_or("?").to_string(),
            name: s["name"].as_str().unwrap_or("").to_string(),
            quality: s["quality"].as_str().unwrap_or("").to_string(),
            points: Vec::new(),
            errors: 0,
        })
        .collect();
    // A counter's difference over a very short interval is mostly its resolution (the CPU
    // model's counter moves in whole scheduler ticks): differences are taken over at least
    // half the sampling interval.
    let min_dt = header["interval_ms"].as_f64().unwrap_or(100.0) / 1e3 / 2.0;
    // Sensor id → its series, so each reading is placed in constant time (a trace of
    // thousands of sensors stays linear in its size).
    let index: std::collections::HashMap<String, usize> = series
        .iter()
        .enumerate()
        .map(|(k, s)| (s.id.clone(), k))
        .rev()
        .collect();
    let mut last_counter: Vec<Option<(f64, f64)>> = vec![None; series.len()];
    // The latest reading skipped as too soon: drawn at the end if nothing followed it.
    let mut pending: Vec<Option<(f64, f64)>> = vec![None; series.len()];
    let (mut mark, mut stop) = (None, None);
    for (i, line) in lines.iter().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(e) => return Err(bad(file, i + 1, format!("not JSON: {e}"))),
        };
        let t = v["t"]
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| bad(file, i + 1, "t: missing or not a time in seconds"))?;
        match v["event"].as_str() {
            Some("mark") => mark = Some(t),
            Some("stop") => stop = Some(t),
            Some(_) => {}
            None => {
                let id = v["sensor"].as_str().unwrap_or("");
                let Some(&k) = index.get(id) else {
                    return Err(bad(
                        file,
                        i + 1,
                        format!("sensor: '{id}' is not in the trace's header"),
                    ));
                };
                if v.get("error").is_some() {
                    series[k].errors += 1;
                    continue;
                }
                let counter = v["counter_j"].as_f64().filter(|c| c.is_finite());
                let power = match (last_counter[k], counter) {
                    // too soon after the last difference: wait for the next reading
                    (Some((t0, _)), Some(c1)) if t - t0 < min_dt => {
                        pending[k] = Some((t, c1));
                        continue;
                    }
                    (Some((t0, c0)), Some(c1)) if c1 >= c0 => {
                        last_counter[k] = Some((t, c1));
                        pending[k] = None;
                        Some((c1 - c0) / (t - t0))
                    }
                    (_, Some(c1)) => {
                        // the first reading, or a counter that restarted: a new origin
                        last_counter[k] = Some((t, c1));
                        v["power_w"].as_f64()
                    }
                    (_, None) => v["power_w"].as_f64(),
                };
                if let Some(p) = power.filter(|p| p.is_finite() && *p >= 0.0) {
                    series[k].points.push((t, p));
                }
            }
        }
    }
    for (k, s) in series.iter_mut().enumerate() {
        if let (Some((t0, c0)), Some((t1, c1))) = (last_counter[k], pending[k])
            && t1 > t0
            && c1 >= c0
        {
            s.points.push((t1, (c1 - c0) / (t1 - t0)));
        }
    }
    Ok(TraceData { series, mark, stop })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"{"trace":"footprint","version":1,"interval_ms":100.0,"sensors":[{"id":"nvml:0","name":"H100"},{"id":"cpu-model","name":"CPU"}]}"#;

    #[test]
    fn counters_give_the_mean_power_between_readings() {
        let text = format!(
            "{HEAD}\n{}\n{}\n{}\n{}\n{}\n",
            r#"{"t":0.0,"sensor":"nvml:0","power_w":280.0,"counter_j":1000.0}"#,
            r#"{"event":"mark","t":0.05}"#,
            r#"{"t":0.1,"sensor":"nvml:0","power_w":300.0,"counter_j":1030.0}"#,
            r#"{"t":0.1,"sensor":"cpu-model","power_w":12.5,"counter_j":null}"#,
            r#"{"t":0.2,"sensor":"nvml:0","error":"GPU 0: lost"}"#,
        );
        let d = parse_trace(&text, "t.jsonl").unwrap();
        assert_eq!(d.series[0].points, vec![(0.0, 280.0), (0.1, 300.0)]);
        assert_eq!(d.series[0].quality, "");
        assert!((d.series[0].points[1].1 - 300.0).abs() < 1e-9);
        assert_eq!(d.series[0].errors, 1);
        assert_eq!(d.series[1].points, vec![(0.1, 12.5)]);
        assert_eq!((d.mark, d.stop), (Some(0.05), None));
    }

    #[test]
    fn a_cut_last_line_is_skipped_but_a_bad_line_inside_is_named() {
        let cut = format!("{HEAD}\n{{\"t\":0.1,\"sensor\":\"nvml");
        assert!(parse_trace(&cut, "t.jsonl").is_ok());
        let bad = format!("{HEAD}\nnot json\n{{\"event\":\"stop\",\"t\":1}}\n");
        let e = parse_trace(&bad, "t.jsonl").unwrap_err().to_string();
        assert!(e.starts_with("t.jsonl:2: not JSON"), "{e}");
        let e = parse_trace("{}\n", "x.json").unwrap_err().to_string();
        assert!(e.contains("not a footprint trace"), "{e}");
    }
}
