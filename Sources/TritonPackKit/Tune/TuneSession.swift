import Foundation
import TritonPackLint
import TritonPackModels
import TritonPackRepository
import TritonPackServing

/// The search on one running server: candidates linted, loaded with a config override, checked
/// and timed. Used from one task at a time (`@unchecked`: `whileServing` runs its steps in a
/// child task while the parent waits).
package final class TuneSession: @unchecked Sendable {
    private let options: TuneOptions
    private let smoke: SmokeTest
    private let server: TritonServer
    private let userConfig: Inference_ModelConfig
    private let servedConfig: Inference_ModelConfig
    private let inputs: [(String, TensorData)]
    private let progress: @Sendable (String) -> Void
    /// This machine's GPU count, for lint's GPU checks.
    private let gpus: Int
    /// What lint, the load and the checked request said of each config tried.
    private var verdicts: [ServingSettings: Verdict] = [:]
    /// The config the server holds now (nil: the model is not loaded, or holds the current config).
    private var loaded: ServingSettings?
    /// Where the checked and timed requests go (`--protocol`); model control is over HTTP.
    private var endpoint = InferenceEndpoint(.http, port: 0)

    package struct Verdict {
        package var linted = false
        package var loaded = false
        package var correct = false
        package var problems: [String] = []
        package var usable: Bool { linted && loaded && correct }
    }

    package init(
        options: TuneOptions, smoke: SmokeTest, server: TritonServer, userConfig: Inference_ModelConfig,
        servedConfig: Inference_ModelConfig, inputs: [(String, TensorData)], gpus: Int,
        progress: @escaping @Sendable (String) -> Void
    ) {
        self.gpus = gpus
        self.options = options
        self.smoke = smoke
        self.server = server
        self.userConfig = userConfig
        self.servedConfig = servedConfig
        self.inputs = inputs
        self.progress = progress
    }

    private var model: String { options.serving.model }
    private var timeout: TimeInterval { options.serving.timeout }

    /// Runs the search over `space`, recording every trial in `report` as it ends, then the best.
    package func search(_ space: TuneSpace, into report: inout TuneReport) async throws {
        let (endpoint, httpPort) = try await server.waitForEndpoint(options.serving.protocol, timeout: timeout)
        self.endpoint = endpoint
        try await InferenceClient.withClient(port: httpPort, connections: 2, timeout: timeout) { client in
            try await server.waitUntilLive(client: client, timeout: timeout)
            let strategy = TuneSearchStrategy(space: space, search: options.search, maxTrials: options.maxTrials)
            var trials = report.trials
            defer { report.trials = trials }
            // Trials of an earlier server (one that exited) count as measured.
            let known = Dictionary(trials.map { (TunePoint(settings: $0.settings, concurrency: $0.concurrency), $0) }) { a, _ in a
            }
            try await strategy.run { point in
                if let trial = known[point] { return TrialScore(trial, objective: options.objective) }
                let trial: TuneTrial
                do {
                    trial = try await self.trial(point, client: client)
                } catch let exited as ServerExited {
                    trials.append(exited.trial)
                    throw exited
                }
                trials.append(trial)
                progress(Self.describe(trial, number: trials.count))
                return TrialScore(trial, objective: options.objective)
            }
            report.trials = trials
            guard let best = report.ranked().first else { return }
            report.best = best
            report.proposedConfig = try best.settings.edited(report.currentConfig)
            report.current = try await current(at: best.concurrency, client: client)
        }
    }

    /// The server exited during `trial`, which records it.
    package struct ServerExited: Error {
        package var trial: TuneTrial
        package var log: [String]
    }

    /// One point, or `ServerExited` when the server went away during it.
    package func trial(_ point: TunePoint, client: InferenceClient) async throws -> TuneTrial {
        do {
            // The server's Python stubs inherit its sockets, so a request to a server that died can
            // wait for its timeout: each step races the server's exit.
            return try await SmokeTest.whileServing(server) { try await self.measuredTrial(point, client: client) }
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            // A refused connection is often the first sign of a server going down: give it a moment.
            for _ in 0..<20 where server.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            guard !server.isRunning else { throw error }
            var trial = TuneTrial(point)
            let log = Array(server.errorLines().suffix(3))
            trial.problems = ["tritonserver exited during this trial\(log.isEmpty ? "" : ": " + log.joined(separator: "; "))"]
            throw ServerExited(trial: trial, log: log)
        }
    }

    /// Its config's verdict, then (for a config that loads and answers right) its timing.
    private func measuredTrial(_ point: TunePoint, client: InferenceClient) async throws -> TuneTrial {
        var trial = TuneTrial(point)
        let verdict = try await prepare(point.settings, client: client)
        trial.linted = verdict.linted
        trial.loaded = verdict.loaded
        trial.correct = verdict.correct
        trial.problems = verdict.problems
        guard verdict.usable else { return trial }
        do {
            let result = try await measure(concurrency: point.concurrency, client: client)
            record(result, in: &trial)
            if !result.stable {
                trial.problems.append(
                    "unstable: \(options.stability.windows) consecutive windows did not agree within \(Int(options.stability.tolerance * 100))% in \(result.windows) windows"
                )
            }
        } catch {
            if Task.isCancelled || error is CancellationError || !server.isRunning { throw error }
            trial.problems.append("request failed: \(error)")
        }
        return trial
    }

    /// The verdict on `settings` (decided once), with the config loaded when it is usable.
    private func prepare(_ settings: ServingSettings, client: InferenceClient) async throws -> Verdict {
        if let known = verdicts[settings] {
            if known.usable && loaded != settings { try await load(settings, client: client) }
            return known
        }
        let verdict = try await decide(settings, client: client)
        verdicts[settings] = verdict
        return verdict
    }

    /// Lints the candidate made from the user's config, loads the served form of it, checks one answer.
    private func decide(_ settings: ServingSettings, client: InferenceClient) async throws -> Verdict {
        var verdict = Verdict()
        let candidate = Array(settings.applied(to: userConfig).pbtxt.utf8)
        let lint = Linter(options: LintOptions(gpus: gpus)).lint(
            model: model, in: options.serving.repository, configText: candidate)
        let errors = lint.filter { $0.severity == .error }
        verdict.problems += errors.map { "lint \($0.rule): \($0.message)" }
        verdict.linted = errors.isEmpty
        guard verdict.linted else { return verdict }
        do {
            try await load(settings, client: client)
            verdict.loaded = true
        } catch let error as TritonPackError where error.kind == .refused {
            verdict.problems.append(error.message)
            return verdict
        }
        let served = settings.applied(to: servedConfig)
        let answer: [String: TensorData]
        do {
            answer =
                try await SmokeTest.checkedAnswers(request, endpoint: endpoint, client: client, timeout: timeout).first ?? [:]
        } catch let error as TritonPackError where server.isRunning {
            verdict.problems.append("request failed: \(error.message)")
            return verdict
        }
        let checks = try smoke.check(answer, config: served, batch: inputs.first?.1.shape.first)
        verdict.problems += checks.flatMap { check in check.problems.map { "\(check.name): \($0)" } }
        verdict.correct = checks.allSatisfy(\.problems.isEmpty)
        return verdict
    }

    /// Loads the served config with `settings` (nil: the current config) through the repository API.
    private func load(_ settings: ServingSettings?, client: InferenceClient) async throws {
        let response = try await client.load(model, config: settings.map { $0.applied(to: servedConfig) } ?? servedConfig)
        loaded = settings
        guard response.status == 200 else {
            loaded = nil
            let lines = server.errorLines(mentioning: model).suffix(2)
            throw TritonPackError.refused(
                nil,
                "tritonserver did not load the candidate: \(BinaryTensorCodec.errorMessage(response.body))\(lines.isEmpty ? "" : " (\(lines.joined(separator: "; ")))")"
            )
        }
    }

    /// The request every check and timed window sends.
    private var request: InferenceRequest {
        InferenceRequest(model: model, version: options.serving.version, inputs: inputs, outputs: servedConfig.output.map(\.name))
    }

    private func measure(concurrency: Int, client: InferenceClient) async throws -> TrialMeasurement.Result {
        let session = try await LoadSession.open(
            endpoint, request: request, concurrency: concurrency, timeout: timeout, loops: client.loops)
        return try await LoadSession.with(session) { session in
            try await TrialMeasurement(rule: options.stability, windowSeconds: options.windowSeconds).measure(session)
        }
    }

    /// A measurement's figures on its trial, and whether they fit the budget.
    private func record(_ result: TrialMeasurement.Result, in trial: inout TuneTrial) {
        trial.throughput = result.throughput
        trial.p50Milliseconds = result.p50Milliseconds
        trial.p99Milliseconds = result.p99Milliseconds
        trial.stable = result.stable
        trial.windows = result.windows
        trial.withinBudget = options.latencyBudgetMilliseconds.map { result.p99Milliseconds <= $0 } ?? true
    }

    /// The current config, measured at `concurrency` for comparison with the best.
    private func current(at concurrency: Int, client: InferenceClient) async throws -> TuneTrial? {
        try await load(nil, client: client)
        var trial = TuneTrial(TunePoint(settings: ServingSettings(describing: userConfig), concurrency: concurrency))
        trial.linted = true
        trial.loaded = true
        trial.correct = true
        record(try await measure(concurrency: concurrency, client: client), in: &trial)
        return trial
    }

    package static func describe(_ trial: TuneTrial, number: Int) -> String {
        let head = "trial \(number): \(trial.settings.label), concurrency \(trial.concurrency)"
        guard trial.measured else { return "\(head): \(trial.problems.first ?? "not measured")" }
        return head
            + String(
                format: ": %.1f requests/s, p99 %.2f ms%@%@", trial.throughput, trial.p99Milliseconds,
                trial.stable ? "" : " (unstable)", trial.withinBudget ? "" : " (over budget)")
    }
}

extension ServingSettings {
    /// The settings a config has now, as far as tune's fields describe them (all its groups'
    /// instances counted together, the first group's kind).
    package init(describing config: Inference_ModelConfig) {
        let groups = config.instanceGroup
        self.init(
            instanceCount: groups.isEmpty ? 1 : groups.reduce(0) { $0 + Int(max($1.count, 1)) },
            kind: groups.first?.kind == .gpu ? "KIND_GPU" : "KIND_CPU", maxBatchSize: Int(config.maxBatchSize),
            dynamicBatching: config.usesDynamicBatching,
            maxQueueDelayMicroseconds: Int(config.dynamicBatching.maxQueueDelayMicroseconds))
    }
}
