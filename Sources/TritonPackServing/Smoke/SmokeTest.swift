import Foundation
import Glibc
import NIOCore
import NIOFoundationCompat
import TritonPackModels
import TritonPackRepository

public struct SmokeOptions: Sendable {
    public var repository: URL
    public var model: String
    public var version: Int64?
    public var server: String?
    public var inputs: URL?
    public var expected: URL?
    public var rtol: Double = 1e-3
    public var atol: Double = 1e-3
    public var requests: Int = 100
    public var concurrency: Int = 1
    public var cpu = false
    public var timeout: Double = 120
    public var shapes: [String: [Int64]] = [:]
    public var allowNonFinite = false
    public var seed: UInt64 = 0
    /// How a OneFlow model is executed.
    public var runtime: SmokeRuntime = .auto
    /// The Python with OneFlow for the `oneflow-python` runtime (default: $TRITONPACK_ONEFLOW_PYTHON, the project's).
    public var oneflowPython: String?
    /// Where to keep the server's log (it is otherwise removed with the temporary folder).
    public var serverLog: URL?
    /// The protocol of the checked and timed requests (the server serves both; loading and
    /// statistics go over HTTP). A decoupled model needs gRPC.
    public var `protocol`: ServingProtocol = .http
    /// For a decoupled model: how many responses each request must get (with `expected`, its
    /// response folders say it).
    public var responses: Int?

    public init(repository: URL, model: String) {
        self.repository = repository
        self.model = model
    }
}

/// How smoke executes a OneFlow model.
public enum SmokeRuntime: String, Sendable, CaseIterable {
    /// The server's `oneflow` backend when it has one, else OneFlow's Python runtime.
    case auto
    /// The server's `oneflow` backend (libtriton_oneflow.so), as in the OneFlow Serving image.
    case oneflowBackend = "oneflow-backend"
    /// OneFlow's own runtime through a Python-backend model (`OneFlowPythonServing`).
    case oneflowPython = "oneflow-python"
}

/// Which runtime executed the model, and why.
public struct RuntimeChoice: Codable, Equatable, Sendable {
    public var name: String
    public var reason: String
}

public struct OutputCheck: Codable, Equatable, Sendable {
    public var name: String
    /// For a decoupled model: which response (0, 1, ...) this output came in.
    public var response: Int?
    /// The expected file this output matches when the outputs come back under each other's names.
    public var carries: String?
    public var dataType: String?
    public var shape: [Int64]?
    public var maxAbsoluteError: Double?
    public var maxRelativeError: Double?
    public var mismatches: Int?
    public var nonFinite: Int?
    public var problems: [String]

    /// The output's name, with its response for a decoupled model ("OUTPUT0 (response 1)").
    public var label: String { name + (response.map { " (response \($0))" } ?? "") }
}

public struct LatencyReport: Codable, Equatable, Sendable {
    public var requests: Int
    public var concurrency: Int
    public var p50Milliseconds: Double
    public var p90Milliseconds: Double
    public var p99Milliseconds: Double
    public var throughput: Double
    public var serverInferenceCount: Int?
    public var serverExecutionCount: Int?
    public var serverAverageComputeMicroseconds: Double?
}

public struct SmokeReport: Encodable, Sendable {
    public var model: String
    public var device: String
    public var runtime: RuntimeChoice?
    /// The protocol of the checked and timed requests.
    public var `protocol`: ServingProtocol = .http
    public var notes: [String] = []
    public var loaded = false
    /// For a decoupled model: how many responses the checked request got.
    public var responses: Int?
    public var outputs: [OutputCheck] = []
    public var latency: LatencyReport?
    public var failures: [String] = []
    /// Seconds spent starting the server and loading the model (`load`), checking the answers
    /// (`outputs`) and sending the timed requests (`requests`); for JUnit's times.
    public var seconds: [String: Double] = [:]
    public var passed: Bool { loaded && failures.isEmpty }

    package enum CodingKeys: String, CodingKey {
        case model, device, runtime, `protocol`, notes, loaded, responses, outputs, latency, failures, passed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(device, forKey: .device)
        try container.encodeIfPresent(runtime, forKey: .runtime)
        try container.encode(`protocol`, forKey: .protocol)
        try container.encode(notes, forKey: .notes)
        try container.encode(loaded, forKey: .loaded)
        try container.encodeIfPresent(responses, forKey: .responses)
        try container.encode(outputs, forKey: .outputs)
        try container.encodeIfPresent(latency, forKey: .latency)
        try container.encode(failures, forKey: .failures)
        try container.encode(passed, forKey: .passed)
    }
}

