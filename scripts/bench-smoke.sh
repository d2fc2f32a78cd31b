#!/usr/bin/env bash
# Benchmark for the smoke client (not a test): requests per second of tritonpack's Swift KServe v2
# client (binary tensors) against tritonclient.http (Python, the client of OneFlow's guide) on the
# same model and server, at concurrency 1 and 8; then against perf_analyzer (C++, tritonclient
# 2.51.0, installed by scripts/setup.sh) at concurrency 1, 2, 4, 8 and 16 (CONCURRENCIES), RUNS
# runs each, alternating, median ratio. BASELINE_BIN=<an older tritonpack> adds that binary's smoke
# client to the same run (before/after comparisons on these noisy machines).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TRITONPACK_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release
requests=${REQUESTS:-2000}
port=$((20000 + RANDOM % 20000))
scripts/tritonserver --model-repository samples/python --model-control-mode=explicit --load-model identity_fp32 \
  --http-port $port --grpc-port $((port + 1)) --metrics-port $((port + 2)) > bench-work/bench-smoke-server.log 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/v2/models/identity_fp32/ready" >/dev/null && break; sleep 0.2; done
for concurrency in 1 8; do
  "$bin" smoke samples/python --model identity_fp32 --requests "$requests" --concurrency "$concurrency" --format json \
    > bench-work/smoke-$concurrency.json
  swift_rps=$(python3 -c "import json; print(round(json.load(open('bench-work/smoke-$concurrency.json'))['latency']['throughput'], 1))")
  baseline=""
  if [ -n "${BASELINE_BIN:-}" ]; then
    "$BASELINE_BIN" smoke samples/python --model identity_fp32 --requests "$requests" --concurrency "$concurrency" \
      --format json > bench-work/smoke-baseline-$concurrency.json
    baseline_rps=$(python3 -c "import json; print(round(json.load(open('bench-work/smoke-baseline-$concurrency.json'))['latency']['throughput'], 1))")
    baseline=$(printf ', baseline %s req/s (this/baseline %.2f)' "$baseline_rps" "$(echo "$swift_rps / $baseline_rps" | bc -l)")
  fi
  python_rps=$(.venv/bin/python - "$port" "$requests" "$concurrency" <<'PY'
import sys, time
import numpy as np
import tritonclient.http as http
port, total, concurrency = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
client = http.InferenceServerClient(f"127.0.0.1:{port}", concurrency=concurrency)
data = np.array([[1, 2, 3, 4]], dtype=np.float32)
def request():
    inp = http.InferInput("INPUT0", [1, 4], "FP32"); inp.set_data_from_numpy(data, binary_data=True)
    return client.async_infer("identity_fp32", [inp], outputs=[http.InferRequestedOutput("OUTPUT0", binary_data=True)])
for _ in range(20): request().get_result()
start = time.perf_counter()
if concurrency == 1:  # the synchronous call, as the guide's infer.py makes it
    for _ in range(total):
        inp = http.InferInput("INPUT0", [1, 4], "FP32"); inp.set_data_from_numpy(data, binary_data=True)
        client.infer("identity_fp32", [inp], outputs=[http.InferRequestedOutput("OUTPUT0", binary_data=True)])
else:
    pending = []
    for _ in range(total):
        if len(pending) >= concurrency: pending.pop(0).get_result()
        pending.append(request())
    for handle in pending: handle.get_result()
print(round(total / (time.perf_counter() - start), 1))
PY
)
  printf 'concurrency %d: tritonpack smoke client %s req/s, tritonclient.http %s req/s, ratio %.2f%s\n' \
    "$concurrency" "$swift_rps" "$python_rps" "$(echo "$swift_rps / $python_rps" | bc -l)" "$baseline"
done

# perf_analyzer: the same model, binary tensors over HTTP/1.1, a window of $requests requests
# (count_windows; it needs 3 windows in a row, any variation accepted); its throughput is that of
# the windows it reports. Runs of the two clients alternate.
pa=.venv/perf-analyzer/bin/perf_analyzer
if [ ! -x "$pa" ]; then
  echo "bench-smoke: no $pa (scripts/setup.sh installs it); skipping the perf_analyzer comparison" >&2
  exit 0
fi
source scripts/bench-common.sh
runs=${RUNS:-3}
printf 'against perf_analyzer 2.51.0 (%s requests a window, median of %s alternating runs):\n' "$requests" "$runs"
for concurrency in ${CONCURRENCIES:-1 2 4 8 16}; do
  ours=(); theirs=(); ratios=()
  for _ in $(seq "$runs"); do
    "$bin" smoke samples/python --model identity_fp32 --requests "$requests" --concurrency "$concurrency" --format json \
      > bench-work/smoke-pa.json
    swift_rps=$(python3 -c "import json; print(json.load(open('bench-work/smoke-pa.json'))['latency']['throughput'])")
    LD_LIBRARY_PATH=.venv/perf-analyzer/nvidia/cuda_runtime/lib "$pa" -m identity_fp32 -u "127.0.0.1:$port" -i http \
      --concurrency-range "$concurrency:$concurrency" --measurement-mode count_windows \
      --measurement-request-count "$requests" --stability-percentage 999 -f bench-work/perf-analyzer.csv \
      > bench-work/perf-analyzer.log 2>&1
    pa_rps=$(awk -F, 'NR == 2 {print $2}' bench-work/perf-analyzer.csv)
    ours+=("$swift_rps"); theirs+=("$pa_rps"); ratios+=("$(echo "$swift_rps / $pa_rps" | bc -l)")
  done
  printf '  concurrency %2d: tritonpack smoke %8.1f req/s, perf_analyzer %8.1f req/s, ratio %.2f (runs: %s)\n' \
    "$concurrency" "$(printf '%s\n' "${ours[@]}" | median)" "$(printf '%s\n' "${theirs[@]}" | median)" \
    "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%.2f ' "${ratios[@]}")"
done
