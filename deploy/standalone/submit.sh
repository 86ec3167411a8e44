#!/usr/bin/env bash
# busi on a Spark standalone cluster; the driver runs here (client mode).
#   SPARK_HOME=/opt/spark SPARK_MASTER_URL=spark://master:7077 deploy/standalone/submit.sh \
#       run --input hdfs://nn:8020/busi/archive --output hdfs://nn:8020/busi/runs/2026-11-25
# GPU workers advertise their GPUs themselves: in each worker's conf/spark-env.sh,
#   SPARK_WORKER_OPTS="-Dspark.worker.resource.gpu.amount=<GPUs> \
#                      -Dspark.worker.resource.gpu.discoveryScript=/opt/busi/deploy/gpu/getGpusResources.sh"
# and hand them to executors; BUSI_GPU_DISCOVERY is that script's path on the workers. Sizing: deploy/common.sh.
set -euo pipefail
: "${BUSI_GPU_DISCOVERY:=/opt/busi/deploy/gpu/getGpusResources.sh}"
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
# Standalone places executors by cores: cap the application at the executors asked for.
busi_submit --master "${SPARK_MASTER_URL:?set SPARK_MASTER_URL, e.g. spark://master:7077}" \
  --conf "spark.cores.max=$((BUSI_EXECUTORS * BUSI_EXECUTOR_CORES))" \
  -- "$@"
