//! What footprint assumes when a run file does not say: each default is a range with the
//! published evidence behind it (docs/assumptions.md lists them with their sources).
//!
//! A default is not a point: the truth for a run nobody has measured lies somewhere in a
//! spread that published runs show. These spreads enter the calculator as *uncertain* inputs
//! (`impact::Spread::Uncertain`), combined as independent factors, so a report's low–high is
//! what the evidence supports, not an artefact of one default.

use crate::profiles::Accelerator;

/// A default value with its plausible spread and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Default3 {
    pub(crate) low: f64,
    pub(crate) central: f64,
    pub(crate) high: f64,
    /// The evidence, for the report's assumption list.
    pub(crate) basis: &'static str,
}

impl Default3 {
    /// Every value times `k`.
    pub(crate) fn times(self, k: f64) -> Default3 {
        Default3 {
            low: self.low * k,
            central: self.central * k,
            high: self.high * k,
            ..self
        }
    }
}

/// Accelerator generations, as far as utilization is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Generation {
    /// P100, V100: GPT-3-era training.
    PascalVolta,
    /// A100, A800, A10(G), A40, A6000, RTX 30xx.
    Ampere,
    /// H100, H200, H800, H20, L4/L40(S), RTX 40xx/50xx, Blackwell.
    HopperOrLater,
    /// Google TPUs.
    Tpu,
    /// AMD Instinct, Intel Gaudi and anything else.
    Other,
}

/// The generation of an accelerator profile, from its `family` (data, not its name).
pub(crate) fn generation(acc: &Accelerator) -> Generation {
    use crate::profiles::Family;
    match acc.family {
        Some(Family::Tpu) => Generation::Tpu,
        Some(Family::Pascal | Family::Volta) => Generation::PascalVolta,
        Some(Family::Ampere) => Generation::Ampere,
        Some(Family::Hopper | Family::Ada | Family::Blackwell) => Generation::HopperOrLater,
        Some(Family::Turing | Family::Cdna | Family::Gaudi) | None => Generation::Other,
    }
}

