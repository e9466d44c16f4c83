//! A typed walk over a parsed TOML document that remembers where everything came from.
//!
//! serde's derive would give us the structs in a few lines, but not the errors users need:
//! "run.toml:12: hardware.utilization: 1.2 is above 1 (...)" with the line of the value, and
//! "unknown key `sampels` in `[dataset]` — did you mean `samples`?". So the run file is parsed by
//! `toml` into its spanned tree (`DeTable`), and this module reads that tree key by key,
//! turning byte spans into line numbers and type mismatches into plain sentences.

use std::ops::Range as ByteRange;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use crate::error::InputError;
use crate::suggest::{Quote, did_you_mean, nearest};

/// The text of a run file and the name to show for it.
pub(crate) struct Source<'s> {
    pub(crate) file: &'s str,
    lines: crate::text::LineIndex,
}

impl<'s> Source<'s> {
    pub(crate) fn new(file: &'s str, text: &'s str) -> Source<'s> {
        Source {
            file,
            lines: crate::text::LineIndex::new(text),
        }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.lines.line_of(offset)
    }

    pub(crate) fn error(
        &self,
        span: &ByteRange<usize>,
        key: &str,
        msg: impl Into<String>,
    ) -> InputError {
        let e = InputError::new(msg)
            .in_file(self.file)
            .at_line(self.line_of(span.start));
        if key.is_empty() { e } else { e.for_key(key) }
    }
}

/// A value read from the file, with where it was.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct In<T> {
    pub(crate) value: T,
    /// 1-based line of the value.
    pub(crate) line: usize,
    /// Dotted key path, e.g. `hardware.utilization`.
    pub(crate) key: String,
}

impl<T> In<T> {
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> In<U> {
        In {
            value: f(self.value),
            line: self.line,
            key: self.key,
        }
    }
}

/// A number that may be uncertain: `x`, `[low, high]` or `{ low, likely, high }`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RangeValue {
    pub(crate) low: f64,
    pub(crate) likely: Option<f64>,
    pub(crate) high: f64,
}

impl RangeValue {
    pub(crate) fn point(x: f64) -> Self {
        RangeValue {
            low: x,
            likely: None,
            high: x,
        }
    }

    /// `likely` when given, else the midpoint.
    pub(crate) fn central(&self) -> f64 {
        self.likely.unwrap_or((self.low + self.high) / 2.0)
    }

    pub(crate) fn is_point(&self) -> bool {
        self.low == self.high
    }

    /// Every number written for this value (for validation).
    pub(crate) fn values(&self) -> impl Iterator<Item = f64> {
        [Some(self.low), self.likely, Some(self.high)]
            .into_iter()
            .flatten()
    }

    pub(crate) fn scale(self, k: f64) -> Self {
        RangeValue {
            low: self.low * k,
            likely: self.likely.map(|l| l * k),
            high: self.high * k,
        }
    }
}

/// A bound on a number, with the reason shown when it is broken.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rule {
    /// Lower bound and whether it is allowed itself.
    pub(crate) min: Option<(f64, bool)>,
    pub(crate) max: Option<(f64, bool)>,
    /// Why the bounds are what they are, appended to the message.
    pub(crate) why: &'static str,
}

impl Rule {
    #[cfg(test)]
    pub(crate) const POSITIVE: Rule = Rule {
        min: Some((0.0, false)),
        max: None,
        why: "",
    };
    pub(crate) const NON_NEGATIVE: Rule = Rule {
        min: Some((0.0, true)),
        max: None,
        why: "",
    };

    pub(crate) const fn positive_up_to(max: f64, why: &'static str) -> Rule {
        Rule {
            min: Some((0.0, false)),
            max: Some((max, true)),
            why,
        }
    }

    pub(crate) const fn non_negative_up_to(max: f64, why: &'static str) -> Rule {
        Rule {
            min: Some((0.0, true)),
            max: Some((max, true)),
            why,
        }
    }

