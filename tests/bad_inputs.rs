//! The hostile-input suite: every file in tests/bad_inputs/ (and a few generated cases) must be
//! refused with exit 2, one line on stderr naming the file and what is wrong, nothing on stdout,
//! and no panic — by `estimate` and by `check` alike.

mod common;
use common::*;

fn suite() -> Vec<(String, Vec<String>)> {
    let dir = root().join("tests/bad_inputs");
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("expected.toml")).unwrap()).unwrap();
    let mut cases: Vec<(String, Vec<String>)> = manifest
        .iter()
        .map(|(name, frags)| {
            let frags = frags
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            (name.clone(), frags)
        })
        .collect();
    cases.sort();
    // every file in the directory is in the manifest, and the other way round
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "expected.toml")
        .collect();
    files.sort();
    let names: Vec<String> = cases.iter().map(|c| c.0.clone()).collect();
    assert_eq!(
        files, names,
        "tests/bad_inputs/ and its expected.toml list the same files"
    );
    cases
}

#[test]
fn at_least_forty_hostile_files() {
    assert!(suite().len() >= 40, "{} files", suite().len());
}

#[test]
fn every_bad_file_is_refused_cleanly() {
    let dir = root().join("tests/bad_inputs");
    let mut failures = Vec::new();
    for (name, frags) in suite() {
        let path = dir.join(&name);
        let p = path.to_str().unwrap();
        for args in [vec!["estimate", p], vec!["check", p, "--max-co2e", "1t"]] {
            let r = run(&args);
            let mut problems = Vec::new();
            if r.code != 2 {
                problems.push(format!("exit {}", r.code));
            }
            if !r.stdout.is_empty() {
                problems.push(format!("stdout: {:?}", r.stdout));
            }
            if r.stderr.contains("panicked") {
                problems.push("panic".to_string());
            }
            if r.stderr.lines().count() != 1 {
                problems.push(format!("{} lines on stderr", r.stderr.lines().count()));
            }
            if !r.stderr.contains(&name) {
                problems.push("the file is not named".to_string());
            }
            for f in &frags {
                if !r.stderr.contains(f.as_str()) {
                    problems.push(format!("lacks {f:?}"));
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{} {name}: {} — stderr: {}",
                    args[0],
                    problems.join(", "),
                    r.stderr.trim()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_ten_megabyte_file() {
    let d = tempdir("big");
    let p = d.join("huge.toml");
    let line = "# padding padding padding padding padding padding padding padding padding\n";
    let text = line.repeat(10 * 1024 * 1024 / line.len() + 1);
    std::fs::write(&p, text).unwrap();
    let r = run(&["estimate", p.to_str().unwrap()]);
    assert_input_error(&r, &["huge.toml", "10.0 MiB", "expected a small text file"]);
}

#[test]
fn a_directory_a_missing_path_and_an_unreadable_file() {
    let d = tempdir("dir");
    assert_input_error(
        &run(&["estimate", d.to_str().unwrap()]),
        &["is a directory, not a file"],
    );
    let missing = d.join("missing.toml");
    assert_input_error(
        &run(&["estimate", missing.to_str().unwrap()]),
        &["missing.toml", "no such file"],
    );
    #[cfg(unix)]
    unreadable_file(&d);
}

/// A file that cannot be read (Unix permissions).
#[cfg(unix)]
fn unreadable_file(d: &std::path::Path) {
    // Root reads any file whatever its mode; /proc/self/mem cannot be read from offset 0 by
    // anyone, so it stands in for an unreadable file there.
    let unreadable = if unsafe_is_root() {
        std::path::PathBuf::from("/proc/self/mem")
    } else {
        let p = d.join("secret.toml");
        std::fs::write(&p, "[hardware]\nhours = 1\npower_w = 1\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        p
    };
    let r = run(&["estimate", unreadable.to_str().unwrap()]);
    assert_input_error(&r, &[unreadable.to_str().unwrap(), "cannot read the file"]);
}

#[cfg(unix)]
fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn bad_profile_directories() {
    let d = tempdir("badprof");
    std::fs::write(
        d.join("broken.toml"),
        "[[accelerator]]\nname = \"X\"\ntdp_w = \"lots\"\n",
    )
    .unwrap();
    let r = run(&[
        "--profiles",
        d.to_str().unwrap(),
        "estimate",
        "examples/seed-example.toml",
    ]);
    assert_input_error(&r, &["broken.toml:3", "tdp_w", "expected a number"]);
    assert!(!r.stderr.contains("untagged"), "{}", r.stderr);
    std::fs::write(
        d.join("broken.toml"),
        "[[grid]]\ncode = \"Z\"\nname = \"z\"\ncarbon_intensity_g_per_kwh = -4\n",
    )
    .unwrap();
    let r = run(&[
        "--profiles",
        d.to_str().unwrap(),
        "estimate",
        "examples/seed-example.toml",
    ]);
    assert_input_error(
        &r,
        &[
            "broken.toml",
            "carbon_intensity_g_per_kwh is -4",
            "from 0 to 2000",
        ],
    );
    // implausible values are refused as in a run file, so no profile can overflow a product
    for (text, want) in [
        (
            "[[accelerator]]\nname = \"X\"\ntdp_w = 1e30\n",
            "tdp_w is 1e30",
        ),
        (
            "[[grid]]\ncode = \"Z\"\nname = \"z\"\ncarbon_intensity_g_per_kwh = 1e300\n",
            "carbon_intensity_g_per_kwh is 1e300",
        ),
        ("[cpus.tdp_w]\n\"My CPU\" = 1e40\n", "\"My CPU\" is 1e40"),
    ] {
        std::fs::write(d.join("broken.toml"), text).unwrap();
        let r = run(&[
            "--profiles",
            d.to_str().unwrap(),
            "estimate",
            "examples/seed-example.toml",
        ]);
        assert_input_error(&r, &["broken.toml", want]);
    }
    let r = run(&[
        "--profiles",
        "/nonexistent/dir",
        "estimate",
        "examples/seed-example.toml",
    ]);
    assert_input_error(
        &r,
        &["/nonexistent/dir", "cannot read the profile directory"],
    );
}
