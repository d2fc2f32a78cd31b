#!/usr/bin/env bash
# Benchmark for the smoke client (not a test): requests per second of tritonpack's Swift KServe v2
# client (binary tensors) against tritonclient.http (Python, the client of OneFlow's guide) on the
# same model and server, at concurrency 1 and 8. BASELINE_BIN=<an older tritonpack> adds that
# binary's smoke client to the same run (before/after comparisons on these noisy machines).
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
