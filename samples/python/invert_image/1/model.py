"""A Python-backend model shaped like OneFlow's style-transfer example (an RGB image, CHW float32
pixels 0..255, in and out) that returns the negative image: OUTPUT_0 = 255 - INPUT_0."""
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            image = pb_utils.get_input_tensor_by_name(request, "INPUT_0").as_numpy()
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT_0", 255.0 - image)]))
        return responses
