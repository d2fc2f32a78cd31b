import Foundation
import TritonPackModels
import TritonPackServing

/// What `tune` searches and how; an axis given one value is pinned.
public struct TuneOptions: Sendable {
    /// How the model is served and checked: the server, inputs, expected outputs, tolerances,
    /// runtime and timeout, as for smoke.
    public var serving: SmokeOptions
    /// Where the repository lives (a local path or `s3://`); `--write` publishes there.
    public var location: String
    public var objective: TuneObjective = .throughput
    public var search: TuneSearch = .quick
    public var latencyBudgetMilliseconds: Double?
    public var maxTrials: Int?
    public var write = false
    public var instanceCounts: [Int]?
    public var kinds: [String]?
    public var maxBatchSizes: [Int]?
    /// Pins dynamic batching on (true) or off (false).
    public var dynamicBatching: Bool?
    public var queueDelaysMicroseconds: [Int]?
    public var concurrencies: [Int]?
    public var windowSeconds: Double = 1
    public var stability = StabilityRule()
    /// Where to write the HTML report (also after an interruption).
    public var reportFile: URL?

    public init(serving: SmokeOptions, location: String) {
        self.serving = serving
        self.location = location
    }

    public static let defaultInstanceCounts = [1, 2, 3, 4]
    public static let defaultConcurrencies = [1, 2, 4, 8, 16]
    public static let defaultQueueDelaysMicroseconds = [0, 1000]
    /// The largest batch tried for a model whose first dimension is free (Model Analyzer's default).
    public static let dynamicBatchLimit = 128

    /// The space for a model whose config is `config` on a host with `gpus`: `batchLimit` is the
    /// largest batch the model takes and `clientBatch` the batch of each request.
    public func space(config: Inference_ModelConfig, batchLimit: Int, clientBatch: Int, gpus: [String]) throws -> TuneSpace {
        let kinds = self.kinds ?? [gpus.isEmpty ? "KIND_CPU" : "KIND_GPU"]
        if kinds.contains("KIND_GPU") && gpus.isEmpty {
            throw TritonPackError.usage("--kind gpu: this machine has no GPU, so a KIND_GPU instance cannot be measured here")
        }
        var sizes: [Int] = []
        if config.usesSequenceBatching && (dynamicBatching == true || maxBatchSizes != nil) {
            throw TritonPackError.usage(
                "model '\(serving.model)' uses sequence batching: tune keeps its scheduler and max_batch_size and searches instances and concurrency only"
            )
        }
        if config.maxBatchSize > 0 && !config.usesSequenceBatching {
            if let pinned = maxBatchSizes {
                if let small = pinned.first(where: { $0 < clientBatch }) {
                    throw TritonPackError.usage(
                        "--max-batch-size \(small) is smaller than the batch of each request (\(clientBatch), from the inputs)")
                }
                sizes = pinned.sorted()
            } else {
                var size = max(2, clientBatch)
                while size <= batchLimit {
                    sizes.append(size)
                    size *= 2
                }
                if batchLimit >= max(2, clientBatch) && sizes.last != batchLimit { sizes.append(batchLimit) }
            }
        }
        var batching: [Int?] = []
        let delays = (queueDelaysMicroseconds ?? Self.defaultQueueDelaysMicroseconds).sorted()
        if dynamicBatching != true { batching.append(nil) }
        if dynamicBatching != false && !sizes.isEmpty { batching += delays.map { Optional($0) } }
        if batching.isEmpty {
            throw TritonPackError.usage(
                "--dynamic-batching on: model '\(serving.model)' has max_batch_size 0 (it does not batch), so there is nothing to batch"
            )
        }
        return TuneSpace(
            instanceCounts: (instanceCounts ?? Self.defaultInstanceCounts).sorted(), kinds: kinds, maxBatchSizes: sizes,
            unbatchedMaxBatchSize: Int(config.maxBatchSize), batching: batching,
            concurrencies: (concurrencies ?? Self.defaultConcurrencies).sorted())
    }
}
