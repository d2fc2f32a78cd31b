import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    """Decoupled: answers every request three times (the input times 1, 2 and 3), then says it is done."""

    def execute(self, requests):
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            sender = request.get_response_sender()
            for factor in (1, 2, 3):
                sender.send(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", data * factor)]))
            sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
