#!/usr/bin/env python3
"""Checks tritonpack's ONNX configs against the `onnx` Python package, an independent reader.

usage: onnx_independent_check.py RESULTS.jsonl
Each line: {"path", "packed": bool, "reason"?, "max_batch_size"?, "inputs"?, "outputs"?} where
inputs/outputs are [{"name", "data_type", "dims", "reshape"}]. Prints a summary and every mismatch;
exits 1 when a packed model's config disagrees with the graph.
"""
import json
import sys

import onnx

TRITON = {1: "TYPE_FP32", 2: "TYPE_UINT8", 3: "TYPE_INT8", 4: "TYPE_UINT16", 5: "TYPE_INT16", 6: "TYPE_INT32",
          7: "TYPE_INT64", 8: "TYPE_STRING", 9: "TYPE_BOOL", 10: "TYPE_FP16", 11: "TYPE_FP64", 12: "TYPE_UINT32",
          13: "TYPE_UINT64", 16: "TYPE_BF16"}


def expected(path):
    """(servable, max_batch_size, inputs, outputs) computed from the graph alone."""
    model = onnx.load(path)
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:
        pass
    initializers = {t.name for t in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in initializers]
    outputs = list(model.graph.output)

    def shape(value):
        if value.type.WhichOneof("value") != "tensor_type":
            return None
        tensor = value.type.tensor_type
        if tensor.elem_type not in TRITON or not tensor.HasField("shape"):
            return None
        return [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]

    shapes = [shape(v) for v in inputs + outputs]
    if not outputs or any(s is None for s in shapes):
        return False, None, None, None
    batching = all(len(s) >= 1 and s[0] == -1 for s in shapes)
    mbs = 4 if batching else 0

    def describe(values):
        result = []
        for v in values:
            dims = shape(v)[1:] if mbs > 0 else shape(v)
            reshape = None
            if not dims:
                dims = [1]
                reshape = [] if mbs > 0 else None
            result.append({"name": v.name, "data_type": TRITON[v.type.tensor_type.elem_type], "dims": dims,
                           "reshape": reshape})
        return result

    return True, mbs, describe(inputs), describe(outputs)


def main():
    packed = refused = mismatches = verdicts = 0
    for line in open(sys.argv[1]):
        result = json.loads(line)
        servable, mbs, inputs, outputs = expected(result["path"])
        if result["packed"]:
            packed += 1
            if not servable:
                verdicts += 1
                print(f"verdict: tritonpack packed, onnx sees no servable I/O: {result['path']}")
                continue
            def clean(tensors):
                return [{k: v for k, v in t.items() if v is not None} for t in tensors]

            actual = (result["max_batch_size"], clean(result["inputs"]), clean(result["outputs"]))
            if actual != (mbs, clean(inputs), clean(outputs)):
                mismatches += 1
                print(f"MISMATCH {result['path']}\n  tritonpack: {actual}\n  onnx:       {(mbs, inputs, outputs)}")
        else:
            refused += 1
            if servable and "checker" not in result["reason"]:
                verdicts += 1
                print(f"verdict: tritonpack refused ({result['reason']}), onnx finds servable I/O: {result['path']}")
    print(f"onnx {onnx.__version__}: {packed} packed, {refused} refused; {mismatches} I/O mismatches; "
          f"{verdicts} verdict differences outside the checker")
    sys.exit(1 if mismatches or verdicts else 0)


if __name__ == "__main__":
    main()
