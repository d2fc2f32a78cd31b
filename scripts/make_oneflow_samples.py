"""Saves the extra OneFlow samples of samples/oneflow/ with real OneFlow (0.9.0, Python 3.10):
each module is wrapped in an nn.Graph, run once on a seeded input, saved with
flow.save(graph, "<name>/model"), and its inputs and returned outputs are kept as
golden/INPUT_<k>.npy and golden/OUTPUT_<k>.npy (numbered by Python position).

Usage: <python with oneflow> scripts/make_oneflow_samples.py samples/oneflow
"""
import json
import os
import sys

import numpy as np
import oneflow as flow
import oneflow.nn as nn


class BatchNormCNN(nn.Module):
    """Convolution, BatchNorm2d (eval mode: num_batches_tracked is saved but unused), pooling, linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = self.pool(flow.relu(self.bn(self.conv(x))))
        return self.fc(flow.flatten(y, 1))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return flow.softmax(self.fc2(flow.relu(self.fc1(x))), dim=-1)


class ThreeOutputs(nn.Module):
    """Logits, argmax (INT64) and probabilities: three outputs of two types."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 5)

    def forward(self, x):
        logits = self.fc(x)
        return logits, flow.argmax(logits, dim=1), flow.softmax(logits, dim=1)


class Nested(nn.Module):
    """Returns ((y, relu(y)), sigmoid(y)): nested outputs, flattened in Python order."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        y = self.fc(x)
        return (y, flow.relu(y)), flow.sigmoid(y)


class IntegerOutputs(nn.Module):
    """INT32 in, INT32 and UINT8 out, no variables."""

    def forward(self, x):
        return (x * 3 + 1).to(flow.int32), x.to(flow.uint8)


class Affine64(nn.Module):
    """FP64, no variables."""

    def forward(self, x):
        return x * 2.0 + 1.0


def flatten(outputs):
    if isinstance(outputs, (tuple, list)):
        return [tensor for item in outputs for tensor in flatten(item)]
    return [outputs]


def save(root, name, module, inputs):
    module.eval()
    if name == "batchnorm_cnn":  # give BatchNorm statistics that are not the identity
        module.bn.running_mean.copy_(flow.randn(8) * 0.1)
        module.bn.running_var.copy_(flow.rand(8) + 0.5)

    class Graph(nn.Graph):
        def __init__(self):
            super().__init__()
            self.m = module

        def build(self, *arguments):
            return self.m(*arguments)

    graph = Graph()
    outputs = flatten(graph(*inputs))
    folder = os.path.join(root, name)
    golden = os.path.join(folder, "golden")
    os.makedirs(golden, exist_ok=True)
    flow.save(graph, os.path.join(folder, "model"))
    for index, tensor in enumerate(inputs):
        np.save(os.path.join(golden, f"INPUT_{index}.npy"), tensor.numpy())
    for index, tensor in enumerate(outputs):
        np.save(os.path.join(golden, f"OUTPUT_{index}.npy"), tensor.numpy())
    signature = {"inputs": [[list(t.shape), str(t.dtype)] for t in inputs],
                 "outputs": [[list(t.shape), str(t.dtype)] for t in outputs]}
    with open(os.path.join(folder, "signature.json"), "w") as handle:
        json.dump(signature, handle, indent=1)
    print(name, signature)


def main():
    root = sys.argv[1]
    flow.manual_seed(7)
    save(root, "batchnorm_cnn", BatchNormCNN(), [flow.randn(2, 3, 8, 8)])
    save(root, "tiny_mlp_b8", MLP(), [flow.randn(8, 4)])
    save(root, "three_out", ThreeOutputs(), [flow.randn(3, 10)])
    save(root, "nested_outputs", Nested(), [flow.randn(1, 4)])
    save(root, "integer_outputs", IntegerOutputs(), [flow.randint(0, 50, (4, 3), dtype=flow.int32)])
    save(root, "affine_fp64", Affine64(), [flow.randn(2, 3, dtype=flow.float64)])


if __name__ == "__main__":
    main()
