"""Sends one photo to an image pipeline in a loop until STOP_FILE exists, and classifies every
answer by its decoded pixels: which of the EXPECTED images (PNG files, one per pipeline version) it
equals within 2 levels on at least 99% of the pixels, or none (a mixed or broken set), or a
failed request. Standard library plus numpy and Pillow. Prints one JSON line:
{"requests": n, "answers": ["1", "1", ..., "2"], "failures": [...], "unmatched": k}

Usage: pipeline_request_loop.py HOST:PORT MODEL PHOTO STOP_FILE EXPECTED_1.png EXPECTED_2.png ...
"""
import io
import json
import os
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "runtime", "pipeline"))
import triton_image_request  # noqa: E402

server, model, photo, stop = sys.argv[1:5]
expected = [np.asarray(Image.open(path).convert("RGB"), dtype=np.int16) for path in sys.argv[5:]]
data = open(photo, "rb").read()
answers, failures, unmatched = [], [], 0
deadline = time.time() + 900
while not os.path.exists(stop) and time.time() < deadline:
    try:
        answer = triton_image_request.infer_image(server, model, data, timeout=120)
    except Exception as error:  # every failure is reported
        failures.append(str(error)[:300])
        continue
    pixels = np.asarray(Image.open(io.BytesIO(answer)).convert("RGB"), dtype=np.int16)
    match = None
    for index, want in enumerate(expected, start=1):
        if pixels.shape == want.shape and (np.abs(pixels - want).max(axis=2) <= 2).mean() >= 0.99:
            match = str(index)
            break
    if match is None:
        unmatched += 1
    answers.append(match or "none")
print(json.dumps({"requests": len(answers) + len(failures), "answers": answers, "failures": failures,
                  "unmatched": unmatched}))
