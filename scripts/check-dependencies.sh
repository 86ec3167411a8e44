#!/usr/bin/env bash
# Fails when the resolved dependency tree holds two versions of Spark, Scala, Hadoop or Typesafe Config, two Kryos, or
# native binaries for another operating system (a *-platform artifact slipping in through DL4J).
set -euo pipefail
cd "$(dirname "$0")/.."
tree="$(mktemp)"
trap 'rm -f "$tree"' EXIT
mvn -B -q dependency:tree -DoutputFile="$tree" >/dev/null
status=0
check_one_version() { # label, grep -E pattern over group:artifact:type[:classifier]:version
  local versions
  versions="$(grep -oE "$2:jar:[^: ]+" "$tree" | awk -F: '{print $NF}' | sort -u)"
  if [[ $(printf '%s\n' "$versions" | grep -c .) -gt 1 ]]; then
    echo "FAIL: more than one $1 version: $(echo $versions)"; status=1
  else
    echo "ok: $1 $versions"
  fi
}
check_one_version "Spark" "org\.apache\.spark:spark-[a-z-]+_2\.1[23]"
check_one_version "Scala" "org\.scala-lang:scala-(library|reflect)"
check_one_version "Hadoop" "org\.apache\.hadoop:hadoop-[a-z-]+"
check_one_version "Typesafe Config" "com\.typesafe:config"
if grep -qE 'com\.esotericsoftware:kryo:jar' "$tree"; then
  echo "FAIL: com.esotericsoftware:kryo beside Spark's kryo-shaded (the same classes, found in jar order)"; status=1
else
  echo "ok: one Kryo (kryo-shaded)"
fi
foreign="$(grep -E ':(android|ios|macosx|windows|linux-(armhf|arm64|ppc64le|x86)):' "$tree" | grep -v 'linux-x86_64' || true)"
platform="$(grep -E 'org\.bytedeco:[a-z0-9-]+-platform:jar' "$tree" || true)"
if [[ -n "$foreign$platform" ]]; then
  echo "FAIL: natives for other platforms:"; echo "$foreign$platform"; status=1
else
  echo "ok: natives for linux-x86_64 only"
fi
exit $status
