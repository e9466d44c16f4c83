//! An accelerator's profile: its power, peak, memory, prices, embodied figure, and the family
//! whose training evidence applies.

use serde::Deserialize;

use super::{RegionName, Relative, Sourced};

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Accelerator {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) aliases: Vec<String>,
    /// Board power limit or TDP; `None` where the maker publishes none (Google's TPU v5 and v6).
    pub(crate) tdp_w: Option<Sourced>,
    pub(crate) peak_flops: Option<Sourced>,
    pub(crate) memory_gb: Option<Sourced>,
    /// The on-demand price per device-hour the profile gives by default (mostly AWS us-east-1;
    /// its source says which cloud and region).
    pub(crate) price_usd_per_hour: Option<Sourced>,
    /// On-demand prices per device-hour on named clouds (`aws`, `gcp`, `azure`), used for a run
    /// in that cloud's regions.
    pub(crate) prices: std::collections::BTreeMap<String, Sourced>,
    pub(crate) embodied_kg_co2e: Option<Sourced>,
    /// The architecture whose training evidence applies; every embedded accelerator has one,
    /// a user's new accelerator may leave it out (its utilization then gets the widest range).
    pub(crate) family: Option<Family>,
    /// Its achieved share of peak relative to H100's, where benchmarks of the same workload
    /// show it.
    pub(crate) relative_utilization: Option<Relative>,
    /// The file the entry came from.
    pub(crate) origin: String,
}

/// An accelerator's architecture: which published training runs and benchmarks describe it.
/// Data in `profiles/accelerators.toml`, so that a new accelerator says which evidence applies
/// instead of falling into a default by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Family {
    Pascal,
    Volta,
    Turing,
    Ampere,
    Ada,
    Hopper,
    Blackwell,
    /// AMD Instinct (CDNA 2 and 3).
    Cdna,
    /// Intel Gaudi.
    Gaudi,
    /// Google TPU.
    Tpu,
}

impl Family {
    /// Whether the family's devices have FP8 matrix units: `None` where it depends on the
    /// model (CDNA 3 has them and CDNA 2 not; Gaudi 2 and 3 but not the first; TPUs by
    /// generation), so a run's own word is taken.
    pub(crate) fn has_fp8(self) -> Option<bool> {
        match self {
            Family::Hopper | Family::Ada | Family::Blackwell => Some(true),
            Family::Pascal | Family::Volta | Family::Turing | Family::Ampere => Some(false),
            Family::Cdna | Family::Gaudi | Family::Tpu => None,
        }
    }
}

/// How a profile price relates to the run's place.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PriceMatch {
    /// The list price of the run's own cloud.
    SameCloud,
    /// The profile's default price, from another cloud than the run's (`run_cloud`).
    OtherCloud { run_cloud: String },
    /// A cloud list price for a run not in a cloud region (own hardware or unknown site).
    NotACloudRegion,
}

impl Accelerator {
    /// The price for a run in `region` ("gcp:us-central1", "FR", or none): the cloud's own
    /// when the profile has it, else the default, with how well it matches.
    pub(crate) fn price_for(&self, region: Option<&str>) -> Option<(&Sourced, PriceMatch)> {
        let cloud = region.and_then(|r| RegionName::parse(r).provider());
        match cloud {
            Some(c) => match self.prices.get(&c) {
                Some(p) => Some((p, PriceMatch::SameCloud)),
                None => self.price_usd_per_hour.as_ref().map(|p| {
                    let same = p.source.to_ascii_lowercase().starts_with(match c.as_str() {
                        "aws" => "aws",
                        "gcp" => "google",
                        "azure" => "azure",
                        other => other,
                    });
                    let m = if same {
                        PriceMatch::SameCloud
                    } else {
                        PriceMatch::OtherCloud {
                            run_cloud: c.clone(),
                        }
                    };
                    (p, m)
                }),
            },
            None => self
                .price_usd_per_hour
                .as_ref()
                .map(|p| (p, PriceMatch::NotACloudRegion)),
        }
    }
}
