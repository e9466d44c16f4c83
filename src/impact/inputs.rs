//! A scenario's inputs: each a typed handle ([`Param`]) into one table of low, central and
//! high values, so that the calculator can evaluate every corner of the ranged ones.

use std::marker::PhantomData;

use crate::units::{
    CarbonIntensity, CarbonPrice, Duration, Energy, EnergyPrice, FlopRate, Flops, Mass, Money,
    Power, TimePrice,
};

/// A quantity that can live in the input table (stored as its canonical raw `f64`).
pub trait Quantity: Copy {
    fn to_raw(self) -> f64;
    fn from_raw(x: f64) -> Self;
}

impl Quantity for f64 {
    fn to_raw(self) -> f64 {
        self
    }
    fn from_raw(x: f64) -> Self {
        x
    }
}

macro_rules! quantity_impl {
    ($($t:ty),*) => {$(
        impl Quantity for $t {
            fn to_raw(self) -> f64 { self.raw() }
            fn from_raw(x: f64) -> Self { <$t>::from_raw(x) }
        }
    )*};
}
quantity_impl!(
    Energy,
    Power,
    Duration,
    Mass,
    Money,
    CarbonIntensity,
    EnergyPrice,
    TimePrice,
    CarbonPrice,
    FlopRate,
    Flops
);

/// A handle to one input of a scenario, typed by what it measures.
pub struct Param<T> {
    idx: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Param<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Param<T> {}

impl<T> std::fmt::Debug for Param<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Param({})", self.idx)
    }
}

/// What a range means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spread {
    /// Hard bounds (a range the user gave): the outputs' extremes over every corner.
    Bound,
    /// A default's plausible spread (from published evidence): independent of the others, so
    /// such spreads combine as the root-sum-square of their one-at-a-time effects in log space.
    Uncertain,
}

/// Low, central and high value of an input, in its canonical unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct InputRange {
    pub low: f64,
    pub central: f64,
    pub high: f64,
    pub spread: Spread,
}

/// The table of a scenario's inputs.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub(super) ranges: Vec<InputRange>,
}

impl Inputs {
    /// Adds an input known within `[low, high]`, most likely `central`.
    pub(crate) fn range<T: Quantity>(&mut self, low: T, central: T, high: T) -> Param<T> {
        self.add(low, central, high, Spread::Bound)
    }

    /// Adds an input whose value is a default with a plausible spread (see [`Spread`]).
    pub(crate) fn uncertain<T: Quantity>(&mut self, low: T, central: T, high: T) -> Param<T> {
        self.add(low, central, high, Spread::Uncertain)
    }

    fn add<T: Quantity>(&mut self, low: T, central: T, high: T, spread: Spread) -> Param<T> {
        let (l, c, h) = (low.to_raw(), central.to_raw(), high.to_raw());
        debug_assert!(l <= c && c <= h, "range out of order: {l} {c} {h}");
        self.ranges.push(InputRange {
            low: l,
            central: c,
            high: h,
            spread,
        });
        Param {
            idx: self.ranges.len() - 1,
            _t: PhantomData,
        }
    }

    /// Adds an input known exactly.
    pub fn point<T: Quantity>(&mut self, v: T) -> Param<T> {
        self.range(v, v, v)
    }

    pub(crate) fn get<T: Quantity>(&self, p: Param<T>) -> InputRange {
        self.ranges[p.idx]
    }
}

/// One assignment of a value to every input.
pub(super) struct Point<'a>(pub(super) &'a [f64]);

impl Point<'_> {
    pub(super) fn get<T: Quantity>(&self, p: Param<T>) -> T {
        T::from_raw(self.0[p.idx])
    }
}
