import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwiftProtobuf
import TritonPackModels
import TritonPackRepository

/// Triton's KServe v2 HTTP API on one AsyncHTTPClient `HTTPClient`: a keep-alive pool of up to
/// `connections` connections to the server, a deadline on every request, and cancellation of the
/// calling task cancelling its request in flight.
package final class InferenceClient: Sendable {
    package struct Response: Sendable {
        package var status: Int
        package var body: Data
        /// `Inference-Header-Content-Length`, when the body carries binary tensors.
        package var headerLength: Int?
    }

    /// An inference request prepared once and sent many times (the timed loop).
    package struct PreparedInference: Sendable {
        fileprivate let request: HTTPClient.Request
    }

    private let http: HTTPClient
    /// The client's event loops, one per core (the timed loop spreads its connections over them).
    package let loops: [any EventLoop]
    package let port: Int
    private let base: String
    private let timeout: TimeInterval

    package convenience init(port: Int, connections: Int, timeout: TimeInterval) {
        self.init(base: "http://127.0.0.1:\(port)/", port: port, connections: connections, timeout: timeout)
    }

    /// A client of the server at `url` (`http://host:port`), e.g. one of a fleet: a server that
    /// refuses or does not answer the connection fails within `connectTimeout`.
    package convenience init(url: String, connections: Int, timeout: TimeInterval, connectTimeout: TimeInterval = 10) {
        let base = url.hasSuffix("/") ? url : url + "/"
        self.init(
            base: base, port: URL(string: url)?.port ?? 80, connections: connections, timeout: timeout,
            connectTimeout: connectTimeout)
    }

    private init(base: String, port: Int, connections: Int, timeout: TimeInterval, connectTimeout: TimeInterval? = nil) {
        self.port = port
        self.base = base
        self.timeout = timeout
        let limit = TimeAmount.nanoseconds(Int64(timeout * 1e9))
        let connect = connectTimeout.map { TimeAmount.nanoseconds(Int64(min($0, timeout) * 1e9)) } ?? limit
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: connect, read: limit),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections)))
        configuration.redirectConfiguration = .disallow
        configuration.httpVersion = .http1Only
        loops = Array(HTTPClient.defaultEventLoopGroup.makeIterator())
        http = HTTPClient(eventLoopGroupProvider: .shared(HTTPClient.defaultEventLoopGroup), configuration: configuration)
    }

    /// Runs `body` with a client that is shut down afterwards, whether `body` returns or throws.
    package static func withClient<T: Sendable>(
        port: Int, connections: Int, timeout: TimeInterval, _ body: (InferenceClient) async throws -> T
    ) async throws -> T {
        let client = InferenceClient(port: port, connections: connections, timeout: timeout)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(client))
        } catch {
            result = .failure(error)
        }
        try? await client.shutdown()
        return try result.get()
    }

    package func shutdown() async throws { try await http.shutdown() }

    /// `within`: seconds this request may take, when shorter than the client's timeout (a check
    /// that a server is there: the pool retries a refused connection until the deadline).
    package func get(_ path: String, within: TimeInterval? = nil) async throws -> Response {
        try await send(try HTTPClient.Request(url: base + relative(path), method: .GET), within: within)
    }

    package func post(_ path: String, body: Data = Data(), headers: [String: String] = [:], within: TimeInterval? = nil)
        async throws
        -> Response
    {
        let request = try HTTPClient.Request(
            url: base + relative(path), method: .POST, headers: HTTPHeaders(headers.map { ($0.key, $0.value) }),
            body: .byteBuffer(ByteBuffer(bytes: body)))
        return try await send(request, within: within)
    }

    /// Asks the server to load (or reload) `model` through the repository API, with `config` in
    /// place of its config.pbtxt when given (a config override: the message as JSON, proto field names).
    package func load(_ model: String, config: Inference_ModelConfig? = nil) async throws -> Response {
        var parameters: [String: String] = [:]
        if let config {
            var options = JSONEncodingOptions()
            options.preserveProtoFieldNames = true
            parameters["config"] = try config.jsonString(options: options)
        }
        let body = try JSONSerialization.data(withJSONObject: ["parameters": parameters])
        return try await post(
            "v2/repository/models/\(model)/load", body: body, headers: ["Content-Type": "application/json"])
    }

    package func prepare(_ inference: BinaryTensorCodec.Request) throws -> PreparedInference {
        let headers = HTTPHeaders([
            (BinaryTensorCodec.headerLengthField, String(inference.headerLength)), ("Content-Type", "application/octet-stream"),
        ])
        return PreparedInference(
            request: try HTTPClient.Request(
                url: base + inference.path, method: .POST, headers: headers, body: .byteBuffer(ByteBuffer(bytes: inference.body)))
        )
    }

    /// One inference; a status other than 200 is an error carrying Triton's message.
    package func infer(_ inference: PreparedInference) async throws -> [String: TensorData] {
        let response = try await send(inference.request)
        guard response.status == 200 else {
            throw TritonPackError.io(nil, "HTTP \(response.status): \(BinaryTensorCodec.errorMessage(response.body))")
        }
        return try BinaryTensorCodec.decode(response.body, headerLength: response.headerLength)
    }

    package func infer(model: String, version: Int64?, inputs: [(String, TensorData)], outputs: [String]) async throws
        -> [String: TensorData]
    {
        try await infer(prepare(BinaryTensorCodec.encode(model: model, version: version, inputs: inputs, outputs: outputs)))
    }

    private func relative(_ path: String) -> Substring { path.drop { $0 == "/" } }

    private func send(_ request: HTTPClient.Request, within: TimeInterval? = nil) async throws -> Response {
        let seconds = min(within ?? timeout, timeout)
        let task = http.execute(
            request: request, delegate: ResponseAccumulator(request: request),
            deadline: .now() + .nanoseconds(Int64(seconds * 1e9)))
        let response: HTTPClient.Response
        do {
            response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
        } catch let error as HTTPClientError where error == .cancelled {
            throw CancellationError()
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw TritonPackError.io(nil, "no answer within \(Int(seconds)) s\(within == nil ? " (--timeout)" : "")")
        } catch {
            if _Concurrency.Task.isCancelled { throw CancellationError() }
            throw TritonPackError.io(nil, "\(request.method) \(request.url.path): \(error)")
        }
        let body = response.body.map { Data($0.readableBytesView) } ?? Data()
        let headerLength = response.headers.first(name: BinaryTensorCodec.headerLengthField).flatMap { Int($0) }
        return Response(status: Int(response.status.code), body: body, headerLength: headerLength)
    }
}