/// Model FLOPs utilization (on the 6·P·T basis, of the dense BF16/FP16 peak, over billed
/// device-hours: restarts and downtime included) of training runs on each generation, by model
/// size where the evidence shows a trend. `parameters` is `None` when the run gives its FLOPs
/// but not its size.
pub(crate) fn utilization_by_generation(
    g: Generation,
    parameters: Option<f64>,
    year: Option<u64>,
) -> Default3 {
    let p = parameters.unwrap_or(10e9);
    // Software improves: a run in 2025 or later (or whose year is not given) gets what the
    // latest published runs of its generation reached; an earlier run, what runs of its time did.
    let recent = year.is_none_or(|y| y >= 2025);
    match g {
        Generation::PascalVolta => Default3 {
            low: 0.14,
            central: 0.21,
            high: 0.30,
            basis: "V100 runs over billed hours: GPT-3 19.7 % (Patterson et al. 2021), XLM 21 % (Wu et al. 2022), Megatron-LM ~30 % steady (2019)",
        },
        Generation::Ampere if p < 1e9 => Default3 {
            low: 0.12,
            central: 0.22,
            high: 0.33,
            basis: "A100 runs < 1B: A100 runs of models under 1B parameters: Pythia 70M-410M 22-26 % over billed hours (Biderman et al. 2023); small models keep the devices less busy",
        },
        Generation::Ampere => Default3 {
            low: 0.27,
            central: 0.38,
            high: 0.50,
            basis: "A100 runs: over billed hours (6PT / GPU-hours / 312 TFLOP/s): LLaMA 7B-65B 43-51 %, Llama 2 35-43 % (Touvron et al. 2023), Pythia 1-12B 27-33 % (Biderman et al. 2023), BLOOM 32 % (Luccioni et al. 2022), StarCoder 26 % (Li et al. 2023), OPT 21 % with its restarts (Zhang et al. 2022)",
        },
        Generation::HopperOrLater if p < 20e9 && recent => Default3 {
            low: 0.16,
            central: 0.26,
            high: 0.38,
            basis: "H100 runs < 20B, late 2024: the latest level, over billed hours (6PT / GPU-hours / 989 TFLOP/s): Granite 3.0 2B/8B 26 %/20 % (IBM, Oct 2024), OLMo 2 7B/13B 25-33 % (AI2, Nov 2024), Phi-4 14B 25 % (Microsoft, Dec 2024), Falcon-Mamba 7B 18 % (TII, Aug 2024); Jean Zay runs at 6 % (Pleias 3B, Dec 2024) are below it",
        },
        Generation::HopperOrLater if p < 20e9 => Default3 {
            low: 0.13,
            central: 0.21,
            high: 0.34,
            basis: "H100 runs < 20B, 2023-24: runs that ran in 2023-2024, over billed hours (6PT / GPU-hours / 989 TFLOP/s): Llama 3/3.1 8B 14-16 % (Meta 2024), Phi-3 mini/medium 25 %/22 % (Microsoft, Apr 2024), Nemotron-4 15B 31 % (NVIDIA, Feb 2024), Granite 3.0 2B/8B 26 %/20 % (IBM 2024), MosaicML H100 benchmarks 27-46 % steady (2023)",
        },
        Generation::HopperOrLater if p < 200e9 => Default3 {
            low: 0.18,
            central: 0.27,
            high: 0.40,
            basis: "H100 runs of 20-200B: over billed hours: Llama 3 / 3.1 70B 25-28 % (Meta 2024), 38-43 % steady MFU at scale (Dubey et al. 2024)",
        },
        Generation::HopperOrLater => Default3 {
            low: 0.25,
            central: 0.34,
            high: 0.45,
            basis: "H100 runs > 200B: Llama 3.1 405B 34.5 % over billed hours, 38-43 % steady (Dubey et al. 2024), DeepSeek-V3 ~35 % BF16-equivalent (2024)",
        },
        Generation::Tpu => Default3 {
            low: 0.23,
            central: 0.33,
            high: 0.47,
            basis: "TPU runs over billed chip-hours: Gopher 30 % on v3 (Rae et al. 2021), PaLM 30 % over 8.4M chip-hours and 46.2 % steady on v4 (Chowdhery et al. 2022)",
        },
        Generation::Other => Default3 {
            low: 0.15,
            central: 0.28,
            high: 0.45,
            basis: "no runs of this family: AMD Instinct, Intel Gaudi and others: few published runs; the span of A100 and H100 runs over billed hours (2022-2024)",
        },
    }
}

/// How utilization moves with the number of devices: thousands lose time to communication
/// and failures. Multiplies the generation's range.
pub(crate) fn scale_factor(count: f64) -> (f64, &'static str) {
    if count <= 1024.0 {
        (1.0, "up to 1,024 devices")
    } else if count <= 8192.0 {
        (
            0.95,
            "1,025-8,192 devices: MT-NLG 40 -> 36 %, Llama 3 43 -> 38 % with scale (x0.95)",
        )
    } else {
        (0.9, "over 8,192 devices: communication and failures (x0.9)")
    }
}

/// Whether published training evidence (runs of its generation, or a benchmark against H100)
/// backs an accelerator's utilization default; if not, the default is the generic one and a
/// ranking of it against other devices is not supported by evidence.
pub(crate) fn has_training_evidence(acc: &Accelerator) -> bool {
    acc.relative_utilization.is_some() || generation(acc) != Generation::Other
}

/// Mixture-of-experts runs against dense runs of their active size (6 · active parameters ·
/// tokens over billed hours): routing and expert parallelism keep devices less busy.
pub(crate) const MOE_FACTOR: Default3 = Default3 {
    low: 0.55,
    central: 0.80,
    high: 1.0,
    basis: "mixture-of-experts runs on the 6 x active x T basis, published before 2025: JetMoE-8B 15 %, Phi-3.5-MoE 19 % on H100, DeepSeek-V2 21 % on H800, Granite 3.0 1B/3B MoE 10 % (2024), against 20-31 % for dense runs of their size; DeepSeek-V3 35 % in FP8 (Dec 2024) at the top",
};

