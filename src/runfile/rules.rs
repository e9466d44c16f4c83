//! Physical plausibility limits on run-file values, with the reason a user sees when a value
//! breaks one.

use super::Rule;

pub(crate) const UTILIZATION: Rule = Rule {
    min: Some((1e-6, true)),
    max: Some((1.0, true)),
    why: "utilization is achieved FLOP/s ÷ the device's peak FLOP/s",
};
pub(crate) const PUE: Rule = Rule {
    min: Some((1.0, true)),
    max: Some((5.0, true)),
    why: "PUE is facility energy ÷ IT energy, at least 1",
};
pub(crate) const DEVICE_POWER: Rule = Rule::positive_up_to(
    20_000.0,
    "power is per device: no accelerator draws more than a few kW",
);
pub(crate) const HOST_POWER: Rule = Rule::non_negative_up_to(
    20_000.0,
    "host power is the per-device share of CPU, RAM and network",
);
pub(crate) const INTENSITY: Rule = Rule::non_negative_up_to(
    2_000.0,
    "grid intensities are 0-1,200 gCO2e/kWh; is this in g/kWh, not lbs/MWh?",
);
pub(crate) const LIFETIME: Rule = Rule {
    min: Some((0.01, true)),
    max: Some((50.0, true)),
    why: "lifetime is in years",
};
// Upper bounds far beyond any real run, so that no product of inputs overflows.
pub(crate) const SAMPLE_BYTES: Rule = Rule::positive_up_to(1e15, "bytes per sample");
pub(crate) const REFERENCE_BYTES: Rule = Rule {
    min: Some((1e-3, true)),
    max: Some((1e15, true)),
    why: "bytes of the reference sample",
};
pub(crate) const EPOCHS: Rule = Rule::positive_up_to(1e6, "passes over the data");
pub(crate) const COST_PER_SAMPLE: Rule = Rule::non_negative_up_to(1e9, "USD per sample");
pub(crate) const ENERGY_PER_SAMPLE_KWH: Rule = Rule::positive_up_to(1e6, "kWh per sample");
pub(crate) const ENERGY_PER_SAMPLE_J: Rule = Rule::positive_up_to(3.6e12, "J per sample");
pub(crate) const FLOPS: Rule =
    Rule::positive_up_to(1e32, "frontier training runs are about 1e26 FLOPs");
pub(crate) const PARAMETERS: Rule = Rule::positive_up_to(1e16, "parameters of the model");
pub(crate) const TOKENS: Rule = Rule::positive_up_to(1e18, "training tokens");
pub(crate) const FLOPS_PER_SAMPLE: Rule = Rule::positive_up_to(1e24, "FLOPs per sample");
pub(crate) const HOURS: Rule = Rule::positive_up_to(1e6, "wall-clock hours (1e6 h is 114 years)");
pub(crate) const DEVICE_HOURS: Rule = Rule::positive_up_to(1e12, "device-hours");
pub(crate) const PRICE_PER_HOUR: Rule = Rule::non_negative_up_to(1e5, "USD per device-hour");
pub(crate) const CARBON_PRICE: Rule = Rule::non_negative_up_to(1e5, "USD per tonne CO2e");
pub(crate) const EMBODIED: Rule = Rule::non_negative_up_to(1e6, "kg CO2e to make one device");
pub(crate) const LIMIT: Rule = Rule::non_negative_up_to(1e15, "a budget limit");
pub(crate) const PUBLISHED: Rule = Rule::positive_up_to(1e15, "a published figure");
pub(crate) const TOLERANCE: Rule = Rule {
    min: Some((0.0, false)),
    max: Some((1.0, false)),
    why: "a relative tolerance: 0.02 is ±2 %",
};
pub(crate) const ELECTRICITY: Rule =
    Rule::non_negative_up_to(10.0, "electricity prices are in USD per kWh");
