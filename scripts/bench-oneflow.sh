#!/usr/bin/env bash
# Benchmark for OneFlow models under smoke (not a test), all in one run:
#   - smoke's end-to-end time on the guide's style-transfer sample (server start, load, golden check,
#     3 timed requests) through OneFlow's Python runtime;
#   - requests/s on the small multi_io graph at concurrency 1 and 4 through the server, next to the
#     floor: the same runtime (runtime/oneflow/oneflow_runner.py) called in Python without a server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh
bin=${TRITONPACK_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release
python=${TRITONPACK_ONEFLOW_PYTHON:-${TRITONPACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tritonpack}/oneflow-0.9.0-py3.10/bin/python}
requests=${REQUESTS:-300}
mkdir -p bench-work
rm -rf bench-work/oneflow-repository
"$bin" pack samples/oneflow/fast_neural_style/model --repo bench-work/oneflow-repository --no-sync >/dev/null
"$bin" pack samples/oneflow/multi_io/model --repo bench-work/oneflow-repository --instance-group cpu:1 --no-sync >/dev/null

golden=samples/oneflow/fast_neural_style/golden
start=$(date +%s.%N)
"$bin" smoke bench-work/oneflow-repository --model fast_neural_style --cpu --requests 3 --timeout 600 --inputs "$golden" --expected "$golden" \
  --format json > bench-work/oneflow-style.json
end=$(date +%s.%N)
python3 - "$start" "$end" <<'PY'
import json, sys
report = json.load(open("bench-work/oneflow-style.json"))
print(f"fast_neural_style: smoke end to end {float(sys.argv[2]) - float(sys.argv[1]):.1f} s, "
      f"p50 {report['latency']['p50_milliseconds']:.0f} ms per request, passed={report['passed']}")
PY

site=$("$python" -c 'import site; print(site.getsitepackages()[0])')
floor=$(LD_LIBRARY_PATH="$site/nvidia/cudnn/lib:$site/nvidia/cublas/lib" "$python" runtime/oneflow/oneflow_runner.py bench \
  samples/oneflow/multi_io/model --inputs samples/oneflow/multi_io/golden --requests "$requests" 2>/dev/null | tail -n 1)
echo "multi_io, OneFlow runtime in Python without a server (the floor): $(python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(f\"{r['requests_per_second']:.0f} requests/s, p50 {r['p50_ms']:.2f} ms\")" "$floor")"
for concurrency in 1 4; do
  "$bin" smoke bench-work/oneflow-repository --model multi_io --requests "$requests" --concurrency "$concurrency" \
    --inputs samples/oneflow/multi_io/golden --expected samples/oneflow/multi_io/golden --format json > bench-work/oneflow-mio-$concurrency.json
  python3 - "$concurrency" <<'PY'
import json, sys
report = json.load(open(f"bench-work/oneflow-mio-{sys.argv[1]}.json"))
latency = report["latency"]
print(f"multi_io through tritonserver + oneflow-python, concurrency {sys.argv[1]}: {latency['throughput']:.0f} requests/s, "
      f"p50 {latency['p50_milliseconds']:.2f} ms, passed={report['passed']}")
PY
done
