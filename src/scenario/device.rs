//! How the devices draw power and cost money (from the run file, else their profile and
//! footprint's defaults), and their embodied share.

use super::*;

pub(super) fn device_use(
    b: &mut Builder<'_>,
    device: Option<&Accelerator>,
) -> Result<DeviceUse, InputError> {
    let h = b
        .spec
        .hardware
        .as_ref()
        .expect("device models have [hardware]");
    // The device's TDP, where its profile has one: what power defaults scale from.
    let tdp = device.and_then(|acc| acc.tdp_w.as_ref().map(|t| (acc, t)));
    Ok(DeviceUse {
        power: device_power(b, h, device, tdp)?,
        host_power: host_power(b, h, tdp),
        price: device_price(b, h, device),
    })
}

/// Average power per device: given, else a share of the profile's TDP, else an error.
pub(super) fn device_power(
    b: &mut Builder<'_>,
    h: &crate::runfile::Hardware,
    device: Option<&Accelerator>,
    tdp: Option<(&Accelerator, &crate::profiles::Sourced)>,
) -> Result<Param<Power>, InputError> {
    let spec = b.spec;
    Ok(match (&h.power_w, tdp) {
        (Some(p), _) => b.param(p.value, Power::from_watts),
        (None, Some((acc, tdp))) => {
            let d = crate::defaults::POWER_FRACTION_OF_TDP;
            b.uncertain(
                "hardware.power_w",
                d.times(tdp.value),
                Some("W"),
                format!(
                    "{:.0}-{:.0} % of TDP: the {} TDP ({}); {}",
                    d.low * 100.0,
                    d.high * 100.0,
                    acc.name,
                    tdp.citation(),
                    d.basis
                ),
                Power::from_watts,
            )
        }
        (None, None) => {
            let why = match device {
                Some(acc) => format!(
                    "the {} profile has no TDP (its maker publishes none): give power_w, the average W per device",
                    acc.name
                ),
                None => "give power_w (average W per device) or a device whose TDP can be used"
                    .to_string(),
            };
            return Err(spec
                .error_at(h.line, "hardware.power_w", why)
                .for_key("hardware.power_w"));
        }
    })
}

/// Host (CPU, RAM, network) power per device: given, else a share of the device's TDP, else 0
/// (said so).
pub(super) fn host_power(
    b: &mut Builder<'_>,
    h: &crate::runfile::Hardware,
    tdp: Option<(&Accelerator, &crate::profiles::Sourced)>,
) -> Param<Power> {
    match (&h.host_power_w, tdp) {
        (Some(p), _) => b.param(p.value, Power::from_watts),
        (None, Some((acc, tdp))) => {
            let d = if crate::defaults::generation(acc) == crate::defaults::Generation::Tpu {
                crate::defaults::TPU_HOST_POWER_FRACTION
            } else {
                crate::defaults::HOST_POWER_FRACTION_OF_TDP
            };
            b.uncertain(
                "hardware.host_power_w",
                d.times(tdp.value),
                Some("W"),
                format!(
                    "{:.0}-{:.0} % of TDP per device: the {} TDP; {}",
                    d.low * 100.0,
                    d.high * 100.0,
                    acc.name,
                    d.basis
                ),
                Power::from_watts,
            )
        }
        (None, None) => {
            let host = b.given_or(
                None,
                "hardware.host_power_w",
                Some("W"),
                RangeValue::point(0.0),
                Origin::Default,
                "host CPU, RAM and network power not counted (no device TDP to scale it from)",
            );
            b.param(host, Power::from_watts)
        }
    }
}