/// FP8 training against BF16 on the same device and model (end-to-end tokens/s): the
/// utilization evidence above is BF16/FP16, measured against the BF16 peak, so an FP8 run's
/// default is that times this speed-up. Matrix multiplies run at up to twice the rate; the
/// rest of a step (attention's softmax, normalisation, communication, optimizer) does not.
pub(crate) const FP8_FACTOR: Default3 = Default3 {
    low: 1.15,
    central: 1.35,
    high: 1.65,
    basis: "FP8 over BF16 throughput on H100, same model and devices, published before 2025: GPT-22B 1.15x (Megatron-LM issue 330, 2023), GPT-2 XL 1.33x (ROCm TransformerEngine issue 72, 2024), Llama-3-70B up to 1.37x (Fujii et al. 2024), GPT-175B about 1.4x with Transformer Engine (FP8-LM, Peng et al. 2023), GPT-13B 1.42x (Megatron-LM issue 396, 2023), Llama 3.1 405B 1.62x (torchtitan, 2024)",
};

/// The last year of the utilization evidence above: a run in a later year may run on software
/// that none of it saw.
pub(crate) const UTILIZATION_EVIDENCE_YEAR: u64 = 2024;

/// Per year after [`UTILIZATION_EVIDENCE_YEAR`]: software raises what the best runs reach (the
/// ceiling), not what a run that waits, restarts or is poorly tuned gets (the floor), so the
/// level stays the latest measured one and only the high end widens, compounding by year.
pub(crate) const SOFTWARE_TREND_PER_YEAR: Default3 = Default3 {
    low: 1.0,
    central: 1.0,
    high: 1.25,
    basis: "software raises the ceiling about a quarter a year, published before 2025: the same 512 H100 GPUs trained MLPerf's GPT-3 27 % faster in June 2024 than in June 2023 from software alone (NVIDIA, MLPerf Training v4.0), and H100 runs under 20B went from 21 % (2023-24) to 26 % (late 2024) over billed hours",
};

/// Years after the utilization evidence that a run in `year` lies (a run with no year is taken
/// to be one: it runs now, after the evidence).
pub(crate) fn years_after_evidence(year: Option<u64>) -> u32 {
    match year {
        Some(y) => y.saturating_sub(UTILIZATION_EVIDENCE_YEAR).min(10) as u32,
        None => 1,
    }
}

/// `base` times an independent factor (`low`, `central`, `high`): centrals multiply, and the
/// spreads add as root-sum-square in log space, as the calculator combines independent
/// defaults (a benchmark ratio's spread and a run's do not compound at their extremes).
fn independent(base: Default3, (low, central, high): (f64, f64, f64)) -> Default3 {
    let down = ((base.central / base.low).ln().powi(2) + (central / low).ln().powi(2)).sqrt();
    let up = ((base.high / base.central).ln().powi(2) + (high / central).ln().powi(2)).sqrt();
    let c = base.central * central;
    Default3 {
        low: c * (-down).exp(),
        central: c,
        high: c * up.exp(),
        basis: base.basis,
    }
}

/// What the utilization default is made of, for the assumption's basis.
pub(crate) struct UtilizationBasis {
    pub(crate) scale: &'static str,
    /// The device's benchmark ratio to H100, when it scales the default.
    pub(crate) relative: Option<String>,
    pub(crate) moe: bool,
    /// Trained in FP8: the default is multiplied by [`FP8_FACTOR`].
    pub(crate) fp8: bool,
    /// Years after the evidence: the high end is widened by [`SOFTWARE_TREND_PER_YEAR`] for each.
    pub(crate) years_after_evidence: u32,
}

