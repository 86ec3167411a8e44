#!/usr/bin/env bash
# The whole recipe sweep on one GPU machine, from the repo root:  bash bench/sweep/run-on-gpu.sh [sweep.py options]
# Needs python3 with torch (CUDA) and numpy, and the pack at .sweep/pack.npz (git-ignored; made by
# bench/sweep/pack.py) or bench/sweep/pack.npz. Writes to $OUT (default ./sweep-out): log.txt, results.jsonl,
# summary.md, gpu-util.csv. Ends within 8 minutes: no job starts after 420 s, running jobs are killed at 460 s,
# a timeout stops everything at 468 s, and summary.md is (re)written from results.jsonl if missing.
set -uo pipefail
PY="${PYTHON:-python3}"  # the GPU machine's python3; PYTHON=/usr/bin/python3 for a local CPU smoke test
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT="${OUT:-$PWD/sweep-out}"
mkdir -p "$OUT"
PACK=""
for p in .sweep/pack.npz bench/sweep/pack.npz; do [[ -f "$p" ]] && { PACK="$p"; break; }; done
log="$OUT/log.txt"
{
  echo "run-on-gpu: $(date -u +%FT%TZ) host $(hostname) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  nvidia-smi || echo "run-on-gpu: nvidia-smi failed"
  "$PY" -c 'import torch, numpy; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "numpy", numpy.__version__, "cpus", __import__("os").cpu_count())'
} 2>&1 | tee "$log"
if [[ -z "$PACK" ]]; then
  echo "run-on-gpu: no pack (.sweep/pack.npz or bench/sweep/pack.npz)" | tee -a "$log"
  exit 1
fi
ls -l "$PACK" | tee -a "$log"

# GPU utilisation and memory every 5 s, for judging whether the concurrent jobs saturate the GPU
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 5 > "$OUT/gpu-util.csv" 2>/dev/null &
smi_pid=$!

timeout -k 4 468 "$PY" -u bench/sweep/sweep.py --pack "$PACK" --out "$OUT" \
  --time-budget 420 --hard-deadline 460 "$@" 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
kill "$smi_pid" 2>/dev/null
echo "run-on-gpu: sweep exit code $rc" | tee -a "$log"
if [[ ! -s "$OUT/summary.md" || $rc -ne 0 ]]; then
  "$PY" bench/sweep/sweep.py --summarize-only --out "$OUT" 2>&1 | tee -a "$log"
fi
echo "run-on-gpu: done $(date -u +%FT%TZ)" | tee -a "$log"
