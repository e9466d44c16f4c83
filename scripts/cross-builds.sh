# Sourced by scripts/windows-check.sh and scripts/aarch64-check.sh, after they set NAME (for
# messages), TRIPLE and EXE (the binary's file name on the target): adds the target to rustup
# when it is missing (`ensure_target`), and builds the two binaries a check compares
# (`build_binaries`): the Linux x86-64 reference, which `.ci/run`'s `cargo test --release` has
# built already, and the target's own. Either is skipped when FOOTPRINT_HOST_BIN or
# FOOTPRINT_TARGET_BIN names it. Sets HOST_BIN and TARGET_BIN. Builds go to cargo's target
# directory (`target/`, or CARGO_TARGET_DIR).

ensure_target() {
    grep -qx "$TRIPLE" <<<"$(rustup target list --installed)" || rustup target add "$TRIPLE"
}

build_binaries() {
    local target_dir=${CARGO_TARGET_DIR:-target}
    if [ -n "${FOOTPRINT_HOST_BIN:-}" ]; then
        HOST_BIN=$(realpath "$FOOTPRINT_HOST_BIN")
    else
        echo "$NAME: the Linux x86-64 reference (cargo build --release)"
        cargo build --release
        HOST_BIN=$(realpath "$target_dir/release/footprint")
    fi
    if [ -n "${FOOTPRINT_TARGET_BIN:-}" ]; then
        TARGET_BIN=$(realpath "$FOOTPRINT_TARGET_BIN")
    else
        echo "$NAME: cargo build --release --target $TRIPLE"
        cargo build --release --target "$TRIPLE"
        TARGET_BIN=$(realpath "$target_dir/$TRIPLE/release/$EXE")
    fi
}
