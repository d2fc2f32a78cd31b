import Foundation
import SwiftProtobuf
import TritonPackBundle
import TritonPackModels
import TritonPackS3
import TritonPackServing

/// A running Triton's model-control API (KServe v2 plus Triton's repository extension), over the
/// project's one HTTP client: what is loaded, load with a config override, unload, metadata, and
/// the memory its metrics endpoint reports. The checked requests go over HTTP, or over gRPC when
/// the server's gRPC address is given.
package struct TritonControl: Sendable {
    package let url: String
    package let metricsURL: String?
    package let client: InferenceClient
    package let grpc: GRPCInferenceClient?

    package struct IndexEntry: Decodable, Equatable, Sendable {
        package var name: String
        package var version: String?
        package var state: String?
        package var reason: String?
    }

    /// The server's answer to a call it refused: the step, the HTTP status and Triton's words.
    package struct Refusal: Error, CustomStringConvertible {
        package var call: String
        package var status: Int
        package var message: String
        package var description: String { "\(call): HTTP \(status): \(message)" }
    }

    /// `grpc`: the server's gRPC address (`host:port`) for the checked requests, or nil for HTTP.
    package init(url: String, metricsURL: String?, grpc: String? = nil, timeout: TimeInterval) throws {
        self.url = url
        self.metricsURL = metricsURL
        if let grpc {
            guard let (host, port) = GRPCAddress.hostAndPort(grpc) else {
                throw TritonPackError.usage("'\(grpc)' is not a gRPC address (host:port)")
            }
            self.grpc = try GRPCInferenceClient(host: host, port: port, timeout: timeout)
        } else {
            self.grpc = nil
        }
        client = InferenceClient(url: url, connections: 2, timeout: timeout)
    }

    package func shutdown() async {
        await grpc?.shutdown()
        try? await client.shutdown()
    }

    /// One checked request: over gRPC when the server's gRPC address was given, else over HTTP.
    package func infer(model: String, version: Int64?, inputs: [(String, TensorData)], outputs: [String]) async throws
        -> [String: TensorData]
    {
        if let grpc {
            do {
                return try await grpc.infer(model: model, version: version, inputs: inputs, outputs: outputs)
            } catch let error as TritonPackError {
                throw TritonPackError.io(grpc.address, error.message)
            }
        }
        return try await client.infer(model: model, version: version, inputs: inputs, outputs: outputs)
    }

    /// How long a call that only asks may take: a dead server is reported within it.
    package static let askingDeadline: TimeInterval = 15

    /// Whether the server answers (`live`: with strict readiness, `ready` is false while any model
    /// it knows is unavailable, such as an unloaded candidate).
    package func live() async throws -> Bool {
        do {
            return try await client.get("/v2/health/live", within: Self.askingDeadline).status == 200
        } catch let error as TritonPackError {
            throw TritonPackError.io(url, "the server does not answer: \(error.message)")
        }
    }

    /// Every model version the repository index lists, with its state.
    package func index() async throws -> [IndexEntry] {
        let response = try await client.post(
            "/v2/repository/index", body: Data("{}".utf8), headers: json, within: Self.askingDeadline)
        try require(response, "repository index")
        return try JSONDecoder().decode([IndexEntry].self, from: response.body)
    }

    /// The versions of `model` the server has ready.
    package func readyVersions(of model: String) async throws -> [Int64] {
        try await index().filter { $0.name == model && $0.state == "READY" }.compactMap { $0.version.flatMap(Int64.init) }
            .sorted()
    }

    /// The config the server serves the model with (its JSON form, Triton's own field names).
    package func config(of model: String) async throws -> Inference_ModelConfig {
        let response = try await client.get("/v2/models/\(model)/config", within: Self.askingDeadline)
        try require(response, "config of '\(model)'")
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return try Inference_ModelConfig(jsonUTF8Data: response.body, options: options)
    }

    /// The versions the model's metadata lists (what a client is told it can call).
    package func metadataVersions(of model: String) async throws -> [Int64] {
        let response = try await client.get("/v2/models/\(model)", within: Self.askingDeadline)
        try require(response, "metadata of '\(model)'")
        struct Metadata: Decodable { var versions: [String]? }
        return (try JSONDecoder().decode(Metadata.self, from: response.body).versions ?? []).compactMap { Int64($0) }.sorted()
    }

    /// Loads (or reloads) `model` with `config` instead of the repository's config.pbtxt.
    package func load(_ model: String, config: Inference_ModelConfig?) async throws {
        try require(try await client.load(model, config: config), "load '\(model)'")
    }

    package func unload(_ model: String) async throws {
        let body = Data(#"{"parameters": {"unload_dependents": false}}"#.utf8)
        let response = try await client.post("/v2/repository/models/\(model)/unload", body: body, headers: json)
        try require(response, "unload '\(model)'")
    }

    /// Free memory as the metrics endpoint reports it: host memory, and the least free of the GPUs.
    package func freeMemory() async throws -> (cpu: Int64?, gpu: Int64?)? {
        guard let metricsURL else { return nil }
        let metrics = InferenceClient(url: metricsURL, connections: 1, timeout: Self.askingDeadline)
        let response = try? await metrics.get("/metrics")
        try? await metrics.shutdown()
        guard let response, response.status == 200 else { return nil }
        return Self.freeMemory(in: String(decoding: response.body, as: UTF8.self))
    }

    /// Parses Triton's Prometheus text: `nv_cpu_memory_total_bytes` minus `nv_cpu_memory_used_bytes`,
    /// and per GPU `nv_gpu_memory_total_bytes` minus `nv_gpu_memory_used_bytes`.
    package static func freeMemory(in text: String) -> (cpu: Int64?, gpu: Int64?) {
        var values: [String: [String: Double]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let value = Double(parts[parts.count - 1]) else { continue }
            let metric = parts[0]
            let name = String(metric.prefix { $0 != "{" })
            let labels = metric.contains("{") ? String(metric.drop { $0 != "{" }) : ""
            values[name, default: [:]][labels] = value
        }
        func free(_ total: String, _ used: String) -> [Int64] {
            (values[total] ?? [:]).compactMap { labels, total in
                values[used]?[labels].map { Int64(total - $0) }
            }
        }
        return (
            free("nv_cpu_memory_total_bytes", "nv_cpu_memory_used_bytes").min(),
            free("nv_gpu_memory_total_bytes", "nv_gpu_memory_used_bytes").min()
        )
    }

    private var json: [String: String] { ["Content-Type": "application/json"] }

    private func require(_ response: InferenceClient.Response, _ call: String) throws {
        guard response.status == 200 else {
            throw Refusal(call: call, status: response.status, message: BinaryTensorCodec.errorMessage(response.body))
        }
    }
}
