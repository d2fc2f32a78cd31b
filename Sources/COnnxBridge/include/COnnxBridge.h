#ifndef TRITONPACK_CONNXBRIDGE_H
#define TRITONPACK_CONNXBRIDGE_H

#ifdef __cplusplus
extern "C" {
#endif

/// Loads the ONNX model at `path` with libonnx, runs onnx::checker::check_model and shape
/// inference, and describes it as JSON (malloc'd, free with tp_onnx_free):
/// {"ir_version", "opsets": [{"domain", "version"}], "inputs"/"outputs": [{"name", "kind",
/// "elem_type", "dims" (null for unknown rank; -1 for symbolic or unknown dims)}],
/// "initializers": [names], "external_data": [locations], "check_error", "load_error",
/// "inference_error", "checker_skipped" (why the checker and shape inference did not run: an IR
/// version or default-domain opset newer than this libonnx knows; empty when they ran)}.
char *tp_onnx_describe(const char *path);

void tp_onnx_free(char *text);

#ifdef __cplusplus
}
#endif

#endif
