import ArgumentParser
import Foundation
import TritonPackKit

/// How smoke and tune serve a model and check its answers.
struct ServingOptions: ParsableArguments {
    @Option(help: "The model version to send requests to (default: the server's choice).", transform: parseModelVersion)
    var modelVersion: Int64?

    @Option(
        help: "The tritonserver executable (default: $TRITONSERVER, then PATH, then ~/.cache/tritonpack/bin/tritonserver).",
        completion: .file(),
        transform: nonEmptyPath)
    var server: String?

    @Option(
        help: "A folder of <name>.npy or INPUT_<k>.npy inputs (default: seeded synthetic data).", completion: .directory,
        transform: nonEmptyPath)
    var inputs: String?

    @Option(
        help: ArgumentHelp(
            "A folder of <name>.npy or OUTPUT_<k>.npy expected outputs.",
            discussion:
                "For a decoupled model, a folder of one folder per response, named 0, 1, 2, ... in the order the responses arrive, each holding that response's expected outputs; the model must send as many responses as there are folders."
        ), completion: .directory, transform: nonEmptyPath)
    var expected: String?

    @Option(
        help: ArgumentHelp(
            "http or grpc: how the checked and timed requests reach the server.",
            discussion:
                "grpc speaks KServe v2 gRPC (GRPCInferenceService, raw tensor contents) to a gRPC endpoint the server binds on a loopback port of its own; a decoupled model's responses are streamed (ModelStreamInfer) up to the final one. A decoupled model needs grpc. Loading the model and reading its statistics go over HTTP either way."
        ))
    var `protocol`: ServingProtocol = .http

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-3

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-3

    @Option(help: "Seconds to wait for the server and for each request.")
    var timeout: Double = 120

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp("NAME=D,D,... dims for an input's -1 dimensions (synthetic inputs).", valueName: "name=dims"),
        transform: InputShape.init(parsing:))
    var shape: [InputShape] = []

    @Flag(help: "Accept NaN and Inf in float outputs.")
    var allowNonFinite = false

    @Option(
        help: ArgumentHelp(
            "How to execute a OneFlow model: auto, oneflow-backend or oneflow-python.",
            discussion:
                "auto uses the server's oneflow backend when it has one, else OneFlow's own runtime (a Python 3.7-3.10 with oneflow==0.9.0) through a Python-backend model."
        ))
    var runtime: SmokeRuntime = .auto

    @Option(help: "Keep the server's log in this file.", completion: .file(), transform: nonEmptyPath)
    var serverLog: String?

    @Option(
        help:
            "The Python that has OneFlow, for the oneflow-python runtime (default: $TRITONPACK_ONEFLOW_PYTHON, then the one `make setup` installs)."
    )
    var oneflowPython: String?

    func validate() throws {
        if rtol < 0 || atol < 0 { throw ValidationError("tolerances must be >= 0") }
        if timeout <= 0 { throw ValidationError("--timeout must be > 0") }
    }

    /// The options for `model` of a local `repository` (set later for an s3:// one).
    func smokeOptions(model: String, repository: String = ".") throws -> SmokeOptions {
        if model.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("the model name is empty") }
        var options = SmokeOptions(repository: URL(fileURLWithPath: repository), model: model)
        options.version = modelVersion
        options.server = server
        options.inputs = inputs.map { URL(fileURLWithPath: $0) }
        options.expected = expected.map { URL(fileURLWithPath: $0) }
        options.rtol = rtol
        options.atol = atol
        options.timeout = timeout
        options.allowNonFinite = allowNonFinite
        options.runtime = runtime
        options.oneflowPython = oneflowPython
        options.serverLog = serverLog.map { URL(fileURLWithPath: $0) }
        options.protocol = `protocol`
        for item in shape { options.shapes[item.name] = item.dims }
        return options
    }
}

extension SmokeRuntime: ExpressibleByArgument {}
extension ServingProtocol: ExpressibleByArgument {}
extension TuneObjective: ExpressibleByArgument {}
extension TuneSearch: ExpressibleByArgument {}
