#!/usr/bin/env bash
# busi on Kubernetes; the driver and executors are pods of BUSI_IMAGE (deploy/k8s/Dockerfile), which holds the jar,
# conf/cluster.conf and the GPU discovery script under /opt/busi. spark-submit waits for the application and exits
# with its status, so a CronJob's pod (deploy/k8s/cronjob.yaml) fails when training fails.
#   SPARK_HOME=/opt/spark K8S_API=https://kubernetes.default.svc BUSI_IMAGE=registry/busi-spark:cuda \
#       deploy/k8s/submit.sh run --input s3a://bucket/busi/archive --output s3a://bucket/busi/runs/2026-11-25
# S3 credentials: the service account's web identity (IRSA) or the node's instance profile. Sizing: deploy/common.sh.
set -euo pipefail
: "${DEPLOY_MODE:=cluster}"
: "${BUSI_JAR:=local:///opt/busi/busi-spark-cluster.jar}"
: "${BUSI_DRIVER_CONF:=/opt/busi/conf/cluster.conf}"
: "${BUSI_GPU_DISCOVERY:=/opt/busi/deploy/gpu/getGpusResources.sh}"
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
busi_submit --master "k8s://${K8S_API:?set K8S_API, e.g. https://kubernetes.default.svc}" \
  --conf "spark.kubernetes.namespace=${BUSI_NAMESPACE:-busi}" \
  --conf "spark.kubernetes.container.image=${BUSI_IMAGE:?set BUSI_IMAGE to an image built from deploy/k8s/Dockerfile}" \
  --conf spark.kubernetes.authenticate.driver.serviceAccountName=busi-spark \
  --conf spark.executor.resource.gpu.vendor=nvidia.com \
  --conf spark.kubernetes.submission.waitAppCompletion=true \
  -- "$@"
