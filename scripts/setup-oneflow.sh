#!/usr/bin/env bash
# Installs OneFlow's runtime for `tritonpack smoke` and bundles, idempotently: a venv with
# oneflow==0.9.0 (the last release with native code; Python 3.7-3.10 only) and the CUDA 11
# libraries its wheel links even on CPU. It lives outside the checkout, in
# ${TRITONPACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tritonpack}/oneflow-0.9.0-py3.10, and is reused
# when it works. With $TRITONPACK_ONEFLOW_PYTHON set to a Python that has OneFlow, nothing is installed.
# Where no Python 3.7-3.10 exists, it says what to install and exits 0: the rest of the project
# works without OneFlow, and the tests that need it say why they cannot run.
set -euo pipefail

home=${TRITONPACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tritonpack}
venv="$home/oneflow-0.9.0-py3.10"

# The OneFlow -> ONNX converter set (runtime/onnx/oneflow_to_onnx.py), pinned together in the same
# venv: oneflow-onnx 0.6.2 goes in without its dependencies (it asks for onnx-simplifier, which would
# pull an onnx and a protobuf that OneFlow 0.9.0 cannot import); onnx 1.17.0 is the last release that
# accepts protobuf 3 (OneFlow 0.9.0 needs protobuf < 4); onnxruntime 1.19.2 is the one Triton
# 24.09-24.11 (2.50-2.52) ships, and reads ONNX IR up to 10.
converter_packages=("onnx==1.17.0" "protobuf==3.20.3" "onnxruntime==1.19.2" "numpy<2" "six")
converter_without_dependencies=("oneflow-onnx==0.6.2")
converter_check='
from importlib.metadata import version
import numpy
assert numpy.__version__ < "2"
assert (version("oneflow-onnx"), version("onnx"), version("protobuf"), version("onnxruntime")) == ("0.6.2", "1.17.0", "3.20.3", "1.19.2")
import onnx, onnxruntime
numpy.bool = numpy.bool_  # oneflow-onnx still uses np.bool; oneflow_to_onnx.py does the same
import oneflow_onnx.oneflow2onnx.util
'

