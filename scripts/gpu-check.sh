#!/usr/bin/env bash
# Verifies footprint on a real NVIDIA GPU machine, in one command, and prints the figures in
# the form docs/performance.md records them ("GPU figures").
#
#   scripts/gpu-check.sh                 # builds the `cuda` feature, then runs every check
#   FOOTPRINT_BIN=path scripts/gpu-check.sh   # use a binary built already (with --features cuda)
#
# What it runs, on GPU $GPU (default 0), each with its report kept under $OUT (default
# target/gpu-check):
#   1. idle:        `measure --gpus $GPU -- sleep 10`: the GPU's idle power, by counter;
#   2. mlp:         `measure --cuda --workload mlp` for $STEPS steps (default 400);
#   3. transformer: `measure --cuda --workload transformer` for $STEPS steps;
#   4. wrapped:     footprint measuring a command that loads the GPU (footprint's own
#                   transformer training, or `gpu_burn`/a PyTorch matmul loop when at hand);
#   5. peers:       when PyTorch with CUDA is importable (and PEERS is not 0), candle --cuda
#                   beside PyTorch on CUDA, both measured by footprint
#                   (benches/peers/energy.py --cuda: samples/s, J/sample, J/GFLOP; ~3 min);
# and for each, NVML's energy counter beside the integral of the power samples over the same
# window (`counter_energy_j` vs `power_integrated_energy_j`). The two should agree within a few
# per cent; on Hopper, nvmlDeviceGetPowerUsage is a 1 s average, so short runs differ more.
# Budget: well under 30 minutes on one H100 (the build is most of it on a cold machine).
set -euo pipefail
cd "$(dirname "$0")/.."

GPU=${GPU:-0}
STEPS=${STEPS:-400}
OUT=${OUT:-target/gpu-check}
mkdir -p "$OUT"

command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi not found: no NVIDIA driver here" >&2; exit 2; }
command -v python3 >/dev/null || { echo "gpu-check: needs python3 to tabulate the reports" >&2; exit 2; }
nvidia-smi --query-gpu=index,name,driver_version,power.limit,mig.mode.current --format=csv | tee "$OUT/gpus.csv"

if [ -n "${FOOTPRINT_BIN:-}" ]; then
    BIN=$FOOTPRINT_BIN
elif command -v nvcc >/dev/null; then
    cargo build --release --features cuda
    BIN=target/release/footprint
else
    scripts/build-cuda.sh
    BIN=target/footprint-cuda
fi
"$BIN" --version

# candle's CUDA kernels need the CUDA runtime libraries; a CUDA PyTorch install carries them.
if NV=$(python3 -c 'import nvidia.cu13 as m; print(list(m.__path__)[0])' 2>/dev/null); then
    export LD_LIBRARY_PATH=$NV/lib:${LD_LIBRARY_PATH:-}
fi

run() { # name, then `measure` and its arguments (a command after `--` last)
    local name=$1; shift
    echo "== $name: footprint $*" >&2
    local t0=$SECONDS
    if "$BIN" "$1" --no-progress -o "$OUT/$name.json" "${@:2}" >"$OUT/$name.txt" 2>"$OUT/$name.err"; then
        echo "   ok in $((SECONDS - t0)) s" >&2
    else
        echo "   FAILED (exit $?): see $OUT/$name.err" >&2
        tail -5 "$OUT/$name.err" >&2
    fi
}

run idle measure --gpus "$GPU" -- sleep 10
CUDA_VISIBLE_DEVICES=$GPU run mlp measure --cuda --workload mlp --steps "$STEPS" --batch-size 4096 --width 2048 --depth 4
CUDA_VISIBLE_DEVICES=$GPU run transformer measure --cuda --workload transformer --steps "$STEPS" --batch-size 32
if command -v gpu_burn >/dev/null; then
    load=(gpu_burn 60)
elif python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    load=(python3 -c 'import torch,time
a=torch.randn(8192,8192,device="cuda"); t=time.time()
while time.time()-t<60: a=(a@a).tanh()
torch.cuda.synchronize()')
else
    load=("$BIN" measure --cuda --workload transformer --duration 60s --no-progress -o "$OUT/inner.json")
fi
CUDA_VISIBLE_DEVICES=$GPU run wrapped measure --gpus "$GPU" -- "${load[@]}"

python3 - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
rows = []
for name in ["idle", "mlp", "transformer", "wrapped"]:
    path = os.path.join(out, name + ".json")
    if not os.path.exists(path):
        rows.append(f"| {name} | failed: no report | | | | | | |")
        continue
    m = json.load(open(path))["measurement"]
    for s in m["sensors"]:
        if s["kind"] != "gpu":
            continue
        c, p = s.get("counter_energy_j"), s.get("power_integrated_energy_j")
        diff = f"{(p - c) / c * 100:+.2f} %" if c and p else "—"
        sps = m.get("samples_per_second")
        jps = m.get("joules_per_sample")
        rows.append(
            f"| {name} | {s['name']} | {m['duration_s']:.1f} | {s['power_w']['mean'] if s.get('power_w') else 0:.0f} "
            f"| {c if c is not None else float('nan'):.0f} | {p if p is not None else float('nan'):.0f} | {diff} "
            f"| {f'{sps:.0f}' if sps else '—'} / {f'{jps:.4g}' if jps else '—'} |"
        )
print()
print("| run | GPU | window s | mean W | counter J | integrated power J | power vs counter | samples/s / J per sample |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
print("\n".join(rows))
EOF
if [ "${PEERS:-1}" != 0 ] && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    echo "== peers: candle --cuda beside PyTorch on CUDA (benches/peers/energy.py --cuda)" >&2
    python3 benches/peers/energy.py --cuda --footprint "$BIN" --repeat 3 --json "$OUT/peers.json" \
        || echo "   peers FAILED" >&2
fi
echo "reports: $OUT/*.json; copy the tables into docs/performance.md with the machine's name" >&2
