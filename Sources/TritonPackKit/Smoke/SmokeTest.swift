import Dispatch
import Foundation
import Glibc

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

    public init(repository: URL, model: String) {
        self.repository = repository
        self.model = model
    }
}

public struct OutputCheck: Codable, Equatable, Sendable {
    public var name: String
    public var dataType: String?
    public var shape: [Int64]?
    public var maxAbsoluteError: Double?
    public var maxRelativeError: Double?
    public var mismatches: Int?
    public var nonFinite: Int?
    public var problems: [String]
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
    public var notes: [String] = []
    public var loaded = false
    public var outputs: [OutputCheck] = []
    public var latency: LatencyReport?
    public var failures: [String] = []
    public var passed: Bool { loaded && failures.isEmpty }

    enum CodingKeys: String, CodingKey { case model, device, notes, loaded, outputs, latency, failures, passed }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(device, forKey: .device)
        try container.encode(notes, forKey: .notes)
        try container.encode(loaded, forKey: .loaded)
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
        guard FileManager.default.fileExists(atPath: "/dev/nvidia0") || FileManager.default.fileExists(atPath: "/dev/nvidiactl") else {
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
        let versions = ModelVersions(repository: ModelRepository(root: options.repository), name: options.model)
        try versions.requireModel()
        var config = try versions.config()
        let gpus = Self.gpus()
        var report = SmokeReport(model: options.model, device: gpus.isEmpty ? "CPU (no GPU on this machine)" : gpus.joined(separator: "; "))
        var repository = options.repository
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-smoke-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        let wantsGPU = config.instanceGroup.contains { $0.kind == .gpu }
        if wantsGPU && gpus.isEmpty {
            guard options.cpu else {
                throw TritonPackError.refused(
                    versions.configPath.path,
                    "the config asks for KIND_GPU but this machine has no GPU; pass --cpu to smoke-test a KIND_CPU copy (your repository is not changed)")
            }
            repository = work.appendingPathComponent("repository")
            try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: versions.directory, to: repository.appendingPathComponent(options.model))
            for index in config.instanceGroup.indices where config.instanceGroup[index].kind == .gpu {
                config.instanceGroup[index].kind = .cpu
                config.instanceGroup[index].gpus = []
            }
            let copyConfig = repository.appendingPathComponent("\(options.model)/\(ModelRepository.configFileName)")
            try? FileManager.default.removeItem(at: copyConfig)
            try Data(config.pbtxt.utf8).write(to: copyConfig)
            report.notes.append("no GPU here: ran a temporary copy with KIND_GPU instance groups turned into KIND_CPU (--cpu)")
        }

        let server = try TritonServer(
            executable: try TritonServer.locate(explicit: options.server), repository: repository,
            log: work.appendingPathComponent("server.log"),
            arguments: ["--model-control-mode=explicit", "--log-verbose=0", "--exit-timeout-secs=5"])
        defer { server.stop() }
        onServerStarted(server)
        let client = InferenceClient(baseURL: server.baseURL, timeout: options.timeout)
        try await server.waitUntilLive(client: client, timeout: options.timeout)

