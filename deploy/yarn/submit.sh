#!/usr/bin/env bash
# busi on YARN; the driver runs in the cluster (cluster mode), conf/cluster.conf and the GPU discovery script
# travel with the job.
#   SPARK_HOME=/opt/spark HADOOP_CONF_DIR=/etc/hadoop/conf BUSI_QUEUE=ml deploy/yarn/submit.sh \
#       run --input hdfs://nn:8020/busi/archive --output hdfs://nn:8020/busi/runs/2026-11-25
# GPUs: YARN 3.1+ with the yarn.io/gpu resource enabled; Spark maps spark.executor.resource.gpu.amount to it.
# Sizing: deploy/common.sh.
set -euo pipefail
: "${DEPLOY_MODE:=cluster}"
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
# One attempt: a retried driver would train from scratch (run `busi train --resume` instead) and publish twice.
busi_submit --master yarn --queue "${BUSI_QUEUE:-default}" --conf spark.yarn.maxAppAttempts=1 -- "$@"