/// Rental price per device-hour: given, else the profile's list price for the run's cloud
/// (flagged when it is another cloud's or the site is not a cloud region).
pub(super) fn device_price(
    b: &mut Builder<'_>,
    h: &crate::runfile::Hardware,
    device: Option<&Accelerator>,
) -> Option<Param<TimePrice>> {
    let spec = b.spec;
    let region = spec.site.region.as_ref().map(|r| r.value.as_str());
    match (
        &h.price_usd_per_device_hour,
        device.and_then(|d| d.price_for(region).map(|(p, m)| (d, p, m))),
    ) {
        (Some(p), _) => Some(b.param(p.value, TimePrice::from_usd_per_hour)),
        (None, Some((acc, p, m))) => {
            use crate::profiles::PriceMatch;
            let flag = match &m {
                PriceMatch::SameCloud => String::new(),
                PriceMatch::OtherCloud { run_cloud } => format!(
                    " (ANOTHER CLOUD's price: the profile has no {run_cloud} price; give price_usd_per_device_hour for yours)"
                ),
                PriceMatch::NotACloudRegion => " (a cloud's on-demand price: the run's site is not a cloud region; give price_usd_per_device_hour for your own)".to_string(),
            };
            if m != PriceMatch::SameCloud {
                b.notes.push(
                    "cost at a cloud list price; yours: hardware.price_usd_per_device_hour"
                        .to_string(),
                );
            }
            b.assume(
                "hardware.price_usd_per_device_hour",
                AssumedValue::Number(p.value),
                Some("USD/h"),
                Origin::Profile,
                format!("{}: {}{flag}", acc.name, p.citation()),
            );
            Some(b.inputs.point(TimePrice::from_usd_per_hour(p.value)))
        }
        (None, None) => None,
    }
}

pub(super) fn embodied(
    b: &mut Builder<'_>,
    device: Option<&Accelerator>,
) -> Result<Option<Embodied>, InputError> {
    let spec = b.spec;
    let Some(e) = &spec.embodied else {
        b.notes.push(
            "embodied (manufacturing) CO2e not counted: add [embodied] to include it".to_string(),
        );
        return Ok(None);
    };
    let per_device = match (&e.kg_co2e_per_device, device) {
        (Some(k), _) => b.param(k.value, Mass::from_kg),
        (None, Some(acc)) => match (&acc.embodied_kg_co2e, &acc.memory_gb) {
            // The device's published figure, with the spread independent assessments show.
            (Some(s), _) => {
                let d = crate::defaults::EMBODIED_SPREAD.times(s.value);
                b.uncertain_from(
                    Origin::Profile,
                    "embodied.kg_co2e_per_device",
                    d,
                    Some("kg"),
                    format!("{}: {}; range: {}", acc.name, s.citation(), d.basis),
                    Mass::from_kg,
                )
            }
            // No published figure: modelled from its memory, and labelled so.
            (None, Some(memory)) => {
                let kg = crate::defaults::EMBODIED_KG_PER_MEMORY_GB * memory.value
                    + crate::defaults::EMBODIED_KG_BESIDES_MEMORY;
                let d = crate::defaults::EMBODIED_MODELLED.times(kg);
                b.uncertain(
                    "embodied.kg_co2e_per_device",
                    d,
                    Some("kg"),
                    format!(
                        "modelled: {} has no published figure; {} GB of memory: {}",
                        acc.name, memory.value, d.basis
                    ),
                    Mass::from_kg,
                )
            }
            (None, None) => {
                return Err(spec.error_at(
                    e.line,
                    "embodied.kg_co2e_per_device",
                    format!(
                        "profile {} has no embodied figure and no memory size to model one from: give kg_co2e_per_device",
                        acc.name
                    ),
                ));
            }
        },
        (None, None) => {
            return Err(spec.error_at(
                e.line,
                "embodied.kg_co2e_per_device",
                "give kg_co2e_per_device (no [hardware] device to take it from)",
            ));
        }
    };
    let years = b.given_or(
        e.lifetime_years.as_ref(),
        "embodied.lifetime_years",
        Some("years"),
        RangeValue::point(DEFAULT_LIFETIME_YEARS),
        Origin::Default,
        "a typical accelerator service life",
    );
    let lifetime = b.param(years, Duration::from_years);
    Ok(Some(Embodied {
        per_device,
        lifetime,
    }))
}
