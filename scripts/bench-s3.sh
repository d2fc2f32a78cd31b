#!/usr/bin/env bash
# Benchmark for `tritonpack promote` into S3 (not a test): promotes a model whose version holds
# BENCH_S3_BYTES (default 1 GiB, as one file) from a local staging repository into the local Ceph
# radosgw (scripts/radosgw.sh) and, in the same run, uploads the same version folder with
# `aws s3 cp --recursive` (awscli from PyPI, installed into .venv when missing). Reports wall time
# and peak RSS (/usr/bin/time -v) for each, median of RUNS runs. tritonpack's time includes its
# gates (lint, manifest check: one SHA-256 pass over the files), verification and the one-second
# wait that makes the config switch visible to a polling Triton; awscli does none of these.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BENCH_WORK:-bench-work}/s3
bytes=${BENCH_S3_BYTES:-$((1 << 30))}
runs=${RUNS:-3}
bin=${BENCH_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release --product tritonpack
scripts/setup-s3.sh
[ -x .venv/bin/aws ] || .venv/bin/pip install -q --disable-pip-version-check awscli
[ -x /usr/bin/time ] || { echo "bench-s3: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

export TRITONPACK_S3_HOME=$PWD/$work/radosgw
eval "$(scripts/radosgw.sh start)"
trap 'scripts/radosgw.sh stop' EXIT
endpoint=$TRITONPACK_S3_ENDPOINT
host=${endpoint#http://}

staging=$work/staging
model=$staging/bench/1
if [ ! -f "$model/weights.bin" ] || [ "$(stat -c %s "$model/weights.bin")" != "$bytes" ]; then
  rm -rf "$staging"
  mkdir -p "$model"
  cp samples/python/identity_fp32/config.pbtxt "$staging/bench/config.pbtxt"
  cp samples/python/identity_fp32/1/model.py "$model/model.py"
  echo "bench-s3: writing $bytes bytes of weights"
  head -c "$bytes" /dev/urandom >"$model/weights.bin"
fi
cat "$model/weights.bin" >/dev/null

new_bucket() {
  local name
  name="bench-$(date +%s%N)"
  .venv/bin/aws --endpoint-url "$endpoint" s3 mb "s3://$name" >/dev/null
  echo "$name"
}

# measure NAME CMD...: appends "seconds rss_kib" to $work/NAME.samples
measure() {
  local name=$1; shift
  local report=$work/time.txt
  /usr/bin/time -v -o "$report" "$@" >/dev/null
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$report" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$report")
  echo "$wall $rss" >>"$work/$name.samples"
}

rm -f "$work"/*.samples
for _ in $(seq "$runs"); do
  b=$(new_bucket)
  measure awscli .venv/bin/aws --endpoint-url "$endpoint" s3 cp --recursive --quiet "$model" "s3://$b/repo/bench/1"
  b=$(new_bucket)
  measure tritonpack "$bin" promote bench --from "$staging" --to "s3://$host/$b/repo" --model-version 1
done

source scripts/bench-common.sh
gib=$(echo "$bytes / 1073741824" | bc -l)
printf 'promote of %.2f GiB into local radosgw (%s), %s runs, median\n' "$gib" "$endpoint" "$runs"
for name in awscli tritonpack; do
  wall=$(cut -d' ' -f1 "$work/$name.samples" | median)
  rss=$(cut -d' ' -f2 "$work/$name.samples" | median)
  printf '  %-32s %7.2f s  %8.1f MiB/s  peak RSS %6.1f MiB\n' \
    "$([ "$name" = awscli ] && echo 'aws s3 cp --recursive' || echo 'tritonpack promote --to s3://')" \
    "$wall" "$(echo "$bytes / 1048576 / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
ratios=$(paste -d' ' "$work/tritonpack.samples" "$work/awscli.samples" | awk '{print $1 / $3}')
printf '  tritonpack/awscli wall time: %.2f (median of the per-run ratios; runs: %s)\n' \
  "$(echo "$ratios" | median)" "$(echo "$ratios" | awk '{printf "%.2f ", $1}')"
