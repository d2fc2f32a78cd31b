#!/usr/bin/env bash
# Serves model_repository/ with Triton and starts the web app (server.py) in front of it.
#
# Triton runs, in this order of preference (run.sh says which one it picked, and why):
#   1. a local tritonserver (--tritonserver PATH, $TRITONSERVER, or PATH); for OneFlow models only
#      when it has the oneflow backend;
#   2. the container image (--image, $TRITON_IMAGE, default @@container_image@@) when a Docker
#      engine answers;
#   3. for OneFlow models: a local tritonserver plus OneFlow's own runtime (oneflow_runtime/), with
#      the Python that has OneFlow (--oneflow-python PATH or $TRITONPACK_ONEFLOW_PYTHON).
# Everything listens on 127.0.0.1 unless --host says otherwise. Without a GPU, models that ask for
# one are served on CPU. Ctrl-C (or SIGTERM) stops the web app and Triton and waits for both.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
oneflow_models="@@oneflow_models@@"

usage() {
  cat <<USAGE
usage: ./run.sh [options]
  --tritonserver PATH   the tritonserver to run (default: \$TRITONSERVER, then tritonserver on PATH)
  --container           run the container image even when a local tritonserver exists
  --image IMAGE         the container image (default: \$TRITON_IMAGE or @@container_image@@)
  --oneflow-python PATH a Python 3.7-3.10 with oneflow==0.9.0, for OneFlow models when no oneflow
                        backend is at hand (default: \$TRITONPACK_ONEFLOW_PYTHON, then the one
                        tritonpack's 'make setup' installs)
  --host ADDRESS        the address Triton and the web app listen on (default 127.0.0.1)
  --http-port N         Triton's HTTP port (default 8000)
  --grpc-port N         Triton's gRPC port (default 8001)
  --metrics-port N      Triton's metrics port (default 8002)
  --web-port N          the web app's port (default 8080)
  --no-web              do not start the web app
  --timeout SECONDS     how long to wait for Triton to be ready (default 300)
  --python PYTHON       the Python for the web app (default: \$PYTHON or python3)
USAGE
}

say() { echo "run.sh: $*"; }
fail() { echo "run.sh: $*" >&2; exit "${status:-1}"; }

tritonserver=${TRITONSERVER:-}
image=${TRITON_IMAGE:-@@container_image@@}
container=0
oneflow_python=${TRITONPACK_ONEFLOW_PYTHON:-}
host=127.0.0.1
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
    --oneflow-python) oneflow_python=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
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
if [ -z "$tritonserver" ]; then
  tritonserver=$(command -v tritonserver || true)
fi
if [ -z "$oneflow_python" ]; then
  cached=${TRITONPACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tritonpack}/oneflow-0.9.0-py3.10/bin/python
  [ -x "$cached" ] && oneflow_python=$cached
fi

# Folders that may be the local tritonserver's installation (each with backends/): <root>/bin/tritonserver,
# an nvidia-pytriton install behind a launcher script, and the usual /opt/tritonserver.
installation_roots() {
  [ -n "$tritonserver" ] || return 0
  local real root
  real=$(readlink -f "$tritonserver")
  root=$(dirname "$(dirname "$real")")
  [ -d "$root/backends" ] && echo "$root"
  if [ "$(head -c 2 "$real")" = "#!" ]; then
    for root in "$root"/.venv/lib/python*/site-packages/pytriton/tritonserver; do
      [ -d "$root/backends" ] && echo "$root"
    done
  fi
  [ -d /opt/tritonserver/backends ] && echo /opt/tritonserver
  return 0
}

has_oneflow_backend() {
  local root
  for root in $(installation_roots); do
    [ -f "$root/backends/oneflow/libtriton_oneflow.so" ] && return 0
  done
  return 1
}

# The Python-backend stub built for Python $1: $TRITONPACK_PYTHON_STUB, the wheel's
# python_backend_stubs/$1/, or the backend's own stub when it links libpython$1.
python_stub() {
  if [ -n "${TRITONPACK_PYTHON_STUB:-}" ]; then echo "$TRITONPACK_PYTHON_STUB"; return 0; fi
  local root
  for root in $(installation_roots); do
    if [ -x "$root/python_backend_stubs/$1/triton_python_backend_stub" ]; then
      echo "$root/python_backend_stubs/$1/triton_python_backend_stub"; return 0
    fi
    if grep -q "libpython$1.so" "$root/backends/python/triton_python_backend_stub" 2>/dev/null; then
      echo "$root/backends/python/triton_python_backend_stub"; return 0
    fi
  done
  return 1
}

