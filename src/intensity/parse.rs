//! Reading an intensity series from the text of a file, in the formats providers publish,
//! told apart by their first bytes and header:
//!
//! - a plain CSV, `timestamp,g_per_kwh` (RFC 3339 with an offset, or Unix seconds);
//! - an Electricity Maps data-portal CSV (`Datetime (UTC)`, `Zone Id`, `Carbon Intensity
//!   gCO₂eq/kWh (direct)` and `(LCA)` / `(life cycle assessment)`), any granularity;
//! - the UK Carbon Intensity API's JSON (`data[].from/to/intensity.actual|forecast`);
//! - the Carbon Aware SDK's emissions JSON (`[{location, time, rating, duration}]`).
//!
//! Rows give a start; each lasts until the next one (the last one as long as the typical
//! step), except where the format gives the end. What cannot be read as one clean series is
//! refused naming the file, the line or entry, and what is wrong: unsorted or repeated times,
//! a gap (a step over 1.5 times the typical one), other zones in one file, a value that is
//! negative, not a number or above any grid's (2,500 g/kWh).

use serde_json::Value;

use super::{Basis, Interval, Series};
use crate::error::InputError;

/// No grid's annual or hourly life-cycle intensity reaches this (lignite plants are about
/// 1,100-1,200 g/kWh): a larger figure is a unit mistake (lb/MWh, g/MWh) or corrupt.
const MAX_G_PER_KWH: f64 = 2500.0;

/// A step more than this many times the typical one is a gap in the series.
const GAP_FACTOR: f64 = 1.5;

/// The series in `text` (the file `file`), reading `basis` where a format has two.
pub fn parse(file: &str, text: &str, basis: Basis) -> Result<Series, InputError> {
    let text = text.trim_start_matches('\u{feff}');
    let err = |msg: String| InputError::new(msg).in_file(file);
    match text.trim_start().chars().next() {
        Some('{' | '[') => {
            let v: Value =
                serde_json::from_str(text).map_err(|e| err(format!("not valid JSON: {e}")))?;
            if let Some(data) = v.get("data").and_then(Value::as_array) {
                uk_api(data).map_err(|(i, m)| err(format!("data[{i}]: {m}")))
            } else if let Some(rows) = v.as_array() {
                carbon_aware(rows).map_err(|(i, m)| err(format!("[{i}]: {m}")))
            } else {
                Err(err(unknown_format()))
            }
        }
        Some(_) => csv(file, text, basis),
        None => Err(err(
            "the file is empty: expected an intensity series".to_string()
        )),
    }
}

fn unknown_format() -> String {
    "not an intensity series footprint reads: expected a CSV with the header `timestamp,g_per_kwh`, an Electricity Maps export (`Datetime (UTC)`, …), the UK Carbon Intensity API's JSON (`data`: from, to, intensity) or the Carbon Aware SDK's emissions JSON (location, time, rating, duration)".to_string()
}

/// A CSV line's fields (quotes as RFC 4180 writes them).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|f| f.trim().to_string()).collect()
}

