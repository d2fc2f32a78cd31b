#!/usr/bin/env bash
# Checks runtime/onnx/oneflow_to_onnx.py on every sample of samples/oneflow/: each converts and
# verifies against OneFlow with its golden inputs, twice, to byte-identical .onnx files; and the two
# known-wrong conversions are refused (fast_neural_style with reduce_sum_axes off: mismatch naming
# OUTPUT_0; with reflection_pad2d off: unsupported_ops naming reflection_pad2d).
# Usage: runtime/onnx/test_oneflow_to_onnx.sh [PYTHON]   (default: the venv scripts/setup-oneflow.sh makes)
# About 1.5 s per small sample and 15-20 s per fast_neural_style conversion on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
home=${TRITONPACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/tritonpack}
python=${1:-${TRITONPACK_ONEFLOW_PYTHON:-$home/oneflow-0.9.0-py3.10/bin/python}}
site=$("$python" -c 'import site; print(":".join(site.getsitepackages()))')
libs=""
for dir in ${site//:/ }; do libs="$libs:$dir/nvidia/cudnn/lib:$dir/nvidia/cublas/lib"; done
export LD_LIBRARY_PATH="${libs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

converter="$root/runtime/onnx/oneflow_to_onnx.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

field() {  # json-file python-expression-on-d
  "$python" -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
}

for sample in "$root"/samples/oneflow/*/; do
  name=$(basename "$sample")
  for run in 1 2; do
    status=0
    "$python" "$converter" "$sample/model" --output "$work/$name.$run.onnx" --golden "$sample/golden" \
      >"$work/$name.$run.json" 2>"$work/$name.$run.log" || status=$?
    if [ "$status" != 0 ]; then
      echo "FAIL $name (run $run, exit $status): $(field "$work/$name.$run.json" 'd.get("message")' 2>/dev/null || tail -3 "$work/$name.$run.log")"
      failures=$((failures + 1))
      continue 2
    fi
  done
  if ! cmp -s "$work/$name.1.onnx" "$work/$name.2.onnx"; then
    echo "FAIL $name: two conversions gave different bytes"
    failures=$((failures + 1))
    continue
  fi
  echo "ok   $name: max error $(field "$work/$name.1.json" 'd["max_error"]'), batch $(field "$work/$name.1.json" 'd["batch"]'), $(field "$work/$name.1.json" 'd["seconds"]["total_seconds"]') s"
done

expect_refusal() {  # label reason expected-text args...
  local label=$1 reason=$2 text=$3 status=0
  shift 3
  "$python" "$converter" "$@" --output "$work/refused.onnx" >"$work/refused.json" 2>"$work/refused.log" || status=$?
  if [ "$status" = 1 ] && [ "$(field "$work/refused.json" 'd["reason"]')" = "$reason" ] &&
    grep -q -- "$text" "$work/refused.json" && [ ! -e "$work/refused.onnx" ]; then
    echo "ok   $label: refused ($reason, names $text)"
  else
    echo "FAIL $label: exit $status, $(cat "$work/refused.json")"
    failures=$((failures + 1))
  fi
}
style="$root/samples/oneflow/fast_neural_style"
expect_refusal "fast_neural_style without reduce_sum_axes" mismatch '"output": "OUTPUT_0"' \
  "$style/model" --golden "$style/golden" --disable-fix reduce_sum_axes
expect_refusal "fast_neural_style without reflection_pad2d" unsupported_ops '"unsupported_ops": \["reflection_pad2d"\]' \
  "$style/model" --disable-fix reflection_pad2d

if [ "$failures" = 0 ]; then echo "all passed"; else echo "$failures failed"; exit 1; fi
