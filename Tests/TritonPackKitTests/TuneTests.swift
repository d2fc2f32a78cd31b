import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class TuneTests: XCTestCase {
    let commented = """
        # served by the python backend
        backend: "python"
        max_batch_size: 8  # rows per request at most
        input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
        output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
        # one instance for now
        instance_group [ { count: 1 kind: KIND_CPU } ]
        instance_group { count: 1 kind: KIND_CPU }
        parameters: { key: "per_call_ms" value: { string_value: "20" } }

        """

    func testEditedConfigKeepsCommentsAndChangesOnlyTheTunedFields() throws {
        let settings = ServingSettings(
            instanceCount: 3, kind: "KIND_CPU", maxBatchSize: 4, dynamicBatching: true, maxQueueDelayMicroseconds: 500)
        let edited = try settings.edited(commented)
        XCTAssertTrue(edited.contains("# served by the python backend"), edited)
        XCTAssertTrue(edited.contains("# one instance for now"), edited)
        XCTAssertTrue(edited.contains("parameters: { key: \"per_call_ms\""), edited)
        XCTAssertFalse(edited.contains("rows per request at most"), "the replaced field's line goes with it")
        let parsed = try Inference_ModelConfig.parse(edited).message
        XCTAssertEqual(parsed.instanceGroup.map(\.count), [3])
        XCTAssertEqual(parsed.maxBatchSize, 4)
        XCTAssertEqual(parsed.dynamicBatching.maxQueueDelayMicroseconds, 500)
        XCTAssertEqual(parsed.input, try Inference_ModelConfig.parse(commented).message.input)
    }

    func testTurningDynamicBatchingOffRemovesIt() throws {
        let text = commented + "dynamic_batching { max_queue_delay_microseconds: 100 }\n"
        let settings = ServingSettings(
            instanceCount: 1, kind: "KIND_CPU", maxBatchSize: 8, dynamicBatching: false, maxQueueDelayMicroseconds: 0)
        let parsed = try Inference_ModelConfig.parse(try settings.edited(text)).message
        XCTAssertFalse(parsed.usesDynamicBatching)
        XCTAssertEqual(parsed.instanceGroup.count, 1)
    }

    func testSpaceHasOnlyTheHostsKindAndBatchSizesTheModelTakes() throws {
        var config = try Inference_ModelConfig.parse(commented).message
        let options = TuneOptions(serving: SmokeOptions(repository: URL(fileURLWithPath: "/r"), model: "m"), location: "/r")
        let space = try options.space(config: config, batchLimit: 8, clientBatch: 1, gpus: [])
        XCTAssertEqual(space.kinds, ["KIND_CPU"])
        XCTAssertEqual(space.maxBatchSizes, [2, 4, 8])
        XCTAssertEqual(space.batching, [nil, 0, 1000])
        // 4 instance counts x (off + 3 sizes x 2 delays) x 5 concurrencies
        XCTAssertEqual(space.allPoints.count, 4 * 7 * 5)
        XCTAssertTrue(space.allPoints.allSatisfy { $0.settings.maxBatchSize <= 8 })
        var gpu = options
        gpu.kinds = ["KIND_GPU"]
        XCTAssertThrowsError(try gpu.space(config: config, batchLimit: 8, clientBatch: 1, gpus: []))
        config.maxBatchSize = 0
        let unbatched = try options.space(config: config, batchLimit: 0, clientBatch: 1, gpus: [])
        XCTAssertEqual(unbatched.batching, [nil])
        XCTAssertTrue(unbatched.allPoints.allSatisfy { !$0.settings.dynamicBatching && $0.settings.maxBatchSize == 0 })
    }

    func testStabilityNeedsThreeWindowsWithinTenPercent() {
        func window(_ throughput: Double, _ p99: Double) -> LatencyReport {
            LatencyReport(
                requests: 1, concurrency: 1, p50Milliseconds: p99, p90Milliseconds: p99, p99Milliseconds: p99,
                throughput: throughput)
        }
        let rule = StabilityRule()
        XCTAssertFalse(rule.isStable([window(100, 10), window(100, 10)]))
        XCTAssertTrue(rule.isStable([window(50, 30), window(100, 10), window(105, 10.5), window(96, 9.6)]))
        XCTAssertFalse(rule.isStable([window(100, 10), window(120, 10), window(100, 10)]))
        XCTAssertFalse(rule.isStable([window(100, 10), window(100, 13), window(100, 10)]))
    }

    /// A model of the batch_cost sample (20 ms per call, 1 ms per row) served on `instances`
    /// instances: requests/s and p99 of a point, as queueing arithmetic says.
    func modelled(_ point: TunePoint, budget: Double?) -> TuneTrial {
        let s = point.settings
        let perInstance = max(1, Double(point.concurrency) / Double(s.instanceCount))
        let batch = s.dynamicBatching ? min(Double(s.maxBatchSize), perInstance) : 1
        let callSeconds =
            0.020 + 0.001 * batch + Double(s.maxQueueDelayMicroseconds) / 1e6 * (batch < Double(s.maxBatchSize) ? 1 : 0)
        let busy = min(Double(s.instanceCount), Double(point.concurrency))
        var trial = TuneTrial(point)
        trial.throughput = busy * batch / callSeconds
        trial.p99Milliseconds = Double(point.concurrency) / trial.throughput * 1000
        trial.linted = true
        trial.loaded = true
        trial.correct = true
        trial.stable = true
        trial.windows = 3
        trial.withinBudget = budget.map { trial.p99Milliseconds <= $0 } ?? true
        return trial
    }

    func testQuickSearchReachesTheBruteForceBestWithAQuarterOfItsTrials() async throws {
        let config = try Inference_ModelConfig.parse(commented).message
        let options = TuneOptions(serving: SmokeOptions(repository: URL(fileURLWithPath: "/r"), model: "m"), location: "/r")
        let space = try options.space(config: config, batchLimit: 8, clientBatch: 1, gpus: [])
        for budget in [nil, 60.0, 25.0] {
            var best: [TuneSearch: Double] = [:]
            var trials: [TuneSearch: Int] = [:]
            for search in TuneSearch.allCases {
                var measured: [TuneTrial] = []
                try await TuneSearchStrategy(space: space, search: search, maxTrials: nil).run { point in
                    let trial = modelled(point, budget: budget)
                    measured.append(trial)
                    return TrialScore(trial, objective: .throughput)
                }
                trials[search] = measured.count
                best[search] = measured.filter(\.eligible).map(\.throughput).max() ?? 0
            }
            XCTAssertEqual(trials[.brute], space.allPoints.count)
            XCTAssertGreaterThan(best[.brute]!, 0)
            XCTAssertGreaterThanOrEqual(best[.quick]!, 0.95 * best[.brute]!, "budget \(String(describing: budget))")
            XCTAssertLessThanOrEqual(
                Double(trials[.quick]!), 0.25 * Double(trials[.brute]!), "budget \(String(describing: budget))")
        }
    }

    func testMaxTrialsStopsTheSearch() async throws {
        let config = try Inference_ModelConfig.parse(commented).message
        let options = TuneOptions(serving: SmokeOptions(repository: URL(fileURLWithPath: "/r"), model: "m"), location: "/r")
        let space = try options.space(config: config, batchLimit: 8, clientBatch: 1, gpus: [])
        for search in TuneSearch.allCases {
            var count = 0
            try await TuneSearchStrategy(space: space, search: search, maxTrials: 5).run { point in
                count += 1
                return TrialScore(modelled(point, budget: nil), objective: .throughput)
            }
            XCTAssertEqual(count, 5)
        }
    }
}
