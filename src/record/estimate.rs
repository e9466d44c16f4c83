//! An estimate's figures as written in reports: the one list of output fields (name, unit,
//! accessor) that every exporter iterates, and the JSON record built from it.

use serde::{Deserialize, Serialize};

use crate::impact::{Band, Estimate, ModelKind, Outputs};
use crate::units::{
    Duration, Energy, Flops, Mass, Money, human_duration, human_energy, human_mass, human_money,
    sig4,
};

/// One output figure of an estimate. Its `key` names it in JSON and CSV with its unit; its
/// `label` names it for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    DeviceHours,
    WallClock,
    Flops,
    ItEnergy,
    Energy,
    Operational,
    Embodied,
    Co2e,
    ComputeCost,
    EnergyCost,
    CarbonCost,
    Cost,
}

impl Field {
    /// Every field, in the order people read them.
    pub(crate) const ALL: [Field; 12] = [
        Field::DeviceHours,
        Field::WallClock,
        Field::Flops,
        Field::ItEnergy,
        Field::Energy,
        Field::Operational,
        Field::Embodied,
        Field::Co2e,
        Field::ComputeCost,
        Field::EnergyCost,
        Field::CarbonCost,
        Field::Cost,
    ];

    /// The name in JSON (a band) and CSV (with `_low` / `_high` beside it).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Field::DeviceHours => "device_hours",
            Field::WallClock => "wall_clock_hours",
            Field::Flops => "flops",
            Field::ItEnergy => "it_energy_kwh",
            Field::Energy => "energy_kwh",
            Field::Operational => "operational_co2e_kg",
            Field::Embodied => "embodied_co2e_kg",
            Field::Co2e => "co2e_kg",
            Field::ComputeCost => "compute_cost_usd",
            Field::EnergyCost => "energy_cost_usd",
            Field::CarbonCost => "carbon_cost_usd",
            Field::Cost => "cost_usd",
        }
    }

    /// The name people read.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Field::DeviceHours => "Device-hours",
            Field::WallClock => "Wall-clock time",
            Field::Flops => "Training FLOPs",
            Field::ItEnergy => "IT energy",
            Field::Energy => "Energy (× PUE)",
            Field::Operational => "Operational CO2e",
            Field::Embodied => "Embodied CO2e",
            Field::Co2e => "Total CO2e",
            Field::ComputeCost => "Compute cost",
            Field::EnergyCost => "Energy cost",
            Field::CarbonCost => "Carbon cost",
            Field::Cost => "Cost",
        }
    }

    /// The figure in the unit of its key.
    pub(crate) fn value(self, o: &Outputs) -> Option<f64> {
        match self {
            Field::DeviceHours => o.device_time.map(Duration::hours),
            Field::WallClock => o.wall_time.map(Duration::hours),
            Field::Flops => o.flops.map(Flops::count),
            Field::ItEnergy => Some(o.it_energy.kwh()),
            Field::Energy => Some(o.energy.kwh()),
            Field::Operational => Some(o.operational.kg()),
            Field::Embodied => Some(o.embodied.kg()),
            Field::Co2e => Some(o.co2e.kg()),
            Field::ComputeCost => o.compute_cost.map(Money::usd),
            Field::EnergyCost => o.energy_cost.map(Money::usd),
            Field::CarbonCost => o.carbon_cost.map(Money::usd),
            Field::Cost => o.cost.map(Money::usd),
        }
    }

    /// The figure for people, with its unit.
    pub(crate) fn human(self, o: &Outputs) -> Option<String> {
        match self {
            Field::DeviceHours => o.device_time.map(|t| format!("{} h", sig4(t.hours()))),
            Field::WallClock => o.wall_time.map(human_duration),
            Field::Flops => o.flops.map(|f| format!("{:.3e}", f.count())),
            Field::ItEnergy => Some(human_energy(o.it_energy)),
            Field::Energy => Some(human_energy(o.energy)),
            Field::Operational => Some(human_mass(o.operational)),
            Field::Embodied => Some(human_mass(o.embodied)),
            Field::Co2e => Some(human_mass(o.co2e)),
            Field::ComputeCost => o.compute_cost.map(human_money),
            Field::EnergyCost => o.energy_cost.map(human_money),
            Field::CarbonCost => o.carbon_cost.map(human_money),
            Field::Cost => o.cost.map(human_money),
        }
    }

    /// Sets the figure from a value in the unit of its key (reading a report back).
    fn set(self, o: &mut Outputs, x: f64) {
        match self {
            Field::DeviceHours => o.device_time = Some(Duration::from_hours(x)),
            Field::WallClock => o.wall_time = Some(Duration::from_hours(x)),
            Field::Flops => o.flops = Some(Flops::from_count(x)),
            Field::ItEnergy => o.it_energy = Energy::from_kwh(x),
            Field::Energy => o.energy = Energy::from_kwh(x),
            Field::Operational => o.operational = Mass::from_kg(x),
            Field::Embodied => o.embodied = Mass::from_kg(x),
            Field::Co2e => o.co2e = Mass::from_kg(x),
            Field::ComputeCost => o.compute_cost = Some(Money::from_usd(x)),
            Field::EnergyCost => o.energy_cost = Some(Money::from_usd(x)),
            Field::CarbonCost => o.carbon_cost = Some(Money::from_usd(x)),
            Field::Cost => o.cost = Some(Money::from_usd(x)),
        }
    }

    /// Low, central and high, where the model has the figure.
    pub(crate) fn band(self, e: &Estimate) -> Option<JsonBand> {
        let b = e.opt_band(|o| self.value(o))?;
        Some(JsonBand::from(b))
    }
}

