"""The last step of a tritonpack image pipeline (`pack --pipeline image`), a Python-backend model
(`model.py` of `<name>_postprocess`). For an image model it turns `TENSOR` (the model's output)
back into an image: scaled back to 0..255, clamped, cast to 8 bits, resized to `ORIGINAL_SIZE`
(the photo's height and width) and encoded as PNG, or JPEG when the request's parameter `format`
is `jpeg`, in `IMAGE`. For a classifier (`labels` in the version's `pipeline.json` names a file
of the version, one label a line) it returns the top k in `LABELS` as `<score>:<index>:<label>`, k
from the request's parameter `top_k` (default: `top_k` of `pipeline.json`). `pipeline.json` also
holds the output's layout and scale. Written by tritonpack; the computation is
`image_pipeline.py`.
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
        self.top_k = int(self.spec.get("top_k", 5))
        self.labels = None
        if self.spec.get("labels"):
            version_dir = os.path.join(args["model_repository"], args["model_version"])
            self.labels = image_pipeline.read_labels(os.path.join(version_dir, self.spec["labels"]))

    def execute(self, requests):
        responses = []
        for request in requests:
            try:
                options = json.loads(request.parameters() or "{}")
                array = pb_utils.get_input_tensor_by_name(request, "TENSOR").as_numpy()
                if self.labels is not None:
                    k = int(options.get("top_k", self.top_k))
                    labels = image_pipeline.top_labels(array, self.labels, k)
                    output = pb_utils.Tensor("LABELS", np.array([s.encode() for s in labels], dtype=np.object_))
                else:
                    size = pb_utils.get_input_tensor_by_name(request, "ORIGINAL_SIZE").as_numpy().reshape(-1)
                    data = image_pipeline.postprocess_image(
                        array, self.spec, size, options.get("format", "png"), int(options.get("quality", 90)))
                    output = pb_utils.Tensor("IMAGE", np.array([data], dtype=np.object_))
            except Exception as error:  # answers that request only
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error))))
                continue
            responses.append(pb_utils.InferenceResponse(output_tensors=[output]))
        return responses
