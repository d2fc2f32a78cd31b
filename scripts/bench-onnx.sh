#!/usr/bin/env bash
# Benchmark for ONNX signature extraction (not a test): an ONNX file of >= 1 GiB (one large
# initializer feeding a MatMul) described by `tritonpack config` (libonnx: parse, check, shape
# inference) next to `onnx.load` in Python, in the same run: wall time and peak memory (max RSS).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BENCH_WORK:-bench-work}
bin=.build/release/tritonpack
[ -x "$bin" ] || swift build -c release
mkdir -p "$work"
big="$work/big.onnx"
if [ ! -f "$big" ]; then
  .venv/bin/python - "$big" <<'PY'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
rows = (1 << 30) // (4 * 1024) + 1024  # a little over 1 GiB of float32
weight = numpy_helper.from_array(np.ones((rows, 1024), dtype=np.float32), name="W")
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W"], ["y"])], "big",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", rows])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1024])], initializer=[weight])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
onnx.save(model, sys.argv[1])
PY
fi
cat "$big" > /dev/null
printf 'model: %s, %.2f GiB\n' "$big" "$(echo "$(stat -c %s "$big") / 1073741824" | bc -l)"
/usr/bin/time -f 'tritonpack config: %e s, max RSS %M KiB' "$bin" config "$big" > /dev/null
/usr/bin/time -f 'python onnx.load:  %e s, max RSS %M KiB' .venv/bin/python -c "import onnx, sys; onnx.load(sys.argv[1])" "$big"
/usr/bin/time -f 'python onnx.load + check_model + infer_shapes: %e s, max RSS %M KiB' .venv/bin/python -c "
import onnx, sys
m = onnx.load(sys.argv[1]); onnx.checker.check_model(m); onnx.shape_inference.infer_shapes(m)" "$big"
