//! The keys of each section of a run file: the contract of docs/run-format.md, in one place.

pub(crate) const TOP: &[&str] = &[
    "name",
    "description",
    "dataset",
    "per_sample",
    "compute",
    "hardware",
    "site",
    "embodied",
    "measured",
    "budget",
    "published",
];
pub(crate) const DATASET: &[&str] = &["samples", "sample_bytes", "epochs", "shards"];
pub(crate) const SHARD: &[&str] = &["samples", "sample_bytes"];
pub(crate) const PER_SAMPLE: &[&str] = &[
    "cost_usd",
    "energy_kwh",
    "energy_j",
    "scaling",
    "reference_bytes",
];
pub(crate) const COMPUTE: &[&str] = &[
    "flops",
    "parameters",
    "tokens",
    "flops_per_sample",
    "active_parameters",
    "precision",
];
pub(crate) const HARDWARE: &[&str] = &[
    "device",
    "count",
    "utilization",
    "power_w",
    "hours",
    "device_hours",
    "host_power_w",
    "price_usd_per_device_hour",
];
pub(crate) const SITE: &[&str] = &[
    "carbon_intensity_g_per_kwh",
    "region",
    "pue",
    "electricity_usd_per_kwh",
    "carbon_price_usd_per_t",
    "year",
    "intensity_series",
];
pub(crate) const EMBODIED: &[&str] = &["kg_co2e_per_device", "lifetime_years"];
pub(crate) const MEASURED: &[&str] = &["report", "same_workload"];
pub(crate) const BUDGET: &[&str] = &["max_co2e_kg", "max_energy_kwh", "max_cost_usd"];
pub(crate) const PUBLISHED: &[&str] = &[
    "energy_kwh",
    "co2e_kg",
    "device_hours",
    "cost_usd",
    "tolerance",
    "source",
];

/// Every section with its keys, for "`pue` belongs in `[site]`" hints.
pub(crate) const ALL: &[(&str, &[&str])] = &[
    ("", &["name", "description"]),
    ("dataset", DATASET),
    ("per_sample", PER_SAMPLE),
    ("compute", COMPUTE),
    ("hardware", HARDWARE),
    ("site", SITE),
    ("embodied", EMBODIED),
    ("measured", MEASURED),
    ("budget", BUDGET),
    ("published", PUBLISHED),
];

#[cfg(test)]
mod tests {
    use super::{ALL, SHARD, TOP};

    /// A key declared here but read by no section reader would pass `check_keys` and then be
    /// silently ignored: the user's figure would change nothing. Each declared key must appear
    /// in a reading call (`.range("key"`, `.number("key"`, …) of the readers.
    #[test]
    fn every_declared_key_is_read_by_a_section_reader() {
        let readers = [include_str!("sections.rs"), include_str!("mod.rs")].concat();
        let calls = [
            "range", "number", "whole", "year", "string", "boolean", "table", "tables",
        ];
        let declared = ALL
            .iter()
            .flat_map(|(section, keys)| keys.iter().map(move |k| (*section, *k)))
            .chain(SHARD.iter().map(|k| ("dataset.shards", *k)))
            .chain(TOP.iter().map(|k| ("", *k)));
        for (section, key) in declared {
            let read = calls
                .iter()
                .any(|call| readers.contains(&format!(".{call}(\"{key}\"")));
            assert!(read, "[{section}] {key} is declared but no reader reads it");
        }
    }
}
