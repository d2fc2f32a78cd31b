#!/usr/bin/env bash
# Installs what tritonpack needs on a fresh Debian machine, idempotently:
#   - system libraries: libprotobuf (the parser Triton uses), protoc, libzip, libonnx; Chromium and
#     its driver for the web-page test
#   - a project venv (.venv) with the nvidia-pytriton wheel, which ships tritonserver 2.51 and
#     the Python backend, plus the Python backend stub for the venv's Python
#   - OneFlow 0.9.0's runtime in a Python 3.10 venv outside the checkout (scripts/setup-oneflow.sh)
#   - Ceph's radosgw, monitor and OSD, the real S3 server of the S3 tests (scripts/setup-s3.sh)
#   - the lint and unit-test tools (.venv-tools, pinned in scripts/tools-requirements.txt: ruff,
#     pytest and the modules the Python unit tests import) and shellcheck
# `scripts/setup.sh unit` installs only what building the package, `make test-unit` and
# `scripts/format.sh check` need (no server, browser, OneFlow or Ceph).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}

# zip, unzip: the bundle tests read archives back with Info-ZIP.
packages=(libprotobuf-dev protobuf-compiler libzip-dev libonnx-dev zip unzip shellcheck)
# libb64-0d: perf_analyzer (the gRPC benchmark's baseline) links it.
[ "$mode" = unit ] || packages+=(libonnx-testdata chromium chromium-driver iproute2 libb64-0d)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
fi

python=${PYTHON:-python3}
if [ ! -x .venv-tools/bin/python ]; then
  echo "setup: creating .venv-tools"
  "$python" -m venv .venv-tools
fi
if ! cmp -s scripts/tools-requirements.txt .venv-tools/requirements.txt; then
  echo "setup: installing scripts/tools-requirements.txt into .venv-tools"
  .venv-tools/bin/pip install -q --disable-pip-version-check -r scripts/tools-requirements.txt
  cp scripts/tools-requirements.txt .venv-tools/requirements.txt
fi
if [ "$mode" = unit ]; then
  echo "setup: ready for the unit lane"
  exit 0
fi

pytriton_version=0.7.0
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
# onnxruntime: smoke runs ONNX models through the Python backend where the server has no onnxruntime
# backend (the wheel's server has only the Python backend); 1.19.2 is the one Triton 24.09-24.11 ships.
if ! .venv/bin/python -c "import pytriton, numpy, onnx, PIL, selenium, onnxruntime" >/dev/null 2>&1; then
  echo "setup: installing nvidia-pytriton $pytriton_version into .venv"
  .venv/bin/pip install -q --disable-pip-version-check "nvidia-pytriton==$pytriton_version" onnx Pillow selenium \
    "onnxruntime==1.19.2"
fi

site=$(.venv/bin/python -c 'import pytriton, os; print(os.path.dirname(pytriton.__file__))')
pyver=$(.venv/bin/python -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')
stub="$site/tritonserver/python_backend_stubs/$pyver/triton_python_backend_stub"
target="$site/tritonserver/backends/python/triton_python_backend_stub"
if [ ! -x "$target" ]; then
  [ -x "$stub" ] || { echo "setup: no Python backend stub for Python $pyver in the wheel" >&2; exit 1; }
  cp "$stub" "$target"
fi
# perf_analyzer 2.51 (tritonclient 2.51.0's wheel ships it; it links libcudart, even without a GPU),
# the baseline of scripts/bench-grpc.sh: in a folder of its own, so that the venv's tritonclient stays.
perf_analyzer_version=2.51.0
if [ ! -x .venv/perf-analyzer/bin/perf_analyzer ] ||
  [ "$(cat .venv/perf-analyzer/VERSION 2>/dev/null)" != "$perf_analyzer_version" ]; then
  echo "setup: installing perf_analyzer $perf_analyzer_version into .venv/perf-analyzer"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps --upgrade --target .venv/perf-analyzer \
    "tritonclient==$perf_analyzer_version" "nvidia-cuda-runtime-cu12==12.9.79"
  echo "$perf_analyzer_version" > .venv/perf-analyzer/VERSION
fi
# tritonpack's home: the launcher as bin/tritonserver (where tritonpack looks after --server,
# $TRITONSERVER and PATH) and the wheel's server folder as tritonserver/ (its backends and stubs).
home=${TRITONPACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tritonpack}
mkdir -p "$home/bin"
ln -sfn "$PWD/scripts/tritonserver" "$home/bin/tritonserver"
ln -sfn "$site/tritonserver" "$home/tritonserver"
scripts/setup-oneflow.sh
scripts/setup-s3.sh
echo "setup: ready ($(scripts/tritonserver --version 2>/dev/null | head -n 1 || echo 'tritonserver installed'))"