/// The CSV formats: the header says which.
fn csv(file: &str, text: &str, basis: Basis) -> Result<Series, InputError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(InputError::new("the file is empty").in_file(file));
    };
    let header = fields(header);
    let col = |pred: &dyn Fn(&str) -> bool| header.iter().position(|h| pred(&h.to_lowercase()));
    let err_at = |line: usize, msg: String| InputError::new(msg).in_file(file).at_line(line + 1);
    let (time_col, value_col, zone_col, label, utc_naive) = if let Some(t) =
        col(&|h| h == "datetime (utc)")
    {
        let wanted: &dyn Fn(&str) -> bool = match basis {
            Basis::Direct => &|h: &str| h.starts_with("carbon intensity") && h.contains("(direct)"),
            Basis::Lifecycle => &|h: &str| {
                h.starts_with("carbon intensity")
                    && (h.contains("(lca)") || h.contains("life cycle"))
            },
        };
        let Some(v) = col(wanted) else {
            return Err(InputError::new(format!(
                "an Electricity Maps export without a {} carbon intensity column",
                basis.as_str()
            ))
            .in_file(file));
        };
        (t, v, col(&|h| h == "zone id"), "Electricity Maps", true)
    } else if header.len() == 2
        && header[0].eq_ignore_ascii_case("timestamp")
        && header[1].eq_ignore_ascii_case("g_per_kwh")
    {
        (0, 1, None, "plain CSV", false)
    } else {
        return Err(InputError::new(unknown_format()).in_file(file).at_line(1));
    };
    let mut points: Vec<(usize, f64, f64)> = Vec::new();
    let mut zone: Option<String> = None;
    for (n, line) in lines {
        let f = fields(line);
        let get = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
        if let Some(z) = zone_col {
            match &zone {
                None => zone = Some(get(z).to_string()),
                Some(first) if first != get(z) => {
                    return Err(err_at(
                        n,
                        format!(
                            "zone `{}` after `{first}`: one file holds one zone's series",
                            get(z)
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        let t = parse_time(get(time_col), utc_naive)
            .map_err(|m| err_at(n, format!("{}: {m}", header[time_col])))?;
        let v =
            value(get(value_col)).map_err(|m| err_at(n, format!("{}: {m}", header[value_col])))?;
        points.push((n, t, v));
    }
    let what = match &zone {
        Some(z) => format!("{label} {z}, {}", basis.as_str()),
        None => label.to_string(),
    };
    from_points(what, &points).map_err(|(n, m)| err_at(n, m))
}

/// A figure in g/kWh, within what a grid can be.
fn value(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of g/kWh"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{s} g/kWh: expected a finite number ≥ 0"));
    }
    if v > MAX_G_PER_KWH {
        return Err(format!(
            "{s} g/kWh is above any grid's (at most {MAX_G_PER_KWH}): another unit (lb/MWh, g/MWh)?"
        ));
    }
    Ok(v)
}

/// Intervals from rows that give a start each: sorted, no repeats, no gaps.
fn from_points(label: String, points: &[(usize, f64, f64)]) -> Result<Series, (usize, String)> {
    if points.is_empty() {
        return Err((0, "the series has no rows".to_string()));
    }
    for w in points.windows(2) {
        if w[1].1 <= w[0].1 {
            return Err((
                w[1].0,
                format!(
                    "{} is not after the row before ({}): rows must be in time order, once each",
                    show_time(w[1].1),
                    show_time(w[0].1)
                ),
            ));
        }
    }
    let mut steps: Vec<f64> = points.windows(2).map(|w| w[1].1 - w[0].1).collect();
    steps.sort_by(f64::total_cmp);
    // One row: an hour, the finest granularity providers publish by default.
    // The lower median: with two steps, the shorter one is the series' own.
    let typical = steps
        .get(steps.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(3600.0);
    for w in points.windows(2) {
        let step = w[1].1 - w[0].1;
        if step > GAP_FACTOR * typical {
            return Err((
                w[1].0,
                format!(
                    "a gap: nothing from {} to {} ({} where the series steps by {})",
                    show_time(w[0].1 + typical),
                    show_time(w[1].1),
                    show_span(step - typical),
                    show_span(typical)
                ),
            ));
        }
    }
    let granularity = show_span(typical);
    let intervals = points
        .iter()
        .enumerate()
        .map(|(i, &(_, start, g))| Interval {
            start,
            end: points.get(i + 1).map_or(start + typical, |p| p.1),
            g_per_kwh: g,
        })
        .collect();
    Series::new(format!("{label}, steps of {granularity}"), intervals).map_err(|m| (0, m))
}

/// The UK Carbon Intensity API: `{"data": [{"from", "to", "intensity": {"forecast", "actual"}}]}`;
/// the actual figure where there is one, else the forecast (counted in the label).
fn uk_api(data: &[Value]) -> Result<Series, (usize, String)> {
    let mut intervals = Vec::with_capacity(data.len());
    let mut forecast_only = 0;
    for (i, row) in data.iter().enumerate() {
        let time = |k: &str| {
            row.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| (i, format!("no `{k}` time")))
                .and_then(|s| parse_time(s, false).map_err(|m| (i, format!("{k}: {m}"))))
        };
        let (start, end) = (time("from")?, time("to")?);
        let intensity = row.get("intensity");
        let pick = |k: &str| intensity.and_then(|x| x.get(k)).filter(|v| !v.is_null());
        let v = match (pick("actual"), pick("forecast")) {
            (Some(a), _) => a,
            (None, Some(f)) => {
                forecast_only += 1;
                f
            }
            (None, None) => return Err((i, "no intensity.actual or intensity.forecast".into())),
        };
        let g = v
            .as_f64()
            .ok_or_else(|| (i, format!("intensity {v} is not a number")))
            .and_then(|x| value(&x.to_string()).map_err(|m| (i, m)))?;
        if end <= start {
            return Err((i, format!("`to` {} is not after `from`", show_time(end))));
        }
        if let Some(prev) = intervals.last().map(|iv: &Interval| iv.end)
            && start != prev
        {
            return Err((
                i,
                if start < prev {
                    format!(
                        "starts at {}, before the entry before ends: entries must be in time order, once each",
                        show_time(start)
                    )
                } else {
                    format!(
                        "a gap: nothing from {} to {}",
                        show_time(prev),
                        show_time(start)
                    )
                },
            ));
        }
        intervals.push(Interval {
            start,
            end,
            g_per_kwh: g,
        });
    }
    let label = if forecast_only > 0 {
        format!(
            "UK Carbon Intensity API (GB), actual figures, the forecast for {forecast_only} of {} periods",
            intervals.len()
        )
    } else {
        "UK Carbon Intensity API (GB), actual figures".to_string()
    };
    Series::new(label, intervals).map_err(|m| (0, m))
}

/// The Carbon Aware SDK's emissions data: `[{"location", "time", "rating", "duration"}]`.
fn carbon_aware(rows: &[Value]) -> Result<Series, (usize, String)> {
    let mut intervals = Vec::with_capacity(rows.len());
    let mut location: Option<&str> = None;
    for (i, row) in rows.iter().enumerate() {
        let field = |k: &str| row.get(k).ok_or_else(|| (i, format!("no `{k}`")));
        let loc = field("location")?.as_str().unwrap_or("");
        match location {
            None => location = Some(loc),
            Some(first) if first != loc => {
                return Err((
                    i,
                    format!(
                        "location `{loc}` after `{first}`: one file holds one location's series"
                    ),
                ));
            }
            Some(_) => {}
        }
        let start = field("time")?
            .as_str()
            .ok_or_else(|| (i, "`time` is not a string".to_string()))
            .and_then(|s| parse_time(s, false).map_err(|m| (i, format!("time: {m}"))))?;
        let duration = field("duration")?
            .as_str()
            .ok_or_else(|| (i, "`duration` is not a string".to_string()))
            .and_then(|s| parse_hms(s).map_err(|m| (i, format!("duration: {m}"))))?;
        let g = field("rating")?
            .as_f64()
            .ok_or_else(|| (i, "`rating` is not a number".to_string()))
            .and_then(|x| value(&x.to_string()).map_err(|m| (i, m)))?;
        intervals.push((start, start + duration, g));
    }
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Interval> = Vec::with_capacity(intervals.len());
    for (i, &(start, end, g)) in intervals.iter().enumerate() {
        if let Some(prev) = out.last() {
            if start < prev.end {
                return Err((
                    i,
                    format!("overlaps the period before it at {}", show_time(start)),
                ));
            }
            if start > prev.end {
                return Err((
                    i,
                    format!(
                        "a gap: nothing from {} to {}",
                        show_time(prev.end),
                        show_time(start)
                    ),
                ));
            }
        }
        out.push(Interval {
            start,
            end,
            g_per_kwh: g,
        });
    }
    let label = format!("Carbon Aware SDK, {}", location.unwrap_or("?"));
    Series::new(label, out).map_err(|m| (0, m))
}

/// `HH:MM:SS` (the SDK's durations), in seconds.
fn parse_hms(s: &str) -> Result<f64, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || format!("`{s}` is not a duration HH:MM:SS");
    if parts.len() != 3 {
        return Err(bad());
    }
    let n = |p: &str| p.parse::<f64>().map_err(|_| bad());
    let secs = n(parts[0])? * 3600.0 + n(parts[1])? * 60.0 + n(parts[2])?;
    if secs > 0.0 && secs.is_finite() {
        Ok(secs)
    } else {
        Err(bad())
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil-from-days inverse).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A time as Unix seconds: RFC 3339 (`2024-06-03T14:00:00Z`, `…+02:00`, seconds optional,
/// a space for the `T`), or Unix seconds. Without an offset it is UTC only where the format
/// says so (`utc_naive`: Electricity Maps' `Datetime (UTC)`); elsewhere it is refused, since
/// a local time would shift every hour of the series.
pub(crate) fn parse_time(s: &str, utc_naive: bool) -> Result<f64, String> {
    let s = s.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let t: f64 = s.parse().map_err(|_| format!("`{s}` is not a time"))?;
        // Unix seconds from 2000 to 2100; milliseconds would be 1000 times more.
        if (946_684_800.0..4_102_444_800.0).contains(&t) {
            return Ok(t);
        }
        return Err(format!(
            "`{s}` is not Unix seconds between 2000 and 2100 (milliseconds?)"
        ));
    }
    let bad = || {
        format!(
            "`{s}` is not a time: expected RFC 3339, e.g. 2024-06-03T14:00:00Z, or Unix seconds"
        )
    };
    let b = s.as_bytes();
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ' || b[10] == b't')
        || b[13] != b':'
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let part = s.get(r).ok_or_else(bad)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (y, mo, d, h, mi) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
    );
    let mut rest = &s[16..];
    let mut sec = 0.0;
    if let Some(r) = rest.strip_prefix(':') {
        let end = r
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(r.len());
        sec = r[..end].parse::<f64>().map_err(|_| bad())?;
        rest = &r[end..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        "" if utc_naive => 0,
        "" => {
            return Err(format!(
                "`{s}` has no UTC offset: write it with Z or ±HH:MM (a local time would shift the series)"
            ));
        }
        o if (o.starts_with('+') || o.starts_with('-')) && o.len() == 6 && &o[3..4] == ":" => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let oh: i64 = o[1..3].parse().map_err(|_| bad())?;
            let om: i64 = o[4..6].parse().map_err(|_| bad())?;
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo)
        || h > 23
        || mi > 59
        || !(0.0..61.0).contains(&sec)
    {
        return Err(format!("`{s}` is not a valid date and time"));
    }
    let days = days_from_civil(y, mo, d);
    Ok((days * 86_400 + h * 3600 + mi * 60 - offset) as f64 + sec)
}

/// Unix seconds as people read them, in UTC: `2024-06-03 14:00`.
pub(crate) fn show_time(t: f64) -> String {
    let secs = t.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if s == 0 {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// A span of seconds as people read it: `1 h`, `15 min`, `30 s`, `1 d`.
pub(crate) fn show_span(s: f64) -> String {
    let n = |x: f64| crate::units::sig4(x);
    if s >= 86_400.0 && (s / 86_400.0).fract() == 0.0 {
        format!("{} d", n(s / 86_400.0))
    } else if s >= 3600.0 {
        format!("{} h", n(s / 3600.0))
    } else if s >= 60.0 {
        format!("{} min", n(s / 60.0))
    } else {
        format!("{} s", n(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LCA: Basis = Basis::Lifecycle;

    #[test]
    fn times_in_rfc_3339_and_unix_seconds() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z", false), Ok(0.0));
        assert_eq!(
            parse_time("2024-06-03T14:00:00Z", false),
            Ok(1_717_423_200.0)
        );
        assert_eq!(
            parse_time("2024-06-03T16:00:00+02:00", false),
            Ok(1_717_423_200.0)
        );
        assert_eq!(parse_time("2024-06-03T14:00Z", false), Ok(1_717_423_200.0));
        assert_eq!(parse_time("2024-06-03 14:00:00", true), Ok(1_717_423_200.0));
        assert_eq!(parse_time("1717423200", false), Ok(1_717_423_200.0));
        assert_eq!(
            parse_time("2024-02-29T00:00:00Z", false),
            Ok(1_709_164_800.0)
        );
        for bad in [
            "2024-06-03 14:00:00",
            "2023-02-29T00:00Z",
            "2024-13-01T00:00Z",
            "noon",
            "1717423200000",
            "2024-06-03T25:00Z",
            "",
        ] {
            assert!(parse_time(bad, false).is_err(), "{bad}");
        }
        assert_eq!(show_time(1_717_423_200.0), "2024-06-03 14:00");
        assert_eq!(show_time(1_709_164_800.0 + 59.0), "2024-02-29 00:00:59");
    }

    #[test]
    fn a_plain_csv_lasts_until_each_next_row() {
        let s = parse(
            "f.csv",
            "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,100\n2024-06-03T01:00:00Z,200\n",
            LCA,
        )
        .unwrap();
        assert_eq!(s.intervals().len(), 2);
        assert_eq!(s.end() - s.start(), 7200.0);
        assert_eq!(s.intervals()[1].g_per_kwh, 200.0);
    }

    #[test]
    fn electricity_maps_reads_the_basis_asked_for_and_one_zone() {
        let head = "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage\n";
        let rows = "2024-06-03 00:00:00,Germany,Germany,DE,300,350,50\n2024-06-03 01:00:00,Germany,Germany,DE,310,360,50\n";
        let lca = parse("em.csv", &format!("{head}{rows}"), LCA).unwrap();
        let direct = parse("em.csv", &format!("{head}{rows}"), Basis::Direct).unwrap();
        assert_eq!(lca.intervals()[0].g_per_kwh, 350.0);
        assert_eq!(direct.intervals()[0].g_per_kwh, 300.0);
        assert!(
            lca.label.contains("Electricity Maps DE, life-cycle"),
            "{}",
            lca.label
        );
        let mixed = format!("{head}{rows}2024-06-03 02:00:00,France,France,FR,30,40,90\n");
        let e = parse("em.csv", &mixed, LCA).unwrap_err().to_string();
        assert!(e.contains("em.csv:4") && e.contains("zone `FR`"), "{e}");
    }

    #[test]
    fn bad_series_are_refused_with_the_line() {
        let cases = [
            (
                "timestamp,g_per_kwh\n2024-06-03T01:00:00Z,1\n2024-06-03T00:00:00Z,1\n",
                ":3",
                "time order",
            ),
            (
                "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,1\n2024-06-03T00:00:00Z,1\n",
                ":3",
                "time order",
            ),
            (
                "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,1\n2024-06-03T01:00:00Z,1\n2024-06-03T05:00:00Z,1\n",
                ":4",
                "a gap",
            ),
            (
                "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,-4\n",
                ":2",
                "≥ 0",
            ),
            (
                "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,NaN\n",
                ":2",
                "finite",
            ),
            (
                "timestamp,g_per_kwh\n2024-06-03T00:00:00Z,900000\n",
                ":2",
                "another unit",
            ),
            (
                "timestamp,g_per_kwh\n2024-06-03T00:00:00,100\n",
                ":2",
                "no UTC offset",
            ),
            ("time,value\n1,2\n", ":1", "not an intensity series"),
            ("timestamp,g_per_kwh\n", "", "no rows"),
            ("{\"x\": 1}", "", "not an intensity series"),
            ("{", "", "not valid JSON"),
        ];
        for (text, at, what) in cases {
            let e = parse("s.csv", text, LCA).unwrap_err().to_string();
            assert!(
                e.contains(&format!("s.csv{at}")) && e.contains(what),
                "{text:?}: {e}"
            );
            assert!(!e.contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn uk_api_json_uses_actual_else_forecast() {
        let text = r#"{"data":[
            {"from":"2023-03-01T00:00Z","to":"2023-03-01T00:30Z","intensity":{"forecast":200,"actual":190,"index":"moderate"}},
            {"from":"2023-03-01T00:30Z","to":"2023-03-01T01:00Z","intensity":{"forecast":180,"actual":null,"index":"moderate"}}]}"#;
        let s = parse("uk.json", text, LCA).unwrap();
        assert_eq!(s.intervals()[0].g_per_kwh, 190.0);
        assert_eq!(s.intervals()[1].g_per_kwh, 180.0);
        assert!(s.label.contains("forecast for 1 of 2"), "{}", s.label);
        let gap = text.replace(
            "\"from\":\"2023-03-01T00:30Z\"",
            "\"from\":\"2023-03-01T00:40Z\"",
        );
        let e = parse("uk.json", &gap, LCA).unwrap_err().to_string();
        assert!(e.contains("data[1]") && e.contains("a gap"), "{e}");
    }

    #[test]
    fn carbon_aware_sdk_json() {
        let text = r#"[{"location":"eastus","time":"2022-06-01T15:00:00Z","rating":60,"duration":"01:00:00"},
            {"location":"eastus","time":"2022-06-01T14:00:00Z","rating":50,"duration":"01:00:00"}]"#;
        let s = parse("ca.json", text, LCA).unwrap();
        assert_eq!(s.intervals()[0].g_per_kwh, 50.0);
        assert!(s.label.contains("eastus"));
        let other = text.replacen("eastus", "westus", 1);
        assert!(
            parse("ca.json", &other, LCA)
                .unwrap_err()
                .to_string()
                .contains("one location")
        );
    }
}
