import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The real tritonserver as the oracle for lint: each config variant is loaded through the HTTP
/// repository API (explicit model control, --disable-auto-complete-config, Python backend), and
/// lint's verdict and message must agree with the server's.
final class TritonOracleTests: XCTestCase {
    static let modelPy = """
        import triton_python_backend_utils as pb_utils


        class TritonPythonModel:
            def initialize(self, args):
                pass

            def execute(self, requests):
                return [pb_utils.InferenceResponse(output_tensors=[]) for _ in requests]
        """

    static let io = """
        input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
        output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
        """

    /// (label, config, extra files). Valid and broken variants across the config's areas.
    static let variants: [(String, String, [String: String])] = [
        ("valid", "backend: \"python\"\nmax_batch_size: 4\n\(io)instance_group [ { kind: KIND_CPU } ]", [:]),
        ("valid_nobatch", "backend: \"python\"\n\(io)", [:]),
        (
            "valid_dynamic",
            "backend: \"python\"\nmax_batch_size: 8\n\(io)dynamic_batching { preferred_batch_size: [ 2, 8 ] max_queue_delay_microseconds: 100 }",
            [:]
        ),
        (
            "valid_reshape",
            "backend: \"python\"\nmax_batch_size: 2\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 2, 2 ] reshape { shape: [ 4 ] } } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]",
            [:]
        ),
        (
            "valid_scalar_reshape",
            "backend: \"python\"\nmax_batch_size: 2\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 1 ] reshape { } } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 1 ] } ]",
            [:]
        ),
        (
            "valid_sequence",
            "backend: \"python\"\nmax_batch_size: 2\n\(io)sequence_batching { control_input [ { name: \"START\" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] } ] }",
            [:]
        ),
        (
            "valid_warmup",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]",
            [:]
        ),
        ("valid_policy", "backend: \"python\"\n\(io)version_policy { all { } }", [:]),
        ("syntax_unknown_field", "backend: \"python\"\nmax_batch_sise: 4\n\(io)", [:]),
        ("syntax_bad_enum", "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_FLOAT dims: [ 4 ] } ]", [:]),
        ("syntax_bad_number", "backend: \"python\"\nmax_batch_size: four\n\(io)", [:]),
        ("syntax_unterminated", "backend: \"python\"\ninput [ { name: \"INPUT0\" ", [:]),
        ("syntax_oneof", "backend: \"python\"\n\(io)dynamic_batching { }\nsequence_batching { }", [:]),
        (
            "syntax_repeated_message",
            "backend: \"python\"\n\(io)version_policy { all { } }\nversion_policy { latest { num_versions: 1 } }", [:]
        ),
        ("negative_batch", "backend: \"python\"\nmax_batch_size: -2\n\(io)", [:]),
        (
            "missing_dims",
            "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "missing_type",
            "backend: \"python\"\ninput [ { name: \"INPUT0\" dims: [ 4 ] } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "missing_name",
            "backend: \"python\"\ninput [ { data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "zero_dim",
            "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4, 0 ] } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "negative_dim",
            "backend: \"python\"\n\(io.replacingOccurrences(of: "dims: [ 4 ] } ]\noutput", with: "dims: [ -3 ] } ]\noutput"))",
            [:]
        ),
        (
            "reshape_count",
            "backend: \"python\"\nmax_batch_size: 2\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 2, 2 ] reshape { shape: [ 5 ] } } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "reshape_empty_nobatch",
            "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 1 ] reshape { } } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "reshape_variable",
            "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ -1, 2 ] reshape { shape: [ 2, -1, -1 ] } } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "format_dims",
            "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 format: FORMAT_NHWC dims: [ 4 ] } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "shape_tensor",
            "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ 4 ] is_shape_tensor: true } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]",
            [:]
        ),
        (
            "preferred_over_max", "backend: \"python\"\nmax_batch_size: 4\n\(io)dynamic_batching { preferred_batch_size: [ 8 ] }",
            [:]
        ),
        ("preferred_zero", "backend: \"python\"\nmax_batch_size: 4\n\(io)dynamic_batching { preferred_batch_size: [ 0 ] }", [:]),
        (
            "priority_default",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)dynamic_batching { priority_levels: 2 default_priority_level: 5 }", [:]
        ),
        (
            "sequence_no_value",
            "backend: \"python\"\nmax_batch_size: 2\n\(io)sequence_batching { control_input [ { name: \"READY\" control [ { kind: CONTROL_SEQUENCE_READY } ] } ] }",
            [:]
        ),
        (
            "sequence_two_values",
            "backend: \"python\"\nmax_batch_size: 2\n\(io)sequence_batching { control_input [ { name: \"S\" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] fp32_false_true: [ 0, 1 ] } ] } ] }",
            [:]
        ),
        (
            "sequence_three_entries",
            "backend: \"python\"\nmax_batch_size: 2\n\(io)sequence_batching { control_input [ { name: \"S\" control [ { kind: CONTROL_SEQUENCE_END int32_false_true: [ 0, 1, 2 ] } ] } ] }",
            [:]
        ),
        (
            "sequence_corrid_type",
            "backend: \"python\"\nmax_batch_size: 2\n\(io)sequence_batching { control_input [ { name: \"C\" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_FP32 } ] } ] }",
            [:]
        ),
        (
            "sequence_duplicate_tensor",
            "backend: \"python\"\nmax_batch_size: 2\n\(io)sequence_batching { control_input [ { name: \"S\" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] }, { name: \"S\" control [ { kind: CONTROL_SEQUENCE_END int32_false_true: [ 0, 1 ] } ] } ] }",
            [:]
        ),
        (
            "warmup_variable_dim",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ -1 ] zero_data: true } } } ]",
            [:]
        ),
        (
            "warmup_no_data",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] } } } ]",
            [:]
        ),
        (
            "warmup_missing_file",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] input_data_file: \"nope.bin\" } } } ]",
            [:]
        ),
        (
            "warmup_short_file",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] input_data_file: \"short.bin\" } } } ]",
            ["warmup/short.bin": "abc"]
        ),
        ("name_mismatch", "name: \"other_name\"\nbackend: \"python\"\n\(io)", [:]),
        ("platform_pair", "platform: \"onnxruntime_onnx\"\nbackend: \"python\"\n\(io)", [:]),
        ("unknown_platform", "platform: \"tensorflw\"\n\(io)", [:]),
        ("policy_latest_zero", "backend: \"python\"\n\(io)version_policy { latest { } }", [:]),
        ("policy_missing_version", "backend: \"python\"\n\(io)version_policy { specific { versions: [ 7 ] } }", [:]),
        ("cpu_with_gpus", "backend: \"python\"\n\(io)instance_group [ { kind: KIND_CPU gpus: [ 0 ] } ]", [:]),
        ("gpu_on_cpu_server", "backend: \"python\"\n\(io)instance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]", [:]),
        ("model_with_gpus", "backend: \"python\"\n\(io)instance_group [ { kind: KIND_MODEL gpus: [ 0 ] } ]", [:]),
        ("profile_not_trt", "backend: \"python\"\n\(io)instance_group [ { kind: KIND_CPU profile: [ \"0\" ] } ]", [:]),
        (
            "label_missing",
            "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] label_filename: \"labels.txt\" } ]",
            [:]
        ),
        (
            "batch_input_source",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" data_type: TYPE_FP32 } ]",
            [:]
        ),
        (
            "response_cache_sequence",
            "backend: \"python\"\nmax_batch_size: 2\n\(io)sequence_batching { }\nresponse_cache { enable: true }", [:]
        ),
        ("ensemble_on_python", "backend: \"python\"\n\(io)ensemble_scheduling { step [ { model_name: \"x\" } ] }", [:]),
        // Issue #13: warmup requests validated like inference requests (R99), warmup batch above
        // max_batch_size (refused by 2.51, not a crash), repository agents.
        (
            "warmup_missing_input",
            "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4 ] }, { name: \"INPUT1\" data_type: TYPE_INT32 dims: [ 2 ] } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\nmodel_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]",
            [:]
        ),
        (
            "warmup_duplicate_input",
            "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4 ] }, { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\nmodel_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]",
            [:]
        ),
        (
            "warmup_type",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_UINT8 dims: [ 4 ] zero_data: true } } } ]",
            [:]
        ),
        (
            "warmup_shape_batch",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 1, 4 ] zero_data: true } } } ]",
            [:]
        ),
        (
            "warmup_shape_nobatch",
            "backend: \"python\"\n\(io)model_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 1, 4 ] zero_data: true } } } ]",
            [:]
        ),
        (
            "valid_warmup_optional_extra",
            "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ -1 ] }, { name: \"INPUT1\" data_type: TYPE_FP32 dims: [ 4 ] optional: true } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\nmodel_warmup [ { name: \"w\" batch_size: 2 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 7 ] random_data: true } } inputs { key: \"EXTRA\" value: { data_type: TYPE_INT8 dims: [ 3 ] zero_data: true } } } ]",
            [:]
        ),
        (
            "valid_warmup_reshape",
            "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 2, 2 ] reshape { shape: [ 4 ] } } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\nmodel_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 2, 2 ] zero_data: true } } } ]",
            [:]
        ),
        (
            "warmup_batch_nobatching",
            "backend: \"python\"\n\(io)instance_group [ { name: \"g\" kind: KIND_CPU } ]\nmodel_warmup [ { name: \"w\" batch_size: 2 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]",
            [:]
        ),
        ("repo_agent_missing", "backend: \"python\"\n\(io)model_repository_agents { agents [ { name: \"checksum\" } ] }", [:]),
        // The two configs reported to crash 2.51 (rule catalog section 10), and every variant of
        // them tried (scripts/triton-verdicts.py), load on this 2.51 server: no rule flags them.
        (
            "valid_ragged_batch_input_output",
            "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"INPUT_0\" data_type: TYPE_FP32 dims: [ -1 ] allow_ragged_batch: true }, { name: \"BI\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"OUTPUT_0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\nbatch_input [ { kind: BATCH_ACCUMULATED_ELEMENT_COUNT target_name: \"BI\" data_type: TYPE_FP32 source_input: \"INPUT_0\" } ]\nbatch_output [ { target_name: \"OUTPUT_0\" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: \"INPUT_0\" } ]\ndynamic_batching { }",
            [:]
        ),
        (
            "valid_priority_delay_policy",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)dynamic_batching { priority_levels: 3 default_priority_level: 2 default_queue_policy { max_queue_size: 4 } priority_queue_policy { key: 1 value: { timeout_action: DELAY } } }",
            [:]
        ),
        // Issue #25: configs that crash or hang 2.51 (found by loading variants: the field that
        // does it, and the variants next to it that load), the backend library as Triton resolves
        // it (platform-normalised backends, runtime), and priority queue policies that load.
        ("batch_output_no_target", "backend: \"python\"\nmax_batch_size: 4\n\(io)\(batchOutput(target: nil))", [:]),
        (
            "batch_output_no_target_uint16",
            "backend: \"python\"\nmax_batch_size: 4\n\(io.replacingOccurrences(of: "\"OUTPUT0\" data_type: TYPE_FP32", with: "\"OUTPUT0\" data_type: TYPE_UINT16"))\(batchOutput(target: nil))",
            [:]
        ),
        (
            "valid_batch_output_uint16",
            "backend: \"python\"\nmax_batch_size: 4\n\(io.replacingOccurrences(of: "\"OUTPUT0\" data_type: TYPE_FP32", with: "\"OUTPUT0\" data_type: TYPE_UINT16"))\(batchOutput(target: "OUTPUT0"))",
            [:]
        ),
        (
            "decoupled_warmup_never_final", "backend: \"python\"\n\(io)\(decoupled)\(warmup(batch: 1))",
            ["1/model.py": decoupledModelPy(sendsFinal: false)]
        ),
        ("decoupled_warmup_returns_responses", "backend: \"python\"\n\(io)\(decoupled)\(warmup(batch: 1))", [:]),
        ("valid_decoupled_warmup_batch0", "backend: \"python\"\n\(io)\(decoupled)\(warmup(batch: 0))", [:]),
        ("valid_decoupled_no_warmup", "backend: \"python\"\n\(io)\(decoupled)", [:]),
        (
            "valid_priority_policies_timeout_zero",
            "backend: \"python\"\nmax_batch_size: 4\n\(io)dynamic_batching { priority_levels: 2 default_priority_level: 1 default_queue_policy { default_timeout_microseconds: 0 } priority_queue_policy { key: 1 value: { timeout_action: DELAY default_timeout_microseconds: 0 } } priority_queue_policy { key: 2 value: { default_timeout_microseconds: 0 max_queue_size: 4 } } }",
            [:]
        ),
        (
            "tensorflow_savedmodel_platform_only", "platform: \"tensorflow_savedmodel\"\nmax_batch_size: 4\n\(io)",
            ["1/model.savedmodel/saved_model.pb": ""]
        ),
        ("tensorflow_graphdef_platform_only", "platform: \"tensorflow_graphdef\"\n\(io)", ["1/model.graphdef": ""]),
        ("runtime_missing", "backend: \"python\"\nruntime: \"libtriton_custom.so\"\n\(io)", [:]),
        ("runtime_model_py", "backend: \"python\"\nruntime: \"model.py\"\n\(io)", [:]),
        (
            "runtime_escape", "backend: \"identity\"\nruntime: \"../dummy_runtime/libtriton_identity.so\"\n\(io)",
            ["dummy_runtime/libtriton_identity.so": ""]
        ),
        ("valid_runtime_python_library", "backend: \"python\"\nruntime: \"libtriton_python.so\"\n\(io)", [:]),
        // Last: 2.51 refuses this one with a message in some runs and dies loading it in others
        // (rule catalog section 10 saw a crash; a fresh-clone run here too), taking the variants
        // after it down with it.
        (
            "warmup_batch_over_max",
            "backend: \"python\"\nmax_batch_size: 2\n\(io)model_warmup [ { name: \"w\" batch_size: 4 inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]",
            [:]
        ),
    ]

    static func batchOutput(target: String?) -> String {
        "batch_output [ { \(target.map { "target_name: \"\($0)\" " } ?? "")kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: \"INPUT0\" } ]\n"
    }

    static let decoupled = "model_transaction_policy { decoupled: true }\n"

    static func warmup(batch: Int) -> String {
        "model_warmup [ { name: \"w\" batch_size: \(batch) inputs { key: \"INPUT0\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]\n"
    }

    /// A decoupled Python model: execute returns None, after sending each request's final
    /// response through its response sender, or (sendsFinal false) sending nothing.
    static func decoupledModelPy(sendsFinal: Bool) -> String {
        """
        import triton_python_backend_utils as pb_utils


        class TritonPythonModel:
            def execute(self, requests):
                for request in requests:
                    \(sendsFinal ? "request.get_response_sender().send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)" : "pass")
                return None
        """
    }

    /// Rules whose error says the server crashes or hangs: no Triton wording to compare, and a
    /// load that is refused instead (2.51 races on a decoupled warmup whose execute returns
    /// responses: no answer then SIGSEGV in some runs, a refusal in others) still never serves.
    static let crashRules: Set<String> = [
        BatchOutputTargetRule.description.identifier, DecoupledWarmupRule.description.identifier,
    ]

    /// The project's tritonserver launcher; `make setup` (which `make test` runs) installs what it runs.
    static func launcher() throws -> URL {
        guard FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent(".venv/bin/python").path) else {
            throw TritonPackError.io(nil, "the project venv with tritonserver is missing: run `make setup` (make test does)")
        }
        return tritonServerLauncher
    }

    func testLintAgreesWithTheServer() throws {
        let launcher = try Self.launcher()
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        for (index, (label, config, extra)) in Self.variants.enumerated() {
            let name = "v\(index)_\(label)"
            let directory = repository.appendingPathComponent(name)
            var files = ["config.pbtxt": config, "1/model.py": Self.modelPy]
            files.merge(extra) { $1 }
            for (path, content) in files {
                let url = directory.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(content.utf8).write(to: url)
            }
        }
        let report = Linter(options: Self.lintOptions(autoComplete: false)).lint(path: repository)

        let server = try TritonProcess(launcher: launcher, repository: repository, log: root.appendingPathComponent("server.log"))
        defer { server.stop() }
        try server.waitUntilReady()

        let names = Self.variants.enumerated().map { index, variant in "v\(index)_\(variant.0)" }
        let (agreed, disagreements) = try judge(names, report: report, server: server)
        print("lint vs tritonserver: \(agreed)/\(Self.variants.count) variants agree")
        XCTAssertEqual(agreed, Self.variants.count, disagreements.joined(separator: "\n"))
    }
}