    /// `None` when `x` is allowed, else the sentence saying why not.
    pub(crate) fn violation(&self, x: f64) -> Option<String> {
        let why = if self.why.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.why)
        };
        if let Some((lo, inclusive)) = self.min {
            if inclusive && x < lo {
                return Some(if lo == 0.0 {
                    format!("must not be negative, got {}{why}", fmt_num(x))
                } else {
                    format!("must be at least {}, got {}{why}", fmt_num(lo), fmt_num(x))
                });
            }
            if !inclusive && x <= lo {
                return Some(if lo == 0.0 {
                    format!("must be greater than 0, got {}{why}", fmt_num(x))
                } else {
                    format!("must be above {}, got {}{why}", fmt_num(lo), fmt_num(x))
                });
            }
        }
        if let Some((hi, inclusive)) = self.max
            && ((inclusive && x > hi) || (!inclusive && x >= hi))
        {
            return Some(format!(
                "{} is above the largest plausible value {}{why}",
                fmt_num(x),
                fmt_num(hi)
            ));
        }
        None
    }
}

/// Numbers in messages (see [`crate::units::short_number`]).
pub(crate) fn fmt_num(x: f64) -> String {
    crate::units::short_number(x)
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Where a key that is not allowed here does belong, for a better hint.
pub(crate) type Elsewhere<'k> = &'k [(&'k str, &'k [&'k str])];

/// One table of the document, with its dotted path.
pub(crate) struct Table<'a, 'i> {
    src: &'a Source<'a>,
    pub(crate) path: String,
    table: &'a DeTable<'i>,
    span: ByteRange<usize>,
}

impl<'a, 'i> Table<'a, 'i> {
    pub(crate) fn root(src: &'a Source<'a>, doc: &'a Spanned<DeTable<'i>>) -> Self {
        Table {
            src,
            path: String::new(),
            table: doc.get_ref(),
            span: doc.span(),
        }
    }

    /// The line the table starts on.
    pub(crate) fn line(&self) -> usize {
        self.src.line_of(self.span.start)
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn section_name(&self) -> String {
        if self.path.is_empty() {
            "the top level".to_string()
        } else {
            format!("[{}]", self.path)
        }
    }

    /// An error about this table as a whole.
    pub(crate) fn error(&self, msg: impl Into<String>) -> InputError {
        self.src.error(&self.span, &self.path, msg)
    }

    /// An error about one of its keys (at that key's line when present).
    pub(crate) fn key_error(&self, key: &str, msg: impl Into<String>) -> InputError {
        match self.entry(key) {
            Some((_, v)) => self.src.error(&v.span(), &self.key_path(key), msg),
            None => self.error(msg).for_key(self.key_path(key)),
        }
    }

    fn entry(&self, key: &str) -> Option<(&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>)> {
        self.table.iter().find(|(k, _)| k.get_ref() == key)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    /// Every key must be one of `allowed`; otherwise say which key, where, and what was meant.
    pub(crate) fn check_keys(
        &self,
        allowed: &[&str],
        elsewhere: Elsewhere<'_>,
    ) -> Result<(), InputError> {
        for (k, _) in self.table.iter() {
            let name = k.get_ref().as_ref();
            if allowed.contains(&name) {
                continue;
            }
            let mut msg = format!("unknown key `{name}` in {}", self.section_name());
            if let Some((section, _)) = elsewhere
                .iter()
                .find(|(s, keys)| *s != self.path && keys.contains(&name))
            {
                if section.is_empty() {
                    msg.push_str(&format!(" — `{name}` belongs at the top of the file"));
                } else {
                    msg.push_str(&format!(" — `{name}` belongs in [{section}]"));
                }
            } else if let Some(s) = allowed
                .iter()
                .find(|a| a.starts_with(&format!("{name}_")))
                .copied()
                .or_else(|| nearest(name, allowed.iter().copied()))
            {
                msg.push_str(&did_you_mean(s, Quote::Backtick));
            } else {
                msg.push_str(&format!("; known keys: {}", allowed.join(", ")));
            }
            return Err(self.src.error(&k.span(), &self.key_path(name), msg));
        }
        Ok(())
    }

    /// A sub-table (`[dataset]`, or an inline table).
    pub(crate) fn table(&self, key: &str) -> Result<Option<Table<'a, 'i>>, InputError> {
        let Some((_, v)) = self.entry(key) else {
            return Ok(None);
        };
        match v.get_ref() {
            DeValue::Table(t) => Ok(Some(Table {
                src: self.src,
                path: self.key_path(key),
                table: t,
                span: v.span(),
            })),
            other => Err(self.src.error(
                &v.span(),
                &self.key_path(key),
                format!("expected a table ([{key}]), found {}", type_name(other)),
            )),
        }
    }

    /// An array of tables (`[[dataset.shards]]`).
    pub(crate) fn tables(&self, key: &str) -> Result<Option<Vec<Table<'a, 'i>>>, InputError> {
        let Some((_, v)) = self.entry(key) else {
            return Ok(None);
        };
        let path = self.key_path(key);
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.src.error(
                &v.span(),
                &path,
                format!(
                    "expected an array of tables ([[{path}]]), found {}",
                    type_name(v.get_ref())
                ),
            ));
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(t) => out.push(Table {
                    src: self.src,
                    path: format!("{path}[{i}]"),
                    table: t,
                    span: item.span(),
                }),
                other => {
                    return Err(self.src.error(
                        &item.span(),
                        &format!("{path}[{i}]"),
                        format!("expected a table, found {}", type_name(other)),
                    ));
                }
            }
        }
        Ok(Some(out))
    }

    pub(crate) fn boolean(&self, key: &str) -> Result<Option<In<bool>>, InputError> {
        let Some((_, v)) = self.entry(key) else {
            return Ok(None);
        };
        let path = self.key_path(key);
        match v.get_ref() {
            DeValue::Boolean(b) => Ok(Some(In {
                value: *b,
                line: self.src.line_of(v.span().start),
                key: path,
            })),
            other => Err(self.src.error(
                &v.span(),
                &path,
                format!("expected true or false, found {}", type_name(other)),
            )),
        }
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<In<String>>, InputError> {
        let Some((_, v)) = self.entry(key) else {
            return Ok(None);
        };
        let path = self.key_path(key);
        match v.get_ref() {
            DeValue::String(s) => {
                if s.trim().is_empty() {
                    return Err(self.src.error(&v.span(), &path, "must not be empty"));
                }
                // Names, regions and paths have no use for control characters or invisible
                // direction overrides, which only disguise what a value says.
                if let Some(c) = s.chars().find(|&c| {
                    c.is_control()
                        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
                }) {
                    return Err(self.src.error(
                        &v.span(),
                        &path,
                        format!(
                            "contains the invisible or control character U+{:04X}: write the value in plain text",
                            c as u32
                        ),
                    ));
                }
                Ok(Some(In {
                    value: s.to_string(),
                    line: self.src.line_of(v.span().start),
                    key: path,
                }))
            }
            other => Err(self.src.error(
                &v.span(),
                &path,
                format!("expected a string (in quotes), found {}", type_name(other)),
            )),
        }
    }

    /// Parses one TOML number node into a finite f64.
    fn number_of(&self, v: &Spanned<DeValue<'i>>, path: &str) -> Result<f64, InputError> {
        let err = |msg: String| self.src.error(&v.span(), path, msg);
        let x = match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => n as f64,
                Err(_) => i
                    .as_str()
                    .parse::<f64>()
                    .map_err(|_| err(format!("`{i}` is not a number")))?,
            },
            DeValue::Float(f) => f
                .as_str()
                .parse::<f64>()
                .map_err(|_| err(format!("`{f}` is not a number")))?,
            DeValue::String(s) => {
                let hint = if s.trim().parse::<f64>().is_ok() {
                    format!(" (\"{s}\"): write the number without quotes")
                } else {
                    format!(" (\"{s}\")")
                };
                return Err(err(format!("expected a number, found a string{hint}")));
            }
            other => {
                return Err(err(format!(
                    "expected a number, found {}",
                    type_name(other)
                )));
            }
        };
        if x.is_nan() {
            return Err(err("must be a number, got nan".to_string()));
        }
        if x.is_infinite() {
            return Err(err("must be finite, got inf".to_string()));
        }
        Ok(x)
    }

    /// A plain number, checked against `rule`.
    pub(crate) fn number(&self, key: &str, rule: Rule) -> Result<Option<In<f64>>, InputError> {
        let Some((_, v)) = self.entry(key) else {
            return Ok(None);
        };
        let path = self.key_path(key);
        if matches!(v.get_ref(), DeValue::Array(_) | DeValue::Table(_)) {
            return Err(self.src.error(
                &v.span(),
                &path,
                format!(
                    "expected a single number, found {} (this key takes no range)",
                    type_name(v.get_ref())
                ),
            ));
        }
        let x = self.number_of(v, &path)?;
        if let Some(msg) = rule.violation(x) {
            return Err(self.src.error(&v.span(), &path, msg));
        }
        Ok(Some(In {
            value: x,
            line: self.src.line_of(v.span().start),
            key: path,
        }))
    }

    /// A year: a whole number (`2025`) or a TOML date (`2025-03-01`, with or without a time),
    /// whose year is taken: a run file may say when the run starts rather than only its year.
    pub(crate) fn year(&self, key: &str) -> Result<Option<In<u64>>, InputError> {
        if let Some((_, v)) = self.entry(key)
            && let DeValue::Datetime(d) = v.get_ref()
        {
            let path = self.key_path(key);
            let Some(date) = d.date else {
                return Err(self.src.error(
                    &v.span(),
                    &path,
                    "a time of day without a date: write a year (2025) or a date (2025-03-01)",
                ));
            };
            return Ok(Some(In {
                value: u64::from(date.year),
                line: self.src.line_of(v.span().start),
                key: path,
            }));
        }
        self.whole(key, 0)
    }

    /// A whole number ≥ `min` (`1e6` is accepted: it is whole).
    pub(crate) fn whole(&self, key: &str, min: u64) -> Result<Option<In<u64>>, InputError> {
        let Some(n) = self.number(key, Rule::NON_NEGATIVE)? else {
            return Ok(None);
        };
        let path = n.key.clone();
        let (_, v) = self.entry(key).expect("number() found the key");
        if n.value.fract() != 0.0 {
            return Err(self.src.error(
                &v.span(),
                &path,
                format!("must be a whole number, got {}", fmt_num(n.value)),
            ));
        }
        if n.value < min as f64 {
            return Err(self.src.error(
                &v.span(),
                &path,
                format!("must be at least {min}, got {}", fmt_num(n.value)),
            ));
        }
        if n.value > 9.0e15 {
            return Err(self.src.error(
                &v.span(),
                &path,
                format!("{} is too large to count exactly", fmt_num(n.value)),
            ));
        }
        Ok(Some(n.map(|x| x as u64)))
    }

    /// A number that may be a range, every part checked against `rule`.
    pub(crate) fn range(
        &self,
        key: &str,
        rule: Rule,
    ) -> Result<Option<In<RangeValue>>, InputError> {
        let Some((_, v)) = self.entry(key) else {
            return Ok(None);
        };
        let path = self.key_path(key);
        let line = self.src.line_of(v.span().start);
        let r = match v.get_ref() {
            DeValue::Array(items) => {
                if items.len() != 2 {
                    return Err(self.src.error(
                        &v.span(),
                        &path,
                        format!(
                            "a range is written [low, high]: expected 2 numbers, found {}",
                            items.len()
                        ),
                    ));
                }
                let mut it = items.iter();
                let low = self.number_of(it.next().expect("len 2"), &path)?;
                let high = self.number_of(it.next().expect("len 2"), &path)?;
                RangeValue {
                    low,
                    likely: None,
                    high,
                }
            }
            DeValue::Table(t) => {
                let sub = Table {
                    src: self.src,
                    path: path.clone(),
                    table: t,
                    span: v.span(),
                };
                sub.check_keys(&["low", "likely", "high"], &[])?;
                let part = |k: &str| -> Result<Option<f64>, InputError> {
                    match sub.entry(k) {
                        Some((_, pv)) => Ok(Some(self.number_of(pv, &format!("{path}.{k}"))?)),
                        None => Ok(None),
                    }
                };
                let (low, likely, high) = (part("low")?, part("likely")?, part("high")?);
                let (Some(low), Some(high)) = (low, high) else {
                    return Err(self.src.error(
                        &v.span(),
                        &path,
                        "a range table needs both `low` and `high` (and optionally `likely`)",
                    ));
                };
                RangeValue { low, likely, high }
            }
            _ => RangeValue::point(self.number_of(v, &path)?),
        };
        if r.low > r.high {
            return Err(self.src.error(
                &v.span(),
                &path,
                format!(
                    "range low {} is above high {}",
                    fmt_num(r.low),
                    fmt_num(r.high)
                ),
            ));
        }
        if let Some(l) = r.likely
            && !(r.low..=r.high).contains(&l)
        {
            return Err(self.src.error(
                &v.span(),
                &path,
                format!(
                    "likely {} is outside [{}, {}]",
                    fmt_num(l),
                    fmt_num(r.low),
                    fmt_num(r.high)
                ),
            ));
        }
        for x in r.values() {
            if let Some(msg) = rule.violation(x) {
                return Err(self.src.error(&v.span(), &path, msg));
            }
        }
        Ok(Some(In {
            value: r,
            line,
            key: path,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(fmt_num(1e300), "1e300");
        assert_eq!(fmt_num(-1.234567e-300), "-1.23e-300");
        assert_eq!(fmt_num(12.5), "12.5");
        assert_eq!(fmt_num(1000.0), "1000");
        assert!(fmt_num(f64::MAX).len() < 12);
    }

    fn with<T>(text: &str, f: impl FnOnce(Table<'_, '_>) -> T) -> T {
        let src = Source::new("t.toml", text);
        let doc = DeTable::parse(text).expect("valid toml");
        f(Table::root(&src, &doc))
    }

    #[test]
    fn ranges_in_three_forms() {
        with(
            "a = 2\nb = [1, 3]\nc = { low = 1, likely = 1.5, high = 3 }\n",
            |t| {
                let a = t.range("a", Rule::POSITIVE).unwrap().unwrap();
                assert_eq!(a.value, RangeValue::point(2.0));
                let b = t.range("b", Rule::POSITIVE).unwrap().unwrap();
                assert_eq!(b.value.central(), 2.0);
                assert_eq!(b.line, 2);
                let c = t.range("c", Rule::POSITIVE).unwrap().unwrap();
                assert_eq!(c.value.central(), 1.5);
            },
        );
    }

    #[test]
    fn range_errors_name_the_key_and_line() {
        with("\nu = [0.9, 0.3]\n", |t| {
            let e = t.range("u", Rule::POSITIVE).unwrap_err();
            assert_eq!(
                e.to_string(),
                "t.toml:2: u: range low 0.9 is above high 0.3"
            );
        });
        with("u = { low = 1 }\n", |t| {
            let e = t.range("u", Rule::POSITIVE).unwrap_err();
            assert!(e.message.contains("needs both `low` and `high`"));
        });
        with("u = { low = 1, hgh = 2 }\n", |t| {
            let e = t.range("u", Rule::POSITIVE).unwrap_err();
            assert!(e.message.contains("did you mean `high`"), "{e}");
        });
    }

    #[test]
    fn numbers_reject_strings_nan_inf() {
        with("a = \"12\"\nb = nan\nc = -inf\nd = 0x10\n", |t| {
            let e = t.number("a", Rule::POSITIVE).unwrap_err();
            assert!(e.message.contains("without quotes"), "{e}");
            let e = t.number("b", Rule::POSITIVE).unwrap_err();
            assert!(e.message.contains("nan"), "{e}");
            let e = t.number("c", Rule::POSITIVE).unwrap_err();
            assert!(e.message.contains("finite"), "{e}");
            assert_eq!(t.number("d", Rule::POSITIVE).unwrap().unwrap().value, 16.0);
        });
    }

    #[test]
    fn whole_numbers() {
        with("a = 1e6\nb = 2.5\nc = 0\n", |t| {
            assert_eq!(t.whole("a", 1).unwrap().unwrap().value, 1_000_000);
            assert!(
                t.whole("b", 1)
                    .unwrap_err()
                    .message
                    .contains("whole number")
            );
            assert!(t.whole("c", 1).unwrap_err().message.contains("at least 1"));
        });
    }

    #[test]
    fn unknown_keys_get_suggestions() {
        with("sampels = 3\n", |t| {
            let e = t.check_keys(&["samples", "epochs"], &[]).unwrap_err();
            assert_eq!(
                e.to_string(),
                "t.toml:1: sampels: unknown key `sampels` in the top level — did you mean `samples`?"
            );
        });
        with("carbon_intensity = 3\n", |t| {
            let e = t
                .check_keys(&["carbon_intensity_g_per_kwh", "pue"], &[])
                .unwrap_err();
            assert!(e.message.contains("`carbon_intensity_g_per_kwh`"), "{e}");
        });
        with("pue = 1.1\n", |t| {
            let e = t
                .check_keys(&["device"], &[("site", &["pue"])])
                .unwrap_err();
            assert!(e.message.contains("belongs in [site]"), "{e}");
        });
    }

    #[test]
    fn rules_explain_themselves() {
        let r = Rule::positive_up_to(1.0, "achieved ÷ peak");
        assert_eq!(
            r.violation(1.2).unwrap(),
            "1.2 is above the largest plausible value 1 (achieved ÷ peak)"
        );
        assert_eq!(
            r.violation(0.0).unwrap(),
            "must be greater than 0, got 0 (achieved ÷ peak)"
        );
        assert!(r.violation(0.5).is_none());
        assert!(
            Rule::NON_NEGATIVE
                .violation(-1.0)
                .unwrap()
                .contains("negative")
        );
    }
}