/// A figure's low, central and high values, in the unit its key names.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub(crate) struct JsonBand {
    pub(crate) low: f64,
    pub(crate) central: f64,
    pub(crate) high: f64,
}

/// A figure as reports write it: 12 significant digits, so that arithmetic noise
/// (`8.360000000000001`) never reaches a reader, while every digit a figure can mean is kept.
pub(crate) fn tidy(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.11e}").parse().unwrap_or(x)
}

impl From<Band<f64>> for JsonBand {
    fn from(b: Band<f64>) -> JsonBand {
        JsonBand {
            low: tidy(b.low),
            central: tidy(b.central),
            high: tidy(b.high),
        }
    }
}

/// One estimate in a JSON report (schema 1). The order of the fields is the order written.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct EstimateRecord {
    pub(crate) model: ModelKind,
    /// Central device-hours; null for the per-sample model.
    pub(crate) device_hours: Option<f64>,
    /// Facility energy (× PUE).
    pub(crate) energy_kwh: JsonBand,
    pub(crate) it_energy_kwh: JsonBand,
    /// Operational + embodied.
    pub(crate) co2e_kg: JsonBand,
    pub(crate) operational_co2e_kg: JsonBand,
    pub(crate) embodied_co2e_kg: JsonBand,
    /// Compute cost, else energy cost; null when no price is known.
    pub(crate) cost_usd: Option<JsonBand>,
    // Added to schema 1 (fields may be added):
    #[serde(default)]
    pub(crate) device_hours_range: Option<JsonBand>,
    #[serde(default)]
    pub(crate) wall_clock_hours: Option<JsonBand>,
    #[serde(default)]
    pub(crate) flops: Option<JsonBand>,
    #[serde(default)]
    pub(crate) compute_cost_usd: Option<JsonBand>,
    #[serde(default)]
    pub(crate) energy_cost_usd: Option<JsonBand>,
    #[serde(default)]
    pub(crate) carbon_cost_usd: Option<JsonBand>,
    /// Shown for comparison, never the primary model (written only when true).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) advisory: bool,
}

impl From<&Estimate> for EstimateRecord {
    fn from(e: &Estimate) -> Self {
        let plain = |f: Field| f.band(e).expect("every model has this figure");
        EstimateRecord {
            model: e.kind,
            device_hours: Field::DeviceHours.value(&e.central).map(tidy),
            energy_kwh: plain(Field::Energy),
            it_energy_kwh: plain(Field::ItEnergy),
            co2e_kg: plain(Field::Co2e),
            operational_co2e_kg: plain(Field::Operational),
            embodied_co2e_kg: plain(Field::Embodied),
            cost_usd: Field::Cost.band(e),
            device_hours_range: Field::DeviceHours.band(e),
            wall_clock_hours: Field::WallClock.band(e),
            flops: Field::Flops.band(e),
            compute_cost_usd: Field::ComputeCost.band(e),
            energy_cost_usd: Field::EnergyCost.band(e),
            carbon_cost_usd: Field::CarbonCost.band(e),
            advisory: e.advisory,
        }
    }
}

impl EstimateRecord {
    /// The band of a field as recorded.
    pub(crate) fn band(&self, f: Field) -> Option<JsonBand> {
        match f {
            Field::DeviceHours => self.device_hours_range,
            Field::WallClock => self.wall_clock_hours,
            Field::Flops => self.flops,
            Field::ItEnergy => Some(self.it_energy_kwh),
            Field::Energy => Some(self.energy_kwh),
            Field::Operational => Some(self.operational_co2e_kg),
            Field::Embodied => Some(self.embodied_co2e_kg),
            Field::Co2e => Some(self.co2e_kg),
            Field::ComputeCost => self.compute_cost_usd,
            Field::EnergyCost => self.energy_cost_usd,
            Field::CarbonCost => self.carbon_cost_usd,
            Field::Cost => self.cost_usd,
        }
    }

    /// The estimate this record describes; every figure must be finite and ≥ 0.
    pub(crate) fn to_estimate(&self) -> Result<Estimate, String> {
        let zero = Outputs {
            device_time: None,
            wall_time: None,
            flops: None,
            it_energy: Energy::from_kwh(0.0),
            energy: Energy::from_kwh(0.0),
            operational: Mass::from_kg(0.0),
            embodied: Mass::from_kg(0.0),
            co2e: Mass::from_kg(0.0),
            compute_cost: None,
            energy_cost: None,
            carbon_cost: None,
            cost: None,
        };
        let mut e = Estimate {
            kind: self.model,
            low: zero,
            central: zero,
            high: zero,
            advisory: self.advisory,
        };
        for f in Field::ALL {
            let Some(b) = self.band(f) else { continue };
            for (part, x) in [("low", b.low), ("central", b.central), ("high", b.high)] {
                if !(x.is_finite() && x >= 0.0) {
                    return Err(format!(
                        "{}.{part} is {x}: expected a finite number ≥ 0",
                        f.key()
                    ));
                }
            }
            let slack = 1e-9 * b.high.abs();
            if b.low > b.central + slack || b.central > b.high + slack {
                return Err(format!(
                    "{}: low {}, central {}, high {} are not in order",
                    f.key(),
                    b.low,
                    b.central,
                    b.high
                ));
            }
            f.set(&mut e.low, b.low);
            f.set(&mut e.central, b.central);
            f.set(&mut e.high, b.high);
        }
        Ok(e)
    }
}
