import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import NIOCore
import NIOPosix
import SwiftProtobuf
import TritonPackModels
import TritonPackRepository

/// Triton's KServe v2 `GRPCInferenceService` over grpc-swift 2, for the checked requests and the
/// rollout's checks: one client, one HTTP/2 connection (NIO Posix transport, plaintext,
/// pick-first). Every call has a deadline (`timeout`, or a shorter `within`), and cancelling the
/// calling task cancels the call in flight. Messages may be as large as Triton allows
/// (`GRPCMessageLimit`). The timed loop sends over `GRPCWireConnection`.
package final class GRPCInferenceClient: Sendable {
    package typealias Service = Inference_GRPCInferenceService

    /// `host:port`, as messages name the server.
    package let address: String
    package let timeout: TimeInterval
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    /// A client of `host:port` (an IPv4 address or a name).
    package init(host: String, port: Int, timeout: TimeInterval) throws {
        address = "\(host):\(port)"
        self.timeout = timeout
        let target: any ResolvableTarget =
            host.split(separator: ".").count == 4 && host.allSatisfy({ $0.isNumber || $0 == "." })
            ? .ipv4(address: host, port: port) : .dns(host: host, port: port)
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: target, transportSecurity: .plaintext,
                config: .defaults { config in
                    // A refused connection is retried soon, as the HTTP client's pool does.
                    config.backoff = .init(initial: .milliseconds(50), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
                },
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        } catch {
            throw TritonPackError.usage("cannot use \(host):\(port) as a gRPC address: \(error)")
        }
        let client = GRPCClient(transport: transport)
        self.client = client
        connections = Task { try? await client.runConnections() }
    }

    /// Runs `body` with a client that is shut down afterwards, whether `body` returns or throws.
    package static func withClient<T: Sendable>(
        host: String = "127.0.0.1", port: Int, timeout: TimeInterval, _ body: (GRPCInferenceClient) async throws -> T
    ) async throws -> T {
        let client = try GRPCInferenceClient(host: host, port: port, timeout: timeout)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(client))
        } catch {
            result = .failure(error)
        }
        await client.shutdown()
        return try result.get()
    }

    /// Closes the connection once the calls in flight are done (cancelled callers have ended theirs).
    package func shutdown() async {
        client.beginGracefulShutdown()
        await connections.value
    }

    /// The options of one call: its deadline and Triton's message size limit both ways.
    package func options(within: TimeInterval? = nil) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = .nanoseconds(Int64(min(within ?? timeout, timeout) * 1e9))
        options.maxRequestMessageBytes = GRPCMessageLimit.bytes
        options.maxResponseMessageBytes = GRPCMessageLimit.bytes
        return options
    }

    /// Whether the server is live (a short deadline: a server that is not there fails within it).
    package func live(within: TimeInterval? = nil) async throws -> Bool {
        try await unary(Service.Method.ServerLive.descriptor, Inference_ServerLiveRequest(), within: within) {
            (response: Inference_ServerLiveResponse) in response.live
        }
    }

    /// One inference; a status other than OK is an error carrying Triton's message.
    package func infer(_ request: Inference_ModelInferRequest) async throws -> [String: TensorData] {
        let response: Inference_ModelInferResponse = try await unary(Service.Method.ModelInfer.descriptor, request) { $0 }
        return try GRPCTensorCodec.outputs(of: response)
    }

    package func infer(model: String, version: Int64?, inputs: [(String, TensorData)], outputs: [String]) async throws
        -> [String: TensorData]
    {
        try await infer(GRPCTensorCodec.request(model: model, version: version, inputs: inputs, outputs: outputs))
    }

    /// Every response of one request on a `ModelStreamInfer` stream, in order, until the one
    /// flagged final (a decoupled model may answer a request any number of times, or not at all);
    /// the final flag's empty response is not returned.
    package func streamInfer(model: String, version: Int64?, inputs: [(String, TensorData)], outputs: [String]) async throws
        -> [[String: TensorData]]
    {
        let request = GRPCTensorCodec.request(model: model, version: version, inputs: inputs, outputs: outputs, streamed: true)
        let responses = try await Self.stream(client, request: request, options: options(), address: address)
        return try responses.filter { !$0.outputs.isEmpty }.map { try GRPCTensorCodec.outputs(of: $0) }
    }

    /// The responses of one streamed request up to and including the final one.
    package static func stream(
        _ client: GRPCClient<HTTP2ClientTransport.Posix>, request: Inference_ModelInferRequest, options: CallOptions,
        address: String
    ) async throws -> [Inference_ModelInferResponse] {
        do {
            return try await client.bidirectionalStreaming(
                request: StreamingClientRequest(of: Inference_ModelInferRequest.self) { writer in
                    try await writer.write(request)
                },
                descriptor: Service.Method.ModelStreamInfer.descriptor,
                serializer: ProtobufSerializer<Inference_ModelInferRequest>(),
                deserializer: ProtobufDeserializer<Inference_ModelStreamInferResponse>(), options: options
            ) { response in
                var collected: [Inference_ModelInferResponse] = []
                for try await message in response.messages {
                    guard message.errorMessage.isEmpty else { throw GRPCRefusal(message: message.errorMessage) }
                    collected.append(message.inferResponse)
                    if GRPCTensorCodec.isFinal(message.inferResponse) { break }
                }
                return collected
            }
        } catch {
            throw translate(error, address: address, timeout: options.timeout)
        }
    }

    private func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message, T: Sendable>(
        _ descriptor: MethodDescriptor, _ request: Request, within: TimeInterval? = nil,
        _ transform: @escaping @Sendable (Response) throws -> T
    ) async throws -> T {
        let options = options(within: within)
        do {
            return try await client.unary(
                request: ClientRequest(message: request), descriptor: descriptor, serializer: ProtobufSerializer<Request>(),
                deserializer: ProtobufDeserializer<Response>(), options: options
            ) { response in try transform(try response.message) }
        } catch {
            throw Self.translate(error, address: address, timeout: options.timeout, within: within != nil)
        }
    }

    /// A failed call as tritonpack reports it: a cancellation stays one, a deadline names the
    /// timeout, a message over the limit names the limit, and Triton's refusals keep its words.
    package static func translate(_ error: any Error, address: String, timeout: Duration?, within: Bool = false) -> any Error {
        if error is CancellationError || _Concurrency.Task.isCancelled { return CancellationError() }
        if let error = error as? TritonPackError { return error }
        if let refusal = error as? GRPCRefusal {
            return GRPCMessageLimit.failure(refusal.message) ?? TritonPackError.io(nil, "gRPC: \(refusal.message)")
        }
        guard let error = error as? RPCError else { return TritonPackError.io(nil, "gRPC \(address): \(error)") }
        switch error.code {
        case .cancelled:
            return CancellationError()
        case .deadlineExceeded:
            let seconds = timeout.map { Int($0.components.seconds) } ?? 0
            return TritonPackError.io(nil, "no answer within \(seconds) s\(within ? "" : " (--timeout)")")
        case .unavailable:
            return TritonPackError.io(nil, "gRPC \(address) is unavailable: \(error.message)")
        default:
            if let limit = GRPCMessageLimit.failure(error.message, clientSide: error.code == .resourceExhausted) {
                return limit
            }
            return TritonPackError.io(nil, "gRPC \(String(describing: error.code)): \(error.message)")
        }
    }
}

