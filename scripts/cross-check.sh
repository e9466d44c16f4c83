#!/usr/bin/env bash
# Type-checks every target (lib, binary, tests, benches, examples) for macOS on Apple silicon
# and for Windows, from Linux, and the `cuda` feature on Linux: the portability gate of
# `.ci/run`.
#
# Rust needs only the targets' standard libraries (rustup). One C file does need compiling:
# the build script of `alloca`, a dependency of criterion (benches only), which the cc crate
# builds with the target's C compiler. clang stands in for Apple's clang and, as clang-cl, for
# MSVC's cl.exe; the only MSVC header that file includes (<malloc.h>, for _alloca) is stubbed.
# `cargo check` never links, so no SDK is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(aarch64-apple-darwin x86_64-pc-windows-msvc)
installed=$(rustup target list --installed)
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

if ! command -v clang >/dev/null || ! command -v llvm-lib >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq clang llvm >/dev/null
    else
        echo "cross-check: needs clang and llvm (llvm-ar, llvm-lib); install them" >&2
        exit 2
    fi
fi

tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
ln -s "$(command -v clang)" "$tools/clang-cl"
mkdir "$tools/include"
echo '#define _alloca(n) __builtin_alloca(n)' >"$tools/include/malloc.h"

echo "cross-check: aarch64-apple-darwin"
CC_aarch64_apple_darwin=clang AR_aarch64_apple_darwin=llvm-ar \
    CFLAGS_aarch64_apple_darwin=-ffreestanding \
    cargo check --release --all-targets --target aarch64-apple-darwin

echo "cross-check: x86_64-pc-windows-msvc"
PATH="$tools:$PATH" CC_x86_64_pc_windows_msvc=clang-cl AR_x86_64_pc_windows_msvc=llvm-lib \
    CFLAGS_x86_64_pc_windows_msvc="-I$tools/include" \
    cargo check --release --all-targets --target x86_64-pc-windows-msvc

# The `cuda` feature's code (the GPU training path) on a machine without a GPU or the CUDA
# toolkit: the toolkit's nvcc, or a stand-in that lets the CUDA crates' build scripts finish
# (scripts/no-cuda-toolkit/nvcc; `cargo check` runs nothing it builds). Its own target
# directory, so the default build's artefacts are not rebuilt.
echo "cross-check: --features cuda"
nvcc_path=$PATH
command -v nvcc >/dev/null || nvcc_path="$PWD/scripts/no-cuda-toolkit:$PATH"
PATH="$nvcc_path" CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}" \
    cargo check --release --all-targets --features cuda --target-dir target/cuda-check