run_with_libraries() {  # python code: runs code with the venv's CUDA libraries on the path
  local python=$1 code=$2 site
  site=$("$python" -c 'import site; print(":".join(site.getsitepackages()))' 2>/dev/null) || return 1
  local libs=""
  for dir in ${site//:/ }; do libs="$libs:$dir/nvidia/cudnn/lib:$dir/nvidia/cublas/lib"; done
  LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$python" -c "$code" >/dev/null 2>&1
}

works() {  # python: imports oneflow with the venv's CUDA libraries on the path
  run_with_libraries "$1" 'import oneflow, numpy; assert numpy.__version__ < "2"'
}

converter_works() {  # python: has the pinned OneFlow -> ONNX converter set
  run_with_libraries "$1" "$converter_check"
}

install_converter() {  # python: pip installs the converter set (idempotent: pinned versions)
  "$1" -m pip install -q --disable-pip-version-check "${converter_packages[@]}" &&
    "$1" -m pip install -q --disable-pip-version-check --no-deps "${converter_without_dependencies[@]}"
}

add_converter() {  # python: adds the converter set to a venv whose OneFlow works, without reinstalling OneFlow
  local python=$1
  converter_works "$python" && return 0
  echo "setup-oneflow: adding the OneFlow -> ONNX converter set to $python (oneflow-onnx 0.6.2, onnx 1.17.0, onnxruntime 1.19.2)"
  if install_converter "$python" && converter_works "$python" && works "$python"; then
    return 0
  fi
  echo "setup-oneflow: $python still lacks a working converter set; '--runtime onnx' cannot convert here (OneFlow itself is unaffected)" >&2
}

if [ -n "${TRITONPACK_ONEFLOW_PYTHON:-}" ]; then
  if works "$TRITONPACK_ONEFLOW_PYTHON"; then
    echo "setup-oneflow: using \$TRITONPACK_ONEFLOW_PYTHON ($TRITONPACK_ONEFLOW_PYTHON)"
    if ! converter_works "$TRITONPACK_ONEFLOW_PYTHON"; then  # a Python of yours: not changed, only told
      echo "setup-oneflow: it lacks the OneFlow -> ONNX converter set ('--runtime onnx'); to add it:" >&2
      echo "  $TRITONPACK_ONEFLOW_PYTHON -m pip install $(printf '%q ' "${converter_packages[@]}")" >&2
      echo "  $TRITONPACK_ONEFLOW_PYTHON -m pip install --no-deps $(printf '%q ' "${converter_without_dependencies[@]}")" >&2
    fi
    exit 0
  fi
  echo "setup-oneflow: \$TRITONPACK_ONEFLOW_PYTHON=$TRITONPACK_ONEFLOW_PYTHON cannot import oneflow (with numpy<2); installing the project's own" >&2
fi
if [ -x "$venv/bin/python" ] && works "$venv/bin/python"; then
  add_converter "$venv/bin/python"
  echo "setup-oneflow: OneFlow 0.9.0 ready in $venv"
  exit 0
fi

# A Python 3.10 (or 3.7-3.9): $ONEFLOW_BASE_PYTHON, PATH, pyenv, conda, uv.
candidates=()
[ -n "${ONEFLOW_BASE_PYTHON:-}" ] && candidates+=("$ONEFLOW_BASE_PYTHON")
for version in 3.10 3.9 3.8 3.7; do
  command -v "python$version" >/dev/null 2>&1 && candidates+=("$(command -v "python$version")")
done
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
for version in 3.10 3.9 3.8 3.7; do
  for python in "$pyenv_root"/versions/"$version".*/bin/python"$version"; do
    [ -x "$python" ] && candidates+=("$python")
  done
done
if command -v conda >/dev/null 2>&1; then
  conda_base=$(conda info --base 2>/dev/null || true)
  for python in "$conda_base"/envs/*/bin/python3.10 "$conda_base"/bin/python3.10; do
    [ -x "$python" ] && candidates+=("$python")
  done
fi
if command -v uv >/dev/null 2>&1; then
  python=$(uv python find 3.10 2>/dev/null || true)
  [ -n "$python" ] && candidates+=("$python")
fi

base=""
for python in "${candidates[@]}"; do
  if "$python" -c 'import sys, venv; assert (3, 7) <= sys.version_info[:2] <= (3, 10)' >/dev/null 2>&1; then
    base=$python
    break
  fi
done
if [ -z "$base" ]; then
  cat >&2 <<EOF
setup-oneflow: no Python 3.7-3.10 found (OneFlow 0.9.0 has wheels for those only; Debian 12 ships 3.11).
  Install one, then run 'make setup' again, with any of:
    pyenv install 3.10            (then it is found under ~/.pyenv/versions)
    uv python install 3.10
    conda create -n py310 python=3.10
  or point ONEFLOW_BASE_PYTHON at one, or TRITONPACK_ONEFLOW_PYTHON at a Python that has oneflow==0.9.0.
  Without it, 'tritonpack smoke' cannot execute OneFlow models here; everything else works.
EOF
  exit 0
fi

echo "setup-oneflow: installing oneflow==0.9.0 into $venv with $base (about 4 GB)"
rm -rf "$venv.partial"
mkdir -p "$home"
"$base" -m venv "$venv.partial"
"$venv.partial/bin/python" -m pip install -q --disable-pip-version-check \
  "oneflow==0.9.0" "numpy<2" "nvidia-cudnn-cu11==8.5.0.96" "nvidia-cublas-cu11==11.10.3.66" Pillow
install_converter "$venv.partial/bin/python" ||
  echo "setup-oneflow: installing the OneFlow -> ONNX converter set failed; the next 'make setup' tries again" >&2
rm -rf "$venv"
mv "$venv.partial" "$venv"
# A venv records its own path in its scripts; only bin/python is used, which resolves the move.
works "$venv/bin/python" || { echo "setup-oneflow: $venv/bin/python cannot import oneflow" >&2; exit 1; }
add_converter "$venv/bin/python"
echo "setup-oneflow: OneFlow 0.9.0 ready in $venv"
