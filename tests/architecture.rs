//! The house rules of docs/architecture.md, checked against the code: every `crate::` path a
//! module uses is one its row in the "Layers" table allows, the allowed graph has no cycle, and
//! the module map and the test list name exactly the files that exist.
//!
//! A rule that nothing checks drifts; this test is what keeps the map true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn architecture_doc() -> String {
    std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md")
}

/// Every `.rs` file under `dir`, as paths relative to `base` with `/` separators.
fn rust_files(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("readable source tree") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(base).expect("under base");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The top-level module a file under `src/` belongs to (`None` for the crate roots).
fn top_module(rel: &str) -> Option<String> {
    let first = rel.split('/').next()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// The code of a file without its comments and without its unit tests (which may reach into
/// any module to set up a case; the rules are about what ships).
fn shipped_code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules named by `crate::` paths in `code`, `use crate::{a, b::c}` included.
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Split the group's top level on commas.
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        found.insert(ident(group[start..j].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(ident(group[start..j].trim()));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

/// The "Layers" table: module → the modules it may import.
fn declared_layers(doc: &str) -> BTreeMap<String, BTreeSet<String>> {
    let section = doc
        .split("\n## Layers")
        .nth(1)
        .expect("docs/architecture.md has a '## Layers' section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut layers = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let names = |cell: &str| -> BTreeSet<String> {
            cell.split(',')
                .map(|s| s.trim().trim_matches('`').to_string())
                .filter(|s| !s.is_empty() && s != "—")
                .collect()
        };
        let module = cells[1].trim_matches('`').to_string();
        layers.insert(module, names(cells[2]));
    }
    assert!(!layers.is_empty(), "the Layers table has rows");
    layers
}

#[test]
fn every_import_is_one_the_layers_allow() {
    let layers = declared_layers(&architecture_doc());
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    let mut broken = Vec::new();
    let mut modules = BTreeSet::new();
    for rel in &files {
        let Some(module) = top_module(rel) else {
            continue;
        };
        modules.insert(module.clone());
        let text = std::fs::read_to_string(src.join(rel)).expect("a readable source file");
        let Some(allowed) = layers.get(&module) else {
            broken.push(format!(
                "src/{rel}: module `{module}` has no row in the Layers table"
            ));
            continue;
        };
        for used in crate_imports(&shipped_code(&text)) {
            if used != module && !allowed.contains(&used) {
                broken.push(format!("src/{rel}: `{module}` imports `{used}`"));
            }
        }
    }
    for declared in layers.keys() {
        if !modules.contains(declared) {
            broken.push(format!(
                "the Layers table names `{declared}`, which is not in src/"
            ));
        }
    }
    assert!(
        broken.is_empty(),
        "against the layering:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_allowed_imports_have_no_cycle() {
    let layers = declared_layers(&architecture_doc());
    // Repeatedly remove modules that import nothing left; whatever remains is a cycle.
    let mut left = layers.clone();
    loop {
        let free: Vec<String> = left
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
            .map(|(m, _)| m.clone())
            .collect();
        if free.is_empty() {
            break;
        }
        for m in free {
            left.remove(&m);
        }
    }
    assert!(left.is_empty(), "a cycle among: {:?}", left.keys());
    for (m, deps) in &layers {
        for d in deps {
            assert!(
                layers.contains_key(d),
                "`{m}` may import `{d}`, which has no row"
            );
        }
    }
}

/// The two rules the issue that built this house named: measuring never depends on training,
/// and rendering never depends on the command pipelines. Checked here by name as well, so that
/// loosening the table cannot quietly undo them.
#[test]
fn the_named_rules_hold_in_the_table() {
    let layers = declared_layers(&architecture_doc());
    let forbidden = [
        ("measure", "train"),
        ("report", "app"),
        ("record", "report"),
        ("impact", "scenario"),
        ("cli", "impact"),
        ("cli", "scenario"),
        ("cli", "runfile"),
        ("cli", "profiles"),
    ];
    for (from, to) in forbidden {
        assert!(
            !layers[from].contains(to),
            "docs/architecture.md allows `{from}` to import `{to}`"
        );
    }
}

#[test]
fn only_the_platform_layer_uses_os_bindings() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    for rel in files.iter().filter(|f| !f.starts_with("platform/")) {
        let code = shipped_code(&std::fs::read_to_string(src.join(rel)).unwrap());
        for binding in ["libc::", "windows_sys::"] {
            assert!(!code.contains(binding), "src/{rel} uses {binding}");
        }
    }
}

#[test]
fn the_module_map_names_every_source_file_and_no_other() {
    let doc = architecture_doc();
    let map = doc
        .split("\n## Module map")
        .nth(1)
        .expect("a '## Module map' section")
        .split("\n## ")
        .next()
        .unwrap();
    let mut named = BTreeSet::new();
    for line in map.lines().filter(|l| l.starts_with("| `")) {
        let cell = line.split('|').nth(1).unwrap_or("");
        for part in cell.split(',') {
            let p = part.trim().trim_matches('`');
            if !p.is_empty() {
                named.insert(p.to_string());
            }
        }
    }
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    let files: BTreeSet<String> = files.into_iter().collect();
    let missing: Vec<_> = files.difference(&named).collect();
    let stale: Vec<_> = named.difference(&files).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "module map out of date: not in the map {missing:?}; in the map but not in src/ {stale:?}"
    );
}

#[test]
fn the_test_list_names_every_test_file() {
    let doc = architecture_doc();
    let mut tests = Vec::new();
    let dir = root().join("tests");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "rs") {
            tests.push(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let missing: Vec<_> = tests
        .iter()
        .filter(|t| !doc.contains(&format!("`{t}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "tests not described in docs/architecture.md: {missing:?}"
    );
}

#[test]
fn no_comment_names_a_document_that_is_not_in_the_repository() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    for rel in &files {
        let text = std::fs::read_to_string(src.join(rel)).unwrap();
        for (i, _) in text.match_indices(".md") {
            let start = text[..i]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || "-_/.".contains(c)))
                .map_or(0, |s| s + 1);
            let name = &text[start..i + 3];
            if name.len() <= 3 || !name.chars().next().unwrap().is_ascii_alphabetic() {
                continue;
            }
            let exists = root().join(name).exists() || root().join("docs").join(name).exists();
            assert!(
                exists,
                "src/{rel} names {name}, which is not in the repository"
            );
        }
    }
}

/// A region string is told apart (grid or cloud) in one place, `profiles::RegionName::parse`.
#[test]
fn only_the_region_parser_looks_for_the_cloud_colon() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    for rel in &files {
        let code = shipped_code(&std::fs::read_to_string(src.join(rel)).unwrap());
        assert!(
            !code.contains("contains(':')"),
            "src/{rel} tests a string for ':'; use profiles::RegionName"
        );
    }
}

/// Sensors are told apart by `record::SensorFamily`, not by matching their ids here and there.
#[test]
fn only_sensor_family_reads_sensor_ids() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    for rel in files.iter().filter(|f| *f != "record/mod.rs") {
        let code = shipped_code(&std::fs::read_to_string(src.join(rel)).unwrap());
        for id in ["\"rapl:", "\"cpu-model\""] {
            assert!(
                !code.contains(id),
                "src/{rel} matches the sensor id {id}; use record::SensorFamily"
            );
        }
    }
}

#[test]
fn the_import_reader_reads_groups_and_paths() {
    let code = "use crate::{a::B, c, d::{e, f}};\nlet x = crate::g::h();\n";
    let got: Vec<String> = crate_imports(code).into_iter().collect();
    assert_eq!(got, ["a", "c", "d", "g"]);
    assert_eq!(
        shipped_code("x\n// crate::y\n#[cfg(test)]\nmod tests { crate::z }"),
        "x"
    );
}

/// The crate's public surface is named in lib.rs alone: every module is private but the two
/// hidden doors for the benches and the fuzz target, and `unreachable_pub` (denied in CI's
/// clippy) keeps every other `pub` inside the crate `pub(crate)`.
#[test]
fn the_crate_root_opens_only_its_named_doors() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let public: Vec<&str> = lib.lines().filter(|l| l.starts_with("pub ")).collect();
    assert_eq!(
        public,
        ["pub mod fuzzing;", "pub use cli::main;", "pub mod bench {"],
        "src/lib.rs exports more than main, bench and fuzzing"
    );
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains("unreachable_pub = \"warn\""),
        "Cargo.toml's [lints.rust] keeps unreachable_pub on"
    );
}
