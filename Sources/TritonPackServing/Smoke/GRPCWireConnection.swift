import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import SwiftProtobuf
import TritonPackModels
import TritonPackRepository

/// One connection of the timed loop over gRPC, as `TimedConnection` is for HTTP/1.1: swift-nio's
/// HTTP/2 codec (the one grpc-swift's NIO transport is built on) with gRPC's framing written here,
/// one HTTP/2 connection per task on that task's event loop, one stream per request. A call is the
/// request message serialized once (5-byte gRPC prefix), sent on a new stream with `grpc-timeout`;
/// it succeeds when the trailers say `grpc-status: 0`. A decoupled model's stream is read to its
/// end (the server ends it after the final response), each message checked for Triton's
/// `error_message`. `--timeout` fails a call with no answer (the stream is reset); cancelling the
/// task resets its stream. The checked requests go through grpc-swift 2 (`GRPCInferenceClient`).
package final class GRPCWireConnection: TimedSender, @unchecked Sendable {
    private let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    private let headers: HPACKHeaders
    private let message: ByteBuffer
    private let streamed: Bool
    private let timeout: TimeInterval

    private init(
        channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, headers: HPACKHeaders, message: ByteBuffer,
        streamed: Bool, timeout: TimeInterval
    ) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.headers = headers
        self.message = message
        self.streamed = streamed
        self.timeout = timeout
    }

    package static func connect(
        host: String, port: Int, on loop: any EventLoop, request: InferenceRequest, timeout: TimeInterval
    ) async throws -> GRPCWireConnection {
        let streamed = request.decoupled
        let serialized: [UInt8] = try request.grpc(streamed: streamed).serializedBytes()
        var message = ByteBuffer()
        message.writeInteger(UInt8(0))
        message.writeInteger(UInt32(serialized.count))
        message.writeBytes(serialized)
        let method = streamed ? "ModelStreamInfer" : "ModelInfer"
        let headers: HPACKHeaders = [
            ":method": "POST", ":scheme": "http", ":path": "/inference.GRPCInferenceService/\(method)",
            ":authority": "\(host):\(port)", "content-type": "application/grpc", "te": "trailers",
            "grpc-timeout": grpcTimeout(timeout),
        ]
        let channel: any Channel
        let multiplexer: NIOHTTP2Handler.StreamMultiplexer
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.nanoseconds(Int64(timeout * 1e9)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                        ) { stream in stream.close() }
                    }
                }
                .connect(host: host, port: port).get()
            multiplexer = try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
            }.get()
        } catch {
            throw TritonPackError.io(nil, "cannot connect to gRPC \(host):\(port): \(error)")
        }
        return GRPCWireConnection(
            channel: channel, multiplexer: multiplexer, headers: headers, message: message, streamed: streamed,
            timeout: timeout)
    }

    /// gRPC's `grpc-timeout` value: at most 8 digits and a unit.
    package static func grpcTimeout(_ seconds: TimeInterval) -> String {
        let milliseconds = max(1, Int64(min(seconds, 1e9) * 1000))
        return milliseconds <= 99_999_999 ? "\(milliseconds)m" : "\(min(Int64(seconds), 99_999_999))S"
    }

    package func sendOnce() async throws {
        let loop = channel.eventLoop
        let answered = loop.makePromise(of: Void.self)
        let stream = loop.makePromise(of: (any Channel).self)
        let open = { [self] in
            let call = GRPCCallHandler(
                headers: headers, message: message, streamed: streamed, timeout: timeout, answered: answered)
            multiplexer.createStreamChannel(promise: stream) { streamChannel in
                streamChannel.eventLoop.makeCompletedFuture { try streamChannel.pipeline.syncOperations.addHandler(call) }
            }
        }
        // The timed tasks run on the connection's loop: open the stream at once rather than a tick later.
        if loop.inEventLoop { open() } else { loop.execute(open) }
        stream.futureResult.whenFailure { answered.fail(TritonPackError.io(nil, "cannot open a gRPC stream: \($0)")) }
        return try await withTaskCancellationHandler {
            try await answered.futureResult.get()
        } onCancel: {
            stream.futureResult.whenSuccess { $0.close(promise: nil) }
        }
    }

    package func close() async { try? await channel.close() }
}

/// One gRPC call on its own HTTP/2 stream: writes the headers and the message (ending the
/// stream), reads the answer up to the trailers, and completes `answered` with their status.
private final class GRPCCallHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let headers: HPACKHeaders
    private let message: ByteBuffer
    private let streamed: Bool
    private let timeout: TimeInterval
    private var answered: EventLoopPromise<Void>?
    private var body = ByteBuffer()
    private var deadline: Scheduled<Void>?

    init(headers: HPACKHeaders, message: ByteBuffer, streamed: Bool, timeout: TimeInterval, answered: EventLoopPromise<Void>) {
        self.headers = headers
        self.message = message
        self.streamed = streamed
        self.timeout = timeout
        self.answered = answered
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let seconds = timeout
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) {
            self.finish(.failure(TritonPackError.io(nil, "no answer within \(Int(seconds)) s (--timeout)")), context: context)
        }
        context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(message), endStream: true))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let frame):
            if let status = frame.headers.first(name: "grpc-status") {
                finish(status == "0" ? verifiedBody() : .failure(refusal(frame.headers, status: status)), context: context)
            } else if frame.endStream {
                finish(.failure(TritonPackError.io(nil, "the gRPC answer ended without a status")), context: context)
            }
        case .data(let frame):
            if case .byteBuffer(var part) = frame.data { body.writeBuffer(&part) }
            if frame.endStream {
                finish(.failure(TritonPackError.io(nil, "the gRPC answer ended without trailers")), context: context)
            }
        case .rstStream(let reset):
            finish(.failure(TritonPackError.io(nil, "the server reset the gRPC stream (\(reset))")), context: context)
        default:
            break
        }
    }

    /// A streamed answer's messages, each checked for Triton's `error_message`; a unary answer
    /// is not decoded (the checked requests compared answers).
    private func verifiedBody() -> Result<Void, any Error> {
        guard streamed else { return .success(()) }
        var rest = body
        while rest.readableBytes >= 5, rest.readInteger(as: UInt8.self) != nil, let length = rest.readInteger(as: UInt32.self),
            let bytes = rest.readBytes(length: Int(length))
        {
            guard let message = try? Inference_ModelStreamInferResponse(serializedBytes: bytes) else {
                return .failure(TritonPackError.io(nil, "unreadable gRPC stream message"))
            }
            if !message.errorMessage.isEmpty {
                return .failure(
                    GRPCMessageLimit.failure(message.errorMessage) ?? TritonPackError.io(nil, "gRPC: \(message.errorMessage)"))
            }
        }
        return .success(())
    }

    private func refusal(_ trailers: HPACKHeaders, status: String) -> TritonPackError {
        let encoded = trailers.first(name: "grpc-message") ?? ""
        let message = encoded.removingPercentEncoding ?? encoded
        return GRPCMessageLimit.failure(message) ?? TritonPackError.io(nil, "gRPC status \(status): \(message)")
    }

    private func finish(_ result: Result<Void, any Error>, context: ChannelHandlerContext) {
        deadline?.cancel()
        guard let promise = answered.take() else { return }
        promise.completeWith(result)
        if case .failure = result { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(TritonPackError.io(nil, "the gRPC stream failed: \(error)")), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(TritonPackError.io(nil, "the gRPC stream closed before the answer")), context: context)
        context.fireChannelInactive()
    }
}
