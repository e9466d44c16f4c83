#!/usr/bin/env bash
# Build the project with its `cuda` cargo feature on a machine with no GPU and no system CUDA
# toolkit, using CUDA 13.0 wheels from PyPI. The binary then runs on an NVIDIA Hopper GPU
# (H100/H200) with driver >= 580 and the CUDA 13 runtime libraries (libcublas.so.13,
# libcurand.so.10, libcudart.so.13) on LD_LIBRARY_PATH.
#
# Usage (from the project root):  scripts/build-cuda.sh [extra cargo args]
# Result: target/release/footprint built with --features cuda (stripped copy: target/footprint-cuda)
#
# Facts this relies on (checked on the 2-core build machine, clean build about 11-14 minutes):
# - candle-core 0.11 links cudarc at build time (-lcuda -lcublas -lcublasLt -lcurand),
#   so a link stub for libcuda.so.1 is generated here; it is never shipped.
# - nvcc is pinned to 13.0.x: newer nvcc emits PTX that driver 580 cannot JIT.
# - CUDA_COMPUTE_CAP=90 builds sm_90a code: Hopper only.
set -euo pipefail
PROJECT=$(pwd)
W=${FOOTPRINT_CUDA_WORK:-$HOME/.cache/footprint-cuda}
mkdir -p "$W"
if [ ! -x "$W/venv/bin/pip" ]; then python3 -m venv "$W/venv"; fi
"$W/venv/bin/pip" install -q nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 \
  nvidia-cuda-cccl==13.0.85 nvidia-cuda-runtime==13.0.96 nvidia-cuda-nvrtc==13.0.88 \
  nvidia-cublas==13.1.0.3 nvidia-curand==10.4.0.35
C=$(ls -d "$W"/venv/lib/python3*/site-packages/nvidia/cu13 | head -1)
R=$W/cuda13
mkdir -p "$R/lib64/stubs"
for d in bin include nvvm; do ln -sfn "$C/$d" "$R/$d"; done
for f in "$C"/lib/*; do ln -sf "$f" "$R/lib64/"; done
for l in cudart cublas cublasLt nvrtc; do ln -sf "$C/lib/lib$l.so.13" "$R/lib64/lib$l.so"; done
ln -sf "$C/lib/libcurand.so.10" "$R/lib64/libcurand.so"
(cd "$PROJECT" && cargo fetch -q)
DRV=$(ls -d "$HOME"/.cargo/registry/src/*/cudarc-0.*/src/driver/sys/mod.rs | sort -V | tail -1)
grep -oP '^\s+fn \Kcu\w+(?=\()' "$DRV" | sort -u | awk '{print "int " $1 "(void){return 100;}"}' > "$R/lib64/stubs/stub.c"
gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$R/lib64/stubs/libcuda.so" "$R/lib64/stubs/stub.c"
export CUDA_ROOT=$R CUDA_HOME=$R CUDA_PATH=$R PATH=$R/bin:$PATH
export CUDA_COMPUTE_CAP=90 CUDARC_CUDA_VERSION=13000
export LIBRARY_PATH=$R/lib64:$R/lib64/stubs
cd "$PROJECT"
cargo build --release --features cuda "$@"
strip -o target/footprint-cuda target/release/footprint
ls -la target/footprint-cuda
