//! Compiles the embedded profiles: each `profiles/*.toml` is parsed here, at build time, and
//! written to OUT_DIR as JSON, which the binary embeds and reads back an order of magnitude
//! faster than TOML. The TOML files stay the source of truth (with their comments, sources and
//! years); a syntax error in one fails the build, not a user's run.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in ["accelerators", "grids", "clouds", "cpus", "cpus-apple"] {
        let src = format!("profiles/{name}.toml");
        println!("cargo:rerun-if-changed={src}");
        let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let value: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{src}: {e}"));
        let json = serde_json::to_string(&value).expect("TOML values are JSON values");
        std::fs::write(Path::new(&out).join(format!("{name}.json")), json).expect("write OUT_DIR");
    }
}