/// Serves one model in a real Triton, sends requests, checks the answers and times them.
public struct SmokeTest: Sendable {
    public var options: SmokeOptions

    public init(options: SmokeOptions) { self.options = options }

    /// GPUs of this machine, by name (`nvidia-smi -L`), empty without one.
    public static func gpus() -> [String] {
        guard FileManager.default.fileExists(atPath: "/dev/nvidia0") || FileManager.default.fileExists(atPath: "/dev/nvidiactl")
        else {
            return []
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["nvidia-smi", "-L"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return [] }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("GPU ") }
    }

    public func run(onServerStarted: @Sendable (TritonServer) -> Void = { _ in }) async throws -> SmokeReport {
        let versions = try ModelDirectory.local(options.model, in: options.repository)
        try versions.requireModel()
        let modelConfig = try versions.config()
        if modelConfig.modelTransactionPolicy.decoupled && options.protocol == .http {
            throw InferenceRequest.decoupledOverHTTP(options.model, config: versions.configPath)
        }
        if options.responses != nil && !modelConfig.modelTransactionPolicy.decoupled {
            throw TritonPackError.usage(
                "--responses is for decoupled models; '\(options.model)' answers each request once (\(versions.configPath))")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-smoke-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let plan = try await plan(work: work)
        let config = plan.config
        var report = SmokeReport(model: options.model, device: plan.device)
        report.runtime = plan.runtime
        report.notes = plan.notes
        report.protocol = options.protocol

        try Task.checkCancellation()
        let server = try TritonServer(
            executable: plan.executable, repository: plan.repository, log: work.appendingPathComponent("server.log"),
            arguments: ["--model-control-mode=explicit", "--log-verbose=0", "--exit-timeout-secs=5"] + plan.serverArguments,
            grpc: options.protocol == .grpc)
        onServerStarted(server)
        let outcome: Result<SmokeReport, any Error>
        do {
            outcome = .success(try await serve(server, config: config, report: report))
        } catch {
            outcome = .failure(error)
        }
        await server.stop()
        if let keep = options.serverLog {
            try? FileManager.default.removeItem(at: keep)
            try? FileManager.default.copyItem(at: server.logURL, to: keep)
        }
        return try outcome.get()
    }

    /// Loads the model into the running server, checks one answer, then times the requests.
    package func serve(_ server: TritonServer, config: Inference_ModelConfig, report: SmokeReport) async throws -> SmokeReport {
        var report = report
        var clock = ContinuousClock.now
        func lap() -> Double {
            defer { clock = .now }
            let elapsed = clock.duration(to: .now)
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        let (endpoint, httpPort) = try await server.waitForEndpoint(options.protocol, timeout: options.timeout)
        return try await InferenceClient.withClient(port: httpPort, connections: 1, timeout: options.timeout) { client in
            try await server.waitUntilLive(client: client, timeout: options.timeout)
            let load: InferenceClient.Response
            do {
                load = try await client.load(options.model)
                report.seconds["load"] = lap()
            } catch {
                report.seconds["load"] = lap()
                if Task.isCancelled { throw CancellationError() }
                report.failures.append("tritonserver did not load '\(options.model)': \(error)")
                report.failures.append(contentsOf: server.errorLines(mentioning: options.model))
                return report
            }
            guard load.status == 200 else {
                report.failures.append(
                    "tritonserver could not load '\(options.model)': \(BinaryTensorCodec.errorMessage(load.body))")
                report.failures.append(contentsOf: server.errorLines(mentioning: options.model))
                return report
            }
            report.loaded = true
            let inputs = try buildInputs(config)
            let request = InferenceRequest(
                model: options.model, version: options.version, inputs: inputs, outputs: config.output.map(\.name),
                decoupled: config.modelTransactionPolicy.decoupled)
            let answers: [[String: TensorData]]
            do {
                answers = try await Self.whileServing(server) {
                    try await Self.checkedAnswers(request, endpoint: endpoint, client: client, timeout: options.timeout)
                }
            } catch {
                return try await Self.requestFailed(error, server: server, report: report)
            }
            let batch = inputs.first?.1.shape.first
            if request.decoupled {
                report.responses = answers.count
                let (checks, problems) = try checkResponses(answers, config: config, batch: batch)
                report.outputs = checks
                report.failures += problems
            } else {
                let answer = answers.first ?? [:]
                report.outputs = try check(answer, config: config, batch: batch)
                if let permutation = try permutation(answer, config: config) {
                    for (index, carried) in permutation.enumerated() where carried != index {
                        report.outputs[index].carries =
                            expectedFile(for: config.output[carried], index: carried)?.lastPathComponent
                    }
                    let pairs = permutation.enumerated().filter { $0.offset != $0.element }.map { served, carried in
                        "\(config.output[served].name) carries the expected \(config.output[carried].name)"
                    }
                    report.failures.append(
                        "the outputs match the expected ones under other names: \(pairs.joined(separator: ", ")). The oneflow backend numbers outputs in hash-map order (lint rule oneflow-output-numbering); rename the outputs in config.pbtxt to match this server"
                    )
                }
            }
            report.failures += report.outputs.flatMap { output in output.problems.map { "\(output.label): \($0)" } }
            report.seconds["outputs"] = lap()
            do {
                report.latency = try await Self.whileServing(server) {
                    try await time(client: client, endpoint: endpoint, request: request)
                }
                report.seconds["requests"] = lap()
            } catch {
                return try await Self.requestFailed(error, server: server, report: report)
            }
            return report
        }
    }

    /// The answers to the checked request: one, or for a decoupled model every response of it.
    package static func checkedAnswers(
        _ request: InferenceRequest, endpoint: InferenceEndpoint, client: InferenceClient, timeout: TimeInterval
    ) async throws -> [[String: TensorData]] {
        switch endpoint.protocol {
        case .http:
            return [
                try await client.infer(
                    model: request.model, version: request.version, inputs: request.inputs, outputs: request.outputs)
            ]
        case .grpc:
            return try await GRPCInferenceClient.withClient(host: endpoint.host, port: endpoint.port, timeout: timeout) {
                grpc in
                if request.decoupled {
                    return try await grpc.streamInfer(
                        model: request.model, version: request.version, inputs: request.inputs, outputs: request.outputs)
                }
                return [
                    try await grpc.infer(
                        model: request.model, version: request.version, inputs: request.inputs, outputs: request.outputs)
                ]
            }
        }
    }

    /// A decoupled model's responses: each checked as one answer (against `expected/<i>/` when
    /// `expected` is given), and their number against the response folders or `responses`.
    package func checkResponses(_ answers: [[String: TensorData]], config: Inference_ModelConfig, batch: Int64?) throws
        -> ([OutputCheck], [String])
    {
        var problems: [String] = []
        let folders = try responseFolders()
        if let folders, folders.count != answers.count {
            problems.append(
                "\(answers.count) response(s), but \(options.expected!.path) has \(folders.count) response folder(s) (0 to \(folders.count - 1))"
            )
        }
        if let wanted = options.responses, wanted != answers.count {
            problems.append("\(answers.count) response(s), but --responses \(wanted)")
        }
        var checks: [OutputCheck] = []
        for (index, answer) in answers.enumerated() {
            let folder = folders.map { index < $0.count ? $0[index] : nil }
            if folders != nil && folder == nil { continue }
            for var output in try check(answer, config: config, batch: batch, expected: folder ?? nil) {
                output.response = index
                checks.append(output)
            }
        }
        return (checks, problems)
    }

    /// The response folders of a decoupled model's expected folder (0/, 1/, ...), in order; nil
    /// without `expected`.
    package func responseFolders() throws -> [URL]? {
        guard let directory = options.expected else { return nil }
        let names = try POSIXFiles.entries(of: directory.path).compactMap { Int($0) }.sorted()
        guard !names.isEmpty else {
            throw TritonPackError.refused(
                directory.path,
                "'\(options.model)' is decoupled: the expected folder holds one folder per response (0, 1, 2, ... each with <name>.npy or OUTPUT_<k>.npy), and this one has none"
            )
        }
        guard names == Array(0..<names.count) else {
            throw TritonPackError.refused(
                directory.path, "the response folders must be numbered 0 to \(names.count - 1) without gaps (found \(names))")
        }
        return names.map { directory.appendingPathComponent(String($0)) }
    }

    package struct ServerExited: Error {}

    /// The report of a request that failed: the server exited, or it answered with an error.
    /// A cancelled run is not reported: the cancellation is thrown on.
    package static func requestFailed(_ error: any Error, server: TritonServer, report: SmokeReport) async throws -> SmokeReport {
        if Task.isCancelled || error is CancellationError { throw CancellationError() }
        var report = report
        // A dropped connection is often the first sign of a server going down: give it a moment.
        for _ in 0..<20 where server.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        if !server.isRunning {
            report.failures.append("tritonserver exited during the run")
            report.failures.append(contentsOf: server.errorLines().suffix(5))
        } else {
            report.failures.append("request failed: \(error)")
        }
        return report
    }

    /// Which runtime executes a OneFlow model, and why; for OneFlow's Python runtime, the serving
    /// copy written into `copy` (returned), else nil (the repository is served as it is).
    package func oneflowRuntime(versions: ModelDirectory, servingConfig: Inference_ModelConfig, executable: URL, into copy: URL)
        throws -> (RuntimeChoice, URL?)
    {
        let installation = TritonInstallation(executable: executable)
        let choice: RuntimeChoice
        switch options.runtime {
        case .auto:
            choice =
                installation.backendLibrary(OneFlowBackend.backendName).map {
                    RuntimeChoice(
                        name: SmokeRuntime.oneflowBackend.rawValue, reason: "the server has the oneflow backend (\($0.path))")
                }
                ?? RuntimeChoice(
                    name: OneFlowPythonServing.runtimeName,
                    reason:
                        "this tritonserver has no oneflow backend (no libtriton_oneflow.so in its backends), so OneFlow's own runtime ran the packed graph through a Python-backend model"
                )
        case .oneflowBackend:
            choice = RuntimeChoice(name: SmokeRuntime.oneflowBackend.rawValue, reason: "--runtime oneflow-backend")
        case .oneflowPython:
            choice = RuntimeChoice(name: OneFlowPythonServing.runtimeName, reason: "--runtime oneflow-python")
        }
        guard choice.name == OneFlowPythonServing.runtimeName else { return (choice, nil) }
        let python = try OneFlowPython.locate(explicit: options.oneflowPython)
        guard let stub = installation.pythonStub(version: python.version) else {
            throw TritonPackError.io(
                executable.path,
                "this tritonserver has no Python-backend stub for Python \(python.version) (OneFlow's Python): set TRITONPACK_PYTHON_STUB to one built for this server"
            )
        }
        try OneFlowPythonServing.writeModel(
            from: versions.directory, versions: try versions.served(), config: servingConfig, python: python, stub: stub,
            into: copy)
        return (choice, copy)
    }

    /// Runs `body`, failing as soon as the server process is gone (its Python stubs can keep
    /// the connections open, so requests would otherwise wait for their timeout).
    package static func whileServing<T: Sendable>(_ server: TritonServer, _ body: @escaping @Sendable () async throws -> T)
        async throws
        -> T
    {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while server.isRunning {
                    try await Task.sleep(for: .milliseconds(100))
                }
                throw ServerExited()
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw ServerExited()
        }
    }

    package func buildInputs(_ config: Inference_ModelConfig) throws -> [(String, TensorData)] {
        try config.input.enumerated().map { index, input in
            if let directory = options.inputs {
                for file in ["\(input.name).npy", "INPUT_\(index).npy"] {
                    let url = directory.appendingPathComponent(file)
                    guard FileManager.default.fileExists(atPath: url.path) else { continue }
                    let tensor = try NPY.read(url)
                    guard tensor.dataType == input.dataType else {
                        throw TritonPackError.refused(
                            url.path,
                            "holds \(tensor.dataType.configName) but input '\(input.name)' is \(input.dataType.configName)")
                    }
                    return (input.name, tensor)
                }
                throw TritonPackError.refused(
                    directory.path, "no \(input.name).npy or INPUT_\(index).npy for input '\(input.name)'")
            }
            let dims = options.shapes[input.name] ?? input.dims.map { $0 == -1 ? 1 : $0 }
            let shape = (config.maxBatchSize > 0 ? [1] : []) + dims
            return (input.name, TensorData.synthetic(input.dataType, shape: shape, seed: options.seed &+ UInt64(index)))
        }
    }

    package func check(_ answer: [String: TensorData], config: Inference_ModelConfig, batch: Int64?) throws -> [OutputCheck] {
        try check(answer, config: config, batch: batch, expected: options.expected)
    }

    /// The checks of one answer; `expected`: the folder of its expected outputs, if any.
    package func check(_ answer: [String: TensorData], config: Inference_ModelConfig, batch: Int64?, expected: URL?) throws
        -> [OutputCheck]
    {
        try config.output.enumerated().map { index, output in
            var check = OutputCheck(name: output.name, problems: [])
            guard let tensor = answer[output.name] else {
                check.problems.append("missing from the response")
                return check
            }
            check.dataType = tensor.dataType.configName
            check.shape = tensor.shape
            if tensor.dataType != output.dataType {
                check.problems.append("type \(tensor.dataType.configName), but the config says \(output.dataType.configName)")
            }
            let dims = output.hasReshape ? output.reshape.shape : output.dims
            let expectedShape = (config.maxBatchSize > 0 ? [batch ?? -1] : []) + dims
            let shapeMatches =
                tensor.shape.count == expectedShape.count
                && zip(tensor.shape, expectedShape).allSatisfy { $1 == -1 || $0 == $1 }
            if !shapeMatches {
                check.problems.append("shape \(tensor.shape), but the config says \(expectedShape)")
            }
            let values = tensor.doubles()
            if let values, [.typeFp16, .typeFp32, .typeFp64, .typeBf16].contains(tensor.dataType) {
                let nonFinite = values.filter { !$0.isFinite }.count
                check.nonFinite = nonFinite
                if nonFinite > 0 && !options.allowNonFinite {
                    check.problems.append("\(nonFinite) NaN or Inf value(s)")
                }
            }
            if let directory = expected {
                guard let file = expectedFile(for: output, index: index, in: directory) else {
                    check.problems.append("no expected file (\(output.name).npy or OUTPUT_\(index).npy) in \(directory.path)")
                    return check
                }
                let expected = try NPY.read(file)
                if expected.shape != tensor.shape {
                    check.problems.append("shape \(tensor.shape) differs from the expected \(expected.shape)")
                } else if let got = values, let want = expected.doubles() {
                    var maxAbsolute = 0.0
                    var maxRelative = 0.0
                    var mismatches = 0
                    for (a, e) in zip(got, want) {
                        let difference = abs(a - e)
                        maxAbsolute = max(maxAbsolute, difference.isNaN ? .infinity : difference)
                        if e != 0 { maxRelative = max(maxRelative, difference / abs(e)) }
                        if !(difference <= options.atol + options.rtol * abs(e)) { mismatches += 1 }
                    }
                    check.maxAbsoluteError = maxAbsolute
                    check.maxRelativeError = maxRelative
                    check.mismatches = mismatches
                    if mismatches > 0 {
                        check.problems.append(
                            "\(mismatches) of \(got.count) values differ from \(file.lastPathComponent) beyond rtol \(options.rtol), atol \(options.atol) (max abs error \(maxAbsolute), max rel error \(maxRelative))"
                        )
                    }
                } else if expected.bytes != tensor.bytes {
                    check.problems.append("differs from \(file.lastPathComponent)")
                }
            }
            return check
        }
    }

    /// `<name>.npy` or `OUTPUT_<index>.npy` in the expected folder (or in `directory`).
    package func expectedFile(for output: Inference_ModelOutput, index: Int, in directory: URL? = nil) -> URL? {
        guard let directory = directory ?? options.expected else { return nil }
        return ["\(output.name).npy", "OUTPUT_\(index).npy"].map { directory.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Whether `tensor` equals `expected` in shape and, within the tolerances, in value.
    package func matches(_ tensor: TensorData, _ expected: TensorData) -> Bool {
        guard tensor.shape == expected.shape else { return false }
        guard let got = tensor.doubles(), let want = expected.doubles() else { return tensor.bytes == expected.bytes }
        return zip(got, want).allSatisfy { abs($0 - $1) <= options.atol + options.rtol * abs($1) }
    }

    /// When the outputs do not match their expected files but a reordering of them does, the
    /// reordering: element `i` is the index of the expected output that served output `i` carries.
    package func permutation(_ answer: [String: TensorData], config: Inference_ModelConfig) throws -> [Int]? {
        let outputs = config.output
        guard outputs.count > 1, options.expected != nil else { return nil }
        var expected: [TensorData] = []
        var served: [TensorData] = []
        for (index, output) in outputs.enumerated() {
            guard let file = expectedFile(for: output, index: index), let tensor = answer[output.name] else { return nil }
            expected.append(try NPY.read(file))
            served.append(tensor)
        }
        let candidates = served.map { tensor in expected.indices.filter { matches(tensor, expected[$0]) } }
        if candidates.enumerated().allSatisfy({ $0.element.contains($0.offset) }) { return nil }
        func assign(_ index: Int, _ used: Set<Int>) -> [Int]? {
            if index == candidates.count { return [] }
            for choice in candidates[index] where !used.contains(choice) {
                if let rest = assign(index + 1, used.union([choice])) { return [choice] + rest }
            }
            return nil
        }
        return assign(0, [])
    }

    /// The timed requests: `--concurrency` tasks, each with a keep-alive connection of its own
    /// (opened before the clock starts; one warm-up request), spread over the event loops, over
    /// `endpoint`'s protocol. The checked requests have already compared the answers; here each must
    /// succeed (HTTP 200, gRPC OK; a decoupled model's stream up to its final response).
    package func time(client: InferenceClient, endpoint: InferenceEndpoint, request: InferenceRequest) async throws
        -> LatencyReport
    {
        let requests = max(options.requests, 1)
        let session = try await LoadSession.open(
            endpoint, request: request, concurrency: min(options.concurrency, requests), timeout: options.timeout)
        var report = try await LoadSession.with(session) { session in
            LatencyReport(try await session.window(requests: requests), concurrency: session.concurrency)
        }
        if let response = try? await client.get("v2/models/\(options.model)/stats"), response.status == 200,
            let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let stats = (object["model_stats"] as? [[String: Any]])?.first
        {
            report.serverInferenceCount = (stats["inference_count"] as? NSNumber)?.intValue
            report.serverExecutionCount = (stats["execution_count"] as? NSNumber)?.intValue
            if let inference = stats["inference_stats"] as? [String: Any],
                let compute = inference["compute_infer"] as? [String: Any],
                let count = (compute["count"] as? NSNumber)?.doubleValue, count > 0,
                let ns = (compute["ns"] as? NSNumber)?.doubleValue
            {
                report.serverAverageComputeMicroseconds = ns / count / 1000
            }
        }
        return report
    }
}

extension SmokeReport {
    /// JUnit XML for CI test views.
    public var junit: String {
        func time(_ value: Double?) -> String { String(format: "%.3f", value ?? 0) }
        // The answers of all outputs are checked together: each output's case gets an equal share.
        let perOutput = outputs.isEmpty ? 0 : (seconds["outputs"] ?? 0) / Double(outputs.count)
        var cases: [(String, [String], Double?)] = [("load", loaded ? [] : failures, seconds["load"])]
        for output in outputs { cases.append(("output \(output.label)", output.problems, perOutput)) }
        let other = failures.filter { failure in !outputs.contains { failure.hasPrefix("\($0.label): ") } }
        if loaded { cases.append(("requests", other, seconds["requests"])) }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuite name=\"tritonpack smoke \(XMLText.escaped(model))\" tests=\"\(cases.count)\" failures=\"\(cases.filter { !$0.1.isEmpty }.count)\" time=\"\(time(seconds.values.reduce(0, +)))\">\n"
        if let runtime {
            xml += "  <properties>\n"
            xml += "    <property name=\"runtime\" value=\"\(XMLText.escaped(runtime.name))\"/>\n"
            xml += "    <property name=\"runtime_reason\" value=\"\(XMLText.escaped(runtime.reason))\"/>\n"
            xml += "  </properties>\n"
        }
        for (name, problems, seconds) in cases {
            xml +=
                "  <testcase classname=\"\(XMLText.escaped(model))\" name=\"\(XMLText.escaped(name))\" time=\"\(time(seconds))\""
            if problems.isEmpty {
                xml += "/>\n"
            } else {
                xml +=
                    ">\n    <failure message=\"\(XMLText.escaped(problems[0]))\">\(XMLText.escaped(problems.joined(separator: "\n")))</failure>\n  </testcase>\n"
            }
        }
        return xml + "</testsuite>\n"
    }
}
