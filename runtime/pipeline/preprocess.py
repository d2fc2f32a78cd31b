"""The first step of a tritonpack image pipeline (`pack --pipeline image`), a Python-backend model
(`model.py` of `<name>_preprocess`): decodes the request's `IMAGE` (one JPEG, PNG or WebP), converts
it to RGB or grey, resizes it to the model's height and width, lays it out (CHW or HWC), scales
and casts it into `TENSOR`, the model's input, and keeps the image's size in `ORIGINAL_SIZE`
(height, width) for the last step. Written by tritonpack; the computation is `image_pipeline.py`.
The version's `pipeline.json` describes the model's input (layout, shape, scale, dtype).
"""
import json
import os
import sys

import numpy as np
import triton_python_backend_utils as pb_utils

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image_pipeline  # noqa: E402


def _settings(args):
    """This version's settings, written by tritonpack beside model.py."""
    path = os.path.join(args["model_repository"], args["model_version"], "pipeline.json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class TritonPythonModel:
    def initialize(self, args):
        self.spec = _settings(args)

    def execute(self, requests):
        responses = []
        for request in requests:
            try:
                images = pb_utils.get_input_tensor_by_name(request, "IMAGE").as_numpy().reshape(-1)
                if images.size != 1:
                    raise image_pipeline.PipelineError(f"IMAGE holds {images.size} images; send one per request")
                array, size = image_pipeline.preprocess(images[0], self.spec)
            except Exception as error:  # a bad image answers that request only
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error))))
                continue
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("TENSOR", array),
                pb_utils.Tensor("ORIGINAL_SIZE", np.array(size, dtype=np.int32)),
            ]))
        return responses