docker_engine() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then gpu=1; fi

# Which runtime, and why.
runtime=""
if [ "$container" = 1 ]; then
  runtime=container; why="--container or --image was given"
elif [ -z "$oneflow_models" ]; then
  if [ -n "$tritonserver" ]; then runtime=local; why="a local tritonserver: $tritonserver"
  elif docker_engine; then runtime=container; why="no tritonserver on PATH, and a Docker engine answers"
  fi
elif [ -n "$tritonserver" ] && has_oneflow_backend; then
  runtime=local; why="$tritonserver has the oneflow backend"
elif docker_engine; then
  runtime=container; why="no local tritonserver with the oneflow backend, and a Docker engine answers"
elif [ -n "$tritonserver" ] && [ -n "$oneflow_python" ]; then
  runtime=oneflow-python
  why="no oneflow backend in $tritonserver and no Docker engine: OneFlow's own runtime ($oneflow_python) runs the model through Triton's Python backend"
fi
if [ -z "$runtime" ]; then
  status=3
  if [ -n "$oneflow_models" ]; then
    fail "cannot serve the OneFlow model(s) $oneflow_models here. Any one of these works:
  - a tritonserver with the oneflow backend (the OneFlow Serving image has one): --tritonserver PATH
  - a Docker engine, to run $image
  - a tritonserver with the Python backend (e.g. 'pip install nvidia-pytriton') plus a Python 3.7-3.10
    with 'pip install oneflow==0.9.0 \"numpy<2\"': --tritonserver PATH --oneflow-python PATH${tritonserver:+
    (found tritonserver $tritonserver, but no Python with OneFlow)}"
  fi
  fail "no tritonserver on PATH and no Docker engine: pass --tritonserver PATH (e.g. from 'pip install nvidia-pytriton') or start Docker"
fi
say "serving with $runtime ($why)"

# The repository Triton serves: model_repository/ itself, or a temporary folder beside it that links
# every model and holds the configs this machine needs (CPU instead of GPU, OneFlow's runtime).
serve=$here/model_repository
work=""
server_pid=""
web_pid=""
container_name=""
stop() {
  trap - EXIT INT TERM
  if [ -n "$web_pid" ]; then kill -TERM "$web_pid" 2>/dev/null || true; fi
  if [ -n "$container_name" ]; then docker stop "$container_name" >/dev/null 2>&1 || true; fi
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if [ -n "$work" ]; then rm -rf "$work"; fi
  echo "run.sh: stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

if [ -n "$oneflow_models" ] && { [ "$runtime" = oneflow-python ] || [ "$gpu" = 0 ]; }; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/tritonpack-demo.XXXXXX")
  serve=$work/model_repository
  mkdir "$serve"
  if [ "$runtime" = oneflow-python ]; then
    version=$("$oneflow_python" "$here/oneflow_runtime/oneflow_runner.py" describe |
      "$oneflow_python" -c 'import json, sys; d = json.load(sys.stdin); print(d["version"] if d["oneflow"] else "")') ||
      fail "$oneflow_python does not run"
    [ -n "$version" ] || { status=3; fail "$oneflow_python has no oneflow package: '$oneflow_python -m pip install oneflow==0.9.0 \"numpy<2\"' (Python 3.7-3.10)"; }
    stub=$(python_stub "$version") ||
      { status=3; fail "this tritonserver has no Python-backend stub for Python $version (OneFlow's Python): set TRITONPACK_PYTHON_STUB to one built for it"; }
  fi
  for model_dir in "$here"/model_repository/*/; do
    model=$(basename "$model_dir")
    case " $oneflow_models " in
      *" $model "*) ;;
      *) ln -s "$here/model_repository/$model" "$serve/$model"; continue ;;
    esac
    mkdir "$serve/$model"
    variant=oneflow
    [ "$runtime" = oneflow-python ] && variant=python
    if [ "$gpu" = 0 ]; then
      cp "$here/oneflow_runtime/$model/$variant-cpu.pbtxt" "$serve/$model/config.pbtxt"
      grep -q KIND_GPU "$model_dir/config.pbtxt" && say "$model: no GPU on this machine, so it runs on CPU (KIND_CPU)"
    elif [ "$variant" = python ]; then
      cp "$here/oneflow_runtime/$model/python.pbtxt" "$serve/$model/config.pbtxt"
    else
      cp "$model_dir/config.pbtxt" "$serve/$model/config.pbtxt"
    fi
    for version_dir in "$model_dir"*/; do
      version_name=$(basename "$version_dir")
      case "$version_name" in
        *[!0-9]*) ln -s "$here/model_repository/$model/$version_name" "$serve/$model/$version_name"; continue ;;
      esac
      if [ "$variant" = python ]; then
        mkdir "$serve/$model/$version_name"
        cp "$here/oneflow_runtime/model.py" "$here/oneflow_runtime/oneflow_runner.py" "$serve/$model/$version_name/"
        ln -s "$here/model_repository/$model/$version_name/model" "$serve/$model/$version_name/model"
      else
        ln -s "$here/model_repository/$model/$version_name" "$serve/$model/$version_name"
      fi
    done
    if [ "$variant" = python ]; then
      "$oneflow_python" "$here/oneflow_runtime/oneflow_runner.py" stub-launcher --stub "$stub" > "$serve/$model/triton_python_backend_stub"
      chmod +x "$serve/$model/triton_python_backend_stub"
    fi
  done
