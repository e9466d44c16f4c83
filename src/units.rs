//! Physical and money quantities as newtypes.
//!
//! Every quantity the calculator touches has its own type, so the compiler refuses to add
//! kWh to kg or to multiply a price by the wrong thing. Only the products that mean something
//! are implemented (power × time = energy, energy × intensity = mass, ...). Values are stored
//! in one canonical unit per type (joules, watts, seconds, kilograms, US dollars, grams per
//! kWh) and converted only at the edges: when a run file is read and when a report is written.
//!
//! Formatting for people lives here too (`human_*`): units are scaled (Wh/kWh/MWh, g/kg/t),
//! four significant digits are kept and thousands are separated, so `1289376 kWh` reads
//! `1,289 MWh`.

pub(crate) mod parse;

use std::fmt;
use std::ops::{Add, AddAssign, Div, Mul, Sub};

/// Implements the arithmetic every quantity shares: same-type addition and subtraction,
/// scaling by a plain number, the ratio of two values, and ordering.
macro_rules! quantity {
    ($name:ident, $unit:literal) => {
        #[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
        pub struct $name(f64);

        // Every quantity gets these; not every quantity needs each of them.
        #[allow(dead_code)]
        impl $name {
            pub const ZERO: $name = $name(0.0);

            /// From a raw value in the canonical unit (for generic code such as range sweeps).
            #[doc = concat!("Canonical unit: ", $unit, ".")]
            pub const fn from_raw(v: f64) -> Self {
                $name(v)
            }

            /// The raw value in the canonical unit.
            #[doc = concat!("Canonical unit: ", $unit, ".")]
            pub(crate) const fn raw(self) -> f64 {
                self.0
            }

            pub(crate) fn is_finite(self) -> bool {
                self.0.is_finite()
            }

            pub(crate) fn min(self, other: Self) -> Self {
                $name(self.0.min(other.0))
            }

            pub(crate) fn max(self, other: Self) -> Self {
                $name(self.0.max(other.0))
            }
        }

        impl Add for $name {
            type Output = $name;
            fn add(self, o: $name) -> $name {
                $name(self.0 + o.0)
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, o: $name) {
                self.0 += o.0;
            }
        }

        impl Sub for $name {
            type Output = $name;
            fn sub(self, o: $name) -> $name {
                $name(self.0 - o.0)
            }
        }

        impl Mul<f64> for $name {
            type Output = $name;
            fn mul(self, k: f64) -> $name {
                $name(self.0 * k)
            }
        }

        impl Div<f64> for $name {
            type Output = $name;
            fn div(self, k: f64) -> $name {
                $name(self.0 / k)
            }
        }

        /// The ratio of two quantities of the same kind is a plain number.
        impl Div for $name {
            type Output = f64;
            fn div(self, o: $name) -> f64 {
                self.0 / o.0
            }
        }

        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = $name>>(it: I) -> $name {
                $name(it.map(|q| q.0).sum())
            }
        }
    };
}

quantity!(Energy, "joule");
quantity!(Power, "watt");
quantity!(Duration, "second");
quantity!(Mass, "kilogram");
quantity!(Money, "US dollar");
quantity!(CarbonIntensity, "gram CO2e per kWh");
quantity!(EnergyPrice, "US dollar per kWh");
quantity!(TimePrice, "US dollar per hour");
quantity!(CarbonPrice, "US dollar per tonne CO2e");
quantity!(FlopRate, "FLOP per second");
quantity!(Flops, "floating-point operation");

const J_PER_KWH: f64 = 3.6e6;
const S_PER_HOUR: f64 = 3600.0;
/// Hours in a year of 365.25 days: what "lifetime_years" means.
pub(crate) const HOURS_PER_YEAR: f64 = 8766.0;

