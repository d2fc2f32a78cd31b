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
# Models packed with `tritonpack pack --runtime oneflow-python` are Python-backend models that carry
# their execution environment (EXECUTION_ENV_PATH); a local tritonserver serves them as they are
# when its Python-backend stub embeds the environment's Python (tritonpack_python_version), and
# otherwise with a stub for that Python from the same installation (nvidia-pytriton ships one per
# Python version) in a backend folder of run.sh's own.
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
  --python PYTHON       the Python for the web app and the readiness checks (default: \$PYTHON or
                        python3); without numpy and tritonclient (and Pillow for image models)
                        the web app is skipped, with what to install
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
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 6))' 2>/dev/null ||
  fail "run.sh needs a Python 3 ('$python' does not run one): pass --python PATH or set PYTHON"

# Models packed with --runtime oneflow-python (Python backend, an execution environment for the
# Python their config names in tritonpack_python_version); they are no oneflow-backend models.
python_version_of() {
  { grep -A3 'key: *"tritonpack_python_version"' "$1" 2>/dev/null || true; } |
    sed -n 's/.*string_value: *"\([^"]*\)".*/\1/p' | head -n 1
}
env_models=""
env_versions=""
for model_dir in "$here"/model_repository/*/; do
  wanted=$(python_version_of "$model_dir/config.pbtxt")
  [ -n "$wanted" ] || continue
  model=$(basename "$model_dir")
  env_models="$env_models${env_models:+ }$model"
  oneflow_models=$(echo " $oneflow_models " | sed "s/ $model / /; s/^ *//; s/ *$//")
  # A stub in the model's folder is the one the Python backend runs for that model.
  if [ -f "$model_dir/triton_python_backend_stub" ]; then continue; fi
  case " $env_versions " in *" $wanted "*) ;; *) env_versions="$env_versions${env_versions:+ }$wanted" ;; esac
done

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

# The backends folder the local tritonserver loads its Python backend from.
python_backends() {
  local root
  for root in $(installation_roots); do
    [ -f "$root/backends/python/libtriton_python.so" ] && { echo "$root/backends"; return 0; }
  done
  return 1
}

# The Python (3.N) a stub embeds, from the libpython it links.
stub_python() { { grep -ao 'libpython3\.[0-9]*\.so' "$1" 2>/dev/null || true; } | head -n 1 | sed 's/^libpython//; s/\.so$//'; }

# Whether the local tritonserver can run the --runtime oneflow-python models: true when its Python
# backend's own stub embeds their Python, or when a stub for it exists (then env_stub names it and
# Triton gets a backend folder of run.sh's own, env_backends); env_why says which, env_missing why not.
env_stub=""
env_backends=""
env_why=""
env_missing=""
env_stubs() {
  [ -n "$env_versions" ] || return 0
  local backends own own_python
  backends=$(python_backends) || { env_missing="$tritonserver has no Python backend (backends/python/libtriton_python.so)"; return 1; }
  own=$backends/python/triton_python_backend_stub
  own_python=$(stub_python "$own")
  if [ "$own_python" = "$env_versions" ]; then
    env_why="its Python backend's stub embeds Python $own_python, the Python of the execution environment of $env_models"
    return 0
  fi
  case "$env_versions" in
    *" "*)
      env_missing="$env_models need Pythons $env_versions, and one Python backend runs one stub"
      return 1 ;;
  esac
  env_stub=$(python_stub "$env_versions") || {
    env_missing="its Python backend's stub ($own) embeds Python ${own_python:-?}, not $env_versions, and the installation has no python_backend_stubs/$env_versions/"
    return 1
  }
  env_backends=$backends
  env_why="its Python backend's stub embeds Python ${own_python:-?}; $env_models run(s) in a Python $env_versions execution environment, so Triton gets a backend folder with the stub for Python $env_versions ($env_stub)"
  return 0
}
env_fail() {
  status=3
  fail "cannot serve $env_models with ${tritonserver:-a local tritonserver}: ${env_missing}.
These models run in the Python $env_versions execution environment they carry (EXECUTION_ENV_PATH), so the
Python backend's stub must embed Python $env_versions. Any one of these works:
  - a tritonserver whose Python-backend stub embeds Python $env_versions (NVIDIA's tritonserver 24.xx up to
    24.11, or 'pip install nvidia-pytriton', which ships a stub per Python): --tritonserver PATH
  - a stub built for Python $env_versions: TRITONPACK_PYTHON_STUB=PATH, or put it at
    model_repository/<model>/triton_python_backend_stub
  - a Docker engine, to run $image"
}

docker_engine() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then gpu=1; fi

# Which runtime, and why.
runtime=""
if [ "$container" = 1 ]; then
  runtime=container; why="--container or --image was given"
elif [ -z "$oneflow_models" ] && [ -n "$env_models" ]; then
  if [ -n "$tritonserver" ] && env_stubs; then
    runtime=local; why="a local tritonserver: $tritonserver; $env_why"
  elif docker_engine; then
    runtime=container
    why=${tritonserver:+"$tritonserver cannot run $env_models ($env_missing), and a Docker engine answers"}
    why=${why:-"no tritonserver on PATH, and a Docker engine answers"}
  elif [ -n "$tritonserver" ]; then
    env_fail
  fi
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
if [ "$runtime" != container ] && [ -n "$oneflow_models" ] && [ -n "$env_models" ]; then
  env_stubs || env_fail
  why="$why; $env_why"