fi

if [ "$runtime" = container ]; then
  docker_engine || { status=3; fail "no Docker engine answers ('docker info' fails): start one, or pass --tritonserver PATH"; }
  gpus=()
  [ "$gpu" = 1 ] && gpus=(--gpus all)
  container_name="tritonpack-demo-$$"
  say "starting $image${gpus:+ with GPUs}"
  mounts=(-v "$here:$here:ro")
  [ -n "$work" ] && mounts+=(-v "$work:$work:ro")
  docker run --rm --name "$container_name" ${gpus[@]+"${gpus[@]}"} --shm-size 1g \
    -p "$host:$http_port:8000" -p "$host:$grpc_port:8001" -p "$host:$metrics_port:8002" \
    "${mounts[@]}" "$image" tritonserver --model-repository="$serve" &
  server_pid=$!
else
  say "starting $tritonserver"
  "$tritonserver" --model-repository "$serve" --http-address "$host" --grpc-address "$host" --metrics-address "$host" \
    --http-port "$http_port" --grpc-port "$grpc_port" --metrics-port "$metrics_port" &
  server_pid=$!
fi

# True once the URL answers 200.
answers() {
  "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1
}

# For URLs: 0.0.0.0 and :: mean every interface, which includes the loopback one.
local_host=$host
case "$host" in 0.0.0.0|::|"[::]") local_host=127.0.0.1 ;; esac

deadline=$((SECONDS + timeout))
until answers "http://$local_host:$http_port/v2/health/ready"; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    server_pid=""
    fail "Triton exited before it was ready; its messages are above (look for 'failed to load', 'unable to find backend' or a port already in use)"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "Triton was not ready after ${timeout}s; its messages are above"
  fi
  sleep 0.5
done
say "Triton is ready at http://$host:$http_port (models: @@models@@)"

if [ "$web" = 1 ]; then
  "$python" "$here/server.py" --host "$host" --port "$web_port" --triton "$local_host:$http_port" &
  web_pid=$!
  until answers "http://$local_host:$web_port/health"; do
    if ! kill -0 "$web_pid" 2>/dev/null; then
      web_pid=""
      fail "the web app exited; install what it needs with: $python -m pip install -r $here/requirements.txt"
    fi
    sleep 0.2
  done
  say "web app at http://$host:$web_port"
fi
say "running; Ctrl-C stops"

# Until Triton or the web app exits; `sleep & wait` lets Ctrl-C's trap run at once (and works in
# bash 3.2, which has no `wait -n`).
while kill -0 "$server_pid" 2>/dev/null && { [ -z "$web_pid" ] || kill -0 "$web_pid" 2>/dev/null; }; do
  sleep 1 &
  wait $! || true
done
echo "run.sh: $(kill -0 "$server_pid" 2>/dev/null && echo "the web app" || echo "Triton") exited; stopping" >&2
exit 1