/// The utilization default for `count` devices of `acc` training a model of `parameters`
/// (active parameters for a mixture of experts, `moe`) in `year`, and what it is made of.
///
/// A device whose training benchmarks (MLPerf) place it against H100 gets H100's default for
/// the model's size and year times that ratio, with the ratio's range; so no device with a
/// published benchmark falls back to the generic default, and devices are ranked by evidence,
/// not by peak FLOP/s.
pub(crate) fn utilization(
    acc: &Accelerator,
    count: f64,
    parameters: Option<f64>,
    moe: bool,
    fp8: bool,
    year: Option<u64>,
) -> (Default3, UtilizationBasis) {
    let (k, scale) = scale_factor(count);
    let generation = generation(acc);
    let relative = acc.relative_utilization.as_ref();
    let mut u = match relative {
        Some(r) if generation != Generation::Tpu => independent(
            utilization_by_generation(Generation::HopperOrLater, parameters, year),
            (r.low, r.central, r.high),
        ),
        _ => utilization_by_generation(generation, parameters, year),
    }
    .times(k);
    if moe {
        u = independent(u, (MOE_FACTOR.low, MOE_FACTOR.central, MOE_FACTOR.high));
    }
    let years_after_evidence = years_after_evidence(year);
    if years_after_evidence > 0 {
        let t = SOFTWARE_TREND_PER_YEAR;
        let n = years_after_evidence as i32;
        u = independent(u, (t.low.powi(n), t.central.powi(n), t.high.powi(n)));
    }
    u.high = u.high.min(0.7);
    u.central = u.central.min(u.high);
    // After the cap: against the BF16 peak an FP8 run can pass 0.7 (its own peak is twice).
    if fp8 {
        u = independent(u, (FP8_FACTOR.low, FP8_FACTOR.central, FP8_FACTOR.high));
    }
    let relative = relative.filter(|_| generation != Generation::Tpu).map(|r| {
        format!(
            "x{} ({}-{}) against H100: {}, {}",
            r.central, r.low, r.high, r.source, r.year
        )
    });
    (
        u,
        UtilizationBasis {
            scale,
            relative,
            moe,
            fp8,
            years_after_evidence,
        },
    )
}

/// The spread of a device's published embodied figure: independent life-cycle assessments of
/// the same GPU land up to 1.7 times above the manufacturer's own product carbon footprint
/// (boundaries, data centre share of packaging and transport, memory yields).
pub(crate) const EMBODIED_SPREAD: Default3 = Default3 {
    low: 0.75,
    central: 1.0,
    high: 1.7,
    basis: "independent figures for one GPU against the manufacturer's: H100 164 kg (NVIDIA HGX H100 product carbon footprint, per GPU of the 8-GPU board) vs 273 kg (ADEME/Hubblo); A100 128 kg (teardown LCA, Falk et al. 2025), 150 kg (BLOOM, Luccioni et al. 2022), 181 kg (ADEME/Hubblo calculator)",
};

/// Embodied CO2e of an accelerator with no published figure, modelled from its memory: the
/// HGX H100 product carbon footprint puts 546 of its 1,312 kg in the memory of 8 × 80 GB
/// (0.85 kg per GB) and 96 kg per GPU in everything else (logic, package, board, thermal).
/// Checked against the HGX B200 footprint (284 kg per GPU; the model says 249, -12 %).
pub(crate) const EMBODIED_KG_PER_MEMORY_GB: f64 = 546.0 / (8.0 * 80.0);
pub(crate) const EMBODIED_KG_BESIDES_MEMORY: f64 = (1312.0 - 546.0) / 8.0;

/// The spread of that model: twice either way (a GDDR card's smaller board, an HBM part's
/// larger package and yield losses).
pub(crate) const EMBODIED_MODELLED: Default3 = Default3 {
    low: 0.5,
    central: 1.0,
    high: 2.0,
    basis: "modelled from device memory with the HGX H100 product carbon footprint's split (NVIDIA: 546 of 1,312 kg CO2e in 8 x 80 GB of HBM3, 0.85 kg per GB, and 96 kg per GPU for the rest); the HGX B200 footprint (284 kg per GPU) is 14 % above the model",
};

