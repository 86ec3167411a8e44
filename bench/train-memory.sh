#!/usr/bin/env bash
# Training memory against dataset size: ingests a folder and the same images N times over (hard links under
# other names, built in a temporary folder), trains the same model for the same number of epochs on each, and
# reports the training JVM's peak RSS (/usr/bin/time -v) and its heap limit. Peak memory must not grow with
# the number of images: the training split is read from Parquet and augmented per partition, never collected.
# ND4J's off-heap arrays are bounded by JavaCPP's maxbytes, set to the heap size here (its default is the heap size
# too, with twice that for the whole process), so the RSS shows whether either bound is approached.
# Usage: bench/train-memory.sh [IMAGE_FOLDER] [TIMES] [EPOCHS] [XMX]   (defaults: shared BUSI folder, 4, 2, 1500m)
#   TRAIN_OPTS="-Dkey=value ..." adds settings to both trainings; ONLY_TIMES=1 skips the plain folder's run.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
input="$(cd "${1:-$here/../shared/data/Dataset_BUSI_with_GT}" && pwd)"
times="${2:-4}"
epochs="${3:-2}"
xmx="${4:-1500m}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$here/bin/busi" --version >/dev/null # builds the jar if needed, outside the measured runs
# The N-fold copy: every file linked N times with a prefix, so class folders and mask names still pair up.
(cd "$input" && find . -type f) | while read -r f; do
  d="$work/x$times/$(dirname "$f")"; mkdir -p "$d"
  for i in $(seq 1 "$times"); do ln "$input/$f" "$d/c$i-$(basename "$f")" 2>/dev/null || cp "$input/$f" "$d/c$i-$(basename "$f")"; done
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "model: conf/recipe-cpu.conf (ResNet-18 x0.5, 128 px, batch 16 per worker, local[2]), $epochs epochs, -Xmx$xmx, JavaCPP maxbytes $xmx"
echo "| dataset | images | train images | epochs | train wall s | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for folder in $([[ -n "${ONLY_TIMES:-}" ]] || echo "$input") "$work/x$times"; do
  name=$([[ "$folder" == "$input" ]] && echo "folder" || echo "folder x$times")
  BUSI_JAVA_OPTS="-Xmx2g" "$here/bin/busi" ingest --conf "$here/conf/local.conf" --input "$folder" \
    --output "$work/data" >"$work/ingest.log" 2>&1 || { cat "$work/ingest.log" >&2; exit 1; }
  start=$(date +%s.%N)
  BUSI_JAVA_OPTS="-Xmx$xmx -Dorg.bytedeco.javacpp.maxbytes=$xmx" /usr/bin/time -v "$here/bin/busi" train --conf "$here/conf/recipe-cpu.conf" \
    "-Dbusi.train.epochs=$epochs" ${TRAIN_OPTS:-} --data "$work/data" --output "$work/model" >"$work/train.log" 2>"$work/time" \
    || { cat "$work/train.log" "$work/time" >&2; exit 1; }
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  images=$(grep -o '"accepted" : [0-9]*' "$work/data/ingest-report.json" | grep -o '[0-9]*$')
  train=$(grep -A4 '"acceptedPerSplit"' "$work/data/ingest-report.json" | grep -o '"train" : [0-9]*' | grep -o '[0-9]*$')
  rss=$(grep 'Maximum resident set size' "$work/time" | grep -o '[0-9]*$')
  printf '| %s | %d | %s | %d | %.1f | %d |\n' "$name" "$images" "$train" "$epochs" "$wall" $((rss / 1024))
  rm -rf "$work/data" "$work/model"
done