impl Energy {
    pub(crate) fn from_joules(j: f64) -> Self {
        Energy(j)
    }
    pub fn from_kwh(kwh: f64) -> Self {
        Energy(kwh * J_PER_KWH)
    }
    pub(crate) fn from_millijoules(mj: f64) -> Self {
        Energy(mj / 1e3)
    }
    pub(crate) fn joules(self) -> f64 {
        self.0
    }
    pub(crate) fn kwh(self) -> f64 {
        self.0 / J_PER_KWH
    }
    pub(crate) fn wh(self) -> f64 {
        self.0 / 3600.0
    }
}

impl Power {
    pub fn from_watts(w: f64) -> Self {
        Power(w)
    }
    pub(crate) fn watts(self) -> f64 {
        self.0
    }
}

impl Duration {
    pub(crate) fn from_seconds(s: f64) -> Self {
        Duration(s)
    }
    pub fn from_hours(h: f64) -> Self {
        Duration(h * S_PER_HOUR)
    }
    pub(crate) fn from_years(y: f64) -> Self {
        Duration::from_hours(y * HOURS_PER_YEAR)
    }
    pub(crate) fn seconds(self) -> f64 {
        self.0
    }
    pub(crate) fn hours(self) -> f64 {
        self.0 / S_PER_HOUR
    }
}

impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Self {
        Duration(d.as_secs_f64())
    }
}

impl Mass {
    pub(crate) fn from_kg(kg: f64) -> Self {
        Mass(kg)
    }
    pub(crate) fn from_grams(g: f64) -> Self {
        Mass(g / 1e3)
    }
    pub fn kg(self) -> f64 {
        self.0
    }
    pub(crate) fn grams(self) -> f64 {
        self.0 * 1e3
    }
    pub(crate) fn tonnes(self) -> f64 {
        self.0 / 1e3
    }
}

impl Money {
    pub(crate) fn from_usd(usd: f64) -> Self {
        Money(usd)
    }
    pub(crate) fn usd(self) -> f64 {
        self.0
    }
}

impl CarbonIntensity {
    pub fn from_g_per_kwh(g: f64) -> Self {
        CarbonIntensity(g)
    }
}

impl EnergyPrice {
    pub(crate) fn from_usd_per_kwh(p: f64) -> Self {
        EnergyPrice(p)
    }
}

impl TimePrice {
    pub(crate) fn from_usd_per_hour(p: f64) -> Self {
        TimePrice(p)
    }
}

impl CarbonPrice {
    pub(crate) fn from_usd_per_tonne(p: f64) -> Self {
        CarbonPrice(p)
    }
}

impl FlopRate {
    pub(crate) fn from_flop_per_s(f: f64) -> Self {
        FlopRate(f)
    }
    pub(crate) fn flop_per_s(self) -> f64 {
        self.0
    }
}

impl Flops {
    pub(crate) fn from_count(f: f64) -> Self {
        Flops(f)
    }
    pub(crate) fn count(self) -> f64 {
        self.0
    }
}

// The products and quotients that have a physical meaning.

impl Mul<Duration> for Power {
    type Output = Energy;
    fn mul(self, t: Duration) -> Energy {
        Energy(self.0 * t.0)
    }
}

impl Div<Duration> for Energy {
    type Output = Power;
    fn div(self, t: Duration) -> Power {
        Power(self.0 / t.0)
    }
}

impl Mul<CarbonIntensity> for Energy {
    type Output = Mass;
    fn mul(self, i: CarbonIntensity) -> Mass {
        Mass::from_grams(self.kwh() * i.0)
    }
}

impl Mul<EnergyPrice> for Energy {
    type Output = Money;
    fn mul(self, p: EnergyPrice) -> Money {
        Money(self.kwh() * p.0)
    }
}

impl Mul<TimePrice> for Duration {
    type Output = Money;
    fn mul(self, p: TimePrice) -> Money {
        Money(self.hours() * p.0)
    }
}

impl Mul<CarbonPrice> for Mass {
    type Output = Money;
    fn mul(self, p: CarbonPrice) -> Money {
        Money(self.tonnes() * p.0)
    }
}

/// FLOPs ÷ FLOP/s = the time one device needs.
impl Div<FlopRate> for Flops {
    type Output = Duration;
    fn div(self, r: FlopRate) -> Duration {
        Duration(self.0 / r.0)
    }
}

