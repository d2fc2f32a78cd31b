#!/usr/bin/env bash
# Benchmark for image pipelines (`pack --pipeline image`, not a test): one photo's round trip
# through the served pipeline (the photo's bytes in, a PNG at its size out) next to the deployment
# guide's client-side pipeline against the same model on the same server in the same run (the
# client decodes, resizes and scales the photo, sends the FP32 tensor with tritonclient, and turns
# the answer back into a PNG at the photo's size, as `recover_image` does). Both compute the same
# steps (runtime/pipeline/image_pipeline.py); the pipeline sends ~70 KB instead of 2 x 768 KB and
# needs no numpy, Pillow or tritonclient on the client. Alternating rounds, REQUESTS each (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TRITONPACK_BIN:-.build/release/tritonpack}
[ -x "$bin" ] || swift build -c release
venv_python=.venv/bin/python
requests=${REQUESTS:-10}
photo=${PHOTO:-samples/images/coffee.jpg}
work=$PWD/bench-work/pipeline
repository=$work/repository
rm -rf "$work"
mkdir -p "$work/backends/python"
"$bin" pack samples/oneflow/style_transfer/model --repo "$repository" --name style --runtime oneflow-python \
  --instance-group cpu:1 --pipeline image --link --no-sync >/dev/null
# A stock server's backend folder whose Python backend stub embeds the environment's Python 3.10.
wheel=$("$venv_python" -c 'import os, pytriton; print(os.path.dirname(pytriton.__file__) + "/tritonserver")')
ln -s "$wheel/backends/python/libtriton_python.so" "$wheel/backends/python/triton_python_backend_utils.py" "$work/backends/python/"
cp "$wheel/python_backend_stubs/3.10/triton_python_backend_stub" "$work/backends/python/"
ports=$("$venv_python" -c '
import socket
sockets = [socket.socket() for _ in range(3)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))')
read -r http grpc metrics <<<"$ports"
scripts/tritonserver --model-repository "$repository" --backend-directory "$work/backends" \
  --http-port "$http" --grpc-port "$grpc" --metrics-port "$metrics" >"$work/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
start=$SECONDS
until curl -sf -o /dev/null "http://127.0.0.1:$http/v2/health/ready"; do
  if ! kill -0 "$server" 2>/dev/null || [ $((SECONDS - start)) -ge 600 ]; then tail -n 30 "$work/server.log" >&2; exit 1; fi
  sleep 1
done
"$venv_python" - "127.0.0.1:$http" "$repository" "$photo" "$requests" <<'PY' | tee "$work/result.json"
import io, json, os, statistics, sys, time
sys.path.insert(0, "runtime/pipeline")
import numpy as np
import tritonclient.http as http
import image_pipeline, triton_image_request

url, repository, photo, requests = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
data = open(photo, "rb").read()
def settings(model):
    return json.load(open(os.path.join(repository, model, "1", "pipeline.json")))
pre, post = settings("style_preprocess"), settings("style_postprocess")
client = http.InferenceServerClient(url, connection_timeout=600, network_timeout=600)

def pipeline():
    return triton_image_request.infer_image(url, "style_image", data, {"format": "png"})

def client_side():
    array, size = image_pipeline.preprocess(data, pre)
    tensor = http.InferInput("INPUT_0", list(array.shape), "FP32")
    tensor.set_data_from_numpy(array, binary_data=True)
    answer = client.infer("style", [tensor], outputs=[http.InferRequestedOutput("OUTPUT_0", binary_data=True)])
    return image_pipeline.postprocess_image(answer.as_numpy("OUTPUT_0"), post, size, "png")

times = {"pipeline": [], "client_side": []}
outputs = {}
for name, call in (("pipeline", pipeline), ("client_side", client_side)):
    outputs[name] = call()  # warm-up
for _ in range(requests):
    for name, call in (("pipeline", pipeline), ("client_side", client_side)):
        started = time.perf_counter()
        call()
        times[name].append((time.perf_counter() - started) * 1000)
same = outputs["pipeline"] == outputs["client_side"]
report = {"photo": photo, "requests": requests, "identical_png": same}
for name, values in times.items():
    report[name] = {"median_ms": round(statistics.median(values), 1), "min_ms": round(min(values), 1)}
report["pipeline_over_client_side"] = round(report["pipeline"]["median_ms"] / report["client_side"]["median_ms"], 3)
print(json.dumps(report))
print(f"one photo ({photo}), {requests} round trips each, same server, alternating:", file=sys.stderr)
print(f"  pipeline (bytes in, PNG out):                 median {report['pipeline']['median_ms']} ms, min {report['pipeline']['min_ms']} ms", file=sys.stderr)
print(f"  client-side (guide: tensor in, tensor out):   median {report['client_side']['median_ms']} ms, min {report['client_side']['min_ms']} ms", file=sys.stderr)
print(f"  same PNG: {same}", file=sys.stderr)
PY
