#!/usr/bin/env bash
# Scoring throughput benchmark: `busi score` over an image folder at local[1] and local[2] (decode, resize and
# ResNet inference in minibatches of 32; no Grad-CAM), then the same architecture in PyTorch on the same images
# (bench/score_reference.py, 1 and 2 threads). images/s comes from the job's own timing (Spark start-up and model
# loading excluded). Masks (NAME_mask.png) are skipped by score, as by ingest.
# Usage: bench/score.sh [IMAGE_FOLDER] [INPUT_SIZE] [WIDTH] [MODEL]
#   defaults: ../shared/data/Dataset_BUSI_with_GT, 128, 1.0 (reference.conf's model), a freshly initialised
#   resnet18; MODEL may name a trained model folder instead (its own input size then applies to busi).
# Needs /usr/bin/python3 with torch and torchvision (apt: python3-torch, python3-torchvision).
# Prints a Markdown table row per run; paste it into docs/benchmarks.md with the machine line it prints.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
input="$(cd "${1:-$here/../shared/data/Dataset_BUSI_with_GT}" && pwd)"
size="${2:-128}"
width="${3:-1.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$here/bin/busi" --version >/dev/null # builds the jar if needed, outside the timed runs
cp="$here/target/busi-spark.jar:$(cat "$here/target/classpath.txt")"
model="${4:-$work/model}"
if [[ -z "${4:-}" ]]; then
  java -cp "$cp" "$here/bench/InitModel.java" "$model" "$size" "$width" 2>/dev/null
fi
# An untimed scoring of the repository's sample: after a build, bin/busi records its class-data archive on the
# first run of a command (README, "Build facts"); the timed runs are the ones that follow, as users' are.
"$here/bin/busi" score --conf "$here/conf/local.conf" --gradcam-top 0 --model "$model" --input "$here/data/sample/busi" \
  --output "$work/warm" >/dev/null 2>&1
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "input: $input ($(find "$input" -type f -name '*.png' ! -name '*_mask*' | wc -l) images besides masks)"
echo "| engine | threads | images | scoring s | images/s | images/s per core | JVM wall s |"
echo "|---|---|---|---|---|---|---|"
for master in 'local[1]' 'local[2]'; do
  out="$work/out-${master//[^0-9]/}"
  start=$(date +%s.%N)
  "$here/bin/busi" score --conf "$here/conf/local.conf" "-Dbusi.spark.master=$master" --gradcam-top 0 \
    --model "$model" --input "$input" --output "$out" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  # The "seen N files" line comes when every image is decoded and scored; its clock starts at model loading,
  # the "model ..." line's, which is subtracted.
  loaded=$(grep -m1 '\[score +[0-9.]*s\] model ' "$work/log" | grep -o '+[0-9.]*s' | tr -d '+s')
  done_at=$(grep -m1 '\[score +[0-9.]*s\] seen ' "$work/log" | grep -o '+[0-9.]*s' | tr -d '+s')
  images=$(grep -o '"scored" : [0-9]*' "$out/score-report.json" | grep -o '[0-9]*$')
  cores=${master//[^0-9]/}
  awk -v m="busi $master" -v c="$cores" -v n="$images" -v s="$(echo "$done_at - $loaded" | bc)" -v w="$wall" 'BEGIN {
    printf "| %s | %d | %d | %.1f | %.1f | %.1f | %.1f |\n", m, c, n, s, n / s, n / s / c, w }'
done
[[ "$width" == "1.0" || "$width" == "1" ]] || echo "note: the PyTorch rows are torchvision's resnet18 at width 1.0, busi's at x$width"
model_size=$(grep -o '"inputSize" : [0-9]*' "$model/model-card.json" | grep -o '[0-9]*$')
for threads in 1 2; do
  /usr/bin/python3 "$here/bench/score_reference.py" "$input" --size "$model_size" --threads "$threads"
done
