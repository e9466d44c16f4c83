//! What the calculator gives: the figures of one evaluation ([`Outputs`], declared once by
//! `outputs!`), their bands, and one model's [`Estimate`].

use super::ModelKind;
use crate::units::{Duration, Energy, Flops, Mass, Money};

/// Declares [`Outputs`]: the figures every model has (`plain`) and those some lack (`opt`),
/// each listed once; `ZERO` and the min/max fold follow from the same list.
macro_rules! outputs {
    (plain { $($(#[$pdoc:meta])* $plain:ident: $pty:ident,)* }
     opt { $($(#[$odoc:meta])* $opt:ident: $oty:ident,)* }) => {
        /// The figures of one model at one point of the inputs.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct Outputs {
            $($(#[$pdoc])* pub $plain: $pty,)*
            $($(#[$odoc])* pub $opt: Option<$oty>,)*
        }

        impl Outputs {
            /// Every figure zero, and none of those a model may lack.
            pub const ZERO: Outputs = Outputs {
                $($plain: $pty::ZERO,)*
                $($opt: None,)*
            };

            /// Field by field, the smaller (`min`) or the larger of the two; a figure one side
            /// lacks is taken from the other.
            pub(super) fn fold(&self, o: &Outputs, min: bool) -> Outputs {
                let pick = |x: f64, y: f64| if min { x.min(y) } else { x.max(y) };
                Outputs {
                    $($plain: $pty::from_raw(pick(self.$plain.raw(), o.$plain.raw())),)*
                    $($opt: match (self.$opt, o.$opt) {
                        (Some(x), Some(y)) => Some($oty::from_raw(pick(x.raw(), y.raw()))),
                        (x, y) => x.or(y),
                    },)*
                }
            }
        }
    };
}

outputs! {
    plain {
        /// IT energy, before PUE.
        it_energy: Energy,
        /// Facility energy: IT energy × PUE.
        energy: Energy,
        operational: Mass,
        embodied: Mass,
        /// Operational + embodied.
        co2e: Mass,
    }
    opt {
        /// Device time (device-hours × 3600 s); `None` for the per-sample model.
        device_time: Duration,
        /// Wall-clock time, when the device count is known.
        wall_time: Duration,
        flops: Flops,
        compute_cost: Money,
        energy_cost: Money,
        carbon_cost: Money,
        /// Compute cost, else energy cost (the carbon cost is reported beside it, not in it).
        cost: Money,
    }
}

/// A value with its low and high ends over the input ranges.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Band<T> {
    pub low: T,
    pub central: T,
    pub high: T,
}

/// One model's result: the central figures and their extremes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub kind: ModelKind,
    pub low: Outputs,
    pub central: Outputs,
    pub high: Outputs,
    /// For comparison only: never the primary estimate.
    pub advisory: bool,
}

impl Estimate {
    /// One figure's low, central and high values, for a figure a model may not have.
    pub(crate) fn opt_band<T>(&self, f: impl Fn(&Outputs) -> Option<T>) -> Option<Band<T>> {
        Some(Band {
            low: f(&self.low)?,
            central: f(&self.central)?,
            high: f(&self.high)?,
        })
    }
}

impl Outputs {
    /// Every figure in its canonical unit, in a fixed order (for per-figure arithmetic).
    pub(super) fn figures(&self) -> [Option<f64>; 12] {
        [
            self.device_time.map(|x| x.raw()),
            self.wall_time.map(|x| x.raw()),
            self.flops.map(|x| x.raw()),
            Some(self.it_energy.raw()),
            Some(self.energy.raw()),
            Some(self.operational.raw()),
            Some(self.embodied.raw()),
            Some(self.co2e.raw()),
            self.compute_cost.map(|x| x.raw()),
            self.energy_cost.map(|x| x.raw()),
            self.carbon_cost.map(|x| x.raw()),
            self.cost.map(|x| x.raw()),
        ]
    }

    /// Each figure times its factor (same order as `figures`).
    pub(super) fn scaled(&self, k: &[f64; 12]) -> Outputs {
        Outputs {
            device_time: self.device_time.map(|x| x * k[0]),
            wall_time: self.wall_time.map(|x| x * k[1]),
            flops: self.flops.map(|x| x * k[2]),
            it_energy: self.it_energy * k[3],
            energy: self.energy * k[4],
            operational: self.operational * k[5],
            embodied: self.embodied * k[6],
            co2e: self.co2e * k[7],
            compute_cost: self.compute_cost.map(|x| x * k[8]),
            energy_cost: self.energy_cost.map(|x| x * k[9]),
            carbon_cost: self.carbon_cost.map(|x| x * k[10]),
            cost: self.cost.map(|x| x * k[11]),
        }
    }
}

impl Outputs {
    /// Whether every figure is a finite number (the calculator's inputs are bounded so that it
    /// is; this is the check that says so).
    pub(crate) fn is_finite(&self) -> bool {
        let plain = [
            self.it_energy.raw(),
            self.energy.raw(),
            self.operational.raw(),
            self.embodied.raw(),
            self.co2e.raw(),
        ];
        let opt = [
            self.device_time.map(|x| x.raw()),
            self.wall_time.map(|x| x.raw()),
            self.flops.map(|x| x.raw()),
            self.compute_cost.map(|x| x.raw()),
            self.energy_cost.map(|x| x.raw()),
            self.carbon_cost.map(|x| x.raw()),
            self.cost.map(|x| x.raw()),
        ];
        plain.iter().all(|x| x.is_finite()) && opt.iter().flatten().all(|x| x.is_finite())
    }
}

impl Estimate {
    pub(crate) fn is_finite(&self) -> bool {
        self.low.is_finite() && self.central.is_finite() && self.high.is_finite()
    }
}

/// The model a budget is checked against: the first of measured, calibrated, duration,
/// compute, per-sample that is not advisory (an advisory one only when nothing else exists).
pub(crate) fn primary(estimates: &[Estimate]) -> Option<&Estimate> {
    estimates
        .iter()
        .filter(|e| !e.advisory)
        .min_by_key(|e| e.kind)
        .or_else(|| estimates.iter().min_by_key(|e| e.kind))
}
