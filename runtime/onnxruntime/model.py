"""A Triton Python-backend model that serves `<version>/model.onnx` with onnxruntime's Python
package (CPU), standing in for the onnxruntime backend where a server has none (tritonpack smoke
writes it into a serving copy; the repository itself keeps its onnxruntime config).

Every request runs on its own: a batched request (max_batch_size > 0) carries its batch in
dimension 0, which the model's own first dimension takes. Tensors are bound by name, as the
onnxruntime backend binds them.
"""
import json
import os

import numpy as np
import onnxruntime
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        path = os.path.join(version_dir, "model.onnx")  # tritonpack links the model's file under this name
        if os.path.isdir(path):  # the folder form: model.onnx/model.onnx beside its external data
            path = os.path.join(path, "model.onnx")
        options = onnxruntime.SessionOptions()
        threads = os.environ.get("TRITONPACK_ONNXRUNTIME_THREADS")
        if threads:
            options.intra_op_num_threads = int(threads)
        try:
            self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # the load error names the file
            raise pb_utils.TritonModelException(f"{path}: onnxruntime cannot load this model: {error}") from error
        self.inputs = [entry["name"] for entry in config["input"]]
        self.outputs = [(entry["name"], pb_utils.triton_string_to_numpy(entry["data_type"])) for entry in config["output"]]

    def execute(self, requests):
        responses = []
        names = [name for name, _ in self.outputs]
        for request in requests:
            try:
                feed = {}
                for name in self.inputs:
                    tensor = pb_utils.get_input_tensor_by_name(request, name)
                    if tensor is None:
                        raise ValueError(f"input '{name}' is missing from the request")
                    feed[name] = tensor.as_numpy()
                results = self.session.run(names, feed)
            except Exception as error:  # a wrong shape or type answers that request
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error))))
                continue
            tensors = [pb_utils.Tensor(name, np.ascontiguousarray(value, dtype=numpy_type))
                       for (name, numpy_type), value in zip(self.outputs, results)]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses
