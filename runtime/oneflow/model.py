"""A Triton Python-backend model that serves `<version>/model/` (a graph saved by OneFlow's
`flow.save`) with OneFlow's own runtime, standing in for the `oneflow` backend where it is absent.

It keeps the backend's contract: `INPUT_<i>`/`OUTPUT_<i>` tensors, KIND_GPU instances on
`cuda:<gpu>`, and with `max_batch_size > 0` every execution padded to `max_batch_size`.
Written by tritonpack. OneFlow comes from the Python the stub runs: the execution environment the
config names (`EXECUTION_ENV_PATH`, packed by tritonpack), or, for smoke's serving copies, the
Python named by the config parameter `oneflow_python` or TRITONPACK_ONEFLOW_PYTHON. Each instance
is its own stub process; OneFlow's threads of instance k run on CPU k (mod the CPUs allowed).
"""
import json
import os
import sys

import triton_python_backend_utils as pb_utils

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oneflow_runner  # noqa: E402


def _environment_python():
    """The interpreter of the tritonpack execution environment this stub runs in
    (`<env>/bin/python3.X`), for the checks that must run in a child process; None elsewhere."""
    if not os.path.isfile(os.path.join(sys.prefix, "tritonpack-environment.json")):
        return None
    for name in (f"python{sys.version_info[0]}.{sys.version_info[1]}", "python3"):
        candidate = os.path.join(sys.prefix, "bin", name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        graph_dir = os.path.join(version_dir, "model")
        parameters = {key: value.get("string_value", "") for key, value in config.get("parameters", {}).items()}
        python = (parameters.get("oneflow_python") or _environment_python()
                  or os.environ.get("TRITONPACK_ONEFLOW_PYTHON"))
        problem = oneflow_runner.check_in_child(python, graph_dir)
        if problem is not None:
            raise pb_utils.TritonModelException(
                f"{os.path.join(graph_dir, 'model.mlir')}: OneFlow cannot load this graph: {problem}")
        if args["model_instance_kind"] == "GPU":
            device = f"cuda:{args['model_instance_device_id']}"
        else:
            device = "cpu"
        self.max_batch_size = int(config.get("max_batch_size", 0))
        self.inputs = [(entry["name"], oneflow_runner.name_index(entry["name"], "INPUT_")) for entry in config["input"]]
        self.outputs = [(entry["name"], oneflow_runner.name_index(entry["name"], "OUTPUT_"),
                         pb_utils.triton_string_to_numpy(entry["data_type"])) for entry in config["output"]]
        cpu_slot = oneflow_runner.name_index(args["model_instance_name"].rsplit("_", 1)[-1], "")
        self.graph = oneflow_runner.SavedGraph(graph_dir, device=device, batch_size=self.max_batch_size, cpu_slot=cpu_slot)
        self.device = device

    def _arrays(self, request):
        arrays = [None] * len(self.graph.input_specs)
        for name, position in self.inputs:
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            if tensor is None:
                raise pb_utils.TritonModelException(f"input '{name}' is missing from the request")
            arrays[position] = tensor.as_numpy()
        return arrays

    def execute(self, requests):
        # The backend gathers a dynamic batch into one tensor and pads it to max_batch_size.
        try:
            per_request = [self._arrays(request) for request in requests]
        except pb_utils.TritonModelException as error:
            return [pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error))) for _ in requests]
        if self.max_batch_size > 0:
            batches = [oneflow_runner.join_requests(per_request)]
        else:
            batches = [(arrays, None) for arrays in per_request]
        responses = []
        for arrays, rows in batches:
            try:
                results = self.graph.run(arrays)
            except Exception as error:  # a wrong shape or a runtime failure answers that request
                count = len(rows) if rows else 1
                responses += [pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error)))] * count
                continue
            for values in oneflow_runner.split_rows(results, rows):
                tensors = [pb_utils.Tensor(name, oneflow_runner.as_config_type(values[position], numpy_type))
                           for name, position, numpy_type in self.outputs]
                responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses

    def finalize(self):
        self.graph.close()
