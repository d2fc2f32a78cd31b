import Foundation

/// What a backend fills in from the model file when the server runs with auto-complete on
/// (Triton's default), before Model::Init validates inputs and outputs. lint cannot read every
/// model format, so what such a backend fills is not checked; what it does not fill still is.
package enum BackendAutoComplete {
    /// Whether the backend fills a missing `data_type` or `dims` of an input or output, and whole
    /// missing inputs and outputs, from the model file:
    /// - TensorRT: tensorrt_backend src/model_state.cc `AutoCompleteConfigHelper` (`FixIO` completes
    ///   each configured tensor, and adds the missing ones, from the engine);
    /// - DALI: dali_backend src/config_tools/config_tools.cc `AutofillIOConfig` (data_type and dims
    ///   of each configured tensor, missing tensors appended, from the pipeline);
    /// - Python: python_backend calls the model's `auto_complete_config` when `model.py` defines one
    ///   (its `add_input`/`add_output` fill a tensor's missing data_type and dims).
    /// Not ONNX Runtime, which fills only a side (inputs or outputs) the config leaves empty
    /// (onnxruntime_backend src/onnxruntime.cc `AutoCompleteConfig`: `if (input_cnt == 0)`), nor
    /// OpenVINO, whose `AutoCompleteConfig` only logs "not supported for openvino backend".
    package static func fillsTensors(_ model: ModelUnderLint, options: LintOptions) -> Bool {
        guard options.autoComplete else { return false }
        switch model.config.backend {
        case "tensorrt", "dali": return true
        case "python": return definesAutoCompleteConfig(model)
        default: return false
        }
    }

    /// Whether the inputs (or outputs) lint sees may be replaced or extended by the backend, so
    /// that a cross-model check (an ensemble step) cannot rely on them.
    package static func fillsSide(_ model: ModelUnderLint, inputs: Bool, options: LintOptions) -> Bool {
        guard options.autoComplete else { return false }
        if fillsTensors(model, options: options) { return true }
        if model.config.backend == "onnxruntime" {
            return inputs ? model.config.input.isEmpty && model.config.batchInput.isEmpty : model.config.output.isEmpty
        }
        return false
    }

    /// `model.py` (the Python backend's file in the first served version) defines `auto_complete_config`.
    package static func definesAutoCompleteConfig(_ model: ModelUnderLint) -> Bool {
        let file = model.config.defaultModelFilename.isEmpty ? "model.py" : model.config.defaultModelFilename
        for version in model.servedVersions {
            let path = model.directory.appendingPathComponent("\(version)/\(file)").path
            guard case .success(let bytes) = ModelLoader.readRegularFile(path) else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.range(of: #"def\s+auto_complete_config\s*\("#, options: .regularExpression) != nil { return true }
        }
        return false
    }
}
