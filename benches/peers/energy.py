"""candle (footprint's own training loop) beside PyTorch: samples/s and J/sample, both measured
by footprint on the same machine in the same run, interleaved, medians.

    target/peers/venv/bin/python benches/peers/energy.py --repeat 3

candle: `footprint measure --workload W --duration 5s` (the measured window excludes warm-up).
PyTorch: `footprint measure --samples N -- python torch_train.py --workload W --steps S` at two
step counts; the energy difference over the sample difference is PyTorch's J/sample with the
interpreter's start-up and `import torch` cancelled out. samples/s is torch_train.py's own
figure for its measured steps. J/sample is whatever footprint measures here: on a machine
without RAPL that is the CPU-time model, i.e. proportional to CPU seconds.
With --cuda both train on the GPU (candle needs a `--features cuda` build; PyTorch a CUDA
install), and footprint's figures include the GPU's NVML energy.
Prints a Markdown table; raw figures go to target/peers/energy.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATCH = {"mlp": 64, "transformer": 16}
CANDLE_SECONDS = "5s"
TORCH_STEPS = {"mlp": (500, 2500), "transformer": (100, 300)}


def measure(fp, args):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "m.json")
        r = subprocess.run(
            [fp, "measure", "--no-progress", "-o", out] + args,
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            sys.exit(f"footprint measure {' '.join(args)} failed: {r.stderr[-500:]}")
        return json.load(open(out))["measurement"], r.stdout


def candle(fp, w, cuda):
    m, _ = measure(fp, ["--workload", w, "--duration", CANDLE_SECONDS] + (["--cuda"] if cuda else []))
    return m["samples_per_second"], m["joules_per_sample"], m["joules_per_flop"]


def torch(fp, w, threads, cuda):
    script = os.path.join(ROOT, "benches/peers/torch_train.py")
    runs = []
    for steps in TORCH_STEPS[w]:
        n = steps * BATCH[w]
        m, stdout = measure(
            fp,
            ["--samples", str(n), "--", sys.executable, script, "--workload", w,
             "--steps", str(steps), "--warmup", "0", "--threads", str(threads)]
            + (["--device", "cuda"] if cuda else []),
        )
        runs.append((n, m["energy_j"], json.loads(stdout.strip().splitlines()[-1])))
    (n1, e1, _), (n2, e2, own) = runs
    j_per_sample = (e2 - e1) / (n2 - n1)
    flops_per_sample = own["flops_per_second"] / own["samples_per_second"]
    return own["samples_per_second"], j_per_sample, j_per_sample / flops_per_sample


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--footprint", default=os.path.join(ROOT, "target/release/footprint"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--json", default=os.path.join(ROOT, "target/peers/energy.json"))
    p.add_argument("--cuda", action="store_true",
                   help="train on the GPU: candle with --cuda (a cuda build), PyTorch on cuda")
    a = p.parse_args()
    raw = {w: {"candle": [], "pytorch": []} for w in BATCH}
    for _ in range(a.repeat):
        for w in BATCH:
            raw[w]["candle"].append(candle(a.footprint, w, a.cuda))
            raw[w]["pytorch"].append(torch(a.footprint, w, a.threads, a.cuda))
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    json.dump(raw, open(a.json, "w"), indent=1)
    print("| workload | candle samples/s | PyTorch samples/s | ratio | candle J/sample | PyTorch J/sample | ratio | candle J/GFLOP | PyTorch J/GFLOP |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w, r in raw.items():
        med = lambda who, i: statistics.median(x[i] for x in r[who])
        cs, cj, cf = (med("candle", i) for i in range(3))
        ps, pj, pf = (med("pytorch", i) for i in range(3))
        print(f"| {w} | {cs:,.0f} | {ps:,.0f} | {cs / ps:.2f} | {cj:.3g} | {pj:.3g} | {cj / pj:.2f} | {cf * 1e9:.3g} | {pf * 1e9:.3g} |")

if __name__ == "__main__":
    main()
