import Synchronization

/// `total` calls of `request`, at most `concurrency` at a time: that many child tasks of one task
/// group take numbered turns until none are left. The first failure cancels the other tasks
/// (and with them their requests in flight) and is thrown.
struct TimedRequests: Sendable {
    var total: Int
    var concurrency: Int

    struct Outcome: Sendable {
        /// Each request's latency in milliseconds, in no particular order.
        var latencies: [Double]
        var seconds: Double
    }

    func run(_ request: @escaping @Sendable () async throws -> Void) async throws -> Outcome {
        let turns = Turns(total: total)
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<max(1, min(concurrency, total)) {
                group.addTask {
                    var own: [Double] = []
                    while turns.take() {
                        let begin = clock.now
                        try await request()
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

    init(total: Int) { self.total = total }

    func take() -> Bool { taken.wrappingAdd(1, ordering: .relaxed).oldValue < total }
}
