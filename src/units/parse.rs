//! Quantities written with their unit, as flags and report fields give them: `50kg`, `0.5t`,
//! `1.2 MWh`, `$400`, `30s`, `2m`. One splitter for all of them, so every flag accepts the same
//! spellings (underscores, exponents, a space before the unit) and says the same things when it
//! cannot.

use super::{Duration, Energy, Mass, Money};

/// Whether a number's underscores stand between two digits and its integer part has no
/// leading zero (`1_000` yes; `_1`, `1__0`, `1_`, `0_5`, `05` no), as TOML writes numbers:
/// a limit that reads other than it looks is refused, not guessed.
fn digit_separators_ok(n: &str) -> bool {
    let b = n.as_bytes();
    let separators = b.iter().enumerate().all(|(i, &c)| {
        c != b'_'
            || (i > 0 && i + 1 < b.len() && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit())
    });
    let digits = n.trim_start_matches(['+', '-']).replace('_', "");
    let leading_zero =
        digits.len() > 1 && digits.starts_with('0') && digits.as_bytes()[1].is_ascii_digit();
    separators && !leading_zero
}

/// Splits "50kg", "1.2 MWh", "$400" into the number and its unit, as written (SI prefixes
/// differ by case: `mWh` is milli, `MWh` mega).
pub(crate) fn split_quantity(s: &str) -> Option<(f64, String)> {
    let t = s.trim();
    let (t, dollar) = match t.strip_prefix('$') {
        Some(rest) => (rest.trim(), true),
        None => (t, false),
    };
    let end = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || c == '_'
                || ((c == 'e' || c == 'E')
                    && t[i + 1..]
                        .starts_with(|d: char| d.is_ascii_digit() || d == '-' || d == '+'))
                || ((c == '-' || c == '+') && (i == 0 || t[..i].ends_with(['e', 'E']))))
        })
        .map_or(t.len(), |(i, _)| i);
    let written = &t[..end];
    if !digit_separators_ok(written) {
        return None;
    }
    let num: f64 = written.replace('_', "").parse().ok()?;
    let mut unit = t[end..].trim().to_string();
    if dollar {
        if !unit.is_empty() {
            return None;
        }
        unit = "usd".to_string();
    }
    Some((num, unit))
}

