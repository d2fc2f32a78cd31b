#!/usr/bin/env bash
# The main job on the bundled sample, as `make demo` runs it: OneFlow's deployment-guide model
# packed into <dir>/demo-repository, linted, bundled into <dir>/demo.zip, then executed with its
# golden data (OneFlow's own runtime where the tritonserver has no oneflow backend).
# Then the same model once per other serving runtime, each into <dir>/demo-repository-<runtime>
# and <dir>/demo-<runtime>.zip, served by a plain `scripts/tritonserver` (no tritonpack in between)
# and checked against the golden outputs with NVIDIA's tritonclient:
#   python: --runtime oneflow-python (OneFlow's runtime in the Python backend, with its Python 3.10
#           execution environment in the model folder, hard-linked from tritonpack's cache).
#   onnx:   --runtime onnx (converted and verified against OneFlow's answers), timed by smoke through
#           onnxruntime, next to the latencies above.
# Usage: scripts/make-demo.sh [dir] [--no-smoke]   (dir defaults to the checkout; $TRITONPACK the binary)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root}
smoke=1
[ "${2:-}" = "--no-smoke" ] && smoke=0
tritonpack=${TRITONPACK:-$root/.build/debug/tritonpack}
venv_python=$root/.venv/bin/python
sample=$root/samples/oneflow/style_transfer
model=fast_neural_style
cd "$out"

# Runs a command and says how long it took.
timed() {
  local start=$SECONDS
  "$@"
  echo "--- $(basename "$1") $2: $((SECONDS - start)) s"
}

rm -rf demo-repository
"$tritonpack" pack "$sample/model" --repo demo-repository --name "$model"
"$tritonpack" lint demo-repository --disable-auto-complete-config
echo "--- demo-repository/$model/config.pbtxt"
cat demo-repository/$model/config.pbtxt
find demo-repository -maxdepth 3 | sort | head -n 12
"$tritonpack" bundle demo-repository --out demo.zip --force
if [ "$smoke" = 1 ]; then
  echo "--- executing the packed model with its golden data"
  "$tritonpack" smoke demo-repository --model "$model" --cpu --requests 3 --timeout 600 \
    --inputs "$sample/golden" --expected "$sample/golden"
fi

# The plain server and a scratch folder (its log, backend folders), stopped and removed on exit.
server_pid=""
scratch=$(mktemp -d "${TMPDIR:-/tmp}/make-demo.XXXXXX")
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM

# Serves repository $1 with scripts/tritonserver and nothing else but ports (and the arguments
# after $1), sends the golden inputs to $model, compares its answer with the golden outputs (max
# abs error < 1e-4) and prints the latency; stops the server.
serve_plain() {
  local repository=$1
  shift
  local ports http grpc metrics log start
  ports=$("$venv_python" -c '
import socket
sockets = [socket.socket() for _ in range(3)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))')
  read -r http grpc metrics <<<"$ports"
  log=$scratch/$(basename "$repository").log
  echo "--- serving $repository with a plain tritonserver: scripts/tritonserver --model-repository $repository $* --http-port $http --grpc-port $grpc --metrics-port $metrics"
  start=$SECONDS
  "$root/scripts/tritonserver" --model-repository "$repository" "$@" \
    --http-port "$http" --grpc-port "$grpc" --metrics-port "$metrics" >"$log" 2>&1 &
  server_pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$http/v2/health/ready"; do
    if ! kill -0 "$server_pid" 2>/dev/null || [ $((SECONDS - start)) -ge 600 ]; then
      tail -n 40 "$log" >&2
      echo "make-demo: the plain tritonserver on $repository was not ready after $((SECONDS - start)) s (its log: above)" >&2
      return 1
    fi
    sleep 1
  done
  echo "--- ready after $((SECONDS - start)) s (environment extracted, model loaded)"
  "$venv_python" - "127.0.0.1:$http" "$model" "$sample/golden" <<'PY'
import glob, os, statistics, sys, time
import numpy as np
import tritonclient.http as http
from tritonclient.utils import np_to_triton_dtype

url, model, golden = sys.argv[1:4]
def load(prefix):
    return {os.path.basename(p)[:-4]: np.load(p) for p in sorted(glob.glob(os.path.join(golden, prefix + "_*.npy")))}
inputs, expected = load("INPUT"), load("OUTPUT")
client = http.InferenceServerClient(url, connection_timeout=600, network_timeout=600)
tensors = []
for name, array in inputs.items():
    tensor = http.InferInput(name, list(array.shape), np_to_triton_dtype(array.dtype))
    tensor.set_data_from_numpy(array, binary_data=True)
    tensors.append(tensor)
outputs = [http.InferRequestedOutput(name, binary_data=True) for name in expected]
times = []
for _ in range(6):
    start = time.perf_counter()
    result = client.infer(model, tensors, outputs=outputs)
    times.append((time.perf_counter() - start) * 1000)
error = max(float(np.abs(result.as_numpy(name).astype(np.float64) - want).max()) for name, want in expected.items())
print(f"--- {model}: max abs error {error:.3g} against {golden}; latency: first request {times[0]:.1f} ms, "
      f"then median {statistics.median(times[1:]):.1f} ms (min {min(times[1:]):.1f} ms) over {len(times) - 1}")
sys.exit(0 if error < 1e-4 else f"make-demo: max abs error {error} is not below 1e-4")
PY
  stop_server
}

