import ArgumentParser
import Foundation
import Glibc
import TritonPackKit

/// A comma-separated list of whole numbers (`1,2,4`), checked when the arguments are parsed.
struct NumberList: ExpressibleByArgument {
    var values: [Int]

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        values = Array(Set(parts.compactMap { $0 })).sorted()
    }
}

enum InstanceKindArgument: String, ExpressibleByArgument, CaseIterable {
    case cpu, gpu
    var configName: String { self == .gpu ? "KIND_GPU" : "KIND_CPU" }
}

enum OnOff: String, ExpressibleByArgument, CaseIterable { case on, off }

struct TuneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Find the instance_group and batching settings that serve a model best within a latency budget.",
        discussion: """
            One tritonserver serves the whole search. Each candidate config is linted first (a config Triton would refuse is never loaded nor proposed), loaded with a config override through the repository API, its answer checked, then timed in windows until three consecutive windows agree within 10% on throughput and p99. The repository is not changed unless --write is given; --write publishes the best config as one config change, keeping the config's comments.

            Exit 0 when a config was found (and written with --write), 1 when none was stable, correct and within the budget, 2 for a usage error, 3 when the server cannot be started, 130 after Ctrl-C (the report of what was measured is still written).

            Examples:
              tritonpack tune model_repository --model resnet --latency-budget-ms 50 --report tune.html
              tritonpack tune model_repository --model resnet --concurrency 8 --search brute --format json
              tritonpack tune s3://bucket/models --model resnet --instance-count 1,2 --write
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "The model repository (a folder or s3://bucket/prefix).", completion: .directory, transform: nonEmptyPath)
    var repository: String

    @Option(help: "The model to tune.")
    var model: String

    @Option(name: .customLong("latency-budget-ms"), help: "The p99 latency a proposed config must stay within, in milliseconds.")
    var latencyBudget: Double?

    @Option(help: "throughput (the most requests/s within the budget) or latency (the lowest p99).")
    var objective: TuneObjective = .throughput

    @Option(help: "quick (climb towards better neighbours) or brute (every point of the space).")
    var search: TuneSearch = .quick

    @Option(help: "Stop after this many measured trials.")
    var maxTrials: Int?

    @Flag(help: "Publish the best config to the repository (one config change).")
    var write = false

    @Option(help: "Instance counts to try (e.g. 1,2,4; one value pins it; default 1,2,3,4).")
    var instanceCount: NumberList?

    @Option(help: "Instance kind: cpu or gpu (default: gpu on a machine with a GPU, else cpu).")
    var kind: InstanceKindArgument?

    @Option(help: "max_batch_size values to try with dynamic batching (default: powers of two up to what the model takes).")
    var maxBatchSize: NumberList?

    @Option(help: "Pin dynamic batching on or off (default: both).")
    var dynamicBatching: OnOff?

    @Option(name: .customLong("queue-delay-us"), help: "max_queue_delay_microseconds values to try (default 0,1000).")
    var queueDelay: NumberList?

    @Option(help: "Client concurrencies to try (default 1,2,4,8,16).")
    var concurrency: NumberList?

    @Option(name: .customLong("window-ms"), help: "Length of one measurement window in milliseconds.")
    var window: Double = 1000

    @Option(help: "Windows per trial before it is reported unstable.")
    var maxWindows: Int = 10

    @Option(
        help: "Write an HTML report (chart of every trial, the proposed config as a diff) to this file.",
        completion: .file(extensions: ["html"]), transform: nonEmptyPath)
    var report: String?

    @Option(help: "text or json.")
    var format: Format = .text

    @OptionGroup var serving: ServingOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let latencyBudget, latencyBudget <= 0 { throw ValidationError("--latency-budget-ms must be > 0") }
        if let maxTrials, maxTrials < 1 { throw ValidationError("--max-trials must be >= 1") }
        if window < 50 { throw ValidationError("--window-ms must be >= 50") }
        if maxWindows < 3 { throw ValidationError("--max-windows must be >= 3 (three windows must agree)") }
        for (flag, list) in [
            ("--instance-count", instanceCount), ("--max-batch-size", maxBatchSize), ("--concurrency", concurrency),
        ] {
            if let list, list.values.contains(0) { throw ValidationError("\(flag) values must be >= 1") }
        }
    }

    func run() async throws {
        do {
            try await tune()
        } catch let error as TritonPackError {
            let error = ErrorHints.advised(error, command: "tune")
            guard format == .json else { throw error }
            try printJSON(JSONReport(ok: false, command: "tune", errors: ReportedProblem.all(error), payload: NoPayload()))
            printError(errorText(error))
            throw ReportedFailure(code: ExitStatus.code(for: error))
        }
    }

    private func tune() async throws {
        var options = TuneOptions(serving: try serving.smokeOptions(model: model), location: repository)
        options.objective = objective
        options.search = search
        options.latencyBudgetMilliseconds = latencyBudget
        options.maxTrials = maxTrials
        options.instanceCounts = instanceCount?.values
        options.kinds = kind.map { [$0.configName] }
        options.maxBatchSizes = maxBatchSize?.values
        options.dynamicBatching = dynamicBatching.map { $0 == .on }
        options.queueDelaysMicroseconds = queueDelay?.values
        options.concurrencies = concurrency?.values
        options.windowSeconds = window / 1000
        options.stability.maxWindows = maxWindows
        let showProgress = format == .text && !output.quiet && isatty(STDERR_FILENO) == 1
        let interruption = ServerInterruption<TuneReport> { interrupted in
            printError("tritonpack: \(interrupted.message); tritonserver killed, no report written")
            Glibc.exit(ExitStatus.code(for: interrupted))
        }
        let tuned = try await ModelRepository.named(repository).withLocalCopy(of: [model]) { local in
            options.serving.repository = local.root
            let run = Task { [options] in
                try await Tuner(options: options).run(
                    progress: { if showProgress { printError($0) } }, onServerStarted: { interruption.serverStarted($0) })
            }
            interruption.cancels(run)
            return try await run.value
        }
        var result = tuned
        if let report { try Data(TuneHTMLReport.render(result).utf8).write(to: URL(fileURLWithPath: report)) }
        if let interrupted = interruption.received {
            TunePrinter(output: output).printReport(result, format: format)
            printError("tritonpack: \(interrupted.message); tune stopped after \(result.trials.count) trials")
            throw ReportedFailure(code: ExitStatus.code(for: interrupted))
        }
        if write, result.best != nil {
            try await Tuner.write(result, to: repository)
            result.written = true
        }
        TunePrinter(output: output).printReport(result, format: format)
        if result.best == nil { throw ReportedFailure(status: .refused) }
    }
}