/// FLOPs ÷ time = the achieved rate.
impl Div<Duration> for Flops {
    type Output = FlopRate;
    fn div(self, t: Duration) -> FlopRate {
        FlopRate(self.0 / t.0)
    }
}

// ---------------------------------------------------------------------------------------
// Formatting for people.

/// `x` with about four significant digits and thousands separators: 1289.376 → "1,289",
/// 553.07 → "553.1", 0.001234 → "0.001234". Trailing zeros are dropped ("10", not "10.00").
pub(crate) fn sig4(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(0, 12) as usize;
    let s = format!("{:.*}", decimals, x);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    group_thousands(&s)
}

/// Inserts `,` every three digits of the integer part of a plain decimal string.
pub(crate) fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}{frac}")
}

/// Energy for people: J below 1 Wh, Wh below 1 kWh, kWh below 1 MWh, MWh above.
pub(crate) fn human_energy(e: Energy) -> String {
    let kwh = e.kwh();
    let a = kwh.abs();
    if e.wh().abs() < 1.0 && e.joules() != 0.0 {
        format!("{} J", sig4(e.joules()))
    } else if a < 1.0 {
        format!("{} Wh", sig4(e.wh()))
    } else if a < 1000.0 {
        format!("{} kWh", sig4(kwh))
    } else {
        format!("{} MWh", sig4(kwh / 1000.0))
    }
}

/// Mass of CO2e for people: µg, mg, g, kg, t, whichever keeps the number at or above 1.
pub(crate) fn human_mass(m: Mass) -> String {
    let kg = m.kg();
    let a = kg.abs();
    let g = m.grams().abs();
    if g < 1e-3 && g != 0.0 {
        format!("{} µg", sig4(m.grams() * 1e6))
    } else if g < 1.0 && g != 0.0 {
        format!("{} mg", sig4(m.grams() * 1e3))
    } else if a < 1.0 {
        format!("{} g", sig4(m.grams()))
    } else if a < 1000.0 {
        format!("{} kg", sig4(kg))
    } else {
        format!("{} t", sig4(m.tonnes()))
    }
}

/// Money for people: US dollars with cents below 1,000 and whole dollars above.
pub(crate) fn human_money(m: Money) -> String {
    let usd = m.usd();
    if usd.abs() >= 1000.0 {
        format!("${}", group_thousands(&format!("{usd:.0}")))
    } else if usd.abs() >= 0.01 || usd == 0.0 {
        format!("${usd:.2}")
    } else {
        format!("${}", sig4(usd))
    }
}

/// Power for people: W below 1 kW, kW below 1 MW, MW above.
pub(crate) fn human_power(p: Power) -> String {
    let w = p.watts();
    let a = w.abs();
    if a < 1e3 {
        format!("{} W", sig4(w))
    } else if a < 1e6 {
        format!("{} kW", sig4(w / 1e3))
    } else {
        format!("{} MW", sig4(w / 1e6))
    }
}

/// Durations for people: seconds, minutes, hours or days, whichever reads best.
pub(crate) fn human_duration(d: Duration) -> String {
    let s = d.seconds();
    if s < 120.0 {
        format!("{} s", sig4(s))
    } else if s < 7200.0 {
        format!("{} min", sig4(s / 60.0))
    } else if s < 3.0 * 86400.0 {
        format!("{} h", sig4(s / 3600.0))
    } else {
        format!("{} days", sig4(s / 86400.0))
    }
}

/// A FLOP/s rate for people: GFLOP/s, TFLOP/s or PFLOP/s.
pub(crate) fn human_flop_rate(r: FlopRate) -> String {
    let f = r.flop_per_s();
    if f < 1e12 {
        format!("{} GFLOP/s", sig4(f / 1e9))
    } else if f < 1e15 {
        format!("{} TFLOP/s", sig4(f / 1e12))
    } else {
        format!("{} PFLOP/s", sig4(f / 1e15))
    }
}

impl fmt::Display for Energy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_energy(*self))
    }
}