extension TritonOracleTests {
    static let autoCompleteModelPy = """
        import triton_python_backend_utils as pb_utils


        class TritonPythonModel:
            @staticmethod
            def auto_complete_config(config):
                config.add_input({"name": "INPUT0", "data_type": "TYPE_FP32", "dims": [4]})
                config.add_output({"name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [4]})
                return config

            def initialize(self, args):
                pass

            def execute(self, requests):
                return [pb_utils.InferenceResponse(output_tensors=[]) for _ in requests]
        """

    /// The Python model folder for a config (model.py unless the files say otherwise).
    static func python(_ config: String, _ files: [String: String] = [:]) -> [String: String] {
        var all = ["config.pbtxt": config, "1/model.py": modelPy]
        all.merge(files) { $1 }
        return all
    }

    static func ensemble(_ step: String, mbs: Int = 0, input: String = "dims: [ 4 ]", key: String = "INPUT0") -> [String: String]
    {
        [
            "config.pbtxt": """
            platform: "ensemble"
            max_batch_size: \(mbs)
            input [ { name: "x" data_type: TYPE_FP32 \(input) } ]
            output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]
            ensemble_scheduling { step [ { model_name: "\(step)" model_version: -1 input_map { key: "\(key)" value: "x" } output_map { key: "OUTPUT0" value: "y" } } ] }
            """,
            "1/.keep": "",
        ]
    }

