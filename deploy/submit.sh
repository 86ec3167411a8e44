#!/usr/bin/env bash
# Submits busi to a Spark cluster with spark-submit. Build the cluster jar first:
#   mvn -B -Pcluster -DskipTests package            # CPU executors
#   mvn -B -Pcluster,cuda -DskipTests package       # GPU executors (CUDA 11.6 + cuDNN on the nodes)
# Usage: deploy/submit.sh MASTER_URL busi-arguments...
#   deploy/submit.sh spark://master:7077 run --conf conf/cluster.conf \
#       --input hdfs://nn:8020/busi/raw --output s3a://bucket/busi/runs/2026-11-25
# S3 credentials come from the AWS default provider chain (environment, instance profile), never from a file here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
master="${1:?usage: deploy/submit.sh MASTER_URL busi-arguments...}"
shift
jar="$here/target/busi-spark-cluster.jar"
[[ -f "$jar" ]] || { echo "no cluster jar: run 'mvn -B -Pcluster -DskipTests package' first" >&2; exit 2; }
exec "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5 installation}/bin/spark-submit" \
  --master "$master" \
  --deploy-mode "${DEPLOY_MODE:-client}" \
  --class org.busispark.cli.BusiCli \
  --conf spark.serializer=org.apache.spark.serializer.KryoSerializer \
  --conf spark.kryo.registrator=org.busispark.config.BusiKryoRegistrator \
  --conf spark.executor.extraJavaOptions="-Dorg.bytedeco.javacpp.maxbytes=${ND4J_MAX_BYTES:-8G} -Dorg.bytedeco.javacpp.maxphysicalbytes=${ND4J_MAX_PHYSICAL:-16G}" \
  --files "$here/conf/cluster.conf" \
  "$jar" "$@"
