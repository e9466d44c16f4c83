//! What `footprint sweep` found: one row per option, with the run's primary estimate. Plain
//! data, rendered by `report::sweep`.

use crate::impact::{Estimate, ModelKind};
use crate::record::Field;

/// One option: the values it set, and the run's primary estimate with them.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub(crate) device: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) count: Option<u64>,
    pub(crate) utilization: Option<f64>,
    pub(crate) pue: Option<f64>,
    pub(crate) epochs: Option<f64>,
    pub(crate) price: Option<f64>,
    pub(crate) model: ModelKind,
    pub(crate) estimate: Estimate,
    /// Its utilization is the generic default while other devices' rest on published runs or
    /// benchmarks: its place against them would be peak FLOP/s, not evidence, so it is listed
    /// after them without a rank (and marked neither cleanest, cheapest nor fastest).
    pub(crate) unranked: bool,
}

/// What a sweep found.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub(crate) name: String,
    pub rows: Vec<Row>,
    /// What the reader should know about the ranking (a device ranked without evidence).
    pub(crate) notes: Vec<String>,
    /// How many options were evaluated; `rows` may hold only those a ranking shows (the best
    /// `--top` and the cleanest, cheapest and fastest), so that memory does not grow with them.
    pub(crate) evaluated: usize,
}

impl Row {
    /// A figure's central value (time: wall clock, else device time); missing sorts last.
    pub(crate) fn figure(&self, f: Field) -> f64 {
        let o = &self.estimate.central;
        let v = match f {
            Field::WallClock => f.value(o).or_else(|| Field::DeviceHours.value(o)),
            _ => f.value(o),
        };
        v.unwrap_or(f64::INFINITY)
    }
}

/// The order a ranking by `f` shows: options ranked on evidence first, best first; then the
/// unranked ones, in the same order among themselves.
pub(crate) fn rank_order(a: &Row, b: &Row, f: Field) -> std::cmp::Ordering {
    a.unranked
        .cmp(&b.unranked)
        .then_with(|| a.figure(f).total_cmp(&b.figure(f)))
}

/// What the marks single out, in the order a tie is broken: the cleanest, the cheapest, the
/// fastest.
pub(crate) const MARKED: [(Field, &str); 3] = [
    (Field::Co2e, "cleanest"),
    (Field::Cost, "cheapest"),
    (Field::WallClock, "fastest"),
];

/// The ranked row best by `f` (lowest central figure); among equals, the best by the other marked
/// figures in `MARKED`'s order (the cleanest of the equally fast), then the first.
pub(crate) fn best_row(rows: &[Row], f: Field) -> Option<usize> {
    let key = |r: &Row| {
        let mut k = vec![r.figure(f)];
        k.extend(
            MARKED
                .iter()
                .filter(|(g, _)| *g != f)
                .map(|(g, _)| r.figure(*g)),
        );
        k
    };
    (0..rows.len())
        .filter(|&i| !rows[i].unranked && rows[i].figure(f).is_finite())
        .min_by(|&a, &b| {
            let (ka, kb) = (key(&rows[a]), key(&rows[b]));
            ka.iter()
                .zip(&kb)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
}
