#!/usr/bin/env bash
# DL4J against PyTorch on this machine, in one run: ResNet training and inference images/s and peak RSS of
# (a) a plain single-JVM DL4J fit, (b) the same fit through Spark local[2] with parameter averaging (as
# busi train runs it), (c) PyTorch 1.13 (Debian's python3-torch; a reference only, never a dependency).
# Usage: bench/train-speed.sh [ARCH] [SIZE] [BATCH] [BATCHES]   (default: resnet18 128 16 10)
# Prints Markdown table rows and the ratios b/a, a/c and inference DL4J/PyTorch for docs/benchmarks.md.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
arch="${1:-resnet18}" size="${2:-128}" batch="${3:-16}" batches="${4:-10}"
threads="$(nproc)"
"$here/bin/busi" --version >/dev/null # builds the jar if needed, outside the timed runs
opens="$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$here/pom.xml")"
tuning="$(sed -n 's:.*<busi.jvm.tuning>\(.*\)</busi.jvm.tuning>.*:\1:p' "$here/pom.xml")" # bin/busi's JVM options
cp="$here/target/busi-spark.jar:$(cat "$here/target/classpath.txt")"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "machine: $threads cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "model: $arch, 1x${size}x${size}, batch $batch, passes over $batches batches: 3 warm-up, 3 timed, Adam"
echo "| run (a: DL4J fit, one JVM; b: DL4J fit through Spark local[2] with parameter averaging; c: PyTorch fit) | images/s | peak RSS MiB |"
echo "|---|---|---|"
declare -A speed
# shellcheck disable=SC2206
dl4j=(java -Xmx4g $tuning $opens -cp "$cp" "$here/bench/Dl4jSpeed.java")
torch=(/usr/bin/python3 "$here/bench/torch_speed.py")
measure() { # name, dl4j|torch, mode, [extra argument]
  local name="$1" tool="$2" mode="$3" extra="${4:-}"
  local -n cmd="$tool"
  [[ "$tool" == torch ]] && extra="$threads"
  /usr/bin/time -v "${cmd[@]}" "$mode" "$arch" "$size" "$batch" "$batches" $extra >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  speed[$name]="$(grep -o '[0-9.]* images/s' "$log" | cut -d' ' -f1)"
  printf '| %s | %s | %d |\n' "$name" "${speed[$name]}" $(( $(grep 'Maximum resident' "$log" | grep -o '[0-9]*$') / 1024 ))
}
measure a dl4j fit
measure b dl4j spark-fit 2
measure c torch fit
measure dl4j-infer dl4j infer
measure dl4j-infer-folded dl4j infer-folded
measure torch-infer torch infer
awk -v a="${speed[a]}" -v b="${speed[b]}" -v c="${speed[c]}" -v di="${speed[dl4j-infer]}" -v ti="${speed[torch-infer]}" \
    -v df="${speed[dl4j-infer-folded]}" \
    'BEGIN { printf "ratios: b/a %.2f, a/c %.2f, inference DL4J/PyTorch %.2f (as scoring runs it, folded and channels-last: %.2f)\n", b / a, a / c, di / ti, df / ti }'