    /// An ensemble whose one step is the ensemble `step` (shaped like `ensemble(_:)`: x -> y).
    static func nested(_ step: String) -> [String: String] {
        var files = ensemble(step, key: "x")
        files["config.pbtxt"] = files["config.pbtxt"]!.replacingOccurrences(
            of: "output_map { key: \"OUTPUT0\"", with: "output_map { key: \"y\"")
        return files
    }

    /// Issue #13's classes in the server's default mode (auto-complete on), as (label, models):
    /// the first model is judged, the others are what it needs (ensemble steps). The server has
    /// only the Python backend: TensorFlow and DALI models must be refused for their backend
    /// library (not for a platform or a model file), as lint says with the same backend directory.
    static let defaultModeCases: [(String, [(String, [String: String])])] = {
        let step =
            "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4 ] reshape { shape: [ 2, 2 ] } } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] reshape { shape: [ 2, 2 ] } } ]"
        let noDims = "backend: \"python\"\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 } ]\noutput [ { name: \"OUTPUT0\" } ]"
        return [
            ("ensemble_step_reshape", [("e", ensemble("s", mbs: 4)), ("s", python(step))]),
            (
                "ensemble_own_reshape",
                [("e", ensemble("s", mbs: 4, input: "dims: [ 4 ] reshape { shape: [ 2, 2 ] }")), ("s", python(step))]
            ),
            (
                "tensorflow_platform_only",
                [
                    (
                        "m",
                        [
                            "config.pbtxt": "platform: \"tensorflow_savedmodel\"\nmax_batch_size: 4\n\(io)",
                            "1/model.savedmodel/saved_model.pb": "",
                        ]
                    )
                ]
            ),
            (
                "tensorflow_graphdef_platform",
                [("m", ["config.pbtxt": "platform: \"tensorflow_graphdef\"\n\(io)", "1/model.graphdef": ""])]
            ),
            (
                "dali_fallback_dali_py",
                [("m", ["config.pbtxt": "backend: \"dali\"\nmax_batch_size: 4\n\(io)", "1/dali.py": "# pipeline\n"])]
            ),
            ("python_autocomplete_no_io", [("m", python("backend: \"python\"", ["1/model.py": autoCompleteModelPy]))]),
            ("python_autocomplete_fills_dims", [("m", python(noDims, ["1/model.py": autoCompleteModelPy]))]),
            ("python_no_autocomplete_no_dims", [("m", python(noDims))]),
            (
                "ensemble_step_autocompleted",
                [("e", ensemble("s")), ("s", python("backend: \"python\"", ["1/model.py": autoCompleteModelPy]))]
            ),
            (
                "ensemble_step_invalid_version",
                [
                    ("e", ensemble("s")),
                    (
                        "s",
                        python(
                            "backend: \"python\"\n\(io.replacingOccurrences(of: "dims: [ 4 ] } ]\n", with: "dims: [ 4 ] label_filename: \"labels.txt\" } ]\n"))"
                        )
                    ),
                ]
            ),
            ("ensemble_step_invalid_io", [("e", ensemble("s")), ("s", python(noDims))]),
            (
                "ensemble_step_invalid_poll",
                [("e", ensemble("s")), ("s", python("backend: \"python\"\nmax_batch_size: -1\n\(io)"))]
            ),
            (
                "warmup_missing_input",
                [
                    (
                        "m",
                        python(
                            "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4 ] }, { name: \"INPUT1\" data_type: TYPE_INT32 dims: [ 2 ] } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\nmodel_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"INPUT1\" value: { data_type: TYPE_INT32 dims: [ 2 ] zero_data: true } } } ]"
                        )
                    )
                ]
            ),
            (
                "repo_agent_missing",
                [("m", python("backend: \"python\"\n\(io)model_repository_agents { agents [ { name: \"checksum\" } ] }"))]
            ),
            // Issue #25: an ensemble step that is itself an ensemble is checked as Triton's
            // dependency graph does (CheckNode), at any depth.
            ("ensemble_nested_missing", [("e", nested("i")), ("i", ensemble("missing"))]),
            ("ensemble_nested_three_levels", [("e", nested("m")), ("m", nested("i")), ("i", ensemble("missing"))]),
            (
                "ensemble_nested_step_fails_poll",
                [("e", nested("i")), ("i", ensemble("s")), ("s", python("backend: \"python\"\nmax_batch_size: -1\n\(io)"))]
            ),
            (
                "ensemble_nested_step_fails_version",
                [
                    ("e", nested("i")), ("i", ensemble("s")),
                    (
                        "s",
                        python(
                            "backend: \"python\"\n\(io.replacingOccurrences(of: "dims: [ 4 ] } ]\n", with: "dims: [ 4 ] label_filename: \"labels.txt\" } ]\n"))"
                        )
                    ),
                ]
            ),
            (
                "ensemble_nested_inconsistent_type",
                [
                    ("e", nested("i")),
                    (
                        "i",
                        ensemble("s").mapValues {
                            $0.replacingOccurrences(
                                of: "name: \"x\" data_type: TYPE_FP32", with: "name: \"x\" data_type: TYPE_INT32")
                        }
                    ),
                    ("s", python("backend: \"python\"\n\(io)")),
                ]
            ),
            (
                "ensemble_nested_no_version",
                [
                    ("e", nested("i")), ("i", ensemble("s").filter { $0.key == "config.pbtxt" }),
                    ("s", python("backend: \"python\"\n\(io)")),
                ]
            ),
            ("ensemble_step_no_version", [("e", ensemble("s")), ("s", ["config.pbtxt": "backend: \"python\"\n\(io)"])]),
            ("valid_ensemble_nested", [("e", nested("i")), ("i", ensemble("s")), ("s", python("backend: \"python\"\n\(io)"))]),
            // The TensorFlow platform is the tensorflow backend, with no config or an empty one too,
            // and a model without config is refused for its backend library before Model::Init.
            ("tensorflow_no_config", [("m", ["1/model.savedmodel/saved_model.pb": ""])]),
            ("tensorflow_empty_config", [("m", ["config.pbtxt": "", "1/model.savedmodel/saved_model.pb": ""])]),
            (
                "tensorflow_platform_runtime",
                [
                    (
                        "m",
                        [
                            "config.pbtxt": "platform: \"tensorflow_savedmodel\"\nruntime: \"libtriton_tf.so\"\n\(io)",
                            "1/model.savedmodel/saved_model.pb": "",
                        ]
                    )
                ]
            ),
            // With auto-complete on, the backend's model setup crashes on a target-less batch output
            // before Model::Init would refuse its unknown source input.
            (
                "batch_output_no_target_unknown_source",
                [
                    (
                        "m",
                        python(
                            "backend: \"python\"\nmax_batch_size: 4\n\(io)\(batchOutput(target: nil).replacingOccurrences(of: "INPUT0", with: "NOPE"))"
                        )
                    )
                ]
            ),
        ]
    }()

    /// Lint's options for the server the tests start: its backends, no GPU, its agent directory.
    static func lintOptions(autoComplete: Bool) -> LintOptions {
        let lib = packageRoot.appendingPathComponent(".venv/lib")
        let python = (try? FileManager.default.contentsOfDirectory(atPath: lib.path))?.first { $0.hasPrefix("python") }
        let backends = python.map { lib.appendingPathComponent("\($0)/site-packages/pytriton/tritonserver/backends") }
        return LintOptions(
            gpus: 0, autoComplete: autoComplete, backendDirectory: backends,
            repoAgentDirectory: URL(fileURLWithPath: "/opt/tritonserver/repoagents"))
    }

    func testLintAgreesWithTheServerInDefaultMode() throws {
        let launcher = try Self.launcher()
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repo")
        var judged: [String] = []
        for (index, (label, models)) in Self.defaultModeCases.enumerated() {
            let prefix = "c\(index)_"
            for (position, (name, files)) in models.enumerated() {
                let directoryName = prefix + name
                if position == 0 { judged.append(directoryName + "|" + label) }
                for (path, content) in files {
                    // Step names inside ensembles get the same prefix.
                    let text =
                        path == "config.pbtxt"
                        ? content.replacingOccurrences(of: "model_name: \"", with: "model_name: \"\(prefix)") : content
                    let url = repository.appendingPathComponent("\(directoryName)/\(path)")
                    try FileManager.default.createDirectory(
                        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(text.utf8).write(to: url)
                }
            }
        }
        let report = Linter(options: Self.lintOptions(autoComplete: true)).lint(path: repository)
        let server = try TritonProcess(
            launcher: launcher, repository: repository, log: root.appendingPathComponent("server.log"), autoComplete: true)
        defer { server.stop() }
        try server.waitUntilReady()
        let outcome = try judge(judged.map { String($0.split(separator: "|")[0]) }, report: report, server: server)
        print("lint vs tritonserver (default mode): \(outcome.agreed)/\(judged.count) cases agree")
        XCTAssertEqual(outcome.agreed, judged.count, outcome.disagreements.joined(separator: "\n"))
    }

    /// A subset of the public-config corpus (Tests/Fixtures/lint-corpus) loaded into the real server
    /// again, in the default mode: the recorded verdicts (LintCorpusTests) stay honest.
    func testCorpusSubsetAgainstTheServer() throws {
        let launcher = try Self.launcher()
        let root = try temporaryDirectory(self)
        var total = 0
        var agreedAll = 0
        var all: [String] = []
        for folder in ["triton-inference-server__model_analyzer", "triton-inference-server__python_backend"] {
            let repository = root.appendingPathComponent(folder)
            try FileManager.default.copyItem(
                at: packageRoot.appendingPathComponent("Tests/Fixtures/lint-corpus/\(folder)"), to: repository)
            let names = try POSIXFiles.entries(of: repository.path).filter {
                POSIXFiles.isDirectory(repository.appendingPathComponent($0).path)
            }
            let report = Linter(options: Self.lintOptions(autoComplete: true)).lint(path: repository)
            let server = try TritonProcess(
                launcher: launcher, repository: repository, log: root.appendingPathComponent("\(folder).log"), autoComplete: true)
            defer { server.stop() }
            try server.waitUntilReady()
            let (agreed, disagreements) = try judge(names, report: report, server: server)
            total += names.count
            agreedAll += agreed
            all += disagreements
        }
        print("lint vs tritonserver (corpus subset): \(agreedAll)/\(total) models agree")
        XCTAssertEqual(agreedAll, total, all.joined(separator: "\n"))
    }

    /// Loads each model through the repository API and compares the server's verdict and words with
    /// lint's. The 2.51 server is not deterministic on every model (it sometimes dies on one it
    /// refuses in other runs), so a disagreement is asked again of a fresh server: lint agrees when
    /// it matches what the server did in one of the two runs, and the note says so.
    func judge(_ names: [String], report: LintReport, server: TritonProcess) throws -> (agreed: Int, disagreements: [String]) {
        var agreed = 0
        var disagreements: [String] = []
        for name in names {
            let lintError = report.diagnostics.first { $0.model == name && $0.severity == .error }
            var verdict = try self.verdict(name, lintError: lintError, server: server)
            if !verdict.agrees {
                try server.restart()
                let second = try self.verdict(name, lintError: lintError, server: server)
                if second.agrees {
                    print("  \(name): the server answered differently on a fresh start; lint matches its second answer")
                }
                verdict = second.agrees ? second : verdict
            }
            print("  \(name): server \(verdict.outcome), lint \(lintError == nil ? "no error" : "error [\(lintError!.rule)]")")
            if verdict.agrees {
                agreed += 1
            } else {
                disagreements.append(
                    "\(name): server \(verdict.outcome); lint: \(lintError?.message ?? "no error")\n    server: \(verdict.serverLines.joined(separator: "\n            "))"
                )
            }
        }
        return (agreed, disagreements)
    }

    /// One load of one model, and whether lint's verdict and words match the server's.
    private func verdict(_ name: String, lintError: Diagnostic?, server: TritonProcess) throws
        -> (agrees: Bool, outcome: String, serverLines: [String])
    {
        let logBefore = server.logText().count
        let (status, body) = try server.post("/v2/repository/models/\(name)/load")
        let loaded = status == 200
        if loaded { _ = try server.post("/v2/repository/models/\(name)/unload") }
        let serverText = body + "\n" + String(server.logText().dropFirst(logBefore))
        var agrees = loaded == (lintError == nil)
        // No HTTP answer at all: the server died (its log has the signal handler's "Signal (N)
        // received.") or hung (still running when the request timed out); it serves nothing either
        // way, and the models after it get a fresh server.
        let crashed = status == 0
        var outcome = loaded ? "loaded it" : "refused it"
        if crashed {
            let signal = serverText.split(separator: "\n").first { $0.contains("Signal (") }
            outcome =
                signal.map { "crashed (\($0.trimmingCharacters(in: .whitespaces)))" }
                ?? (server.server.isRunning ? "hung (no answer to the load request)" : "crashed (exited)")
            try server.restart()
        }
        if agrees, let lintError, !crashed, !Self.crashRules.contains(lintError.rule) {
            // The server's words contain lint's (lint adds the parser's detail to syntax errors).
            let core =
                lintError.rule == "config-syntax"
                ? String(lintError.message.split(separator: ":", maxSplits: 3).last ?? "").components(separatedBy: " (Triton:")[0]
                    .trimmingCharacters(in: .whitespaces)
                : lintError.message
            agrees = serverText.contains(core)
        }
        let lines = serverText.split(separator: "\n").filter { $0.contains(name) || $0.contains("rror") }.prefix(4).map(
            String.init)
        return (agrees, outcome, lines)
    }
}
