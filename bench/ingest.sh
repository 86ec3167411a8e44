#!/usr/bin/env bash
# Ingest throughput benchmark: `busi ingest` over an image folder at local[1] and local[2], reporting
# images/s and MB/s of the ingest stage (from its own timing, Spark start-up excluded) and the JVM's peak RSS.
# Usage: bench/ingest.sh [IMAGE_FOLDER] [XMX]   (default: ../shared/data/Dataset_BUSI_with_GT, 2g)
# Prints a Markdown table row per run; paste it into docs/benchmarks.md with the machine line it prints.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
input="$(cd "${1:-$here/../shared/data/Dataset_BUSI_with_GT}" && pwd)"
xmx="${2:-2g}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$here/bin/busi" --version >/dev/null # builds the jar if needed, outside the timed runs
# An untimed ingest of the repository's sample: after a build, bin/busi records its class-data archive on the
# first run of a command (README, "Build facts"); the timed runs are the ones that follow, as users' are.
"$here/bin/busi" ingest --conf "$here/conf/local.conf" --input "$here/data/sample/busi" --output "$work/warm" >/dev/null 2>&1
bytes=$(find "$input" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "input: $input ($(find "$input" -type f | wc -l) files, $((bytes / 1024 / 1024)) MiB); -Xmx$xmx"
java -cp "$here/target/busi-spark.jar:$(cat "$here/target/classpath.txt")" "$here/bench/DecodeReference.java" "$input"
echo "| master | images | ingest stage s | images/s | images/s per core | MB/s | peak RSS MiB | JVM wall s |"
echo "|---|---|---|---|---|---|---|---|"
for master in 'local[1]' 'local[2]'; do
  out="$work/out-${master//[^0-9]/}"
  start=$(date +%s.%N)
  BUSI_JAVA_OPTS="-Xmx$xmx" /usr/bin/time -v "$here/bin/busi" ingest --conf "$here/conf/local.conf" \
    "-Dbusi.spark.master=$master" --input "$input" --output "$out" >"$work/log" 2>"$work/time"
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  stage=$(grep -o 'committed to .*(\([0-9.]*\) s)' "$work/log" | grep -o '([0-9.]* s)' | tr -d '(s )')
  images=$(grep -o '"accepted" : [0-9]*' "$out/ingest-report.json" | grep -o '[0-9]*$')
  rss=$(grep 'Maximum resident set size' "$work/time" | grep -o '[0-9]*$')
  cores=${master//[^0-9]/}
  awk -v m="$master" -v n="$images" -v s="$stage" -v b="$bytes" -v r="$rss" -v w="$wall" -v c="$cores" 'BEGIN {
    printf "| %s | %d | %.1f | %.1f | %.1f | %.1f | %d | %.1f |\n", m, n, s, n / s, n / s / c, b / 1e6 / s, r / 1024, w }'
done
