//! The `footprint` binary: everything happens in the library; see `footprint::cli`.

fn main() {
    std::process::exit(footprint::cli::main());
}