        let (status, body, _) = try await client.post("v2/repository/models/\(options.model)/load")
        guard status == 200 else {
            report.failures.append("tritonserver could not load '\(options.model)': \(InferenceClient.errorMessage(body))")
            report.failures.append(contentsOf: server.errorLines(mentioning: options.model))
            return report
        }
        report.loaded = true
        do {
            let inputs = try buildInputs(config)
            let outputNames = config.output.map(\.name)
            let model = options.model
            let version = options.version
            let answer = try await Self.whileServing(server) {
                try await client.infer(model: model, version: version, inputs: inputs, outputs: outputNames)
            }
            report.outputs = try check(answer, config: config, batch: inputs.first?.1.shape.first)
            report.failures += report.outputs.flatMap { output in output.problems.map { "\(output.name): \($0)" } }
            let port = server.httpPort
            report.latency = try await Self.whileServing(server) {
                try await time(client: client, port: port, inputs: inputs, outputs: outputNames)
            }
        } catch let error as TritonPackError {
            throw error
        } catch {
            // A dropped connection is often the first sign of a server going down: give it a moment.
            for _ in 0..<20 where server.isRunning { usleep(50_000) }
            if !server.isRunning {
                report.failures.append("tritonserver exited during the run")
                report.failures.append(contentsOf: server.errorLines().suffix(5))
            } else {
                report.failures.append("request failed: \(error)")
            }
        }
        return report
    }

    struct ServerExited: Error {}

    /// Runs `body`, failing as soon as the server process is gone (its Python stubs can keep
    /// the connections open, so requests would otherwise wait for their timeout).
    static func whileServing<T: Sendable>(_ server: TritonServer, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while server.isRunning {
                    try await Task.sleep(nanoseconds: 100_000_000)
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

    func buildInputs(_ config: Inference_ModelConfig) throws -> [(String, TensorData)] {
        try config.input.enumerated().map { index, input in
            if let directory = options.inputs {
                for file in ["\(input.name).npy", "INPUT_\(index).npy"] {
                    let url = directory.appendingPathComponent(file)
                    guard FileManager.default.fileExists(atPath: url.path) else { continue }
                    let tensor = try NPY.read(url)
                    guard tensor.dataType == input.dataType else {
                        throw TritonPackError.refused(
                            url.path, "holds \(tensor.dataType.configName) but input '\(input.name)' is \(input.dataType.configName)")
                    }
                    return (input.name, tensor)
                }
                throw TritonPackError.refused(directory.path, "no \(input.name).npy or INPUT_\(index).npy for input '\(input.name)'")
            }
            let dims = options.shapes[input.name] ?? input.dims.map { $0 == -1 ? 1 : $0 }
            let shape = (config.maxBatchSize > 0 ? [1] : []) + dims
            return (input.name, TensorData.synthetic(input.dataType, shape: shape, seed: options.seed &+ UInt64(index)))
        }
    }

    func check(_ answer: [String: TensorData], config: Inference_ModelConfig, batch: Int64?) throws -> [OutputCheck] {
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
            let shapeMatches = tensor.shape.count == expectedShape.count
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
            if let directory = options.expected {
                let candidates = ["\(output.name).npy", "OUTPUT_\(index).npy"].map { directory.appendingPathComponent($0) }
                guard let file = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
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
                            "\(mismatches) of \(got.count) values differ from \(file.lastPathComponent) beyond rtol \(options.rtol), atol \(options.atol) (max abs error \(maxAbsolute), max rel error \(maxRelative))")
                    }
                } else if expected.bytes != tensor.bytes {
                    check.problems.append("differs from \(file.lastPathComponent)")
                }
            }
            return check
        }
    }

    /// Warm-up, then the timed requests: one thread and one keep-alive connection per concurrent request.
    func time(client: InferenceClient, port: Int, inputs: [(String, TensorData)], outputs: [String]) async throws -> LatencyReport {
        let model = options.model
        let request = try InferenceClient.inferenceRequest(model: model, version: options.version, inputs: inputs, outputs: outputs)
        let total = max(options.requests, 1)
        let workers = max(1, min(options.concurrency, total))
        let connections = try (0..<workers).map { _ in try KeepAliveConnection(port: port, timeout: options.timeout) }
        for _ in 0..<3 { _ = try InferenceClient.infer(over: connections[0], request: request) }
        let counter = Counter()
        let results = Results()
        let start = DispatchTime.now().uptimeNanoseconds
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for connection in connections {
                group.enter()
                Thread.detachNewThread {
                    while counter.take(below: total) {
                        let begin = DispatchTime.now().uptimeNanoseconds
                        do {
                            _ = try InferenceClient.infer(over: connection, request: request)
                            results.add(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6)
                        } catch {
                            results.fail(error)
                            break
                        }
                    }
                    group.leave()
                }
            }
            group.notify(queue: .global()) { done.resume() }
        }
        if let error = results.error { throw error }
        let latencies = results.latencies.sorted()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        var report = LatencyReport(
            requests: latencies.count, concurrency: workers, p50Milliseconds: percentile(0.5), p90Milliseconds: percentile(0.9),
            p99Milliseconds: percentile(0.99), throughput: Double(latencies.count) / seconds)
        if let (status, data) = try? await client.get("v2/models/\(model)/stats"), status == 200,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
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

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var latencies: [Double] = []
    private(set) var error: (any Error)?

    func add(_ latency: Double) {
        lock.lock()
        latencies.append(latency)
        lock.unlock()
    }

    func fail(_ failure: any Error) {
        lock.lock()
        if error == nil { error = failure }
        lock.unlock()
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = 0
    func take(below limit: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard taken < limit else { return false }
        taken += 1
        return true
    }
}

extension SmokeReport {
    /// JUnit XML for CI test views.
    public var junit: String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var cases: [(String, [String])] = [("load", loaded ? [] : failures)]
        for output in outputs { cases.append(("output \(output.name)", output.problems)) }
        let other = failures.filter { failure in !outputs.contains { failure.hasPrefix("\($0.name): ") } }
        if loaded { cases.append(("requests", other)) }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuite name=\"tritonpack smoke \(escape(model))\" tests=\"\(cases.count)\" failures=\"\(cases.filter { !$0.1.isEmpty }.count)\">\n"
        for (name, problems) in cases {
            xml += "  <testcase classname=\"\(escape(model))\" name=\"\(escape(name))\""
            if problems.isEmpty {
                xml += "/>\n"
            } else {
                xml += ">\n    <failure message=\"\(escape(problems[0]))\">\(escape(problems.joined(separator: "\n")))</failure>\n  </testcase>\n"
            }
        }
        return xml + "</testsuite>\n"
    }
}