/// Average accelerator power during training as a fraction of its TDP.
pub(crate) const POWER_FRACTION_OF_TDP: Default3 = Default3 {
    low: 0.65,
    central: 0.80,
    high: 1.00,
    basis: "measured H100 nodes at 76-82 % of rating during LLM training (Latif et al. 2024); TDP itself, as Meta and BigScience assumed, is the high end",
};

/// Host CPU, memory, network and fans per accelerator, as a fraction of the accelerator's TDP.
pub(crate) const HOST_POWER_FRACTION_OF_TDP: Default3 = Default3 {
    low: 0.0,
    central: 0.20,
    high: 0.50,
    basis: "from GPU-only accounting, as most model cards report (Meta, BigScience, IBM, AI2 2022-2025), to measured node overheads of 20-60 % of GPU TDP (BLOOM +59 %, Luccioni et al. 2022); the DGX nameplates (6.5 kW A100, 10.2 kW H100 for 8 GPUs, NVIDIA 2020, 2023) are maxima, not averages",
};

/// Host power per TPU chip, as a fraction of the chip's maximum: TPU hosts are a larger
/// share of a system than GPU hosts.
pub(crate) const TPU_HOST_POWER_FRACTION: Default3 = Default3 {
    low: 0.2,
    central: 0.5,
    high: 1.1,
    basis: "measured system power per TPU chip over the chip's maximum: T5 and Meena on v3 1.1-1.2 (Patterson et al. 2021), PaLM on v4 2.0 (Chowdhery et al. 2022)",
};

/// PUE of a hyperscale cloud region.
pub(crate) const PUE_CLOUD: Default3 = Default3 {
    low: 1.08,
    central: 1.12,
    high: 1.20,
    basis: "hyperscale fleets: Meta 1.08, Google 1.09-1.10, AWS 1.14-1.15, Microsoft 1.12-1.18 (sustainability reports 2023-2024)",
};

/// PUE of a site whose operator is not known.
pub(crate) const PUE_UNKNOWN: Default3 = Default3 {
    low: 1.06,
    central: 1.15,
    high: 1.45,
    basis: "sites that host training runs: HPC centres and hyperscale 1.06-1.2 (LUMI 1.1, Jean Zay 1.2, Meta 1.08, Google 1.1), IDC cloud average 1.25, colocation 1.42 (Equinix 2023); the Uptime Institute survey average, 1.56-1.58 (2022-2024), is dominated by small enterprise rooms",
};

/// Which year a grid's figure is of, against the run's year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GridYear {
    /// The figure is of the run's year.
    Published,
    /// The run is in a later year than the figure (or gives no year): the grid has moved since.
    Later,
    /// The run is in an earlier year than the figure: the grid has moved since the run.
    Earlier,
}

/// The spread of a grid's intensity around its published annual average, as multipliers:
/// accounting basis (direct vs life-cycle, production vs consumption) and the site's own
/// supply, and, for a run in another year than the figure's, the year-to-year change.
/// Low-carbon grids move more in relative terms, and in either direction.
pub(crate) fn grid_spread(intensity_g_per_kwh: f64, when: GridYear) -> Default3 {
    match (intensity_g_per_kwh >= 150.0, when) {
        (true, GridYear::Published) => Default3 {
            low: 0.80,
            central: 1.0,
            high: 1.25,
            basis: "annual average of a fossil-heavy grid: 10-20 % between accounting bases (Ember, Electricity Maps 2023), the site's own supply",
        },
        (true, GridYear::Later) => Default3 {
            low: 0.72,
            central: 1.0,
            high: 1.25,
            basis: "a fossil-heavy grid in a year after its last published one: falling 2-7 % a year (US 2019-2025 -13 %, Germany -16 %, Ember via OWID 2026), 10-20 % between accounting bases",
        },
        (true, GridYear::Earlier) => Default3 {
            low: 0.80,
            central: 1.0,
            high: 1.39,
            basis: "a fossil-heavy grid in a year before its published figure: 2-7 % a year higher going back (US 2019-2025 -13 %, Germany -16 %, Ember via OWID 2026), 10-20 % between accounting bases",
        },
        (false, GridYear::Published) => Default3 {
            low: 0.45,
            central: 1.0,
            high: 1.60,
            basis: "annual average of a low-carbon grid: operators' direct-emission figures are about half the life-cycle ones (France 2024: RTE 21.7 vs Ember 40.5 g/kWh; Norway NVE 15-19), consumption with imports higher (Switzerland 98 vs 35-39 produced)",
        },
        (false, GridYear::Later | GridYear::Earlier) => Default3 {
            low: 0.40,
            central: 1.0,
            high: 1.70,
            basis: "a low-carbon grid in another year than its published figure: year-to-year -24 % to +47 % (France 2022-2024, Finland 2019-2025, Ember via OWID 2026), and operators' direct figures about half the life-cycle ones (RTE 2024)",
        },
    }
}

