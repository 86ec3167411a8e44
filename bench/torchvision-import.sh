#!/usr/bin/env bash
# torchvision's own ResNet (random initialisation, random batch-norm statistics) saved by PyTorch and imported by
# busi.model.pretrained's reader: the largest logit difference against PyTorch (float64) on the same inputs, with
# three input channels (the import itself) and with one (the RGB stem folded, gray images normalised by ImageNet's
# channel-mean statistics), for docs/benchmarks.md. Needs Debian's python3-torch and python3-torchvision (reference
# only, never a dependency of busi-spark).
# Usage: bench/torchvision-import.sh [ARCH] [SIZE] [N]   (default: resnet18 224 4)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
arch="${1:-resnet18}" size="${2:-224}" n="${3:-4}"
"$here/bin/busi" --version >/dev/null # builds the jar if needed
opens="$(sed -n 's:.*<spark.jvm.opens>\(.*\)</spark.jvm.opens>.*:\1:p' "$here/pom.xml")"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u '+%F %H:%M') UTC"
/usr/bin/python3 "$here/bench/torchvision_import.py" "$dir" "$arch" "$size" "$n"
echo "PyTorch $(/usr/bin/python3 -c 'import torch, torchvision; print(torch.__version__, "torchvision", torchvision.__version__)'): $arch, $n images ${size}x${size}, checkpoint $(du -h "$dir/state_dict.pt" | cut -f1)"
# shellcheck disable=SC2086
java -Xmx6g $opens -cp "$here/target/busi-spark.jar:$(cat "$here/target/classpath.txt")" \
    "$here/bench/TorchvisionImport.java" "$dir" "$arch" "$size" "$n" 2>&1 | grep -v -e WARN -e '^SLF4J'
