/// Which points a search measures, in order, given how each measured point scored.
///
/// Quick search climbs over the configs (instance count, kind, batching, max_batch_size). A
/// config's score is the best of a concurrency sweep that starts where the best config so far did
/// best, goes up while throughput gains at least `saturation` within the budget, and down while
/// p99 is over the budget. From the cheapest config it moves to the first neighbour (one step on
/// one axis, steps up first) that does better, and stops when none does.
package struct TuneSearchStrategy {
    package var space: TuneSpace
    package var search: TuneSearch
    package var maxTrials: Int?
    /// A sweep stops when the next concurrency adds less than this share of throughput.
    package var saturation = 0.05

    /// Runs the search; `evaluate` measures a point and scores it.
    package func run(_ evaluate: (TunePoint) async throws -> TrialScore) async throws {
        var scores: [TunePoint: TrialScore] = [:]
        var budgetLeft: Bool { maxTrials.map { scores.count < $0 } ?? true }
        func score(_ point: TunePoint) async throws -> TrialScore? {
            if let known = scores[point] { return known }
            guard budgetLeft else { return nil }
            let value = try await evaluate(point)
            scores[point] = value
            return value
        }
        switch search {
        case .brute:
            for point in space.allPoints {
                guard try await score(point) != nil else { return }
            }
        case .quick:
            var sweeps: [ServingSettings: (score: TrialScore, concurrency: Int)] = [:]
            /// The best of `coordinates`' config over concurrencies, starting at index `start`: up
            /// while throughput grows, down while p99 is over the budget.
            func sweep(_ coordinates: TuneSpace.Coordinates, from start: Int) async throws -> (
                score: TrialScore, concurrency: Int
            )? {
                let settings = space.point(coordinates).settings
                if let known = sweeps[settings] { return known }
                var best: (score: TrialScore, concurrency: Int)?
                var index = start
                var direction = 0
                var previousThroughput = 0.0
                while space.concurrencies.indices.contains(index) {
                    var at = coordinates
                    at.values[TuneSpace.concurrencyAxis] = index
                    guard let value = try await score(space.point(at)) else { break }
                    if best == nil || value > best!.score { best = (value, index) }
                    // Refused by lint, not loaded or answering wrong: so at every concurrency.
                    if value.tier == 0 { break }
                    // Within the budget, stable or not: one noisy trial does not end a sweep.
                    let fits = value.withinBudget
                    if direction == 0 { direction = fits || index == 0 ? 1 : -1 }
                    if direction > 0 && (!fits || value.throughput < previousThroughput * (1 + saturation)) { break }
                    if direction < 0 && fits { break }
                    previousThroughput = value.throughput
                    index += direction
                }
                if let best { sweeps[settings] = best }
                return best
            }
            var current = space.origin
            guard var currentBest = try await sweep(current, from: 0) else { return }
            climbing: while budgetLeft {
                for neighbour in space.neighbours(of: current, fixing: TuneSpace.concurrencyAxis) {
                    guard let found = try await sweep(neighbour, from: currentBest.concurrency) else { return }
                    if found.score > currentBest.score {
                        current = neighbour
                        currentBest = found
                        continue climbing
                    }
                }
                return
            }
        }
    }
}