/// The spread around the world average, used when the run names no region.
pub(crate) const GRID_UNKNOWN: Default3 = Default3 {
    low: 0.5,
    central: 1.0,
    high: 1.6,
    basis: "no region: national grids range from under 50 to over 700 g/kWh (Ember 2023); name a region to narrow this",
};

/// The inputs whose defaults `footprint explain` can show, in the order docs/assumptions.md
/// gives them.
pub(crate) const EXPLAINED: [&str; 6] = [
    "hardware.utilization",
    "hardware.power_w",
    "hardware.host_power_w",
    "site.pue",
    "site.carbon_intensity_g_per_kwh",
    "embodied.kg_co2e_per_device",
];

impl Generation {
    /// The devices a generation stands for, as people name them.
    fn label(self) -> &'static str {
        match self {
            Generation::PascalVolta => "V100, P100",
            Generation::Ampere => "A100 class (A100, A800, A10(G), A40, A6000, RTX 30xx)",
            Generation::HopperOrLater => {
                "H100 class (H100, H200, H800, H20, L4, L40(S), RTX 40xx/50xx, Blackwell)"
            }
            Generation::Tpu => "TPU",
            Generation::Other => "AMD Instinct, Intel Gaudi and others",
        }
    }
}

/// Every default behind `key` (one of [`EXPLAINED`]) with when it applies, as (when, value,
/// whether the value multiplies another figure); the same data the estimate uses, so that
/// `footprint explain` and the estimates cannot disagree.
pub(crate) fn evidence(key: &str) -> Option<Vec<(String, Default3, bool)>> {
    let rows = match key {
        "hardware.utilization" => {
            let mut rows: Vec<(String, Default3, bool)> = Vec::new();
            let sizes = [
                (5e8, "under 1B parameters"),
                (8e9, "1-20B"),
                (70e9, "20-200B"),
                (400e9, "over 200B"),
            ];
            let years = [
                (Some(2024), "a run in 2024 or before"),
                (None, "a run in 2025 or later"),
            ];
            for g in [
                Generation::PascalVolta,
                Generation::Ampere,
                Generation::HopperOrLater,
                Generation::Tpu,
                Generation::Other,
            ] {
                // The cases that share a default are named together: its sizes, and its
                // years when not every year.
                let mut cases: Vec<(Default3, Vec<&str>, Vec<&str>)> = Vec::new();
                for (p, size) in sizes {
                    for (year, when) in years {
                        let d = utilization_by_generation(g, Some(p), year);
                        let i = match cases.iter().position(|(e, _, _)| *e == d) {
                            Some(i) => i,
                            None => {
                                cases.push((d, Vec::new(), Vec::new()));
                                cases.len() - 1
                            }
                        };
                        let (_, s, y) = &mut cases[i];
                        if !s.contains(&size) {
                            s.push(size);
                        }
                        if !y.contains(&when) {
                            y.push(when);
                        }
                    }
                }
                let single = cases.len() == 1;
                for (d, sizes_of, years_of) in cases {
                    let mut when = g.label().to_string();
                    if !single {
                        when.push_str(&format!(": {}", sizes_of.join(", ")));
                        if years_of.len() < years.len() {
                            when.push_str(&format!("; {}", years_of.join(", ")));
                        }
                    }
                    rows.push((when, d, false));
                }
            }
            rows.push((
                "a mixture of experts ([compute] active_parameters), times the above".to_string(),
                MOE_FACTOR,
                true,
            ));
            rows.push((
                "trained in FP8 ([compute] precision = \"fp8\"), times the above".to_string(),
                FP8_FACTOR,
                true,
            ));
            rows.push((
                format!(
                    "a run after {UTILIZATION_EVIDENCE_YEAR} (or with no [site] year: one year after), for each year, times the above"
                ),
                SOFTWARE_TREND_PER_YEAR,
                true,
            ));
            rows
        }
        "embodied.kg_co2e_per_device" => vec![
            (
                "a device with a published figure (A100, H100, B200), times it".to_string(),
                EMBODIED_SPREAD,
                true,
            ),
            (
                format!(
                    "a device without one: {:.2} kg per GB of memory + {:.0} kg, times that",
                    EMBODIED_KG_PER_MEMORY_GB, EMBODIED_KG_BESIDES_MEMORY
                ),
                EMBODIED_MODELLED,
                true,
            ),
        ],
        "hardware.power_w" => vec![(
            "as a fraction of the device's TDP".to_string(),
            POWER_FRACTION_OF_TDP,
            true,
        )],
        "hardware.host_power_w" => vec![
            (
                "per GPU, as a fraction of its TDP".to_string(),
                HOST_POWER_FRACTION_OF_TDP,
                true,
            ),
            (
                "per TPU chip, as a fraction of its maximum".to_string(),
                TPU_HOST_POWER_FRACTION,
                true,
            ),
        ],
        "site.pue" => vec![
            (
                "a cloud region (aws:…, gcp:…, azure:…)".to_string(),
                PUE_CLOUD,
                false,
            ),
            ("any other site".to_string(), PUE_UNKNOWN, false),
        ],
        "site.carbon_intensity_g_per_kwh" => {
            let grid = |heavy: bool, when: GridYear| {
                format!(
                    "a region {} 150 g/kWh, {}, times its figure",
                    if heavy { "of at least" } else { "under" },
                    match when {
                        GridYear::Published => "a published year",
                        GridYear::Later if heavy => {
                            "a year after its last published one (or no [site] year)"
                        }
                        GridYear::Later => {
                            "a year after its last published one (or no [site] year), or before its first"
                        }
                        GridYear::Earlier => "a year before its first published one",
                    }
                )
            };
            // The low-carbon grid's spread is the same either side of its figure: one row.
            let mut rows: Vec<(String, Default3, bool)> = [
                (true, GridYear::Published),
                (true, GridYear::Later),
                (true, GridYear::Earlier),
                (false, GridYear::Published),
                (false, GridYear::Later),
            ]
            .map(|(heavy, when)| {
                (
                    grid(heavy, when),
                    grid_spread(if heavy { 400.0 } else { 50.0 }, when),
                    true,
                )
            })
            .to_vec();
            rows.push((
                "no region, times the world average".to_string(),
                GRID_UNKNOWN,
                true,
            ));
            rows
        }
        _ => return None,
    };
    Some(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::Registry;

    /// docs/assumptions.md quotes every basis, so the page cannot drift from the code.
    #[test]
    fn every_basis_is_documented() {
        let doc = include_str!("../docs/assumptions.md");
        let all: Vec<Default3> = EXPLAINED
            .iter()
            .flat_map(|k| evidence(k).expect("an explained key has evidence"))
            .map(|(_, d, _)| d)
            .collect();
        assert!(all.len() >= 20, "{}", all.len());
        for d in all {
            assert!(
                doc.contains(d.basis),
                "docs/assumptions.md lacks: {}",
                d.basis
            );
        }
    }

    /// FP8 multiplies the default after the 0.7 cap, as an independent factor: ordered, wider,
    /// and never past the FP8 peak (twice the BF16 one the utilization is measured against).
    #[test]
    fn fp8_defaults_are_ordered_faster_and_wider() {
        let r = Registry::embedded();
        for a in r.accelerators() {
            for p in [Some(1e9), Some(8e9), Some(70e9), None] {
                let (u, _) = utilization(a, 64.0, p, false, false, Some(2025));
                let (f, why) = utilization(a, 64.0, p, false, true, Some(2025));
                assert!(why.fp8);
                assert!(
                    f.low <= f.central && f.central <= f.high && f.high < 2.0,
                    "{f:?}"
                );
                assert!((f.central / u.central - FP8_FACTOR.central).abs() < 1e-9);
                assert!(f.high / f.low > u.high / u.low, "{} {f:?} {u:?}", a.name);
            }
        }
    }

    /// A run after the evidence keeps the latest level and floor; only its ceiling rises, more
    /// for each year, and a run with no year counts as one year after.
    #[test]
    fn years_after_the_evidence_raise_only_the_ceiling() {
        let r = Registry::embedded();
        let h100 = r.accelerator("H100").unwrap();
        let at = |year| utilization(h100, 64.0, Some(8e9), false, false, year).0;
        let (y2024, y2025, y2026) = (at(Some(2024)), at(Some(2025)), at(Some(2026)));
        assert_eq!(
            at(Some(2023)),
            utilization_by_generation(Generation::HopperOrLater, Some(8e9), Some(2023))
        );
        assert_eq!(
            y2024,
            utilization_by_generation(Generation::HopperOrLater, Some(8e9), Some(2024))
        );
        assert_eq!(
            (y2025.low, y2025.central),
            (at(Some(2030)).low, at(Some(2030)).central)
        );
        assert!(
            y2024.high < y2025.high && y2025.high < y2026.high,
            "{y2024:?} {y2025:?} {y2026:?}"
        );
        assert_eq!(at(None), y2025);
        assert_eq!(years_after_evidence(Some(1990)), 0);
        assert_eq!(years_after_evidence(Some(2100)), 10);
    }

    #[test]
    fn every_accelerator_has_a_generation_and_ordered_defaults() {
        let r = Registry::embedded();
        for a in r.accelerators() {
            for count in [1.0, 8.0, 512.0, 4096.0, 16384.0] {
                for (p, moe, year) in [None, Some(1e8), Some(8e9), Some(70e9), Some(400e9)]
                    .into_iter()
                    .flat_map(|p| {
                        [
                            (p, false, None),
                            (p, true, Some(2023)),
                            (p, false, Some(2030)),
                        ]
                    })
                {
                    let (u, _) = utilization(a, count, p, moe, false, year);
                    assert!(
                        0.0 < u.low && u.low <= u.central && u.central <= u.high && u.high <= 0.7,
                        "{} {count}: {u:?}",
                        a.name
                    );
                }
            }
        }
        let g = |n: &str| generation(r.accelerator(n).unwrap());
        assert_eq!(g("V100"), Generation::PascalVolta);
        assert_eq!(g("A100"), Generation::Ampere);
        assert_eq!(g("A10G"), Generation::Ampere);
        assert_eq!(g("H100"), Generation::HopperOrLater);
        assert_eq!(g("L4"), Generation::HopperOrLater);
        assert_eq!(g("TPUv4"), Generation::Tpu);
        assert_eq!(g("MI300X"), Generation::Other);
        for d in [
            POWER_FRACTION_OF_TDP,
            HOST_POWER_FRACTION_OF_TDP,
            TPU_HOST_POWER_FRACTION,
            PUE_CLOUD,
            PUE_UNKNOWN,
            GRID_UNKNOWN,
            grid_spread(30.0, GridYear::Published),
            grid_spread(30.0, GridYear::Later),
            grid_spread(30.0, GridYear::Earlier),
            grid_spread(400.0, GridYear::Published),
            grid_spread(400.0, GridYear::Later),
            grid_spread(400.0, GridYear::Earlier),
        ] {
            assert!(d.low <= d.central && d.central <= d.high, "{d:?}");
        }
    }
}
