#!/usr/bin/env bash
# Benchmark for OneFlow models packed with --runtime oneflow-python (not a test), all in one run:
#   - requests/s of the small multi-output graph (multi_io) at concurrency 1 and 4 with 1 and 2
#     instances, served by tritonserver as packed (smoke), next to the floor: the same runtime
#     (runtime/oneflow/oneflow_runner.py) called in Python without a server;
#   - the guide's style-transfer model: latency through the server next to the runtime alone, and
#     converted with --runtime onnx (onnxruntime, here through the Python backend since the wheel's
#     server has no onnxruntime backend), both served by the project's tritonserver.
# Targets (issue "OneFlow models on today's Triton"): 2 instances at concurrency 4 >= 1.6x the
# requests/s of 1 instance on 2 cores; per-request overhead over the floor <= 2 ms. Issue "OneFlow
# graphs to ONNX, verified": the style model through onnxruntime >= 10x faster than OneFlow's runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TRITONPACK_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release
python=${TRITONPACK_ONEFLOW_PYTHON:-${TRITONPACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tritonpack}/oneflow-0.9.0-py3.10/bin/python}
requests=${REQUESTS:-400}
repository=bench-work/oneflow-python-repository
mkdir -p bench-work
rm -rf "$repository"
for instances in 1 2; do
  "$bin" pack samples/oneflow/multi_io/model --repo "$repository" --name "multi_io_x$instances" --runtime oneflow-python \
    --instance-group "cpu:$instances" --link --no-sync >/dev/null
done
"$bin" pack samples/oneflow/fast_neural_style/model --repo "$repository" --runtime oneflow-python --instance-group cpu:1 \
  --link --no-sync >/dev/null
"$bin" pack samples/oneflow/fast_neural_style/model --repo "$repository" --name fast_neural_style_onnx --runtime onnx \
  --golden samples/oneflow/fast_neural_style/golden --instance-group cpu:1 --no-sync >/dev/null

site=$("$python" -c 'import site; print(site.getsitepackages()[0])')
floor() {  # graph golden requests
  LD_LIBRARY_PATH="$site/nvidia/cudnn/lib:$site/nvidia/cublas/lib" "$python" runtime/oneflow/oneflow_runner.py bench \
    "$1" --inputs "$2" --requests "$3" 2>/dev/null | tail -n 1
}
floor samples/oneflow/multi_io/model samples/oneflow/multi_io/golden "$requests" > bench-work/oneflow-floor-mio.json
floor samples/oneflow/fast_neural_style/model samples/oneflow/fast_neural_style/golden 3 > bench-work/oneflow-floor-style.json

golden=samples/oneflow/multi_io/golden
for instances in 1 2; do
  for concurrency in 1 4; do
    "$bin" smoke "$repository" --model "multi_io_x$instances" --requests "$requests" --concurrency "$concurrency" \
      --inputs "$golden" --expected "$golden" --timeout 600 --format json > "bench-work/oneflow-mio-i$instances-c$concurrency.json"
  done
done
golden=samples/oneflow/fast_neural_style/golden
"$bin" smoke "$repository" --model fast_neural_style --requests 3 --timeout 900 --inputs "$golden" --expected "$golden" \
  --format json > bench-work/oneflow-style.json
"$bin" smoke "$repository" --model fast_neural_style_onnx --requests 10 --timeout 900 --inputs "$golden" --expected "$golden" \
  --format json > bench-work/oneflow-style-onnx.json

python3 - <<'PY'
import json
def load(name): return json.load(open(f"bench-work/{name}.json"))
floor = load("oneflow-floor-mio")
print(f"multi_io, the runtime alone (floor): {floor['requests_per_second']:.0f} requests/s, p50 {floor['p50_ms']:.2f} ms")
rates = {}
for instances in (1, 2):
    for concurrency in (1, 4):
        report = load(f"oneflow-mio-i{instances}-c{concurrency}")
        latency = report["latency"]
        rates[instances, concurrency] = latency["throughput"]
        print(f"multi_io, {instances} instance(s), concurrency {concurrency}: {latency['throughput']:.0f} requests/s, "
              f"p50 {latency['p50_milliseconds']:.2f} ms, passed={report['passed']}")
print(f"2 instances / 1 instance at concurrency 4: {rates[2, 4] / rates[1, 4]:.2f}x (target >= 1.6x)")
overhead = load("oneflow-mio-i1-c1")["latency"]["p50_milliseconds"] - floor["p50_ms"]
print(f"per-request overhead over the floor (p50, 1 instance, concurrency 1): {overhead:.2f} ms (target <= 2 ms)")
style_floor = load("oneflow-floor-style")
style = load("oneflow-style")
print(f"fast_neural_style: served p50 {style['latency']['p50_milliseconds']:.0f} ms, runtime alone p50 "
      f"{style_floor['p50_ms']:.0f} ms, passed={style['passed']}")
onnx = load("oneflow-style-onnx")
print(f"fast_neural_style --runtime onnx ({onnx['runtime']['name']}): served p50 {onnx['latency']['p50_milliseconds']:.0f} ms, "
      f"passed={onnx['passed']}; OneFlow's runtime / onnxruntime: "
      f"{style['latency']['p50_milliseconds'] / onnx['latency']['p50_milliseconds']:.1f}x (target >= 10x)")
PY
