//! Grids, cloud regions, and a region as a user names it.

use super::Sourced;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Grid {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) carbon_intensity_g_per_kwh: Sourced,
    pub(crate) note: Option<String>,
    pub(crate) origin: String,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CloudIntensity {
    /// The provider publishes a figure for the region.
    Own(Sourced),
    /// Location-based: the intensity of the grid the region is in.
    Grid(String),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cloud {
    pub(crate) code: String,
    pub(crate) place: String,
    pub(crate) intensity: CloudIntensity,
    pub(crate) origin: String,
}

/// A grid intensity found for a `region = "..."`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Region {
    /// The canonical code (`FR`, `US-CA`, `aws:us-east-1`).
    pub(crate) code: String,
    /// For people: "France", "N. Virginia (aws:us-east-1) on the US-VA grid".
    pub(crate) label: String,
    pub(crate) intensity: Sourced,
    /// The grid whose yearly series applies (the region's own, or its cloud region's grid);
    /// `None` for a cloud region with a figure of its own.
    pub(crate) grid: Option<String>,
}

/// A region as a user names it: a cloud provider's region (`aws:us-east-1`) or a grid (`FR`,
/// `US-CA`, `SE3`, `France`). Parsed here once; nothing else looks for the colon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RegionName {
    Grid(String),
    Cloud { provider: String, region: String },
}

impl RegionName {
    pub(crate) fn parse(name: &str) -> RegionName {
        match name.split_once(':') {
            Some((provider, region)) => RegionName::Cloud {
                provider: provider.to_string(),
                region: region.to_string(),
            },
            None => RegionName::Grid(name.to_string()),
        }
    }

    pub(crate) fn is_cloud(&self) -> bool {
        matches!(self, RegionName::Cloud { .. })
    }

    /// The cloud provider, lower-cased, for a cloud region.
    pub(crate) fn provider(&self) -> Option<String> {
        match self {
            RegionName::Cloud { provider, .. } => Some(provider.to_ascii_lowercase()),
            RegionName::Grid(_) => None,
        }
    }
}

impl std::fmt::Display for RegionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegionName::Grid(g) => f.write_str(g),
            RegionName::Cloud { provider, region } => write!(f, "{provider}:{region}"),
        }
    }
}
