#!/usr/bin/env python3
"""Checks an image pipeline served by Triton (`tritonpack pack --pipeline image`) against the same
steps computed directly: the pipeline's preprocessing and postprocessing (runtime/pipeline) and
the model run by OneFlow's own runtime (runtime/oneflow) on this machine.

Usage (with the Python that has OneFlow, numpy and Pillow):
  pipeline-check.py HOST:PORT REPOSITORY NAME PHOTO [--version V] [--out DIR] [--format png|jpeg]
  pipeline-check.py - REPOSITORY NAME PHOTO --version V --direct-only FILE   (no server: the expected image)

Sends PHOTO's bytes to NAME_image (Triton's binary tensor extension, standard library only),
decodes the answer, and prints JSON: the photo's and the answer's sizes, the share of pixels whose
channels are all within 2 levels of the direct computation, and the largest difference. Exit
status 1 when the sizes differ or fewer than 99% of the pixels agree.
"""
import argparse
import io
import json
import os
import sys

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
sys.path.insert(0, os.path.join(ROOT, "runtime", "pipeline"))
sys.path.insert(0, os.path.join(ROOT, "runtime", "oneflow"))
import image_pipeline  # noqa: E402
import triton_image_request  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("repository")
    parser.add_argument("name")
    parser.add_argument("photo")
    parser.add_argument("--version", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--format", default="png")
    parser.add_argument("--direct-only", metavar="FILE",
                        help="only compute the steps directly and write the image to FILE (SERVER is not asked)")
    args = parser.parse_args()

    with open(args.photo, "rb") as handle:
        data = handle.read()
    if not args.direct_only:
        answer = triton_image_request.infer_image(args.server, f"{args.name}_image", data, {"format": args.format})
        served = np.asarray(Image.open(io.BytesIO(answer)).convert("RGB"))

    version = args.version or str(max(int(v) for v in os.listdir(os.path.join(args.repository, args.name)) if v.isdigit()))
    def settings(model):
        with open(os.path.join(args.repository, model, version, "pipeline.json"), encoding="utf-8") as handle:
            return json.load(handle)
    pre, post = settings(f"{args.name}_preprocess"), settings(f"{args.name}_postprocess")
    import oneflow_runner
    config = open(os.path.join(args.repository, args.name, "config.pbtxt"), encoding="utf-8").read()
    batch = 0
    for line in config.splitlines():
        if line.strip().startswith("max_batch_size:"):
            batch = int(line.split(":")[1])
    graph = oneflow_runner.SavedGraph(os.path.join(args.repository, args.name, version, "model"), batch_size=batch)
    direct = image_pipeline.reference(data, lambda array: graph.run([array])[0], pre, post, args.format)
    graph.close()
    if args.direct_only:
        with open(args.direct_only, "wb") as handle:
            handle.write(direct)
        return 0
    expected = np.asarray(Image.open(io.BytesIO(direct)).convert("RGB"))
    photo = Image.open(io.BytesIO(data))
    report = {"photo": [photo.width, photo.height], "served": [served.shape[1], served.shape[0]],
              "format": Image.open(io.BytesIO(answer)).format}
    if served.shape == expected.shape:
        difference = np.abs(served.astype(np.int16) - expected.astype(np.int16)).max(axis=2)
        report["within_2_levels"] = float((difference <= 2).mean())
        report["max_difference"] = int(difference.max())
        report["mean_level"] = float(served.mean())
        report["mean_change_from_photo"] = float(np.abs(
            served.astype(np.float32) - np.asarray(photo.convert("RGB"), dtype=np.float32)).mean())
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "served." + args.format), "wb") as handle:
            handle.write(answer)
        with open(os.path.join(args.out, "direct." + args.format), "wb") as handle:
            handle.write(direct)
    print(json.dumps(report))
    ok = report["served"] == report["photo"] and report.get("within_2_levels", 0) >= 0.99
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
