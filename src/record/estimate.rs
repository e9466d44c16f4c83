//! An estimate's figures as written in reports: the one list of output fields (name, unit,
//! accessor) that every exporter iterates, and the JSON record built from it.

use serde::{Deserialize, Serialize};

use crate::impact::{Band, Estimate, ModelKind, Outputs};
use crate::units::{
    Duration, Energy, Flops, Mass, Money, human_duration, human_energy, human_mass, human_money,
    sig4,
};

/// Declares the output figures once. Each row gives the variant; where the figure lives in
/// [`Outputs`] (`plain` when every model has it, `opt` when some do not), its unit and the
/// unit's conversions; how people read it; its key in CSV and in the JSON record (with the
/// record's position: the JSON and CSV orders are a contract, docs/run-format.md, and differ
/// from the order people read); and its label. `Field`, its accessors, the JSON record and
/// the CSV columns all follow from these rows.
macro_rules! figures {
    ($($variant:ident: $presence:ident $slot:ident, $unit:ident::{$to:ident, $from:ident},
        human $human:expr, key $key:literal, json $json_pos:literal $json_key:literal,
        csv $csv:expr, label $label:literal;)*) => {
        /// One output figure of an estimate. Its `key` names it in JSON and CSV with its unit;
        /// its `label` names it for people.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Field {
            $($variant,)*
        }

        impl Field {
            /// Every field, in the order people read them.
            pub(crate) const ALL: [Field; [$(Field::$variant),*].len()] = [$(Field::$variant),*];

            /// The name in CSV (with `_low` / `_high` beside it) and, a band, in JSON.
            pub(crate) fn key(self) -> &'static str {
                match self { $(Field::$variant => $key,)* }
            }

            /// The name people read.
            pub(crate) fn label(self) -> &'static str {
                match self { $(Field::$variant => $label,)* }
            }

            /// The figure in the unit of its key.
            pub(crate) fn value(self, o: &Outputs) -> Option<f64> {
                match self { $(Field::$variant => figures!(@get $presence o.$slot, |v: $unit| v.$to()),)* }
            }

            /// The figure for people, with its unit.
            pub(crate) fn human(self, o: &Outputs) -> Option<String> {
                match self { $(Field::$variant => figures!(@get $presence o.$slot, $human),)* }
            }

            /// Sets the figure from a value in the unit of its key (reading a report back).
            fn set(self, o: &mut Outputs, x: f64) {
                match self { $(Field::$variant => o.$slot = figures!(@wrap $presence $unit::$from(x)),)* }
            }

            /// The band's key in a JSON record, and its place there.
            fn json(self) -> (u8, &'static str) {
                match self { $(Field::$variant => ($json_pos, $json_key),)* }
            }

            /// The place of the figure's three columns in CSV; `None` when CSV leaves it out.
            fn csv_place(self) -> Option<u8> {
                match self { $(Field::$variant => $csv,)* }
            }
        }
    };
    (@get plain $x:expr, $f:expr) => { Some(($f)($x)) };
    (@get opt $x:expr, $f:expr) => { $x.map($f) };
    (@wrap plain $x:expr) => { $x };
    (@wrap opt $x:expr) => { Some($x) };
}

figures! {
    DeviceHours: opt device_time, Duration::{hours, from_hours},
        human |t: Duration| format!("{} h", sig4(t.hours())),
        key "device_hours", json 8 "device_hours_range", csv Some(9), label "Device-hours";
    WallClock: opt wall_time, Duration::{hours, from_hours}, human human_duration,
        key "wall_clock_hours", json 9 "wall_clock_hours", csv Some(10), label "Wall-clock time";
    Flops: opt flops, Flops::{count, from_count}, human |f: Flops| format!("{:.3e}", f.count()),
        key "flops", json 10 "flops", csv None, label "Training FLOPs";
    ItEnergy: plain it_energy, Energy::{kwh, from_kwh}, human human_energy,
        key "it_energy_kwh", json 2 "it_energy_kwh", csv Some(1), label "IT energy";
    Energy: plain energy, Energy::{kwh, from_kwh}, human human_energy,
        key "energy_kwh", json 1 "energy_kwh", csv Some(0), label "Energy (× PUE)";
    Operational: plain operational, Mass::{kg, from_kg}, human human_mass,
        key "operational_co2e_kg", json 4 "operational_co2e_kg", csv Some(3),
        label "Operational CO2e";
    Embodied: plain embodied, Mass::{kg, from_kg}, human human_mass,
        key "embodied_co2e_kg", json 5 "embodied_co2e_kg", csv Some(4), label "Embodied CO2e";
    Co2e: plain co2e, Mass::{kg, from_kg}, human human_mass,
        key "co2e_kg", json 3 "co2e_kg", csv Some(2), label "Total CO2e";
    ComputeCost: opt compute_cost, Money::{usd, from_usd}, human human_money,
        key "compute_cost_usd", json 11 "compute_cost_usd", csv Some(6), label "Compute cost";
    EnergyCost: opt energy_cost, Money::{usd, from_usd}, human human_money,
        key "energy_cost_usd", json 12 "energy_cost_usd", csv Some(7), label "Energy cost";
    CarbonCost: opt carbon_cost, Money::{usd, from_usd}, human human_money,
        key "carbon_cost_usd", json 13 "carbon_cost_usd", csv Some(8), label "Carbon cost";
    Cost: opt cost, Money::{usd, from_usd}, human human_money,
        key "cost_usd", json 7 "cost_usd", csv Some(5), label "Cost";
}

