#!/usr/bin/env bash
# Builds footprint for Windows (x86_64-pc-windows-gnu) and runs it under Wine: the smoke suite
# of scripts/smoke-suite.sh (every example's estimate, check, the hostile inputs, -o into
# Windows paths and over a file, measure -- cmd, the training loop, sweep, HTML), each answer
# compared with the Linux x86-64 binary's. Exits 1 when a check fails, 2 when it cannot run.
#
#   scripts/windows-check.sh
#   FOOTPRINT_HOST_BIN=target/release/footprint scripts/windows-check.sh   # reference built already
#   FOOTPRINT_TARGET_BIN=path/footprint.exe scripts/windows-check.sh        # .exe built already
#
# Debian's MinGW-w64 links the binary and Wine 8 runs it; as root the script installs both
# (`gcc-mingw-w64-x86-64`, `wine64`). Builds go to cargo's target directory (`target/`, or
# CARGO_TARGET_DIR): the Linux reference is `cargo build --release`, which `.ci/run`'s
# `cargo test --release` has built already. Wine 8's bcryptprimitives.dll lacks ProcessPrng,
# which Rust's standard library calls at start-up, so a stand-in built from
# scripts/wine/bcryptprimitives.c goes beside a copy of the .exe in a scratch directory (never
# into target/: it is not for shipping). Wine's prefix is a fresh scratch directory too.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=windows-check TRIPLE=x86_64-pc-windows-gnu EXE=footprint.exe
# shellcheck source=scripts/cross-builds.sh
. scripts/cross-builds.sh
ensure_target

wine=$(command -v wine64 || true)
[ -n "$wine" ] || [ ! -x /usr/lib/wine/wine64 ] || wine=/usr/lib/wine/wine64
if [ -z "$wine" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            gcc-mingw-w64-x86-64 wine64 >/dev/null
        wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
    else
        echo "windows-check: needs MinGW-w64 and Wine 8 (Debian: gcc-mingw-w64-x86-64 wine64)" >&2
        exit 2
    fi
fi
wineserver=$(command -v wineserver || echo "$(dirname "$wine")/wineserver")

t0=$SECONDS
build_binaries
echo "windows-check: builds took $((SECONDS - t0)) s"

SMOKE_TMP=$(mktemp -d)
export WINEPREFIX=$SMOKE_TMP/wineprefix WINEDEBUG=-all WINEARCH=win64
# No Mono or Gecko install prompts on the prefix's first start.
export WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
    "$wineserver" -k 2>/dev/null || true
    rm -rf "$SMOKE_TMP"
}
trap cleanup EXIT
mkdir -p "$SMOKE_TMP/bin" "$WINEPREFIX"
cp "$TARGET_BIN" "$SMOKE_TMP/bin/footprint.exe"
x86_64-w64-mingw32-gcc -shared -O2 -Wall -o "$SMOKE_TMP/bin/bcryptprimitives.dll" \
    scripts/wine/bcryptprimitives.c -ladvapi32

t1=$SECONDS
"$wine" wineboot --init >/dev/null 2>&1 || true
# Let the prefix's first start finish (its services exit) before anything's output is compared.
"$wineserver" -w 2>/dev/null || true
echo "windows-check: Wine prefix made in $((SECONDS - t1)) s ($("$wine" --version 2>/dev/null || echo 'Wine'))"

TARGET=("$wine" "$SMOKE_TMP/bin/footprint.exe")
SMOKE_OS=windows
target_path() { # /a/b -> Z:\a\b (Wine maps Z: to /)
    local p=$1
    echo "Z:${p//\//\\}"
}
EXIT3=(cmd /c "exit 3")
# About a second of cmd's own work, then exit 3.
BUSY3=(cmd /c "for /L %i in (1,1,200000) do @set x=%i")
BUSY3+=("&" exit 3)
EXTRA_OUTPUTS=("C:\\footprint-smoke\\report.json|$WINEPREFIX/drive_c/footprint-smoke/report.json")
# The same CPU and code path, but the C runtime's logf/expf (MinGW's, not glibc's) in candle's
# cross-entropy: the reported loss may differ from Linux's in its last bit (the training does not).
LOSS_TOLERANCE=${LOSS_TOLERANCE:-1e-6}

# shellcheck source=scripts/smoke-suite.sh
. scripts/smoke-suite.sh
echo "windows-check: $("${TARGET[@]}" --version </dev/null | tr -d '\r') under $("$wine" --version 2>/dev/null)"
rc=0
smoke_suite || rc=1
echo "windows-check: done in $((SECONDS - t0)) s"
exit "$rc"
