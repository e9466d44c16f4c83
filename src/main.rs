//! The `footprint` binary: everything happens in the library (`footprint::main` is the `cli`
//! module's entry point).

fn main() {
    std::process::exit(footprint::main());
}
