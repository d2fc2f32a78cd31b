import Foundation
import NIOCore
import SwiftProtobuf

/// One connection of the timed loop over gRPC: a grpc-swift 2 client whose single HTTP/2
/// connection lives on the event loop of the task that sends on it (`TimedRequests` pins the task
/// there), as `TimedConnection` does for HTTP/1.1. The request is serialized once; each send is
/// one `ModelInfer` call, or for a decoupled model one `ModelStreamInfer` stream answered up to
/// its final response. Deadlines are `--timeout`; cancelling the task cancels the call.
final class GRPCTimedConnection: TimedSender {
    private let client: GRPCInferenceClient
    private let request: Inference_ModelInferRequest
    private let prepared: [UInt8]
    private let streamed: Bool

    private init(client: GRPCInferenceClient, request: Inference_ModelInferRequest, streamed: Bool) throws {
        self.client = client
        self.request = request
        self.streamed = streamed
        prepared = try request.serializedBytes()
    }

    static func connect(
        host: String = "127.0.0.1", port: Int, on loop: any EventLoop, request: InferenceRequest, timeout: TimeInterval
    ) async throws -> GRPCTimedConnection {
        let client = try GRPCInferenceClient(host: host, port: port, timeout: timeout, loop: loop)
        do {
            return try GRPCTimedConnection(
                client: client, request: request.grpc(streamed: request.decoupled), streamed: request.decoupled)
        } catch {
            await client.shutdown()
            throw error
        }
    }

    func sendOnce() async throws {
        if streamed {
            try await client.streamPrepared(request)
        } else {
            try await client.inferPrepared(prepared)
        }
    }

    func close() async { await client.shutdown() }
}
