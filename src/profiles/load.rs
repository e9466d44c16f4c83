//! Loading the profiles: the embedded files, then a user's `--profiles` directory merged
//! over them (an entry with the same name or code overrides, the rest is kept), each value
//! checked against its bounds as it comes in.

use super::*;

impl Registry {
    /// The embedded profiles only.
    pub fn embedded() -> Registry {
        let mut r = Registry::default();
        for (origin, json) in ENTRY_FILES.map(embedded) {
            r.add(origin, parse_embedded(origin, json))
                .expect("embedded profiles are valid (tested)");
        }
        r.reindex();
        r
    }

    /// The embedded profiles, then every `*.toml` in `dir` (in name order) on top.
    pub(crate) fn with_user_dir(dir: Option<&Path>) -> Result<Registry, InputError> {
        let mut r = Registry::embedded();
        let Some(dir) = dir else {
            return Ok(r);
        };
        let shown = dir.display().to_string();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            InputError::new(format!("cannot read the profile directory: {e}")).in_file(&shown)
        })?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let origin = path.display().to_string();
            let text = crate::files::read_text(&path, 16 << 20)?;
            let file = parse_file(&origin, &text)?;
            r.add(&origin, file)?;
        }
        r.reindex();
        Ok(r)
    }

    /// One profile file's entries: new ones added, existing ones (same name, code) overridden.
    pub(super) fn add(&mut self, origin: &str, file: ProfileFile) -> Result<(), InputError> {
        self.add_accelerators(origin, file.accelerator)?;
        self.add_grids(origin, file.grid)?;
        self.add_clouds(origin, file.cloud)?;
        self.add_grid_years(origin, file.grid_year)?;
        if let Some(cpus) = file.cpus {
            self.add_cpus(origin, cpus)?;
        }
        Ok(())
    }

    pub(super) fn add_accelerators(
        &mut self,
        origin: &str,
        defs: Vec<AcceleratorDef>,
    ) -> Result<(), InputError> {
        for a in defs {
            let what = format!("accelerator {}", a.name);
            let key = normalize(&a.name);
            let existing = self.accel_keys.get(&key).copied();
            let given = |s: Option<SourcedDef>| s.map(|s| s.resolve(origin));
            let acc = match existing {
                // An override: what the file gives replaces, the rest is kept.
                Some(i) => {
                    let old = &self.accelerators[i];
                    let mut aliases = old.aliases.clone();
                    aliases.extend(a.aliases);
                    Accelerator {
                        name: old.name.clone(),
                        description: a.description.or_else(|| old.description.clone()),
                        aliases,
                        tdp_w: given(a.tdp_w).or_else(|| old.tdp_w.clone()),
                        peak_flops: given(a.peak_flops).or_else(|| old.peak_flops.clone()),
                        memory_gb: given(a.memory_gb).or_else(|| old.memory_gb.clone()),
                        price_usd_per_hour: given(a.price_usd_per_hour)
                            .or_else(|| old.price_usd_per_hour.clone()),
                        prices: {
                            let mut p = old.prices.clone();
                            for (k, v) in a.prices {
                                p.insert(k.to_ascii_lowercase(), v.resolve(origin));
                            }
                            p
                        },
                        embodied_kg_co2e: given(a.embodied_kg_co2e)
                            .or_else(|| old.embodied_kg_co2e.clone()),
                        family: a.family.or(old.family),
                        relative_utilization: relative(origin, &what, a.relative_utilization)?
                            .or_else(|| old.relative_utilization.clone()),
                        origin: format!("{} + {origin}", old.origin),
                    }
                }
                None if a.tdp_w.is_none() && a.peak_flops.is_none() => {
                    return Err(InputError::new(format!(
                        "{what}: a new accelerator needs tdp_w or peak_flops (or both)"
                    ))
                    .in_file(origin));
                }
                None => Accelerator {
                    tdp_w: given(a.tdp_w),
                    name: a.name,
                    description: a.description,
                    aliases: a.aliases,
                    peak_flops: given(a.peak_flops),
                    memory_gb: given(a.memory_gb),
                    price_usd_per_hour: given(a.price_usd_per_hour),
                    prices: a
                        .prices
                        .into_iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.resolve(origin)))
                        .collect(),
                    embodied_kg_co2e: given(a.embodied_kg_co2e),
                    family: a.family,
                    relative_utilization: relative(origin, &what, a.relative_utilization)?,
                    origin: origin.to_string(),
                },
            };
            for (k, v, b) in [
                ("tdp_w", &acc.tdp_w, TDP_W),
                ("peak_flops", &acc.peak_flops, PEAK_FLOPS),
                ("memory_gb", &acc.memory_gb, MEMORY_GB),
                ("price_usd_per_hour", &acc.price_usd_per_hour, PRICE),
                ("embodied_kg_co2e", &acc.embodied_kg_co2e, EMBODIED),
            ] {
                if let Some(v) = v {
                    check_value(origin, &format!("{what}: {k}"), v, b)?;
                }
            }
            for (cloud, v) in &acc.prices {
                check_value(origin, &format!("{what}: prices.{cloud}"), v, PRICE)?;
            }
            if acc.tdp_w.as_ref().is_some_and(|p| p.value == 0.0)
                || acc.peak_flops.as_ref().is_some_and(|p| p.value == 0.0)
            {
                return Err(InputError::new(format!(
                    "{what}: tdp_w and peak_flops must be greater than 0"
                ))
                .in_file(origin));
            }
            let i = match existing {
                Some(i) => {
                    self.accelerators[i] = acc;
                    i
                }
                None => {
                    self.accelerators.push(acc);
                    self.accelerators.len() - 1
                }
            };
            let entry = &self.accelerators[i];
            for k in std::iter::once(&entry.name).chain(&entry.aliases) {
                self.accel_keys.entry(normalize(k)).or_insert(i);
            }
        }
        Ok(())
    }

    pub(super) fn add_grids(&mut self, origin: &str, defs: Vec<GridDef>) -> Result<(), InputError> {
        for g in defs {
            let grid = Grid {
                code: g.code,
                name: g.name,
                aliases: g.aliases,
                carbon_intensity_g_per_kwh: g.carbon_intensity_g_per_kwh.resolve(origin),
                note: g.note,
                origin: origin.to_string(),
            };
            check_value(
                origin,
                &format!("grid {}: carbon_intensity_g_per_kwh", grid.code),
                &grid.carbon_intensity_g_per_kwh,
                INTENSITY,
            )?;
            let key = normalize(&grid.code);
            match self.grid_codes.get(&key) {
                Some(&i) => self.grids[i] = grid,
                None => {
                    self.grids.push(grid);
                    self.grid_codes.insert(key, self.grids.len() - 1);
                }
            }
        }
        Ok(())
    }

    pub(super) fn add_grid_years(
        &mut self,
        origin: &str,
        defs: Vec<GridYearDef>,
    ) -> Result<(), InputError> {
        for d in defs {
            let mut by_year = std::collections::BTreeMap::new();
            for (year, v) in d.g_per_kwh {
                let what = format!("grid_year {}: g_per_kwh.{year}", d.code);
                let y: u64 = year
                    .parse()
                    .ok()
                    .filter(|y| (1990..=2100).contains(y))
                    .ok_or_else(|| {
                        InputError::new(format!("{what}: the key must be a year from 1990 to 2100"))
                            .in_file(origin)
                    })?;
                let s = Sourced {
                    value: v,
                    source: d.source.clone(),
                    year: Some(y as u16),
                };
                check_value(origin, &what, &s, INTENSITY)?;
                by_year.insert(y, v);
            }
            if by_year.is_empty() {
                return Err(InputError::new(format!(
                    "grid_year {}: g_per_kwh has no years",
                    d.code
                ))
                .in_file(origin));
            }
            self.grid_years.insert(
                normalize(&d.code),
                GridYears {
                    by_year,
                    source: d.source,
                    origin: origin.to_string(),
                },
            );
        }
        Ok(())
    }

    /// Grid `code`'s yearly series, if it has one.
    pub(crate) fn grid_series(&self, code: &str) -> Option<&GridYears> {
        self.grid_years.get(&normalize(code))
    }

    /// The intensity of grid `code` in `year` from its yearly series, if it has one: that
    /// year's figure, else the nearest year's (the last for a later year or none given, the
    /// first for an earlier one), marked as such.
    pub(crate) fn intensity_in(&self, code: &str, year: Option<u64>) -> Option<YearIntensity> {
        let s = self.grid_series(code)?;
        let (&first, _) = s.by_year.first_key_value()?;
        let (&last, _) = s.by_year.last_key_value()?;
        let pick = match year {
            None => last,
            Some(y) if y > last => last,
            Some(y) if y < first => first,
            Some(y) => *s.by_year.range(..=y).next_back()?.0,
        };
        Some(YearIntensity {
            g_per_kwh: s.by_year[&pick],
            year: pick,
            after_series: year.is_none_or(|y| y > last),
            before_series: year.is_some_and(|y| y < first),
            source: s.source.clone(),
        })
    }

    pub(super) fn add_clouds(
        &mut self,
        origin: &str,
        defs: Vec<CloudDef>,
    ) -> Result<(), InputError> {
        for c in defs {
            let intensity = match (c.carbon_intensity_g_per_kwh, c.grid) {
                (Some(s), None) => CloudIntensity::Own(s.resolve(origin)),
                (None, Some(g)) => CloudIntensity::Grid(g),
                _ => {
                    return Err(InputError::new(format!(
                        "cloud {}: give exactly one of carbon_intensity_g_per_kwh or grid",
                        c.code
                    ))
                    .in_file(origin));
                }
            };
            if let CloudIntensity::Own(s) = &intensity {
                check_value(
                    origin,
                    &format!("cloud {}: carbon_intensity_g_per_kwh", c.code),
                    s,
                    INTENSITY,
                )?;
            }
            let cloud = Cloud {
                code: c.code,
                place: c.place,
                intensity,
                origin: origin.to_string(),
            };
            let key = normalize(&cloud.code);
            match self.cloud_codes.get(&key) {
                Some(&i) => self.clouds[i] = cloud,
                None => {
                    self.clouds.push(cloud);
                    self.cloud_codes.insert(key, self.clouds.len() - 1);
                }
            }
        }
        Ok(())
    }

    /// A CPU table's values are checked here; the table itself is merged when looked up.
    pub(super) fn add_cpus(&mut self, origin: &str, cpus: CpuTableDef) -> Result<(), InputError> {
        for (name, tdp) in &cpus.tdp_w {
            let v = Sourced {
                value: *tdp,
                source: String::new(),
                year: None,
            };
            check_value(origin, &format!("cpus.tdp_w \"{name}\""), &v, CPU_TDP)?;
        }
        for (k, v, b) in [
            ("cpus.ram_w_per_gb", &cpus.ram_w_per_gb, RAM_W_PER_GB),
            (
                "cpus.default_w_per_thread",
                &cpus.default_w_per_thread,
                W_PER_THREAD,
            ),
        ] {
            if let Some(v) = v {
                check_value(origin, k, &v.clone().resolve(origin), b)?;
            }
        }
        self.cpu_overrides.push((origin.to_string(), cpus));
        Ok(())
    }

    /// Names first, then aliases that no name claims; a later entry wins a tie.
    pub(super) fn reindex(&mut self) {
        self.accel_index.clear();
        for (i, a) in self.accelerators.iter().enumerate() {
            self.accel_index.insert(normalize(&a.name), i);
        }
        for (i, a) in self.accelerators.iter().enumerate() {
            for al in &a.aliases {
                let k = normalize(al);
                let taken_by_a_name = self
                    .accel_index
                    .get(&k)
                    .is_some_and(|&j| normalize(&self.accelerators[j].name) == k);
                if !taken_by_a_name {
                    self.accel_index.insert(k, i);
                }
            }
        }
        self.grid_index.clear();
        for (i, g) in self.grids.iter().enumerate() {
            self.grid_index.insert(normalize(&g.code), i);
        }
        for (i, g) in self.grids.iter().enumerate() {
            for al in std::iter::once(&g.name).chain(&g.aliases) {
                self.grid_index.entry(normalize(al)).or_insert(i);
            }
        }
        self.cloud_index = self
            .clouds
            .iter()
            .enumerate()
            .map(|(i, c)| (normalize(&c.code), i))
            .collect();
    }
}
