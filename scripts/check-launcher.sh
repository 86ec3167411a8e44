#!/usr/bin/env bash
# Checks bin/busi's class data sharing on a real job (run by CI after the tests; builds the jar if needed):
# the first ingest records target/cds/ingest.jsa, the next one loads Spark's classes from it, a help
# run records nothing, and a flight recording runs without the archive (JDK 17 crashed with both).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
busi=("$here/bin/busi")
"${busi[@]}" --version >/dev/null
rm -rf "$here/target/cds"
job=(ingest --conf "$here/conf/local.conf" --input "$here/data/sample/busi")
"${busi[@]}" score --help >/dev/null
[[ ! -e "$here/target/cds/score.jsa" ]] || { echo "a help run recorded an archive" >&2; exit 1; }
BUSI_JAVA_OPTS="-Xmx2g" "${busi[@]}" "${job[@]}" --output "$work/a" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
[[ -s "$here/target/cds/ingest.jsa" ]] || { echo "no archive recorded" >&2; exit 1; }
ls "$here/target/cds" | grep -q '\.jsa\.' && { echo "a recording was left behind" >&2; exit 1; }
BUSI_JAVA_OPTS="-Xmx2g -Xshare:on -Xlog:class+load=info" "${busi[@]}" "${job[@]}" --output "$work/b" >"$work/log" 2>&1 \
  || { tail -50 "$work/log" >&2; echo "the archive could not be mapped" >&2; exit 1; }
# Classes from the recorded (dynamic, "top") archive, Spark's among them.
grep -q 'org.apache.spark.SparkContext source: shared objects file (top)' "$work/log" \
  || { echo "Spark's classes did not come from the recorded archive" >&2; exit 1; }
BUSI_JAVA_OPTS="-Xmx2g -XX:StartFlightRecording=filename=$work/x.jfr" "${busi[@]}" "${job[@]}" --output "$work/c" \
  >"$work/log" 2>&1 || { cat "$work/log" >&2; echo "a flight recording failed" >&2; exit 1; }
for out in a b c; do
  grep -q '"accepted" : 60' "$work/$out/ingest-report.json" || { echo "run $out did not ingest the sample" >&2; exit 1; }
done
echo "launcher: class data recorded, mapped, and left out beside a flight recording"
