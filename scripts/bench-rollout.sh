#!/usr/bin/env bash
# Benchmark for `tritonpack rollout` (not a test), in one run on one explicit-mode tritonserver:
#   - the floor: a plain load of a model whose version reads 256 MiB of weights (unload, then load);
#   - a rollout of the same model from version 1 to version 2 (candidate, check, two loads);
#   - a client's p99 latency (scripts/request-loop.py) before the rollout and during it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TRITONPACK_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release
python=.venv/bin/python
work=bench-work/rollout
rm -rf "$work"
mkdir -p "$work/repository/weights"
model=$work/repository/weights
cat >"$model/config.pbtxt" <<'CONFIG'
name: "weights"
backend: "python"
max_batch_size: 8
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
version_policy { specific { versions: [ 1 ] } }
CONFIG
for version in 1 2; do
  mkdir -p "$model/$version/tritonpack-golden"
  cat >"$model/$version/model.py" <<'MODEL'
import os
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        folder = os.path.join(args["model_repository"], args["model_version"])
        self.weights = np.fromfile(os.path.join(folder, "weights.bin"), dtype=np.float32)  # 256 MiB read at load
        self.scale = float(self.weights[:4].sum() * 0 + 1)

    def execute(self, requests):
        return [pb_utils.InferenceResponse([pb_utils.Tensor(
            "OUTPUT_0", pb_utils.get_input_tensor_by_name(r, "INPUT_0").as_numpy() * self.scale)]) for r in requests]
MODEL
  head -c $((256 << 20)) /dev/urandom >"$model/$version/weights.bin"
  "$python" -c "import numpy as np, sys; x = np.arange(8, dtype=np.float32).reshape(2, 4); np.save(sys.argv[1] + '/INPUT_0.npy', x); np.save(sys.argv[1] + '/OUTPUT_0.npy', x)" \
    "$model/$version/tritonpack-golden"
done
ports=$("$python" -c 'import socket; s = [socket.socket() for _ in range(3)]; [x.bind(("127.0.0.1", 0)) for x in s]; print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r http grpc metrics <<<"$ports"
scripts/tritonserver --model-repository "$work/repository" --model-control-mode explicit --load-model weights \
  --http-port "$http" --grpc-port "$grpc" --metrics-port "$metrics" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$http/v2/models/weights/ready"; do sleep 0.5; done
url=http://127.0.0.1:$http

load() {  # the config override serving version $1; prints the seconds the load took
  local start end
  start=$(date +%s.%N)
  curl -sf -X POST "$url/v2/repository/models/weights/load" -H 'Content-Type: application/json' \
    -d "{\"parameters\": {\"config\": \"{\\\"name\\\": \\\"weights\\\", \\\"backend\\\": \\\"python\\\", \\\"max_batch_size\\\": 8, \\\"input\\\": [{\\\"name\\\": \\\"INPUT_0\\\", \\\"data_type\\\": \\\"TYPE_FP32\\\", \\\"dims\\\": [4]}], \\\"output\\\": [{\\\"name\\\": \\\"OUTPUT_0\\\", \\\"data_type\\\": \\\"TYPE_FP32\\\", \\\"dims\\\": [4]}], \\\"instance_group\\\": [{\\\"count\\\": 1, \\\"kind\\\": \\\"KIND_CPU\\\"}], \\\"version_policy\\\": {\\\"specific\\\": {\\\"versions\\\": [$1]}}}\"}}" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
curl -sf -X POST "$url/v2/repository/models/weights/unload" >/dev/null
sleep 2
floor=$(load 2)
load 1 >/dev/null
loop() {  # seconds: the request loop's JSON
  "$python" scripts/request-loop.py --model weights --url "$url" --input "$model/1/tritonpack-golden/INPUT_0.npy" --seconds "$1"
}
before=$(loop 8)
stop=$work/stop
rm -f "$stop"
"$python" scripts/request-loop.py --model weights --url "$url" --input "$model/1/tritonpack-golden/INPUT_0.npy" \
  --stop-file "$stop" >"$work/during.json" &
looping=$!
sleep 1
start=$(date +%s.%N)
"$bin" rollout weights --repo "$work/repository" --model-version 2 --server "$url" --metrics "http://127.0.0.1:$metrics" \
  --format json >"$work/rollout.json"
end=$(date +%s.%N)
sleep 1
touch "$stop"
wait $looping
python3 - "$floor" "$(echo "$end - $start" | bc -l)" "$before" "$work/during.json" "$work/rollout.json" <<'PY'
import json, sys
floor, rollout = float(sys.argv[1]), float(sys.argv[2])
before, during = json.loads(sys.argv[3]), json.load(open(sys.argv[4]))
report = json.load(open(sys.argv[5]))
print(f"256 MiB model: plain load {floor:.2f} s, rollout {rollout:.2f} s ({rollout / floor:.2f}x the load; ok={report['ok']})")
print(f"client p99: before {before['p99_ms']:.2f} ms ({before['requests']} requests), during the rollout "
      f"{during['p99_ms']:.2f} ms ({during['requests']} requests, {during['failed']} failed)")
PY
