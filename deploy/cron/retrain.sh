#!/usr/bin/env bash
# Scheduled retraining: one `busi run` over the growing image archive, into one persistent dataset (ingest adds only
# new images, so the test split of the old ones stays frozen), with a dated output folder and the model store set,
# so that the new model replaces the champion only if it beats it on that test split (busi.store.promotion).
#   BUSI_ROOT=s3a://my-bucket/busi SPARK_HOME=/opt/spark deploy/cron/retrain.sh [-Dbusi.key=value...]
# reads $BUSI_ROOT/archive, keeps $BUSI_ROOT/dataset, writes $BUSI_ROOT/runs/<UTC time>, publishes to
# $BUSI_ROOT/models/<name>. BUSI_SUBMIT picks the cluster manager (default deploy/yarn/submit.sh).
# Never two at once: a run reads the champion at its start and moves `latest` at its end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${BUSI_ROOT:?set BUSI_ROOT, e.g. s3a://my-bucket/busi}"
exec 9>"${BUSI_LOCK:-/tmp/busi-retrain.lock}"
if ! flock -n 9; then
  echo "busi retrain: the previous run still holds ${BUSI_LOCK:-/tmp/busi-retrain.lock}; skipped" >&2
  exit 0
fi
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
"${BUSI_SUBMIT:-$here/../yarn/submit.sh}" run --input "$root/archive" --dataset "$root/dataset" \
  --output "$root/runs/$stamp" "-Dbusi.store.uri=$root" "$@"
