import NIOCore
import Synchronization

/// `total` calls of `request`, at most `concurrency` at a time: that many child tasks of one task
/// group take numbered turns until none are left (or, given `seconds`, until that time has passed). The first failure cancels the other tasks
/// (and with them their requests in flight) and is thrown. Given event loops, the tasks are
/// spread over them, each running on its loop (as does its connection), so that a request never
/// hops between threads and all cores send.
package struct TimedRequests: Sendable {
    package var total: Int
    package var concurrency: Int
    package var seconds: Double? = nil

    package struct Outcome: Sendable {
        /// Each request's latency in milliseconds, in no particular order.
        package var latencies: [Double]
        package var seconds: Double

        package init(latencies: [Double], seconds: Double) {
            self.latencies = latencies
            self.seconds = seconds
        }
    }

    package func run(_ request: @escaping @Sendable () async throws -> Void) async throws -> Outcome {
        try await run(on: []) { _ in try await request() }
    }

    /// Task `i` runs on `loops[i % loops.count]`; `request` is told which task calls it.
    package func run(on loops: [any EventLoop], _ request: @escaping @Sendable (Int) async throws -> Void) async throws -> Outcome
    {
        let clock = ContinuousClock()
        let start = clock.now
        let turns = Turns(total: total, until: seconds.map { start + .nanoseconds(Int64($0 * 1e9)) })
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for task in 0..<max(1, min(concurrency, total)) {
                let loop = loops.isEmpty ? nil : loops[task % loops.count]
                group.addTask(executorPreference: loop.map { EventLoopTaskExecutor($0) as any TaskExecutor }) {
                    var own: [Double] = []
                    while turns.take() {
                        let begin = clock.now
                        try await request(task)
                        own.append(Self.milliseconds(clock.now - begin))
                    }
                    return own
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return Outcome(latencies: latencies, seconds: Self.milliseconds(clock.now - start) / 1000)
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

/// The turns left to take, shared by the tasks of one run.
private final class Turns: Sendable {
    private let taken = Atomic<Int>(0)
    private let total: Int
    private let until: ContinuousClock.Instant?

    init(total: Int, until: ContinuousClock.Instant?) {
        self.total = total
        self.until = until
    }

    func take() -> Bool {
        if let until, ContinuousClock.now >= until { return false }
        return taken.wrappingAdd(1, ordering: .relaxed).oldValue < total
    }
}
