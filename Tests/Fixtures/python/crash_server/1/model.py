"""Kills the server (its parent process) on the fifth request, to test a server dying mid-run."""
import os
import signal

import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        self.count = 0

    def execute(self, requests):
        self.count += len(requests)
        if self.count >= 5:
            os.kill(os.getppid(), signal.SIGKILL)
        out = []
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            out.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", data)]))
        return out