# --runtime oneflow-python: a Python-backend model with OneFlow's runtime and its environment.
rm -rf demo-repository-python
timed "$tritonpack" pack "$sample/model" --repo demo-repository-python --name "$model" \
  --runtime oneflow-python --instance-group cpu:1 --link
echo "--- demo-repository-python/$model/config.pbtxt"
cat demo-repository-python/$model/config.pbtxt
# A backend folder like a stock server's whose Python backend runs a stub for the environment's
# Python (nvidia-pytriton ships one per Python; its own embeds the venv's Python); lint checks
# the model against it.
python_version=$(grep -A3 'key: *"tritonpack_python_version"' "demo-repository-python/$model/config.pbtxt" |
  sed -n 's/.*string_value: *"\([^"]*\)".*/\1/p' | head -n 1)
wheel=$("$venv_python" -c 'import os, pytriton; print(os.path.dirname(pytriton.__file__) + "/tritonserver")')
mkdir -p "$scratch/backends/python"
ln -s "$wheel/backends/python/libtriton_python.so" "$wheel/backends/python/triton_python_backend_utils.py" \
  "$scratch/backends/python/"
cp "$wheel/python_backend_stubs/$python_version/triton_python_backend_stub" "$scratch/backends/python/"
timed "$tritonpack" lint demo-repository-python --disable-auto-complete-config --backend-directory "$scratch/backends"
timed "$tritonpack" bundle demo-repository-python --out demo-python.zip --force
if [ "$smoke" = 1 ]; then
  serve_plain demo-repository-python --backend-directory "$scratch/backends"
fi

# --runtime onnx: the graph converted to ONNX, verified against OneFlow's answers before it is
# written, served by the onnxruntime backend. The nvidia-pytriton server has no onnxruntime
# backend, so smoke serves it through onnxruntime's Python package (it says so) and times it.
rm -rf demo-repository-onnx
timed "$tritonpack" pack "$sample/model" --repo demo-repository-onnx --name "$model" --runtime onnx \
  --golden "$sample/golden"
echo "--- demo-repository-onnx/$model/config.pbtxt"
cat demo-repository-onnx/$model/config.pbtxt
"$tritonpack" lint demo-repository-onnx --disable-auto-complete-config
if [ "$smoke" = 1 ]; then
  echo "--- the same model through onnxruntime"
  "$tritonpack" smoke demo-repository-onnx --model "$model" --requests 5 --timeout 600 \
    --inputs "$sample/golden" --expected "$sample/golden"
fi
