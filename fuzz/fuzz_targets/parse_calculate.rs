//! Any bytes as a run file: parsing, validation, profile lookups, the calculator and every
//! exporter must not panic, and an accepted run must give finite, ordered figures. The body is
//! `footprint::fuzzing::parse_calculate`, so the target needs no more of the crate than that.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| footprint::fuzzing::parse_calculate(data));
