#!/usr/bin/env bash
# Benchmark for the smoke client over gRPC (not a test): requests per second of tritonpack's timed
# loop with --protocol grpc (grpc-swift 2, one HTTP/2 connection per task) against perf_analyzer
# -i grpc (2.51, C++ gRPC; scripts/setup.sh installs it into .venv/perf-analyzer) on the same model
# (the Python-backend identity_fp32, FP32 [1, 4]) at concurrency 1 and 8. Both run in this one
# script, alternating, ROUNDS times each (default 3); the medians are compared. tritonpack smoke
# serves the model in its own tritonserver, perf_analyzer is given one started here with the same
# options, and the other server is idle while one client measures.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TRITONPACK_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release --product tritonpack
perf_analyzer=.venv/perf-analyzer/bin/perf_analyzer
[ -x "$perf_analyzer" ] || scripts/setup.sh
export LD_LIBRARY_PATH="$PWD/.venv/perf-analyzer/nvidia/cuda_runtime/lib:${LD_LIBRARY_PATH:-}"
requests=${REQUESTS:-4000}
rounds=${ROUNDS:-3}
mkdir -p bench-work
port=$((20000 + RANDOM % 20000))
scripts/tritonserver --model-repository samples/python --model-control-mode=explicit --load-model identity_fp32 \
  --log-verbose=0 --http-address 127.0.0.1 --http-port $port --grpc-address 127.0.0.1 --grpc-port $((port + 1)) \
  --allow-metrics false > bench-work/bench-grpc-server.log 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/v2/models/identity_fp32/ready" >/dev/null && break; sleep 0.2; done

median() { python3 -c 'import statistics, sys; print(round(statistics.median(float(x) for x in sys.argv[1:]), 1))' "$@"; }
for concurrency in 1 8; do
  swift=()
  perf=()
  for round in $(seq "$rounds"); do
    "$bin" smoke samples/python --model identity_fp32 --protocol grpc --requests "$requests" \
      --concurrency "$concurrency" --format json > bench-work/grpc-smoke-$concurrency.json
    swift+=("$(python3 -c "import json; print(json.load(open('bench-work/grpc-smoke-$concurrency.json'))['latency']['throughput'])")")
    # Count windows of `requests` requests each, until 3 in a row agree within 50% (a shared machine
    # is too noisy for perf_analyzer's default 10%, with which it often reports nothing).
    "$perf_analyzer" -m identity_fp32 -u 127.0.0.1:$((port + 1)) -i grpc --concurrency-range "$concurrency" \
      --measurement-mode count_windows --measurement-request-count "$requests" --max-trials 10 -s 50 \
      -f bench-work/grpc-perf-$concurrency.csv > bench-work/grpc-perf-$concurrency.log 2>&1
    perf+=("$(python3 -c "import csv; rows = list(csv.DictReader(open('bench-work/grpc-perf-$concurrency.csv'))); print(rows[-1]['Inferences/Second'])" 2>/dev/null ||
      sed -n 's/.*Throughput: \([0-9.]*\) infer\/sec.*/\1/p' bench-work/grpc-perf-$concurrency.log | tail -n 1)")
    echo "  round $round, concurrency $concurrency: tritonpack ${swift[-1]} req/s, perf_analyzer ${perf[-1]} req/s" >&2
  done
  swift_rps=$(median "${swift[@]}")
  perf_rps=$(median "${perf[@]}")
  printf 'concurrency %d: tritonpack smoke --protocol grpc %s req/s, perf_analyzer -i grpc %s req/s, ratio %.2f (medians of %d rounds)\n' \
    "$concurrency" "$swift_rps" "$perf_rps" "$(echo "$swift_rps / $perf_rps" | bc -l)" "$rounds"
done
