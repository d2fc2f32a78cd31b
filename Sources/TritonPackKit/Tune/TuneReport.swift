import Foundation
import TritonPackBundle
import TritonPackLint
import TritonPackModels
import TritonPackServing

/// One measured (or refused) candidate: a config at a client concurrency.
public struct TuneTrial: Codable, Equatable, Sendable {
    public var instanceCount: Int
    public var kind: String
    public var maxBatchSize: Int
    public var dynamicBatching: Bool
    public var maxQueueDelayMicroseconds: Int
    public var concurrency: Int
    /// Requests per second, the mean of the accepted windows.
    public var throughput: Double
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    /// Three consecutive windows agreed within the tolerance on throughput and p99.
    public var stable: Bool
    /// The candidate config passed lint (no error); a refused one is neither loaded nor measured.
    public var linted: Bool
    public var loaded: Bool
    /// The answer matched `--expected` (or, without it, had the config's types and shapes).
    public var correct: Bool
    public var withinBudget: Bool
    public var windows: Int
    public var problems: [String]

    package init(_ point: TunePoint) {
        instanceCount = point.settings.instanceCount
        kind = point.settings.kind
        maxBatchSize = point.settings.maxBatchSize
        dynamicBatching = point.settings.dynamicBatching
        maxQueueDelayMicroseconds = point.settings.maxQueueDelayMicroseconds
        concurrency = point.concurrency
        throughput = 0
        p50Milliseconds = 0
        p99Milliseconds = 0
        stable = false
        linted = false
        loaded = false
        correct = false
        withinBudget = false
        windows = 0
        problems = []
    }

    public var settings: ServingSettings {
        ServingSettings(
            instanceCount: instanceCount, kind: kind, maxBatchSize: maxBatchSize, dynamicBatching: dynamicBatching,
            maxQueueDelayMicroseconds: maxQueueDelayMicroseconds)
    }

    /// Measured, answering right: a trial that may rank.
    public var measured: Bool { linted && loaded && correct && windows > 0 }

    /// May be proposed: measured, stable and within the budget.
    public var eligible: Bool { measured && stable && withinBudget }
}

/// How trials compare: eligible ones first, then the objective; a trial over the budget ranks
/// by its p99 (so a climb moves towards the budget); unmeasured ones last.
package struct TrialScore: Comparable {
    package var tier: Int
    package var value: Double
    /// Requests per second measured, whatever the objective.
    package var throughput: Double = 0

    /// Measured and within the budget (stable or not).
    package var withinBudget: Bool { tier >= 2 }

    package init(_ trial: TuneTrial, objective: TuneObjective) {
        if !trial.measured {
            tier = 0
            value = 0
        } else if !trial.withinBudget {
            tier = 1
            value = -trial.p99Milliseconds
        } else {
            tier = trial.stable ? 3 : 2
            value = objective == .throughput ? trial.throughput : -trial.p99Milliseconds
        }
        throughput = trial.throughput
    }

    package static func < (a: TrialScore, b: TrialScore) -> Bool { (a.tier, a.value) < (b.tier, b.value) }
    package static func == (a: TrialScore, b: TrialScore) -> Bool { (a.tier, a.value) == (b.tier, b.value) }
}

/// What tune found: every trial in the order run, the best, and the config it proposes.
public struct TuneReport: Encodable, Sendable {
    public var model: String
    public var device: String
    public var objective: TuneObjective
    public var search: TuneSearch
    public var latencyBudgetMilliseconds: Double?
    /// Distinct points of the space (brute force measures them all).
    public var spaceSize: Int
    public var trials: [TuneTrial] = []
    public var best: TuneTrial?
    /// The model's config as the repository has it, and with the best settings.
    public var currentConfig: String
    public var proposedConfig: String?
    /// The current config measured at the best trial's concurrency, for comparison.
    public var current: TuneTrial?
    public var written = false
    public var interrupted = false
    public var notes: [String] = []
    public var seconds: Double = 0

    /// Eligible trials, best first.
    public func ranked() -> [TuneTrial] {
        trials.filter(\.eligible).sorted { TrialScore($0, objective: objective) > TrialScore($1, objective: objective) }
    }

    package enum CodingKeys: String, CodingKey {
        case model, device, objective, search, latencyBudgetMilliseconds, spaceSize, trials, best, current
        case currentConfig, proposedConfig, written, interrupted, notes, seconds
    }
}