impl fmt::Display for Mass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_mass(*self))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_money(*self))
    }
}

impl fmt::Display for Power {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_power(*self))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_duration(*self))
    }
}

/// Numbers in messages: as the user would write them, and a very large or very small one with
/// 3 significant digits and an exponent (never a 300-digit number).
pub(crate) fn short_number(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() >= 1e15 || (x != 0.0 && x.abs() < 1e-4) {
        let s = format!("{x:.2e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exp}");
    }
    if x == x.trunc() {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        assert_eq!(Energy::from_kwh(1.0).joules(), 3.6e6);
        assert!((Energy::from_joules(3.6e6).kwh() - 1.0).abs() < 1e-12);
        assert_eq!(Duration::from_hours(2.0).seconds(), 7200.0);
        assert_eq!(Mass::from_grams(1.0).kg(), 0.001);
        assert_eq!(Mass::from_kg(1000.0).tonnes(), 1.0);
        assert_eq!(Energy::from_millijoules(1500.0).joules(), 1.5);
    }

    #[test]
    fn physical_products() {
        let e = Power::from_watts(1000.0) * Duration::from_hours(1.0);
        assert!((e.kwh() - 1.0).abs() < 1e-12);
        let m = e * CarbonIntensity::from_g_per_kwh(400.0);
        assert!((m.grams() - 400.0).abs() < 1e-9);
        let c = e * EnergyPrice::from_usd_per_kwh(0.2);
        assert!((c.usd() - 0.2).abs() < 1e-12);
        let r = Duration::from_hours(10.0) * TimePrice::from_usd_per_hour(2.5);
        assert_eq!(r.usd(), 25.0);
        let sc = Mass::from_kg(2000.0) * CarbonPrice::from_usd_per_tonne(190.0);
        assert_eq!(sc.usd(), 380.0);
        let t = Flops::from_count(1e15) / FlopRate::from_flop_per_s(1e12);
        assert_eq!(t.seconds(), 1000.0);
        assert_eq!((e / Duration::from_hours(1.0)).watts(), 1000.0);
    }

    #[test]
    fn significant_digits_and_grouping() {
        assert_eq!(sig4(1289.376), "1,289");
        assert_eq!(sig4(553.07), "553.1");
        assert_eq!(sig4(10.0), "10");
        assert_eq!(sig4(1.0), "1");
        assert_eq!(sig4(0.001234), "0.001234");
        assert_eq!(sig4(1234567.0), "1,234,567");
        assert_eq!(sig4(-1234.5), "-1,234");
        assert_eq!(sig4(0.0), "0");
        assert_eq!(group_thousands("1234567.25"), "1,234,567.25");
    }

    #[test]
    fn human_units_scale() {
        assert_eq!(human_energy(Energy::from_kwh(1_289_376.0)), "1,289 MWh");
        assert_eq!(human_energy(Energy::from_kwh(1.0)), "1 kWh");
        assert_eq!(human_energy(Energy::from_kwh(0.5)), "500 Wh");
        assert_eq!(human_mass(Mass::from_kg(553_100.0)), "553.1 t");
        assert_eq!(human_mass(Mass::from_grams(1.0)), "1 g");
        assert_eq!(human_mass(Mass::from_kg(12.5)), "12.5 kg");
        assert_eq!(human_mass(Mass::from_grams(0.0023)), "2.3 mg");
        assert_eq!(human_mass(Mass::from_grams(1.1e-6)), "1.1 µg");
        assert_eq!(human_mass(Mass::ZERO), "0 g");
        assert_eq!(human_energy(Energy::from_joules(17.56)), "17.56 J");
        assert_eq!(human_energy(Energy::ZERO), "0 Wh");
        assert_eq!(human_money(Money::from_usd(10.0)), "$10.00");
        assert_eq!(human_money(Money::from_usd(1_234_567.4)), "$1,234,567");
        assert_eq!(human_power(Power::from_watts(3_300_000.0)), "3.3 MW");
        assert_eq!(human_duration(Duration::from_hours(355.2)), "14.8 days");
    }
}
