import Foundation
import TritonPackModels

/// What tune maximises: requests per second within the latency budget, or the lowest p99.
public enum TuneObjective: String, Codable, Sendable, CaseIterable {
    case throughput
    case latency
}

/// How tune walks the space: every point, or a climb from the cheapest point towards better
/// neighbours (Model Analyzer's quick search is the same idea on the same axes).
public enum TuneSearch: String, Codable, Sendable, CaseIterable {
    case quick
    case brute
}

/// The server side of one candidate: the fields of the config that tune changes.
public struct ServingSettings: Hashable, Codable, Sendable {
    public var instanceCount: Int
    /// `KIND_CPU` or `KIND_GPU`.
    public var kind: String
    public var maxBatchSize: Int
    public var dynamicBatching: Bool
    public var maxQueueDelayMicroseconds: Int

    public init(instanceCount: Int, kind: String, maxBatchSize: Int, dynamicBatching: Bool, maxQueueDelayMicroseconds: Int) {
        self.instanceCount = instanceCount
        self.kind = kind
        self.maxBatchSize = maxBatchSize
        self.dynamicBatching = dynamicBatching
        self.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds
    }

    /// `config` with these settings: one instance group, the batch size, dynamic batching on
    /// (with the queue delay) or off. Everything else is kept.
    public func applied(to config: Inference_ModelConfig) -> Inference_ModelConfig {
        var config = config
        var group = Inference_ModelInstanceGroup()
        group.count = Int32(instanceCount)
        group.kind = kind == "KIND_GPU" ? .gpu : .cpu
        config.instanceGroup = [group]
        config.maxBatchSize = Int32(maxBatchSize)
        if dynamicBatching {
            var batching = config.usesDynamicBatching ? config.dynamicBatching : Inference_ModelDynamicBatching()
            batching.maxQueueDelayMicroseconds = UInt64(maxQueueDelayMicroseconds)
            batching.preferredBatchSize = batching.preferredBatchSize.filter { $0 <= maxBatchSize }
            config.dynamicBatching = batching
        } else if config.usesDynamicBatching {
            config.schedulingChoice = nil
        }
        return config
    }

    public var label: String {
        let batching = dynamicBatching ? "dynamic batching, delay \(maxQueueDelayMicroseconds) µs" : "no dynamic batching"
        return "\(instanceCount) x \(kind), max_batch_size \(maxBatchSize), \(batching)"
    }
}

/// One point of the search: a config and the client concurrency it is measured at.
public struct TunePoint: Hashable, Codable, Sendable {
    public var settings: ServingSettings
    public var concurrency: Int
}

/// The axes tune searches, each in increasing order of cost; a single value pins an axis.
public struct TuneSpace: Equatable, Sendable {
    public var instanceCounts: [Int]
    public var kinds: [String]
    /// The sizes tried with dynamic batching on (empty when the model cannot batch).
    public var maxBatchSizes: [Int]
    /// The max_batch_size written when dynamic batching is off (the model's own, or 0).
    public var unbatchedMaxBatchSize: Int
    /// Dynamic batching off (nil) or on with a queue delay in microseconds.
    public var batching: [Int?]
    public var concurrencies: [Int]

    public init(
        instanceCounts: [Int], kinds: [String], maxBatchSizes: [Int], unbatchedMaxBatchSize: Int, batching: [Int?],
        concurrencies: [Int]
    ) {
        self.instanceCounts = instanceCounts
        self.kinds = kinds
        self.maxBatchSizes = maxBatchSizes
        self.unbatchedMaxBatchSize = unbatchedMaxBatchSize
        self.batching = batching
        self.concurrencies = concurrencies
    }

    /// Indices into the axes: instance count, kind, batching mode, batch size, concurrency.
    package struct Coordinates: Hashable {
        package var values: [Int]
    }

    package var axisSizes: [Int] {
        [instanceCounts.count, kinds.count, batching.count, max(1, maxBatchSizes.count), concurrencies.count]
    }

    package func point(_ coordinates: Coordinates) -> TunePoint {
        let c = coordinates.values
        let delay = batching[c[2]]
        let batched = delay != nil && !maxBatchSizes.isEmpty
        let settings = ServingSettings(
            instanceCount: instanceCounts[c[0]], kind: kinds[c[1]],
            maxBatchSize: batched ? maxBatchSizes[c[3]] : unbatchedMaxBatchSize, dynamicBatching: batched,
            maxQueueDelayMicroseconds: batched ? delay! : 0)
        return TunePoint(settings: settings, concurrency: concurrencies[c[4]])
    }

    /// Every distinct point, grouped by config (so each config is loaded once) in axis order.
    public var allPoints: [TunePoint] {
        var seen = Set<TunePoint>()
        var points: [TunePoint] = []
        func walk(_ prefix: [Int]) {
            if prefix.count == axisSizes.count {
                let point = point(Coordinates(values: prefix))
                if seen.insert(point).inserted { points.append(point) }
                return
            }
            for index in 0..<axisSizes[prefix.count] { walk(prefix + [index]) }
        }
        walk([])
        return points
    }

    /// The distinct configs of the space.
    public var configCount: Int { Set(allPoints.map(\.settings)).count }

    package var origin: Coordinates { Coordinates(values: axisSizes.map { _ in 0 }) }

    package static let concurrencyAxis = 4

    /// The points one step away along one axis (but `fixed`): every step up, then every step down.
    package func neighbours(of coordinates: Coordinates, fixing fixed: Int? = nil) -> [Coordinates] {
        var result: [Coordinates] = []
        for step in [1, -1] {
            for (axis, size) in axisSizes.enumerated() where axis != fixed {
                let value = coordinates.values[axis] + step
                guard value >= 0 && value < size else { continue }
                var next = coordinates
                next.values[axis] = value
                result.append(next)
            }
        }
        return result
    }
}

extension Inference_ModelConfig {
    package var usesDynamicBatching: Bool {
        if case .dynamicBatching = schedulingChoice { return true }
        return false
    }

    package var usesSequenceBatching: Bool {
        if case .sequenceBatching = schedulingChoice { return true }
        return false
    }
}
