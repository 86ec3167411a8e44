#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript, spark.worker.resource.gpu.discoveryScript):
# prints the GPUs this host or container can use, e.g. {"name":"gpu","addresses":["0","1"]}. Fails (and with it the
# executor's start) when nvidia-smi does, rather than reporting no GPUs.
set -euo pipefail
indices="$(nvidia-smi --query-gpu=index --format=csv,noheader)"
addresses="$(printf '%s\n' "$indices" | awk 'NF { gsub(/[[:space:]]/, ""); printf "%s\"%s\"", (n++ ? "," : ""), $0 }')"
printf '{"name":"gpu","addresses":[%s]}\n' "$addresses"
