#!/usr/bin/env bash
# Serves model_repository/ with Triton and starts the web app (server.py) in front of it.
# Triton comes from, in order: --tritonserver PATH (or $TRITONSERVER), a `tritonserver` on PATH,
# else the container image (--image, $TRITON_IMAGE, default @@container_image@@).
# Ctrl-C (or SIGTERM) stops the web app and Triton, and waits for both.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  cat <<USAGE
usage: ./run.sh [options]
  --tritonserver PATH   the tritonserver to run (default: \$TRITONSERVER, then tritonserver on PATH)
  --container           run the container image even when a local tritonserver exists
  --image IMAGE         the container image (default: \$TRITON_IMAGE or @@container_image@@)
  --http-port N         Triton's HTTP port (default 8000)
  --grpc-port N         Triton's gRPC port (default 8001)
  --metrics-port N      Triton's metrics port (default 8002)
  --web-port N          the web app's port (default 8080)
  --no-web              do not start the web app
  --timeout SECONDS     how long to wait for Triton to be ready (default 300)
  --python PYTHON       the Python for the web app (default: \$PYTHON or python3)
USAGE
}

tritonserver=${TRITONSERVER:-}
image=${TRITON_IMAGE:-@@container_image@@}
container=0
http_port=8000
grpc_port=8001
metrics_port=8002
web_port=8080
web=1
timeout=300
python=${PYTHON:-python3}
while [ $# -gt 0 ]; do
  case "$1" in
    --tritonserver) tritonserver=$2; shift 2 ;;
    --container) container=1; shift ;;
    --image) image=$2; container=1; shift 2 ;;
    --http-port) http_port=$2; shift 2 ;;
    --grpc-port) grpc_port=$2; shift 2 ;;
    --metrics-port) metrics_port=$2; shift 2 ;;
    --web-port) web_port=$2; shift 2 ;;
    --no-web) web=0; shift ;;
    --timeout) timeout=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$container" = 0 ] && [ -z "$tritonserver" ]; then
  tritonserver=$(command -v tritonserver || true)
fi

server_pid=""
web_pid=""
container_name=""
stop() {
  trap - EXIT INT TERM
  if [ -n "$web_pid" ]; then kill -TERM "$web_pid" 2>/dev/null || true; fi
  if [ -n "$container_name" ]; then docker stop "$container_name" >/dev/null 2>&1 || true; fi
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  echo "run.sh: stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

if [ -n "$tritonserver" ] && [ "$container" = 0 ]; then
  echo "run.sh: starting $tritonserver"
  "$tritonserver" --model-repository "$here/model_repository" \
    --http-port "$http_port" --grpc-port "$grpc_port" --metrics-port "$metrics_port" &
  server_pid=$!
else
  if ! command -v docker >/dev/null 2>&1; then
    echo "run.sh: no tritonserver on PATH and no docker to run $image; pass --tritonserver PATH" >&2
    exit 3
  fi
  gpus=()
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then gpus=(--gpus all); fi
  container_name="tritonpack-demo-$$"
  echo "run.sh: starting $image${gpus:+ with GPUs}"
  docker run --rm --name "$container_name" ${gpus[@]+"${gpus[@]}"} --shm-size 1g \
    -p "$http_port:8000" -p "$grpc_port:8001" -p "$metrics_port:8002" \
    -v "$here/model_repository:/models:ro" "$image" tritonserver --model-repository=/models &
  server_pid=$!
fi

# True once the URL answers 200.
answers() {
  "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1
}

deadline=$((SECONDS + timeout))
until answers "http://127.0.0.1:$http_port/v2/health/ready"; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    server_pid=""
    echo "run.sh: Triton exited before it was ready" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run.sh: Triton was not ready after ${timeout}s" >&2
    exit 1
  fi
  sleep 0.5
done
echo "run.sh: Triton is ready at http://localhost:$http_port (models: @@models@@)"

if [ "$web" = 1 ]; then
  "$python" "$here/server.py" --port "$web_port" --triton "127.0.0.1:$http_port" &
  web_pid=$!
  until answers "http://127.0.0.1:$web_port/health"; do
    if ! kill -0 "$web_pid" 2>/dev/null; then
      web_pid=""
      echo "run.sh: the web app exited (is requirements.txt installed?)" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "run.sh: web app at http://localhost:$web_port"
fi
echo "run.sh: running; Ctrl-C stops"

# Until Triton or the web app exits; `sleep & wait` lets Ctrl-C's trap run at once (and works in
# bash 3.2, which has no `wait -n`).
while kill -0 "$server_pid" 2>/dev/null && { [ -z "$web_pid" ] || kill -0 "$web_pid" 2>/dev/null; }; do
  sleep 1 &
  wait $! || true
done
echo "run.sh: $(kill -0 "$server_pid" 2>/dev/null && echo "the web app" || echo "Triton") exited; stopping" >&2
exit 1
