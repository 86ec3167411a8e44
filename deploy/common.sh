# Sourced by deploy/{standalone,yarn,k8s}/submit.sh: the spark-submit flags every cluster manager shares.
# A wrapper sets its own defaults, sources this file, and calls
#   busi_submit [spark-submit options...] -- BUSI-COMMAND [busi options...]
#
# Sizing, from the environment (defaults: 4 executors of 4 cores, 16 GiB heap, 20 GiB off-heap, 1 GPU each):
#   BUSI_EXECUTORS, BUSI_EXECUTOR_CORES   executors and task slots per executor; busi trains one parameter-averaging
#                                         worker per task slot (busi.train.workers = 0)
#   BUSI_EXECUTOR_MEMORY_GB               JVM heap per executor (Spark rows, decoded images, Parquet)
#   BUSI_OFFHEAP_GB                       ND4J's off-heap arrays per executor (one network copy, its updater state and
#                                         activations per task slot); added to spark.executor.memoryOverhead, which
#                                         YARN and Kubernetes enforce, and given to JavaCPP as its limit
#   BUSI_DRIVER_MEMORY_GB                 the driver averages parameters and evaluates: it needs ND4J memory too
#   BUSI_GPUS_PER_EXECUTOR                0 for CPU executors; with n > 0, each executor asks for n GPUs and its task
#                                         slots share them (spark.task.resource.gpu.amount = n / cores)
#   BUSI_GPU_DISCOVERY                    the GPU discovery script's path on the executors; empty: ship
#                                         deploy/gpu/getGpusResources.sh with the job (YARN)
#   BUSI_EVENT_LOG_DIR                    where Spark writes event logs for the history server (e.g. hdfs:///spark-logs)
#   BUSI_CONF                             busi settings file (default conf/cluster.conf)
#   BUSI_DRIVER_CONF                      that file's path as the driver sees it, when it is already there (an image);
#                                         otherwise it is shipped with --files in cluster deploy mode
#   BUSI_JAR                              the application jar (default target/busi-spark-cluster.jar from
#                                         `mvn -B -Pcluster[,cuda] -DskipTests package`)
#   DEPLOY_MODE                           client (driver here) or cluster (driver in the cluster)
# S3 credentials come from the AWS default provider chain (environment, instance profile, web identity), never
# from a file or an argument here.

BUSI_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${BUSI_EXECUTORS:=4}" "${BUSI_EXECUTOR_CORES:=4}" "${BUSI_EXECUTOR_MEMORY_GB:=16}" "${BUSI_OFFHEAP_GB:=20}"
: "${BUSI_DRIVER_MEMORY_GB:=8}" "${BUSI_GPUS_PER_EXECUTOR:=1}" "${BUSI_GPU_DISCOVERY:=}"
: "${BUSI_CONF:=$BUSI_HOME/conf/cluster.conf}" "${BUSI_JAR:=$BUSI_HOME/target/busi-spark-cluster.jar}"
: "${DEPLOY_MODE:=client}"

# JavaCPP's limits: arrays may take BUSI_OFFHEAP_GB; the whole process (heap + off-heap + 1 GiB for the JVM itself)
# stays below what the cluster manager allows (heap + memoryOverhead), so ND4J fails with an OutOfMemoryError that
# names the limit instead of the container being killed.
busi_javacpp_opts() {
  echo "-Dorg.bytedeco.javacpp.maxbytes=${2}G -Dorg.bytedeco.javacpp.maxphysicalbytes=$(($1 + $2 + 1))G"
}

busi_submit() {
  local spark_opts=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do spark_opts+=("$1"); shift; done
  [[ $# -ge 2 ]] || { echo "usage: $0 BUSI-COMMAND [busi options...]   e.g. $0 run --input URI --output URI" >&2; exit 2; }
  shift
  local command="$1"
  shift
  if [[ "$BUSI_JAR" != *://* && ! -f "$BUSI_JAR" ]]; then
    echo "no cluster jar at $BUSI_JAR: run 'mvn -B -Pcluster -DskipTests package' (add ,cuda for GPUs) first" >&2
    exit 2
  fi
  local files=() driver_conf="${BUSI_DRIVER_CONF:-}"
  if [[ -z "$driver_conf" && "$DEPLOY_MODE" == cluster ]]; then
    files+=("$BUSI_CONF")
    driver_conf="$(basename "$BUSI_CONF")"   # --files lands in the driver's working directory
  fi
  : "${driver_conf:=$BUSI_CONF}"

  local gpu=()
  if (( BUSI_GPUS_PER_EXECUTOR > 0 )); then
    local discovery="$BUSI_GPU_DISCOVERY"
    if [[ -z "$discovery" ]]; then
      files+=("$BUSI_HOME/deploy/gpu/getGpusResources.sh")
      discovery="./getGpusResources.sh"
    fi
    gpu=(--conf "spark.executor.resource.gpu.amount=$BUSI_GPUS_PER_EXECUTOR"
         --conf "spark.task.resource.gpu.amount=$(awk "BEGIN { print $BUSI_GPUS_PER_EXECUTOR / $BUSI_EXECUTOR_CORES }")"
         --conf "spark.executor.resource.gpu.discoveryScript=$discovery")
  fi
  local events=()
  if [[ -n "${BUSI_EVENT_LOG_DIR:-}" ]]; then
    events=(--conf spark.eventLog.enabled=true --conf "spark.eventLog.dir=$BUSI_EVENT_LOG_DIR"
            --conf spark.eventLog.compress=true)
  fi
  local shipped=()
  if (( ${#files[@]} > 0 )); then
    shipped=(--files "$(IFS=,; echo "${files[*]}")")
  fi

  exec "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5 installation}/bin/spark-submit" \
    "${spark_opts[@]}" \
    --deploy-mode "$DEPLOY_MODE" \
    --class org.busispark.cli.BusiCli \
    --driver-memory "${BUSI_DRIVER_MEMORY_GB}g" \
    --driver-java-options "$(busi_javacpp_opts "$BUSI_DRIVER_MEMORY_GB" "$BUSI_DRIVER_MEMORY_GB")" \
    --conf "spark.driver.memoryOverhead=$((BUSI_DRIVER_MEMORY_GB + 2))g" \
    --conf "spark.executor.instances=$BUSI_EXECUTORS" \
    --executor-cores "$BUSI_EXECUTOR_CORES" \
    --executor-memory "${BUSI_EXECUTOR_MEMORY_GB}g" \
    --conf "spark.executor.memoryOverhead=$((BUSI_OFFHEAP_GB + 2))g" \
    --conf "spark.executor.extraJavaOptions=$(busi_javacpp_opts "$BUSI_EXECUTOR_MEMORY_GB" "$BUSI_OFFHEAP_GB")" \
    --conf spark.serializer=org.apache.spark.serializer.KryoSerializer \
    --conf spark.kryo.registrator=org.busispark.config.BusiKryoRegistrator \
    --conf spark.kryoserializer.buffer.max=1g \
    --conf spark.hadoop.fs.s3a.aws.credentials.provider=com.amazonaws.auth.DefaultAWSCredentialsProviderChain \
    "${gpu[@]}" "${events[@]}" "${shipped[@]}" \
    "$BUSI_JAR" "$command" --conf "$driver_conf" "$@"
}