fi
say "serving with $runtime ($why)"

# What the web app (server.py, client/infer.py) imports, checked now rather than at the first upload:
# numpy and tritonclient.http always, Pillow when a model has image-shaped inputs or outputs;
# nothing beyond the standard library when the bundle has an image pipeline.
web_missing=""
if [ "$web" = 1 ]; then
  web_missing=$("$python" - "$here/bundle.json" <<'PY' 2>/dev/null || echo "numpy tritonclient[http] Pillow"
import importlib, json, sys
needed = {"numpy": "numpy", "tritonclient.http": "tritonclient[http]"}
try:
    with open(sys.argv[1], encoding="utf-8") as handle:
        models = json.load(handle)["models"]
    if any(spec.get("image") for model in models for spec in model["inputs"] + model["outputs"]):
        needed["PIL"] = "Pillow"
    if any(model["backend"] == "ensemble" and [(spec["name"], spec["datatype"]) for spec in model["inputs"]]
           == [("IMAGE", "BYTES")] for model in models):
        needed = {}  # an image pipeline's page needs the standard library alone; other forms say what they need
except Exception:
    needed["PIL"] = "Pillow"
missing = []
for module, package in needed.items():
    try:
        importlib.import_module(module)
    except Exception:
        missing.append(package)
print(" ".join(missing))
PY
)
  if [ -n "$web_missing" ]; then
    web=0
    say "not starting the web app: $python cannot import $web_missing, which it needs; install with:
  $python -m pip install -r $here/requirements.txt
(or pass --python PATH for a Python that has them; --no-web skips the web app without this message)"
  fi
fi

# The repository Triton serves: model_repository/ itself, or a temporary folder beside it that links
# every model and holds the configs this machine needs (CPU instead of GPU, OneFlow's runtime).
serve=$here/model_repository
work=""
server_pid=""
web_pid=""
container_name=""
# shellcheck disable=SC2317  # run only by the traps below, which shellcheck does not follow
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

# A backend folder whose Python backend runs the stub the --runtime oneflow-python models need: the
# installation's backends linked, python/ with its files linked and that stub copied in.
if [ -n "$env_stub" ] && [ "$runtime" != container ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/tritonpack-demo.XXXXXX")
  mkdir -p "$work/backends/python"
  for entry in "$env_backends"/*; do
    [ "$(basename "$entry")" = python ] || ln -s "$entry" "$work/backends/$(basename "$entry")"
  done
  for entry in "$env_backends"/python/*; do
    case "$(basename "$entry")" in
      triton_python_backend_stub|__pycache__) ;;
      *) ln -s "$entry" "$work/backends/python/$(basename "$entry")" ;;
    esac
  done
  cp "$env_stub" "$work/backends/python/triton_python_backend_stub"
  chmod +x "$work/backends/python/triton_python_backend_stub"
  say "Triton's backends: $work/backends (the Python backend of $env_backends with the stub for Python $env_versions)"
fi

# --runtime oneflow-python models that ask for a GPU, on a machine without one.
cpu_models=""
if [ "$gpu" = 0 ]; then
  for model in $env_models; do
    if grep -q KIND_GPU "$here/model_repository/$model/config.pbtxt"; then cpu_models="$cpu_models $model"; fi
  done
fi

if { [ -n "$oneflow_models" ] && { [ "$runtime" = oneflow-python ] || [ "$gpu" = 0 ]; }; } || [ -n "$cpu_models" ]; then
  [ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/tritonpack-demo.XXXXXX")
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
      *)
        case "$cpu_models " in
          *" $model "*)
            # Every file as it is (the environment archive too, found through
            # $$TRITON_MODEL_DIRECTORY), and the config with its GPU instance groups on CPU.
            mkdir "$serve/$model"
            for entry in "$model_dir"*; do
              [ "$(basename "$entry")" = config.pbtxt ] || ln -s "$entry" "$serve/$model/$(basename "$entry")"
            done
            sed -e 's/KIND_GPU/KIND_CPU/' -e '/^[[:space:]]*gpus:/d' "$model_dir/config.pbtxt" > "$serve/$model/config.pbtxt"
            say "$model: no GPU on this machine, so it runs on CPU (KIND_CPU)"
            ;;
          *) ln -s "$here/model_repository/$model" "$serve/$model" ;;
        esac
        continue ;;
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
  backend_directory=()
  [ -n "$env_stub" ] && backend_directory=(--backend-directory "$work/backends")
  say "starting $tritonserver"
  "$tritonserver" --model-repository "$serve" --http-address "$host" --grpc-address "$host" --metrics-address "$host" \
    --http-port "$http_port" --grpc-port "$grpc_port" --metrics-port "$metrics_port" \
    ${backend_directory[@]+"${backend_directory[@]}"} &
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
say "Triton is ready (models: @@models@@)"
say "  HTTP: http://$host:$http_port  (python3 client/infer.py --url $local_host:$http_port ...)"
say "  gRPC: $host:$grpc_port  (python3 client/infer.py --protocol grpc --url $local_host:$grpc_port ...)"

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
if [ -n "$web_missing" ]; then
  say "no web app: $python lacks $web_missing ('$python -m pip install -r $here/requirements.txt', then run again)"
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
