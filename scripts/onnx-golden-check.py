#!/usr/bin/env python3
"""Runs a converted model.onnx with onnxruntime (CPU) on golden INPUT_<k>.npy and compares every
OUTPUT_<k> with the golden OUTPUT_<k>.npy OneFlow returned when the graph was saved: float outputs
within 1e-5 of the output's largest magnitude (max |onnx - golden| <= 1e-5 * max |golden|), integer
and bool outputs exact, shapes and types equal. An independent check of `pack --runtime onnx`.

Usage: onnx-golden-check.py MODEL.onnx GOLDEN_DIR    (prints one JSON line; exit 1 on any difference)
"""
import glob
import json
import os
import sys

import numpy as np
import onnxruntime


def main():
    model, golden = sys.argv[1], sys.argv[2]
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    feed = {entry.name: np.load(os.path.join(golden, f"{entry.name}.npy")) for entry in session.get_inputs()}
    names = [entry.name for entry in session.get_outputs()]
    expected_names = sorted(os.path.basename(path)[:-4] for path in glob.glob(os.path.join(golden, "OUTPUT_*.npy")))
    results = dict(zip(names, session.run(names, feed)))
    report = {"outputs": [], "ok": sorted(names) == expected_names}
    for name in expected_names:
        want = np.load(os.path.join(golden, f"{name}.npy"))
        got = results.get(name)
        entry = {"name": name}
        if got is None or got.shape != want.shape or got.dtype != want.dtype:
            entry["problem"] = f"got {None if got is None else (list(got.shape), str(got.dtype))}, want {(list(want.shape), str(want.dtype))}"
            report["ok"] = False
        elif want.dtype.kind in "fc":
            error = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
            bound = 1e-5 * float(np.max(np.abs(want))) if want.size else 0.0
            entry.update(max_abs_error=error, bound=bound)
            report["ok"] &= error <= bound
        else:
            entry["exact"] = bool(np.array_equal(got, want))
            report["ok"] &= entry["exact"]
        report["outputs"].append(entry)
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