/// The unit `written` names among `units`: the exact spelling first; otherwise a
/// case-insensitive match, when only one unit matches (`kwh` is kWh; `mwh` could be mWh or MWh
/// and is refused).
fn find_unit<'u>(
    written: &str,
    units: &'u [(&'u str, f64)],
) -> Result<(&'u str, f64), Vec<&'u str>> {
    if let Some(&(u, k)) = units.iter().find(|(u, _)| *u == written) {
        return Ok((u, k));
    }
    let folded: Vec<&(&str, f64)> = units
        .iter()
        .filter(|(u, _)| u.eq_ignore_ascii_case(written))
        .collect();
    match folded.as_slice() {
        [(u, k)] => Ok((u, *k)),
        many => Err(many.iter().map(|(u, _)| *u).collect()),
    }
}

fn limit_value(s: &str, units: &[(&str, f64)], kind: &str) -> Result<f64, String> {
    let names: Vec<&str> = units.iter().map(|(u, _)| *u).collect();
    let Some((x, unit)) = split_quantity(s) else {
        return Err(format!(
            "'{s}': expected a number with a unit ({})",
            names.join(", ")
        ));
    };
    if unit.is_empty() {
        return Err(format!(
            "'{s}': a {kind} limit needs a unit: {}",
            names.join(", ")
        ));
    }
    let k = match find_unit(&unit, units) {
        Ok((_, k)) => k,
        Err(ambiguous) if ambiguous.len() > 1 => {
            return Err(format!(
                "'{s}': '{unit}' could be {}: SI prefixes differ by case (m milli, M mega)",
                ambiguous.join(" or ")
            ));
        }
        Err(_) => {
            return Err(format!(
                "'{s}': unknown unit '{unit}' for {kind}; use {}",
                names.join(", ")
            ));
        }
    };
    if !x.is_finite() || x < 0.0 {
        return Err(format!("'{s}': must be a finite number ≥ 0"));
    }
    let v = x * k;
    if !v.is_finite() {
        return Err(format!("'{s}': too large to be a limit"));
    }
    Ok(v)
}

/// A CO2e limit: `50kg`, `0.5t`, `800g`.
pub(crate) fn parse_mass(s: &str) -> Result<Mass, String> {
    limit_value(
        s,
        &[
            ("mg", 1e-6),
            ("g", 1e-3),
            ("kg", 1.0),
            ("t", 1e3),
            ("kt", 1e6),
        ],
        "CO2e",
    )
    .map(Mass::from_kg)
}

/// An energy limit: `120kWh`, `1.5MWh`, `500Wh`, `3.6MJ`, `J`, `kJ`.
pub(crate) fn parse_energy(s: &str) -> Result<Energy, String> {
    limit_value(
        s,
        &[
            ("mWh", 3.6),
            ("Wh", 3600.0),
            ("kWh", 3.6e6),
            ("MWh", 3.6e9),
            ("GWh", 3.6e12),
            ("mJ", 1e-3),
            ("J", 1.0),
            ("kJ", 1e3),
            ("MJ", 1e6),
            ("GJ", 1e9),
        ],
        "energy",
    )
    .map(Energy::from_joules)
}

/// A money limit: `400usd`, `$400`, `400$`.
pub(crate) fn parse_money(s: &str) -> Result<Money, String> {
    limit_value(s, &[("usd", 1.0), ("$", 1.0)], "cost").map(Money::from_usd)
}

/// A duration: `30s`, `2m`, `1.5h`, `500ms`, plain seconds, or a sum of parts as clocks
/// and `sleep` write them: `1h30m`, `2m 30s`, `1d2h`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let not_a_duration = || format!("'{t}' is not a duration: write 30s, 2m, 1h30m or 500ms");
    if t.is_empty() {
        return Err(not_a_duration());
    }
    let mut secs = 0.0;
    let mut rest = t;
    let mut parts = 0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return Err(if rest.starts_with('-') {
                format!("'{t}' must be a positive duration")
            } else {
                not_a_duration()
            });
        }
        let x: f64 = rest[..num_end]
            .replace('_', "")
            .parse()
            .map_err(|_| not_a_duration())?;
        rest = rest[num_end..].trim_start();
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = rest[..unit_end].to_ascii_lowercase();
        rest = rest[unit_end..].trim_start();
        let k = match unit.as_str() {
            "" if parts == 0 && rest.is_empty() => 1.0,
            "s" | "sec" | "secs" => 1.0,
            "ms" => 1e-3,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "" => {
                return Err(format!(
                    "'{t}': every part of a compound duration needs a unit (1h30m)"
                ));
            }
            other => {
                return Err(format!(
                    "unknown unit '{other}' in '{t}': use ms, s, m, h or d"
                ));
            }
        };
        secs += x * k;
        parts += 1;
    }
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("'{t}' must be a positive duration"));
    }
    Ok(Duration::from_seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underscores_only_between_digits_and_no_leading_zero() {
        assert_eq!(parse_energy("1_000kWh").unwrap().kwh(), 1000.0);
        for bad in ["_1kWh", "1__0kWh", "1_kWh", "0_5kWh", "05kWh", "1_.5kWh"] {
            assert!(parse_energy(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_energy("0.5kWh").unwrap().kwh(), 0.5);
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("30s").unwrap().seconds(), 30.0);
        assert_eq!(parse_duration("2m").unwrap().seconds(), 120.0);
        assert_eq!(parse_duration("1.5h").unwrap().seconds(), 5400.0);
        assert_eq!(parse_duration("500ms").unwrap().seconds(), 0.5);
        assert_eq!(parse_duration("7").unwrap().seconds(), 7.0);
        assert!(parse_duration("0s").unwrap_err().contains("positive"));
        assert!(parse_duration("-3s").unwrap_err().contains("positive"));
        assert!(
            parse_duration("3 fortnights")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("not a duration")
        );
    }

    #[test]
    fn one_splitter_for_every_quantity() {
        assert_eq!(
            split_quantity("1_000 kWh"),
            Some((1000.0, "kWh".to_string()))
        );
        assert_eq!(split_quantity("$400"), Some((400.0, "usd".to_string())));
        assert_eq!(split_quantity("2e3g"), Some((2000.0, "g".to_string())));
        assert_eq!(parse_mass("0.5t").unwrap().kg(), 500.0);
        assert_eq!(parse_energy("3.6MJ").unwrap().kwh(), 1.0);
        assert_eq!(parse_money("$12").unwrap().usd(), 12.0);
    }

    #[test]
    fn si_prefixes_keep_their_case() {
        assert!((parse_energy("900mWh").unwrap().joules() - 3240.0).abs() < 1e-9);
        assert_eq!(parse_energy("1MWh").unwrap().kwh(), 1000.0);
        assert!((parse_energy("5mJ").unwrap().joules() - 0.005).abs() < 1e-15);
        assert_eq!(parse_energy("5MJ").unwrap().joules(), 5e6);
        // unambiguous in any case
        assert_eq!(parse_energy("120KWH").unwrap().kwh(), 120.0);
        assert_eq!(parse_mass("50KG").unwrap().kg(), 50.0);
        // m or M? refused rather than guessed
        let e = parse_energy("3mwh").unwrap_err();
        assert!(e.contains("mWh or MWh"), "{e}");
        // no infinite limit
        assert!(parse_mass("1e308t").unwrap_err().contains("too large"));
        assert!(parse_mass("1e400kg").is_err());
    }
}