/// A gRPC address as the command line takes it.
public enum GRPCAddress {
    /// The host and port of `host:port` (or `grpc://host:port`), nil when it is neither.
    public static func hostAndPort(_ address: String) -> (host: String, port: Int)? {
        var rest = Substring(address)
        if rest.hasPrefix("grpc://") { rest = rest.dropFirst("grpc://".count) }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        let host = String(rest[..<colon])
        guard !host.isEmpty, !host.contains("/") else { return nil }
        return (host, port)
    }
}

/// An error Triton sent in a stream's `error_message`.
package struct GRPCRefusal: Error {
    package var message: String
}

/// The largest gRPC message Triton sends or accepts: 2^31 - 1 bytes (INT32_MAX, gRPC's own
/// ceiling, which Triton sets on its server builder and checks before it writes a response). HTTP
/// has no such limit, so a larger response is a gRPC-only failure.
package enum GRPCMessageLimit {
    package static let bytes = Int(Int32.max)

    /// The failure for Triton's refusal of a response over the limit (its message says "exceeds
    /// gRPC's byte size limit"), or for a message this client refused as too large; nil otherwise.
    package static func failure(_ message: String, clientSide: Bool = false) -> TritonPackError? {
        let lowered = message.lowercased()
        let server = lowered.contains("byte size limit")
        let client =
            clientSide && (lowered.contains("exceeds") || lowered.contains("too large") || lowered.contains("larger than"))
        guard server || client else { return nil }
        let size = message.split(separator: " ").compactMap { Int($0) }.first { $0 > bytes }
        return TritonPackError.io(
            nil,
            "the response\(size.map { " (\($0) bytes)" } ?? "") is larger than gRPC's message limit of \(bytes) bytes (2 GiB - 1, Triton's limit for one gRPC message), so the server did not send it. This is a gRPC-only failure: HTTP has no such limit (--protocol http), or make the output smaller. Triton said: \(message)"
        )
    }
}
