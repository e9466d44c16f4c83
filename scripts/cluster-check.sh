#!/usr/bin/env bash
# Checks footprint against the real cluster components it fits into, on one Linux machine:
#
#   1. Slurm (Debian's slurm-wlm): a one-node cluster on localhost; `srun` starts 2 tasks of
#      `footprint measure --once-per-node`; exactly one report must come back (local rank 0),
#      named from Slurm's variables and recording the job; then an `sbatch` job does the same;
#      `footprint merge` combines the two jobs' reports only with --force.
#   2. Prometheus node_exporter (Debian's prometheus-node-exporter): its textfile collector
#      reads the file `measure --prometheus-textfile` keeps up to date; the footprint_* metrics
#      must appear on node_exporter's /metrics while the run is going.
#
# Usage: scripts/cluster-check.sh   (as root on a scratch machine or container: it writes
#        /etc/slurm/slurm.conf and starts munged, slurmctld, slurmd and node_exporter when
#        they are not running; apt-get install slurm-wlm prometheus-node-exporter first)
# It builds the release binary and leaves its files under target/cluster-check.
set -euo pipefail
cd "$(dirname "$0")/.."
for c in srun sbatch slurmctld slurmd munged prometheus-node-exporter curl; do
    command -v "$c" >/dev/null || { echo "cluster-check: '$c' missing (apt-get install slurm-wlm prometheus-node-exporter curl)" >&2; exit 2; }
done
cargo build --release -q
BIN=$PWD/target/release/footprint
W=$PWD/target/cluster-check
rm -rf "$W" && mkdir -p "$W"
fail() { echo "cluster-check: FAIL: $*" >&2; exit 1; }

# --- a one-node Slurm cluster on localhost -------------------------------------------------
host=$(hostname -s)
if ! scontrol ping 2>/dev/null | grep -q UP; then
    [ "$(id -u)" = 0 ] || fail "Slurm is not running and starting it needs root"
    mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1k count=1 2>/dev/null
    chown -R munge:munge /etc/munge /run/munge 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
    pgrep -x munged >/dev/null || runuser -u munge -- munged --force
    cat > /etc/slurm/slurm.conf <<EOF
ClusterName=footprint-check
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
ReturnToService=2
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=10 State=UP OverSubscribe=YES
EOF
    pgrep -x slurmctld >/dev/null || slurmctld
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 30); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 1; done
    scontrol update nodename="$host" state=resume 2>/dev/null || true
    sleep 2
fi
sinfo

echo "== srun: 2 tasks, --once-per-node" >&2
srun -N1 -n2 --overcommit "$BIN" measure --no-progress --once-per-node \
    -o "$W/srun-{job}-{node}-{rank}.json" -- sleep 2 > "$W/srun.out" 2>&1 || { cat "$W/srun.out"; fail "srun"; }
reports=("$W"/srun-*.json)
[ ${#reports[@]} = 1 ] || fail "expected one report from local rank 0, found ${#reports[@]}: ${reports[*]}"
grep -q "only local rank 0 measures" "$W/srun.out" || fail "the other rank did not say it ran unmeasured"
python3 - "${reports[0]}" <<'EOF' || fail "srun report"
import json, sys
p = json.load(open(sys.argv[1]))["measurement"]["placement"]
assert p["launcher"] == "slurm" and p["job_id"] and p["world_size"] == 2 and p["local_rank"] == 0, p
print("srun report:", sys.argv[1].rsplit("/", 1)[1], p)
EOF

echo "== sbatch --wait" >&2
cat > "$W/job.sh" <<EOF
#!/bin/bash
#SBATCH --ntasks=2 --output=$W/sbatch.out
srun --overcommit $BIN measure --no-progress --once-per-node -o '$W/sbatch-{job}-{node}-{rank}.json' -- sleep 1
EOF
sbatch --wait "$W/job.sh" >/dev/null || { cat "$W/sbatch.out"; fail "sbatch"; }
breports=("$W"/sbatch-*.json)
[ ${#breports[@]} = 1 ] || fail "sbatch: expected one report, found ${#breports[@]}"

echo "== merge" >&2
if "$BIN" merge "${reports[0]}" "${breports[0]}" -o "$W/merged.json" 2>"$W/merge.err"; then
    fail "merge accepted reports of two different jobs"
fi
grep -q -- "--force" "$W/merge.err" || fail "merge's refusal does not say how to override: $(cat "$W/merge.err")"
"$BIN" merge --force "${reports[0]}" "${breports[0]}" -o "$W/merged.json" >/dev/null
"$BIN" check examples/laptop-finetune.toml >/dev/null 2>&1 || true

# --- node_exporter's textfile collector ----------------------------------------------------
echo "== node_exporter textfile collector" >&2
T=$W/textfile
mkdir -p "$T"
port=${NODE_EXPORTER_PORT:-19100}
prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
    --collector.textfile.directory="$T" > "$W/node_exporter.log" 2>&1 &
ne=$!
trap 'kill $ne 2>/dev/null || true' EXIT
"$BIN" measure --no-progress --interval-ms 200 --prometheus-textfile "$T/footprint.prom" \
    -o "$W/prom-run.json" -- sleep 4 > /dev/null 2>&1 &
run=$!
sleep 2.5
curl -fsS "http://127.0.0.1:$port/metrics" > "$W/metrics.txt" || fail "node_exporter did not answer"
wait $run
grep -q '^footprint_energy_joules_total{' "$W/metrics.txt" || fail "no footprint_energy_joules_total on /metrics"
grep -q '^footprint_power_watts{' "$W/metrics.txt" || fail "no footprint_power_watts on /metrics"
grep -q '^footprint_co2e_grams_total{' "$W/metrics.txt" || fail "no footprint_co2e_grams_total on /metrics"
if grep -q '^node_textfile_scrape_error 1' "$W/metrics.txt"; then fail "node_exporter could not parse the file"; fi
grep '^footprint_' "$W/metrics.txt"
echo "cluster-check: all passed (files under $W)" >&2
