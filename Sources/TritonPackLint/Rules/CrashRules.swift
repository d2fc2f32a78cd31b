import Foundation
import TritonPackModels

/// Configs that Triton 2.51 accepts but then dies on (SIGSEGV) or never finishes loading: no
/// Triton message exists, so lint says what the server does and names the field. Each was found
/// by loading variants into the real 2.51 server (TritonOracleTests holds them).

/// A batch_output without a target_name passes core's ValidateBatchIO (it checks only the target
/// names given), then the backend reads the first target name of the empty list.
package struct BatchOutputTargetRule: LintRule {
    public static let description = RuleDescription(
        identifier: "batch-output-target", name: "Batch output without target (server crash)", severity: .error,
        summary:
            "Every batch_output must name its target_name: Triton 2.51 accepts one without (core's ValidateBatchIO checks only the names given), and the backend's model setup then reads the first target name of an empty list, killing the server with SIGSEGV while it loads the model, whatever the output's data type (seen on the 2.51 server: target-less batch outputs on FP32 and UINT16 outputs crash it, every typed output with a target loads).",
        triggering: [
            .config(
                "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_UINT16 dims: [ 4 ] } ]\n↓batch_output [ { kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: \"x\" } ]"
            )
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_UINT16 dims: [ 4 ] } ]\nbatch_output [ { target_name: \"y\" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: \"x\" } ]"
            )
        ],
        tritonSource: [
            "backend src/backend_common.cc BatchOutput::ParseFromModelConfig (`io_name == batch_output.target_names_[0]` with no target name), run by the BackendModel constructor in TRITONBACKEND_ModelInitialize (python, onnxruntime, pytorch, tensorrt, tensorflow backends)",
            "core src/model_config_utils.cc ValidateBatchIO (loops over the target names given; with auto-complete on it runs in Model::Init, after the backend's ModelInitialize)",
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard config.platform != "ensemble" else { return }
        for (index, output) in config.batchOutput.enumerated() where output.targetName.isEmpty {
            report.report(
                "batch_output[\(index)] has no target_name: the Triton 2.51 server crashes (SIGSEGV) loading this model, its backend reading the first target name of an empty list; name the output it scatters into in target_name",
                at: "batch_output[\(index)]")
            return
        }
    }
}

/// Warmup requests of a decoupled model: the instance waits, without a timeout, for each
/// request's final response, which only a model that sends one through its response sender gives.
package struct DecoupledWarmupRule: LintRule {
    public static let description = RuleDescription(
        identifier: "decoupled-warmup", name: "Warmup on a decoupled model (server hang)", severity: .error,
        summary:
            "A decoupled model (model_transaction_policy { decoupled: true }) must not have model_warmup samples (batch_size above 0): Triton 2.51 runs each warmup request on the instance and waits for its final response with no timeout. A model that never sends the final flag for it leaves the load, and the server's answer, hanging; one whose execute returns responses (as a non-decoupled Python model does) makes the server hang and die with SIGSEGV, or in other runs refuse the model (seen on the 2.51 server). Only a model that sends a final response for every warmup request loads, which the config cannot tell.",
        triggering: [
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\nmodel_transaction_policy { decoupled: true }\n↓model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]"
            )
        ],
        nonTriggering: [
            // Samples of batch 0 are skipped, and a model that is not decoupled is warmed up as usual.
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\nmodel_transaction_policy { decoupled: true }\nmodel_warmup [ { name: \"w\" batch_size: 0 inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]"
            ),
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\nmodel_transaction_policy { decoupled: false }\nmodel_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]"
            ),
        ],
        tritonSource: [
            "core src/backend_model_instance.cc TritonModelInstance::WarmUp (each request's WarmupResponseComplete promise waited on with get(), no timeout; set only by a response carrying TRITONSERVER_RESPONSE_COMPLETE_FINAL)",
            "python_backend src/pb_stub.cc ProcessReturnedResponses (\"is using the decoupled mode and the execute function must return None\") and src/python_be.cc ProcessRequests (the decoupled error path deletes the response factory)",
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard config.platform != "ensemble", config.modelTransactionPolicy.decoupled,
            let index = config.modelWarmup.firstIndex(where: { $0.batchSize > 0 })
        else { return }
        // A sample Triton refuses while preparing or validating it never runs.
        var warmup = DiagnosticSink(model: context.model)
        WarmupRule().check(context, &warmup)
        guard !warmup.diagnostics.contains(where: { $0.severity == .error }) else { return }
        report.report(
            "model_warmup[\(index)] on a decoupled model (model_transaction_policy { decoupled: true }): the Triton 2.51 server waits without a timeout for each warmup request's final response, so it hangs loading this model (or dies with SIGSEGV) unless the model sends a final response for every warmup request; remove model_warmup",
            at: "model_warmup[\(index)]")
    }
}
