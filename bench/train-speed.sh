#!/usr/bin/env bash
# DL4J against PyTorch on this machine, in one run: ResNet training and inference images/s and peak RSS of
# (a) a plain single-JVM DL4J fit, (b) the same fit through Spark local[2] with parameter averaging (as
# busi train runs it), (c) PyTorch 1.13 (Debian's python3-torch; a reference only, never a dependency).
# Usage: bench/train-speed.sh [ARCH] [SIZE] [BATCH] [BATCHES] [ROUNDS]   (default: resnet18 128 16 10 3)
# Every run is made once per round, rounds one after another, so that each ratio compares runs minutes apart at
# most on these noisy machines. Prints a Markdown table (images/s of every round, peak RSS), each round's ratios
# and the ratios of the medians: b/a, a/c and inference DL4J/PyTorch, for docs/benchmarks.md.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
arch="${1:-resnet18}" size="${2:-128}" batch="${3:-16}" batches="${4:-10}" rounds="${5:-3}"
threads="$(nproc)"
"$here/bin/busi" --version >/dev/null # builds the jar if needed, outside the timed runs
opens="$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$here/pom.xml")"
tuning="$(sed -n 's:.*<busi.jvm.tuning>\(.*\)</busi.jvm.tuning>.*:\1:p' "$here/pom.xml")" # bin/busi's JVM options
cp="$here/target/busi-spark.jar:$(cat "$here/target/classpath.txt")"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "machine: $threads cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "model: $arch, 1x${size}x${size}, batch $batch, passes over $batches batches: 3 warm-up, 3 timed, Adam"
declare -A speed rss
# shellcheck disable=SC2206
dl4j=(java -Xmx4g $tuning $opens -cp "$cp" "$here/bench/Dl4jSpeed.java")
torch=(/usr/bin/python3 "$here/bench/torch_speed.py")
measure() { # name, round, dl4j|torch, mode, [extra argument]
  local name="$1" round="$2" tool="$3" mode="$4" extra="${5:-}"
  local -n cmd="$tool"
  [[ "$tool" == torch ]] && extra="$threads"
  /usr/bin/time -v "${cmd[@]}" "$mode" "$arch" "$size" "$batch" "$batches" $extra >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  speed[$name,$round]="$(grep -o '[0-9.]* images/s' "$log" | cut -d' ' -f1)"
  rss[$name,$round]=$(( $(grep 'Maximum resident' "$log" | grep -o '[0-9]*$') / 1024 ))
}
names=(a b c dl4j-infer dl4j-infer-folded torch-infer)
for ((r = 1; r <= rounds; r++)); do
  measure a "$r" dl4j fit
  measure c "$r" torch fit
  measure b "$r" dl4j spark-fit 2
  measure dl4j-infer-folded "$r" dl4j infer-folded
  measure torch-infer "$r" torch infer
  measure dl4j-infer "$r" dl4j infer
  awk -v r="$r" -v a="${speed[a,$r]}" -v b="${speed[b,$r]}" -v c="${speed[c,$r]}" -v di="${speed[dl4j-infer,$r]}" \
      -v ti="${speed[torch-infer,$r]}" -v df="${speed[dl4j-infer-folded,$r]}" \
      'BEGIN { printf "round %d ratios: b/a %.2f, a/c %.2f, inference %.2f (folded, channels-last: %.2f)\n", r, b / a, a / c, di / ti, df / ti }'
done
echo "| run (a: DL4J fit, one JVM; b: DL4J fit through Spark local[2] with parameter averaging; c: PyTorch fit) | images/s, rounds 1..$rounds | median | peak RSS MiB |"
echo "|---|---|---|---|"
declare -A median
for n in "${names[@]}"; do
  values=() sizes=()
  for ((r = 1; r <= rounds; r++)); do values+=("${speed[$n,$r]}"); sizes+=("${rss[$n,$r]}"); done
  median[$n]="$(printf '%s\n' "${values[@]}" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
  printf '| %s | %s | %s | %s |\n' "$n" "$(IFS=,; echo "${values[*]}" | sed 's/,/, /g')" "${median[$n]}" \
    "$(printf '%s\n' "${sizes[@]}" | sort -n | sed -n '1p;$p' | paste -sd- | sed 's/^\([0-9]*\)-\1$/\1/')"
done
awk -v a="${median[a]}" -v b="${median[b]}" -v c="${median[c]}" -v di="${median[dl4j-infer]}" \
    -v ti="${median[torch-infer]}" -v df="${median[dl4j-infer-folded]}" \
    'BEGIN { printf "ratios of the medians: b/a %.2f, a/c %.2f, inference DL4J/PyTorch %.2f (as scoring runs it, folded and channels-last: %.2f)\n", b / a, a / c, di / ti, df / ti }'
