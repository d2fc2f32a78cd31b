"""Saves samples/oneflow/colour_classifier with OneFlow 0.9.0: a small image classifier whose
answer can be told in advance, for the image pipeline's classification test (`pack --pipeline
image --labels`). It averages each channel of a 1x3x32x32 RGB image (0..255), maps the three
means (r, g, b in 0..1) through a linear layer with fixed weights (red: 2r-g-b, green: 2g-r-b,
blue: 2b-r-g, dark: 1.5-r-g-b, each times 6) and returns the softmax over the four classes of
labels.txt.
The weights are set, not trained: a solid red picture is "red", a dark one "dark".

Usage: <python with oneflow> scripts/make_classifier_sample.py samples/oneflow/colour_classifier
"""
import json
import os
import sys

import numpy as np
import oneflow as flow
import oneflow.nn as nn
from PIL import Image

LABELS = ["red", "green", "blue", "dark"]
PHOTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "samples", "images", "chelsea.jpg")


class ColourClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, len(LABELS))
        weight = np.array([[2, -1, -1], [-1, 2, -1], [-1, -1, 2], [-1, -1, -1]], dtype=np.float32) * (6.0 / 255.0)
        bias = np.array([0, 0, 0, 1.5], dtype=np.float32) * 6.0
        with flow.no_grad():
            self.fc.weight.copy_(flow.tensor(weight))
            self.fc.bias.copy_(flow.tensor(bias))

    def forward(self, x):
        return flow.softmax(self.fc(flow.flatten(self.pool(x), 1)), dim=1)


def main():
    out = sys.argv[1]
    module = ColourClassifier().eval()

    class Graph(nn.Graph):
        def __init__(self):
            super().__init__()
            self.m = module

        def build(self, x):
            return self.m(x)

    graph = Graph()
    with Image.open(PHOTO) as photo:
        pixels = np.asarray(photo.convert("RGB").resize((32, 32), Image.BILINEAR), dtype=np.float32)
    inputs = pixels.transpose(2, 0, 1)[None].copy()
    scores = graph(flow.tensor(inputs)).numpy()
    os.makedirs(os.path.join(out, "golden"), exist_ok=True)
    flow.save(graph, os.path.join(out, "model"))
    np.save(os.path.join(out, "golden", "INPUT_0.npy"), inputs)
    np.save(os.path.join(out, "golden", "OUTPUT_0.npy"), scores)
    with open(os.path.join(out, "labels.txt"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(LABELS) + "\n")
    with open(os.path.join(out, "signature.json"), "w", encoding="utf-8") as handle:
        json.dump({"inputs": [[list(inputs.shape), "oneflow.float32"]], "outputs": [[list(scores.shape), "oneflow.float32"]]},
                  handle, indent=1)
    print(json.dumps({label: round(float(score), 4) for label, score in zip(LABELS, scores[0])}))


if __name__ == "__main__":
    main()
