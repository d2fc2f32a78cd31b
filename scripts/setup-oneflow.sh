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

works() {  # python: imports oneflow with the venv's CUDA libraries on the path
  local python=$1 site
  site=$("$python" -c 'import site; print(":".join(site.getsitepackages()))' 2>/dev/null) || return 1
  local libs=""
  for dir in ${site//:/ }; do libs="$libs:$dir/nvidia/cudnn/lib:$dir/nvidia/cublas/lib"; done
  LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$python" -c 'import oneflow, numpy; assert numpy.__version__ < "2"' >/dev/null 2>&1
}

if [ -n "${TRITONPACK_ONEFLOW_PYTHON:-}" ]; then
  if works "$TRITONPACK_ONEFLOW_PYTHON"; then
    echo "setup-oneflow: using \$TRITONPACK_ONEFLOW_PYTHON ($TRITONPACK_ONEFLOW_PYTHON)"
    exit 0
  fi
  echo "setup-oneflow: \$TRITONPACK_ONEFLOW_PYTHON=$TRITONPACK_ONEFLOW_PYTHON cannot import oneflow (with numpy<2); installing the project's own" >&2
fi
if [ -x "$venv/bin/python" ] && works "$venv/bin/python"; then
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
rm -rf "$venv"
mv "$venv.partial" "$venv"
# A venv records its own path in its scripts; only bin/python is used, which resolves the move.
works "$venv/bin/python" || { echo "setup-oneflow: $venv/bin/python cannot import oneflow" >&2; exit 1; }
echo "setup-oneflow: OneFlow 0.9.0 ready in $venv"
