"""Doubles INPUT0 after sleeping per_call_ms + rows * per_row_ms (config parameters): a stand-in
for a model with a fixed cost per call, such as a GPU kernel launch, and a small cost per row."""

import json
import time

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        parameters = json.loads(args["model_config"]).get("parameters", {})
        self.per_call = float(parameters["per_call_ms"]["string_value"]) / 1000
        self.per_row = float(parameters["per_row_ms"]["string_value"]) / 1000

    def execute(self, requests):
        inputs = [pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy() for request in requests]
        rows = sum(array.shape[0] for array in inputs)
        time.sleep(self.per_call + rows * self.per_row)
        return [
            pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", (array * 2).astype(np.float32))])
            for array in inputs
        ]
