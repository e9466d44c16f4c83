"""footprint beside its peers, in one run on one machine.

1. Overhead: a fixed CPU workload (a Python busy loop, and the candle training loop) run
   plain, under `footprint measure -- ...` and under `codecarbon monitor -- ...`. For each:
   added wall time, added CPU time (everything: tracker and workload), and the tracker's own
   peak RSS, as medians over --repeat runs, interleaved so that drift hits all three alike.
2. Throughput: the same MLP and transformer trained by candle (footprint's workload) and by
   PyTorch, same shapes, batch and thread count: samples/s and their ratio.

Run it through benches/peers/run.sh, which builds footprint and prepares the Python venv.
Writes Markdown to stdout and the raw figures to --json.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def peak_rss_kib(pid, stop, out):
    """Polls VmHWM (the process's own peak RSS) until told to stop."""
    path = f"/proc/{pid}/status"
    while not stop.is_set():
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        out[0] = max(out[0], int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
        time.sleep(0.01)


def timed(cmd, env=None, watch_tracker=False, cpu_file=None):
    """Runs cmd; returns wall s, CPU s of it and all its descendants, the top process's peak RSS,
    and (with cpu_file, written by cpu_of.py) the tracker's own CPU s."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd="/tmp")
    rss = [0]
    stop = threading.Event()
    th = None
    if watch_tracker:
        th = threading.Thread(target=peak_rss_kib, args=(p.pid, stop, rss), daemon=True)
        th.start()
    code = p.wait()
    wall = time.perf_counter() - t0
    stop.set()
    if th:
        th.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if code != 0:
        raise SystemExit(f"{cmd} exited with {code}")
    r = {"wall_s": wall, "cpu_s": cpu, "tracker_peak_rss_mib": rss[0] / 1024 if watch_tracker else None}
    if cpu_file:
        with open(cpu_file) as f:
            w = json.load(f)
        r["workload_cpu_s"] = w["command_cpu_s"]
        r["tracker_cpu_s"] = cpu - w["command_cpu_s"] - w["wrapper_cpu_s"]
    return r


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def overhead(a, footprint, codecarbon):
    cpu_file = "/tmp/footprint-peers-cpu.json"
    wrap = [sys.executable, os.path.join(HERE, "cpu_of.py"), cpu_file]
    workloads = {
        "Python busy loop": [sys.executable, os.path.join(HERE, "busy.py"), str(a.busy_iterations)],
        "candle MLP training": [a.train_plain, "--workload", "mlp", "--steps", str(a.candle_steps), "--warmup", "5"],
    }
    trackers = {
        "plain": lambda cmd: (cmd, False),
        "footprint measure": lambda cmd: ([footprint, "measure", "--no-progress", "-o", "/tmp/fp-peer.json", "--"] + cmd, True),
        "codecarbon monitor": lambda cmd: (
            [codecarbon, "monitor", "--no-api", "--offline", "--country-iso-code", "FRA", "--measure-power-secs", "1", "--"] + cmd,
            True,
        ),
    }
    results = {}
    for wname, cmd in workloads.items():
        runs = {t: [] for t in trackers}
        for _ in range(a.repeat):
            for tname, tracker in trackers.items():
                full, watch = tracker(wrap + cmd)
                runs[tname].append(timed(full, watch_tracker=watch, cpu_file=cpu_file))
        med = {}
        for tname, rs in runs.items():
            med[tname] = {k: statistics.median(r[k] for r in rs) if rs[0][k] is not None else None for k in rs[0]}
        results[wname] = {"runs": runs, "median": med}
    return results


def throughput(a):
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    out = {}
    for w in ["mlp", "transformer"]:
        candle, torch = [], []
        for _ in range(a.repeat):
            c = subprocess.run([a.train_plain, "--workload", w, "--steps", str(a.train_steps), "--warmup", "10"],
                               capture_output=True, text=True, env=env, check=True)
            candle.append(json.loads(c.stdout))
            t = subprocess.run([sys.executable, os.path.join(HERE, "torch_train.py"), "--workload", w,
                                "--steps", str(a.train_steps), "--warmup", "10", "--threads", str(a.threads)],
                               capture_output=True, text=True, env=env, check=True)
            torch.append(json.loads(t.stdout))
        out[w] = {
            "candle": candle,
            "pytorch": torch,
            "candle_samples_per_s": statistics.median(r["samples_per_second"] for r in candle),
            "pytorch_samples_per_s": statistics.median(r["samples_per_second"] for r in torch),
        }
    return out


def pct(x, base):
    return 100.0 * (x - base) / base


def markdown(m, ov, tp, a):
    lines = [f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, {m['memory_gib']} GiB, "
             f"Linux {m['kernel']}, Python {m['python']}; {m['date']}; medians of {a.repeat} interleaved runs.", ""]
    lines += ["| workload | tracker | wall s (min–max) | added wall | workload CPU s | tracker's own CPU s | added CPU | tracker peak RSS |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for wname, r in ov.items():
        base = r["median"]["plain"]
        for tname, v in r["median"].items():
            walls = [x["wall_s"] for x in r["runs"][tname]]
            added_wall = "—" if tname == "plain" else f"{pct(v['wall_s'], base['wall_s']):+.1f} %"
            added_cpu = "—" if tname == "plain" else f"{100 * v['tracker_cpu_s'] / v['workload_cpu_s']:.2f} %"
            own = "—" if tname == "plain" else f"{v['tracker_cpu_s']:.3f}"
            rss = "—" if v["tracker_peak_rss_mib"] is None else f"{v['tracker_peak_rss_mib']:.1f} MiB"
            lines.append(f"| {wname} | {tname} | {v['wall_s']:.3f} ({min(walls):.2f}–{max(walls):.2f}) | {added_wall} | "
                         f"{v['workload_cpu_s']:.3f} | {own} | {added_cpu} | {rss} |")
    lines += ["", "Added CPU is the tracker's own CPU time (everything under it, minus the workload and a tiny wrapper "
              "that reports the workload's CPU) as a share of the workload's CPU time; wall times on this shared VM "
              "vary by tens of percent between identical runs, so added wall is within noise."]
    lines += ["", f"| workload | candle samples/s | PyTorch samples/s | candle ÷ PyTorch |", "| --- | ---: | ---: | ---: |"]
    for w, r in tp.items():
        lines.append(f"| {w} | {r['candle_samples_per_s']:.0f} | {r['pytorch_samples_per_s']:.0f} | "
                     f"{r['candle_samples_per_s'] / r['pytorch_samples_per_s']:.2f} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--footprint", default=os.path.join(ROOT, "target/release/footprint"))
    p.add_argument("--train-plain", default=os.path.join(ROOT, "target/release/examples/train_plain"))
    p.add_argument("--codecarbon", required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--busy-iterations", type=int, default=20_000_000)
    p.add_argument("--candle-steps", type=int, default=300)
    p.add_argument("--train-steps", type=int, default=200)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--json", default=os.path.join(ROOT, "target/peers/results.json"))
    p.add_argument("--skip-throughput", action="store_true")
    a = p.parse_args()
    for k in ("footprint", "train_plain", "codecarbon", "json"):
        setattr(a, k, os.path.abspath(getattr(a, k)))
    m = machine()
    ov = overhead(a, a.footprint, a.codecarbon)
    tp = {} if a.skip_throughput else throughput(a)
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"machine": m, "overhead": ov, "throughput": tp, "args": vars(a)}, f, indent=1)
    print(markdown(m, ov, tp, a))


if __name__ == "__main__":
    main()
