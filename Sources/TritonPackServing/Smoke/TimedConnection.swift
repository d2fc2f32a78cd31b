import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TritonPackModels

/// One keep-alive HTTP/1.1 connection of the timed loop, on one event loop: swift-nio's own HTTP/1.1
/// codec (the one AsyncHTTPClient is built on) and one small handler, one request at a time.
/// AsyncHTTPClient's pool and request state machines cost about half the throughput of the timed
/// loop on two cores (`scripts/bench-smoke.sh`); the checked requests and everything else go through
/// `InferenceClient`. Used only from tasks running on `loop` (`TimedRequests` pins them there).
package final class TimedConnection: @unchecked Sendable {
    package struct Answer {
        package var status: Int
        package var body: ByteBuffer
    }

    private let channel: any Channel
    private let handler: AnswerHandler
    private let head: HTTPRequestHead
    private let body: ByteBuffer

    private init(channel: any Channel, handler: AnswerHandler, head: HTTPRequestHead, body: ByteBuffer) {
        self.channel = channel
        self.handler = handler
        self.head = head
        self.body = body
    }

    /// A connection to `host`:`port` on `loop` that sends `request` again and again; a request
    /// unanswered for `timeout` seconds fails.
    package static func connect(
        host: String = "127.0.0.1", port: Int, on loop: any EventLoop, request: BinaryTensorCodec.Request,
        timeout: TimeInterval
    ) async throws -> TimedConnection {
        let handler = AnswerHandler(timeout: timeout)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.nanoseconds(Int64(timeout * 1e9)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: .nanoseconds(Int64(timeout * 1e9))), handler,
                        ])
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw TritonPackError.io(nil, "cannot connect to \(host):\(port): \(error)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: BinaryTensorCodec.headerLengthField, value: String(request.headerLength))
        headers.add(name: "Content-Length", value: String(request.body.count))
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/" + request.path, headers: headers)
        return TimedConnection(channel: channel, handler: handler, head: head, body: ByteBuffer(bytes: request.body))
    }

    /// Sends the request once and waits for the whole answer; cancelling the task closes the connection.
    package func send() async throws -> Answer {
        let promise = channel.eventLoop.makePromise(of: Answer.self)
        let write = { [self] in
            handler.expect(promise)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        // The timed tasks run on the connection's loop: write at once rather than a tick later.
        if channel.eventLoop.inEventLoop { write() } else { channel.eventLoop.execute(write) }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    package func close() async { try? await channel.close() }
}

/// Collects one answer at a time and completes the promise of the request waiting for it.
private final class AnswerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private let timeout: TimeInterval
    private var pending: EventLoopPromise<TimedConnection.Answer>?
    private var status = 0
    private var body: ByteBuffer?

    init(timeout: TimeInterval) { self.timeout = timeout }

    func expect(_ promise: EventLoopPromise<TimedConnection.Answer>) {
        pending = promise
        status = 0
        body = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            let answer = TimedConnection.Answer(status: status, body: body ?? ByteBuffer())
            body = nil
            pending.take()?.succeed(answer)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, let promise = pending.take() {
            promise.fail(TritonPackError.io(nil, "no answer within \(Int(timeout)) s (--timeout)"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pending.take()?.fail(TritonPackError.io(nil, "the connection failed: \(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending.take()?.fail(TritonPackError.io(nil, "the server closed the connection"))
    }
}
