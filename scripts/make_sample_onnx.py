#!/usr/bin/env python3
"""Writes the small ONNX samples in samples/onnx/ (run with the project venv's python).

identity_batch.onnx: x FLOAT [N, 4] -> y FLOAT [N, 4] (Identity), a batching model.
add_fixed.onnx:      a FLOAT [2, 3], b INT64 [2] -> c FLOAT [2, 3], d INT64 [2] (Add / Identity), no batching.
"""
import os

import onnx
from onnx import TensorProto, helper

out = os.path.join(os.path.dirname(__file__), "..", "samples", "onnx")
os.makedirs(out, exist_ok=True)

graph = helper.make_graph(
    [helper.make_node("Identity", ["x"], ["y"])], "identity_batch",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tritonpack")
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "identity_batch.onnx"))

graph = helper.make_graph(
    [helper.make_node("Add", ["a", "a"], ["c"]), helper.make_node("Identity", ["b"], ["d"])], "add_fixed",
    [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3]),
     helper.make_tensor_value_info("b", TensorProto.INT64, [2])],
    [helper.make_tensor_value_info("c", TensorProto.FLOAT, [2, 3]),
     helper.make_tensor_value_info("d", TensorProto.INT64, [2])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tritonpack")
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "add_fixed.onnx"))

# Test fixtures shaped like the models of Triton's qa/L0_model_config onnx cases:
# INPUT0, INPUT1 INT32 -> OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1, cast to INT8.
fixtures = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "onnx")
os.makedirs(fixtures, exist_ok=True)
for name, shape in [("int32_int32_int8_batch", ["N", 16]), ("int32_int32_int8_nobatch", [16])]:
    graph = helper.make_graph(
        [helper.make_node("Add", ["INPUT0", "INPUT1"], ["sum"]), helper.make_node("Sub", ["INPUT0", "INPUT1"], ["diff"]),
         helper.make_node("Cast", ["sum"], ["OUTPUT0"], to=TensorProto.INT8),
         helper.make_node("Cast", ["diff"], ["OUTPUT1"], to=TensorProto.INT8)], name,
        [helper.make_tensor_value_info("INPUT0", TensorProto.INT32, shape),
         helper.make_tensor_value_info("INPUT1", TensorProto.INT32, shape)],
        [helper.make_tensor_value_info("OUTPUT0", TensorProto.INT8, shape),
         helper.make_tensor_value_info("OUTPUT1", TensorProto.INT8, shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tritonpack")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(fixtures, f"{name}.onnx"))

# A model the ONNX checker refuses: a node reads a tensor nothing defines.
graph = helper.make_graph(
    [helper.make_node("Add", ["x", "undefined_tensor"], ["y"])], "checker_fails",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tritonpack")
model.ir_version = 7
onnx.save(model, os.path.join(fixtures, "checker_fails.onnx"))
