import Foundation
import Glibc
import NIOCore
import NIOFoundationCompat
import TritonPackModels
import TritonPackRepository

/// Serves one model in a real Triton, sends requests, checks the answers and times them.
public struct SmokeTest: Sendable {
    public var options: SmokeOptions

    public init(options: SmokeOptions) { self.options = options }

    /// The comparison of the answers with the config and the expected outputs.
    package var comparison: OutputComparison { OutputComparison(options: options) }

    package func buildInputs(_ config: Inference_ModelConfig) throws -> [(String, TensorData)] {
        try SmokeInputs(options: options).build(config)
    }

    package func check(_ answer: [String: TensorData], config: Inference_ModelConfig, batch: Int64?) throws -> [OutputCheck] {
        try comparison.check(answer, config: config, batch: batch)
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
                let (checks, problems) = try comparison.checkResponses(answers, config: config, batch: batch)
                report.outputs = checks
                report.failures += problems
            } else {
                let answer = answers.first ?? [:]
                report.outputs = try check(answer, config: config, batch: batch)
                if let permutation = try OutputPermutation.find(answer, config: config, comparison: comparison) {
                    for (index, carried) in permutation.enumerated() where carried != index {
                        report.outputs[index].carries =
                            comparison.expectedFile(for: config.output[carried], index: carried)?.lastPathComponent
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
                    try await LatencyMeasurement(options: options).measure(
                        client: client, endpoint: endpoint, request: request)
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
}
