import Foundation
import NIOCore
import NIOFoundationCompat
import NIOPosix
import TritonPackModels
import TritonPackRepository

/// One connection of the timed loop that sends its prepared request and fails unless the server
/// answered it successfully; the answer itself is not decoded (the checked requests compare answers).
package protocol TimedSender: AnyObject, Sendable {
    func sendOnce() async throws
    func close() async
}

extension TimedConnection: TimedSender {
    package func sendOnce() async throws {
        let answer = try await send()
        guard answer.status == 200 else {
            throw TritonPackError.io(nil, "HTTP \(answer.status): \(BinaryTensorCodec.errorMessage(Data(buffer: answer.body)))")
        }
    }
}

/// The timed loop's connections to one server: `concurrency` keep-alive connections, opened (and
/// warmed with one request) before any clock starts, each task on its own event loop. Smoke times
/// one window on them; tune times several and compares them.
package final class LoadSession: Sendable {
    package let concurrency: Int
    private let senders: [any TimedSender]
    private let loops: [any EventLoop]

    private init(senders: [any TimedSender], loops: [any EventLoop]) {
        self.senders = senders
        self.loops = loops
        concurrency = senders.count
    }

    /// The event loops a session spreads its connections over by default: one per core.
    package static var defaultLoops: [any EventLoop] { Array(MultiThreadedEventLoopGroup.singleton.makeIterator()) }

    /// `concurrency` connections to `endpoint`, over its protocol, spread over `loops`: keep-alive
    /// HTTP/1.1 connections (`TimedConnection`) or HTTP/2 connections speaking gRPC
    /// (`GRPCWireConnection`), every one sending `request`. The one way smoke and tune open a session.
    package static func open(
        _ endpoint: InferenceEndpoint, request: InferenceRequest, concurrency: Int, timeout: TimeInterval,
        loops: [any EventLoop] = defaultLoops
    ) async throws -> LoadSession {
        switch endpoint.protocol {
        case .http:
            guard !request.decoupled else { throw InferenceRequest.decoupledOverHTTP(request.model) }
            let encoded = try request.http()
            return try await open(count: concurrency, loops: loops) { loop in
                try await TimedConnection.connect(
                    host: endpoint.host, port: endpoint.port, on: loop, request: encoded, timeout: timeout)
            }
        case .grpc:
            return try await open(count: concurrency, loops: loops) { loop in
                try await GRPCWireConnection.connect(
                    host: endpoint.host, port: endpoint.port, on: loop, request: request, timeout: timeout)
            }
        }
    }

    /// `count` senders made by `connect` on the loops in turn; the first one sends one untimed request.
    package static func open(count: Int, loops: [any EventLoop], connect: (any EventLoop) async throws -> any TimedSender)
        async throws -> LoadSession
    {
        var senders: [any TimedSender] = []
        do {
            for index in 0..<max(1, count) {
                senders.append(try await connect(loops[index % loops.count]))
            }
            try await senders[0].sendOnce()
        } catch {
            for sender in senders { await sender.close() }
            throw error
        }
        return LoadSession(senders: senders, loops: loops)
    }

    /// `requests` timed requests, or as many as fit in `seconds` when given, at `concurrency` at a time.
    package func window(requests: Int, seconds: Double? = nil) async throws -> TimedRequests.Outcome {
        let timed = TimedRequests(total: max(requests, 1), concurrency: concurrency, seconds: seconds)
        return try await timed.run(on: loops) { [senders] task in try await senders[task].sendOnce() }
    }

    package func close() async {
        for sender in senders { await sender.close() }
    }

    /// Opens a session, runs `body` with it and closes it, whether `body` returns or throws.
    package static func with<T: Sendable>(_ session: LoadSession, _ body: (LoadSession) async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do {
            result = .success(try await body(session))
        } catch {
            result = .failure(error)
        }
        await session.close()
        return try result.get()
    }
}

extension LatencyReport {
    /// The percentiles and throughput of one window of timed requests.
    package init(_ outcome: TimedRequests.Outcome, concurrency: Int) {
        let latencies = outcome.latencies.sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        self.init(
            requests: latencies.count, concurrency: concurrency, p50Milliseconds: percentile(0.5),
            p90Milliseconds: percentile(0.9), p99Milliseconds: percentile(0.99),
            throughput: outcome.seconds > 0 ? Double(latencies.count) / outcome.seconds : 0)
    }
}
