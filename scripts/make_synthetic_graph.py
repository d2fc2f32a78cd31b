#!/usr/bin/env python3
"""Writes a synthetic saved OneFlow graph in the real format (model.mlir + one folder per variable
holding a text-format `meta` and raw `out` bytes), for benchmarks and kill-safety tests.

usage: make_synthetic_graph.py OUT_DIR TOTAL_BYTES VARIABLES
"""
import os
import sys


def main() -> None:
    out_dir, total, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out_dir)
    # Variable sizes vary (like a real network's layers), adding up to about TOTAL_BYTES of float32.
    weights = [1 + (i % 7) for i in range(count)]
    elements = [max(1, total * w // sum(weights) // 4) for w in weights]
    ops = []
    chunk = os.urandom(1 << 20)
    for i, n in enumerate(elements):
        name = f"m.layer{i}.weight"
        ops.append(
            f'    %output_{i} = "oneflow.variable"() {{data_type = 2 : i32, device_tag = "cpu", '
            f'op_name = "{name}", output_lbns = ["{name}/out"], parallel = #sbp.parallel<[] -> [[#sbp.B]]>, '
            f'shape = [{n} : si64]}} : () -> tensor<{n}xf32>'
        )
        os.makedirs(os.path.join(out_dir, name))
        with open(os.path.join(out_dir, name, "meta"), "w") as meta:
            meta.write(f"shape {{\n  dim: {n}\n}}\ndata_type: kFloat\n")
        remaining = n * 4
        with open(os.path.join(out_dir, name, "out"), "wb") as out:
            while remaining > 0:
                piece = chunk[: min(len(chunk), remaining)]
                out.write(piece)
                remaining -= len(piece)
    mlir = "\n".join(
        [
            "module {",
            "  oneflow.job @G_0(%arg0: tensor<4x16xf32>) -> tensor<4x16xf32> {",
            '    %input = "oneflow.input"(%arg0) {data_type = 2 : i32, is_dynamic = false, '
            'op_name = "_G_0_input.0.0_1", shape = [4 : si64, 16 : si64]} : (tensor<4x16xf32>) -> tensor<4x16xf32>',
            *ops,
            '    %output = "oneflow.output"(%input) {data_type = 2 : i32, is_dynamic = false, '
            'op_name = "_G_0_output.0.0_2", shape = [4 : si64, 16 : si64]} : (tensor<4x16xf32>) -> tensor<4x16xf32>',
            "    oneflow.return %output : tensor<4x16xf32>",
            "  }",
            "}",
            "",
        ]
    )
    with open(os.path.join(out_dir, "model.mlir"), "w") as f:
        f.write(mlir)


if __name__ == "__main__":
    main()
