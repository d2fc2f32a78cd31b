#!/usr/bin/env bash
# Benchmark for `tritonpack lint` (not a test): a repository of 1,000 models (Python backend,
# config with batching, I/O, instance group, warmup), linted by the release build; next to it,
# what the real tritonserver takes for the same repository: (a) POST /v2/repository/index in
# explicit mode (lists the model folders, reads no config), (b) a full start-up poll of a copy whose
# models name an absent backend, so that every config is read, validated and its load attempted
# without starting 1,000 Python stubs; the server then exits ("failed to load all models").
# BASELINE=<older tritonpack binary> also times that binary on the same repository in the same run
# (LINT_ONLY=1 skips the server part).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BENCH_WORK:-bench-work}
count=${MODELS:-1000}
bin=.build/release/tritonpack
[ -x "$bin" ] || swift build -c release
repo="$work/lint-repo"
# (The warmup sample names both inputs: Triton refuses a warmup request missing one.)
if [ ! -d "$repo/m$((count - 1))" ] || ! grep -q '"INPUT1" value' "$repo/m0/config.pbtxt"; then
  rm -rf "$repo"
  for i in $(seq 0 $((count - 1))); do
    mkdir -p "$repo/m$i/1"
    printf 'import triton_python_backend_utils as pb_utils\n' > "$repo/m$i/1/model.py"
    cat > "$repo/m$i/config.pbtxt" <<CONFIG
backend: "python"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16, 16 ] }, { name: "INPUT1" data_type: TYPE_INT64 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] reshape { shape: [ 4, 4 ] } } ]
instance_group [ { kind: KIND_CPU count: 2 } ]
dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 100 }
model_warmup [ { name: "w" batch_size: 1 inputs { key: "INPUT0" value: { data_type: TYPE_FP32 dims: [ 16, 16 ] zero_data: true } } inputs { key: "INPUT1" value: { data_type: TYPE_INT64 dims: [ 8 ] zero_data: true } } } ]
CONFIG
  done
fi
"$bin" lint "$repo" --gpus 0 >/dev/null  # warm the page cache
best=999
for _ in 1 2 3 4 5; do
  start=$(date +%s.%N); "$bin" lint "$repo" --gpus 0 > "$work/lint.out"; end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l); if (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
done
printf 'lint: %d models in %.3f s (best of 5): %s\n' "$count" "$best" "$(tail -n 1 "$work/lint.out")"
# BASELINE=path/to/an/older/tritonpack: the same repository linted by both binaries, alternately,
# in this one run (best of 7 each), and the ratio.
if [ -n "${BASELINE:-}" ]; then
  "$BASELINE" lint "$repo" --gpus 0 >/dev/null || true
  new_best=999; old_best=999
  for _ in 1 2 3 4 5 6 7; do
    start=$(date +%s.%N); "$bin" lint "$repo" --gpus 0 >/dev/null || true; end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc -l); if (( $(echo "$t < $new_best" | bc -l) )); then new_best=$t; fi
    start=$(date +%s.%N); "$BASELINE" lint "$repo" --gpus 0 >/dev/null || true; end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc -l); if (( $(echo "$t < $old_best" | bc -l) )); then old_best=$t; fi
  done
  printf 'lint: %.3f s (this build) vs %.3f s (BASELINE %s), ratio %.3f\n' "$new_best" "$old_best" "$BASELINE" \
    "$(echo "$new_best / $old_best" | bc -l)"
  [ -n "${LINT_ONLY:-}" ] && exit 0
fi

port=$((20000 + RANDOM % 20000))
log="$work/server.log"
scripts/tritonserver --model-repository "$repo" --model-control-mode=explicit --http-port $port \
  --grpc-port $((port + 1)) --metrics-port $((port + 2)) > "$log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/v2/health/live" >/dev/null && break; sleep 0.2; done
best=999
for _ in 1 2 3; do
  start=$(date +%s.%N); curl -sf -X POST "http://127.0.0.1:$port/v2/repository/index" > "$work/index.json"; end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l); if (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
done
printf 'tritonserver repository poll (index): %d models in %.3f s (best of 3)\n' \
  "$(grep -o '"name"' "$work/index.json" | wc -l)" "$best"

copy="$work/lint-repo-absent-backend"
if [ ! -d "$copy/m$((count - 1))" ]; then
  rm -rf "$copy"; cp -r "$repo" "$copy"
  find "$copy" -name config.pbtxt -exec sed -i 's/backend: "python"/backend: "absent"/' {} +
fi
port=$((20000 + RANDOM % 20000))
start=$(date +%s.%N)
scripts/tritonserver --model-repository "$copy" --http-port $port --grpc-port $((port + 1)) \
  --metrics-port $((port + 2)) > "$work/server-poll.log" 2>&1 || true
end=$(date +%s.%N)
printf 'tritonserver start-up poll and load attempt: %d models refused in %.3f s\n' \
  "$(grep -o "failed to load 'm[0-9]*' version 1: Invalid argument: unable to find backend library" "$work/server-poll.log" | sort -u | wc -l)" "$(echo "$end - $start" | bc -l)"
printf 'tritonpack lint on the same copy: %s\n' "$("$bin" lint "$copy" | tail -n 1)"