impl Field {
    /// The figures a one-line summary gives, in its order: what the run emits, draws and costs.
    pub(crate) const HEADLINE: [Field; 3] = [Field::Co2e, Field::Energy, Field::Cost];

    /// The figures a terminal leaves out without `--explain`: the IT energy (before PUE) and
    /// the FLOPs (most often an input) are detail.
    pub(crate) const DETAIL: [Field; 2] = [Field::ItEnergy, Field::Flops];

    /// Whether every model has this figure (its JSON band is never null).
    fn always_present(self) -> bool {
        let zero = Outputs::ZERO;
        self.value(&zero).is_some()
    }

    /// The fields CSV writes, in its column order.
    pub(crate) fn csv_columns() -> Vec<Field> {
        let mut v: Vec<Field> = Field::ALL
            .into_iter()
            .filter(|f| f.csv_place().is_some())
            .collect();
        v.sort_by_key(|f| f.csv_place());
        v
    }

    /// The fields a JSON record writes, in its order.
    fn json_order() -> [Field; Field::ALL.len()] {
        let mut v = Field::ALL;
        v.sort_by_key(|f| f.json().0);
        v
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

/// One estimate in a JSON report (schema 1): the model, the central device-hours (null for
/// the per-sample model), every figure's band under its JSON key in the order `figures!`
/// gives (a band some models lack is null), and `advisory` when true. Fields may be added.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EstimateRecord {
    pub(crate) model: ModelKind,
    bands: [Option<JsonBand>; Field::ALL.len()],
    /// Shown for comparison, never the primary model (written only when true).
    pub(crate) advisory: bool,
}

impl From<&Estimate> for EstimateRecord {
    fn from(e: &Estimate) -> Self {
        EstimateRecord {
            model: e.kind,
            bands: Field::ALL.map(|f| f.band(e)),
            advisory: e.advisory,
        }
    }
}

/// The key of the central device-hours, kept from schema 1's first version beside the band.
const CENTRAL_DEVICE_HOURS: &str = "device_hours";

impl Serialize for EstimateRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("model", &self.model)?;
        let central_hours = self.band(Field::DeviceHours).map(|b| b.central);
        m.serialize_entry(CENTRAL_DEVICE_HOURS, &central_hours)?;
        for f in Field::json_order() {
            m.serialize_entry(f.json().1, &self.band(f))?;
        }
        if self.advisory {
            m.serialize_entry("advisory", &true)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for EstimateRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = serde_json::Map::deserialize(d)?;
        let model = map
            .remove("model")
            .ok_or_else(|| D::Error::missing_field("model"))?;
        let model = ModelKind::deserialize(model).map_err(D::Error::custom)?;
        let mut bands = [None; Field::ALL.len()];
        for (slot, f) in bands.iter_mut().zip(Field::ALL) {
            let key = f.json().1;
            *slot = match map.remove(key) {
                None | Some(serde_json::Value::Null) if !f.always_present() => None,
                None => return Err(D::Error::missing_field(key)),
                Some(v) => Some(
                    JsonBand::deserialize(v)
                        .map_err(|e| D::Error::custom(format!("{key}: {e}")))?,
                ),
            };
        }
        let advisory = match map.remove("advisory") {
            None => false,
            Some(v) => bool::deserialize(v).map_err(D::Error::custom)?,
        };
        Ok(EstimateRecord {
            model,
            bands,
            advisory,
        })
    }
}

impl EstimateRecord {
    /// The band of a field as recorded.
    pub(crate) fn band(&self, f: Field) -> Option<JsonBand> {
        self.bands[f as usize]
    }

    /// The estimate this record describes; every figure must be finite and ≥ 0.
    pub(crate) fn to_estimate(&self) -> Result<Estimate, String> {
        let zero = Outputs::ZERO;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row of `figures!` names its own slot of `Outputs`, key, JSON key and places: a row
    /// copied without editing one of them would write one figure under two names.
    #[test]
    fn every_figure_has_its_own_slot_key_and_places() {
        let mut seen = Vec::new();
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i);
            let mut o = Outputs::ZERO;
            f.set(&mut o, 7.0);
            assert_eq!(f.value(&o), Some(7.0), "{f:?} reads back what it set");
            for g in Field::ALL.into_iter().filter(|&g| g != f) {
                assert_ne!(g.value(&o), Some(7.0), "{f:?} and {g:?} share a slot");
            }
            seen.push(f.key());
            seen.push(f.label());
        }
        let json: Vec<_> = Field::json_order().map(|f| f.json().0).to_vec();
        assert!(json.windows(2).all(|w| w[0] < w[1]), "JSON places {json:?}");
        let csv: Vec<_> = Field::csv_columns().iter().map(|f| f.csv_place()).collect();
        assert!(csv.windows(2).all(|w| w[0] < w[1]), "CSV places {csv:?}");
        let n = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), n, "a key or label written twice");
    }

    #[test]
    fn a_record_reads_back_what_it_wrote() {
        let mut o = Outputs::ZERO;
        for (i, f) in Field::ALL.into_iter().enumerate() {
            f.set(&mut o, 1.5 * (i + 1) as f64);
        }
        let e = Estimate {
            kind: ModelKind::Compute,
            low: o,
            central: o,
            high: o,
            advisory: true,
        };
        let r = EstimateRecord::from(&e);
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.starts_with(r#"{"model":"compute","device_hours":1.5,"energy_kwh":"#));
        let back: EstimateRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.to_estimate().unwrap(), e);
        let missing = text.replace("\"co2e_kg\"", "\"other\"");
        let err = serde_json::from_str::<EstimateRecord>(&missing).unwrap_err();
        assert!(err.to_string().contains("co2e_kg"), "{err}");
    }
}
