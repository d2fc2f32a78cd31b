import Foundation
import TritonPackLint
import TritonPackRepository
import TritonPackServing

/// When a trial's measurement is accepted: the last `windows` windows each within `tolerance`
/// of their mean, for throughput and for p99 (perf_analyzer's rule with its defaults: three
/// windows, 10%), tried up to `maxWindows` windows before the trial is reported unstable.
public struct StabilityRule: Equatable, Sendable {
    public var windows = 3
    public var tolerance = 0.10
    public var maxWindows = 10

    public init(windows: Int = 3, tolerance: Double = 0.10, maxWindows: Int = 10) {
        self.windows = windows
        self.tolerance = tolerance
        self.maxWindows = maxWindows
    }

    package func isStable(_ measured: [LatencyReport]) -> Bool {
        guard measured.count >= windows else { return false }
        let last = measured.suffix(windows)
        return Self.agree(last.map(\.throughput), within: tolerance) && Self.agree(last.map(\.p99Milliseconds), within: tolerance)
    }

    package static func agree(_ values: [Double], within tolerance: Double) -> Bool {
        let mean = values.reduce(0, +) / Double(values.count)
        guard mean > 0 else { return values.allSatisfy { $0 == 0 } }
        return values.allSatisfy { abs($0 - mean) <= tolerance * mean }
    }
}

/// Times windows on one load session until the stability rule accepts the last ones.
package struct TrialMeasurement {
    package var rule: StabilityRule
    package var windowSeconds: Double

    package struct Result {
        package var throughput: Double
        package var p50Milliseconds: Double
        package var p99Milliseconds: Double
        package var stable: Bool
        package var windows: Int
    }

    package func measure(_ session: LoadSession) async throws -> Result {
        var reports: [LatencyReport] = []
        var outcomes: [TimedRequests.Outcome] = []
        // One window first that is not counted: the new instances warm up.
        _ = try await session.window(requests: Int.max, seconds: windowSeconds / 2)
        while reports.count < rule.maxWindows {
            try Task.checkCancellation()
            let outcome = try await session.window(requests: Int.max, seconds: windowSeconds)
            outcomes.append(outcome)
            reports.append(LatencyReport(outcome, concurrency: session.concurrency))
            if rule.isStable(reports) { break }
        }
        let stable = rule.isStable(reports)
        let accepted = outcomes.suffix(rule.windows)
        let merged = TimedRequests.Outcome(
            latencies: accepted.flatMap(\.latencies), seconds: accepted.reduce(0) { $0 + $1.seconds })
        let summary = LatencyReport(merged, concurrency: session.concurrency)
        return Result(
            throughput: summary.throughput, p50Milliseconds: summary.p50Milliseconds, p99Milliseconds: summary.p99Milliseconds,
            stable: stable, windows: reports.count)
    }
}
