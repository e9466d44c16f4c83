#!/usr/bin/env bash
# footprint beside its peers: overhead vs CodeCarbon, training throughput vs PyTorch.
#
#   benches/peers/run.sh [compare.py options, e.g. --repeat 3]
#
# Builds footprint and the plain candle trainer in release, installs CodeCarbon and PyTorch
# into a throwaway venv (target/peers/venv; about 6 GB, PyTorch pulls its CUDA libraries from
# PyPI even for CPU use), then runs compare.py. Needs network for the installs only.
# Results: Markdown on stdout, raw figures in target/peers/results.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=$(realpath -m "${FOOTPRINT_PEERS_VENV:-target/peers/venv}")
cargo build --release --quiet
cargo build --release --quiet --example train_plain
if [ ! -x "$VENV/bin/codecarbon" ] || ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet "codecarbon==3.3.2" torch
fi
"$VENV/bin/python" benches/peers/compare.py --codecarbon "$VENV/bin/codecarbon" "$@"
