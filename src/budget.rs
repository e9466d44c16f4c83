//! Budgets: limits on CO2e, energy and cost, and the verdict of an estimate against them.
//!
//! A check compares the primary model's central figure (or, with `strict`, the high end of
//! its range) with each limit. A value exactly at its limit passes. The verdict is plain data;
//! turning it into an exit code is the CLI's job (`EXIT_BUDGET` when not ok).

use crate::impact::Estimate;
pub(crate) use crate::record::{Basis, Check, Metric, Verdict};
pub(crate) use crate::units::parse::{parse_energy, parse_mass, parse_money};
use crate::units::{Energy, Mass, Money};

/// The limits of a budget; `None` means not limited.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Limits {
    pub(crate) co2e: Option<Mass>,
    pub(crate) energy: Option<Energy>,
    pub(crate) cost: Option<Money>,
}

impl Limits {
    /// `self`, with each limit `over` sets replacing the one here.
    pub(crate) fn overridden_by(self, over: Limits) -> Limits {
        Limits {
            co2e: over.co2e.or(self.co2e),
            energy: over.energy.or(self.energy),
            cost: over.cost.or(self.cost),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.co2e.is_none() && self.energy.is_none() && self.cost.is_none()
    }
}

/// Why a limit could not be checked.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Unknown(pub &'static str);

/// Checks `est` against `limits`. A cost limit on an estimate without any price cannot be
/// decided: that is an error, not a pass.
pub(crate) fn check(est: &Estimate, limits: &Limits, strict: bool) -> Result<Verdict, Unknown> {
    let basis = if strict { Basis::High } else { Basis::Central };
    let out = match basis {
        Basis::Central => &est.central,
        Basis::High => &est.high,
    };
    let mut checks = Vec::new();
    let mut push = |metric, limit: f64, value: f64| {
        checks.push(Check {
            metric,
            limit,
            value,
            ok: value <= limit,
            excess: (value - limit).max(0.0),
        })
    };
    if let Some(l) = limits.co2e {
        push(Metric::Co2e, l.kg(), out.co2e.kg());
    }
    if let Some(l) = limits.energy {
        push(Metric::Energy, l.kwh(), out.energy.kwh());
    }
    if let Some(l) = limits.cost {
        let Some(cost) = out.cost else {
            return Err(Unknown(
                "a cost limit is set but the run has no price: give hardware.price_usd_per_device_hour, per_sample.cost_usd or site.electricity_usd_per_kwh",
            ));
        };
        push(Metric::Cost, l.usd(), cost.usd());
    }
    Ok(Verdict {
        ok: checks.iter().all(|c| c.ok),
        checks,
        model: est.kind,
        basis,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::impact::ModelKind;
    use crate::impact::Outputs;

    fn est(co2e_kg: f64, high_kg: f64, cost: Option<f64>) -> Estimate {
        let o = |kg: f64| Outputs {
            device_time: None,
            wall_time: None,
            flops: None,
            it_energy: Energy::from_kwh(10.0),
            energy: Energy::from_kwh(10.0),
            operational: Mass::from_kg(kg),
            embodied: Mass::ZERO,
            co2e: Mass::from_kg(kg),
            compute_cost: cost.map(Money::from_usd),
            energy_cost: None,
            carbon_cost: None,
            cost: cost.map(Money::from_usd),
        };
        Estimate {
            kind: ModelKind::Duration,
            advisory: false,
            low: o(co2e_kg),
            central: o(co2e_kg),
            high: o(high_kg),
        }
    }

    #[test]
    fn exactly_at_the_limit_passes() {
        let l = Limits {
            co2e: Some(Mass::from_kg(5.0)),
            ..Limits::default()
        };
        let v = check(&est(5.0, 5.0, None), &l, false).unwrap();
        assert!(v.ok);
        assert_eq!(v.checks[0].excess, 0.0);
    }

    #[test]
    fn over_names_the_excess() {
        let l = Limits {
            co2e: Some(Mass::from_kg(4.0)),
            energy: Some(Energy::from_kwh(100.0)),
            ..Limits::default()
        };
        let v = check(&est(5.0, 5.0, None), &l, false).unwrap();
        assert!(!v.ok);
        assert_eq!(v.checks[0].metric, Metric::Co2e);
        assert_eq!(serde_json::to_value(v.checks[0].metric).unwrap(), "co2e_kg");
        assert_eq!(v.checks[0].excess, 1.0);
        assert!(v.checks[1].ok);
    }

    #[test]
    fn strict_uses_the_high_end() {
        let l = Limits {
            co2e: Some(Mass::from_kg(6.0)),
            ..Limits::default()
        };
        assert!(check(&est(5.0, 7.0, None), &l, false).unwrap().ok);
        assert!(!check(&est(5.0, 7.0, None), &l, true).unwrap().ok);
    }

    #[test]
    fn zero_limit_and_unknown_cost() {
        let l = Limits {
            co2e: Some(Mass::ZERO),
            ..Limits::default()
        };
        assert!(!check(&est(0.001, 0.001, None), &l, false).unwrap().ok);
        let l = Limits {
            cost: Some(Money::from_usd(10.0)),
            ..Limits::default()
        };
        assert!(check(&est(1.0, 1.0, None), &l, false).is_err());
        assert!(check(&est(1.0, 1.0, Some(9.0)), &l, false).unwrap().ok);
    }

    #[test]
    fn limits_with_units() {
        assert_eq!(parse_mass("50kg").unwrap(), Mass::from_kg(50.0));
        assert_eq!(parse_mass("0.5 t").unwrap(), Mass::from_kg(500.0));
        assert_eq!(parse_mass("800g").unwrap(), Mass::from_kg(0.8));
        assert_eq!(parse_mass("1e3kg").unwrap(), Mass::from_kg(1000.0));
        assert_eq!(parse_energy("120kWh").unwrap(), Energy::from_kwh(120.0));
        assert_eq!(parse_energy("1.5 MWh").unwrap(), Energy::from_kwh(1500.0));
        assert_eq!(parse_energy("500wh").unwrap(), Energy::from_kwh(0.5));
        assert_eq!(parse_energy("3.6MJ").unwrap(), Energy::from_kwh(1.0));
        assert_eq!(parse_energy("10J").unwrap(), Energy::from_joules(10.0));
        assert_eq!(parse_energy("2kJ").unwrap(), Energy::from_joules(2000.0));
        assert_eq!(parse_money("400usd").unwrap(), Money::from_usd(400.0));
        assert_eq!(parse_money("$400").unwrap(), Money::from_usd(400.0));
        assert_eq!(parse_money("400$").unwrap(), Money::from_usd(400.0));
        assert_eq!(parse_money("400 USD").unwrap(), Money::from_usd(400.0));
        assert_eq!(parse_mass("0kg").unwrap(), Mass::ZERO);
    }

    #[test]
    fn bad_limits_say_what_is_wrong() {
        assert!(
            parse_mass("50")
                .unwrap_err()
                .contains("needs a unit: mg, g, kg, t")
        );
        assert!(
            parse_mass("50lb")
                .unwrap_err()
                .contains("unknown unit 'lb'")
        );
        assert!(
            parse_energy("kWh")
                .unwrap_err()
                .contains("expected a number")
        );
        assert!(parse_energy("-5kWh").unwrap_err().contains("≥ 0"));
        assert!(parse_money("400eur").unwrap_err().contains("unknown unit"));
        assert!(parse_money("$400usd").is_err());
        assert!(parse_mass("nankg").is_err());
    }

    #[test]
    fn flags_override_the_file() {
        let file = Limits {
            co2e: Some(Mass::from_kg(1.0)),
            cost: Some(Money::from_usd(3.0)),
            ..Limits::default()
        };
        let flags = Limits {
            co2e: Some(Mass::from_kg(2.0)),
            ..Limits::default()
        };
        let l = file.overridden_by(flags);
        assert_eq!(l.co2e, Some(Mass::from_kg(2.0)));
        assert_eq!(l.cost, Some(Money::from_usd(3.0)));
    }
}
