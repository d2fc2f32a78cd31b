import ArgumentParser
import Dispatch
import Foundation
import Glibc
import TritonPackKit

/// The server of the smoke test in progress, stopped when the user interrupts tritonpack.
private final class RunningServer: @unchecked Sendable {
    static let shared = RunningServer()
    private let lock = NSLock()
    private var server: TritonServer?
    private var sources: [DispatchSourceSignal] = []

    func set(_ server: TritonServer) {
        lock.lock()
        self.server = server
        lock.unlock()
    }

    func installHandlers() {
        for signal in [SIGINT, SIGTERM] {
            Glibc.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { [weak self] in
                self?.lock.lock()
                let server = self?.server
                self?.lock.unlock()
                server?.stop(grace: 10)
                printError("interrupted: tritonserver stopped")
                exit(128 + signal)
            }
            source.resume()
            sources.append(source)
        }
    }
}

struct SmokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smoke",
        abstract: "Serve a model in a real tritonserver, send requests, check the answers, report latency.",
        discussion: """
            Exit 0 when the model loads and every check passes, 1 when a check fails or the model does not load,
            2 for a usage error, 3 when the server cannot be started.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, junit }

    @Argument(help: "The model repository.")
    var repository: String

    @Option(help: "The model to test.")
    var model: String

    @Option(help: "The version to send requests to (default: the server's choice).")
    var version: Int64?

    @Option(help: "The tritonserver executable (default: $TRITONSERVER, PATH, or the project's own).")
    var server: String?

    @Option(help: "A folder of <name>.npy or INPUT_<k>.npy inputs (default: seeded synthetic data).")
    var inputs: String?

    @Option(help: "A folder of <name>.npy or OUTPUT_<k>.npy expected outputs.")
    var expected: String?

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-3

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-3

    @Option(help: "Timed requests.")
    var requests: Int = 100

    @Option(help: "Requests in flight at once.")
    var concurrency: Int = 1

    @Flag(help: "Without a GPU, run a temporary KIND_CPU copy of a KIND_GPU model.")
    var cpu = false

    @Option(help: "Seconds to wait for the server and for each request.")
    var timeout: Double = 120

    @Option(parsing: .singleValue, help: "NAME=D,D,... dims for an input's -1 dimensions (synthetic inputs).")
    var shape: [String] = []

    @Flag(help: "Accept NaN and Inf in float outputs.")
    var allowNonFinite = false

    @Option(help: "text, json or junit.")
    var format: Format = .text

    @Option(
        help: ArgumentHelp(
            "How to execute a OneFlow model: auto, oneflow-backend or oneflow-python.",
            discussion: "auto uses the server's oneflow backend when it has one, else OneFlow's own runtime (a Python 3.7-3.10 with oneflow==0.9.0) through a Python-backend model."))
    var runtime: SmokeRuntime = .auto

    @Option(help: "Keep the server's log in this file.")
    var serverLog: String?

    @Option(help: "The Python that has OneFlow, for the oneflow-python runtime (default: $TRITONPACK_ONEFLOW_PYTHON, then the one `make setup` installs).")
    var oneflowPython: String?

    func validate() throws {
        if requests < 1 { throw ValidationError("--requests must be >= 1") }
        if concurrency < 1 { throw ValidationError("--concurrency must be >= 1") }
        if rtol < 0 || atol < 0 { throw ValidationError("tolerances must be >= 0") }
    }

    func run() async throws {
        var options = SmokeOptions(repository: URL(fileURLWithPath: repository), model: model)
        options.version = version
        options.server = server
        options.inputs = inputs.map { URL(fileURLWithPath: $0) }
        options.expected = expected.map { URL(fileURLWithPath: $0) }
        options.rtol = rtol
        options.atol = atol
        options.requests = requests
        options.concurrency = concurrency
        options.cpu = cpu
        options.timeout = timeout
        options.allowNonFinite = allowNonFinite
        options.runtime = runtime
        options.oneflowPython = oneflowPython
        options.serverLog = serverLog.map { URL(fileURLWithPath: $0) }
        for item in shape {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--shape '\(item)' is not NAME=D,D,...") }
            let dims = parts[1].split(separator: ",").compactMap { Int64($0) }
            guard !dims.isEmpty, dims.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--shape '\(item)': dims must be >= 1") }
            options.shapes[String(parts[0])] = dims
        }
        // Handlers go in after the server starts: it must not inherit ignored SIGINT/SIGTERM.
        let report = try await SmokeTest(options: options).run(onServerStarted: {
            RunningServer.shared.set($0)
            RunningServer.shared.installHandlers()
        })
        switch format {
        case .json: try printJSON(report)
        case .junit: print(report.junit, terminator: "")
        case .text: print(text(report), terminator: "")
        }
        if !report.passed { throw ReportedFailure(status: .refused) }
    }

    func text(_ report: SmokeReport) -> String {
        var lines = ["smoke \(report.model) on \(report.device): \(report.passed ? "PASSED" : "FAILED")"]
        if let runtime = report.runtime { lines.append("  runtime: \(runtime.name) (\(runtime.reason))") }
        for note in report.notes { lines.append("  note: \(note)") }
        for output in report.outputs {
            var line = "  \(output.name): \(output.dataType ?? "?") \(output.shape.map { "\($0)" } ?? "")"
            if let error = output.maxAbsoluteError { line += String(format: ", max abs error %.3g, max rel error %.3g", error, output.maxRelativeError ?? 0) }
            if let mismatches = output.mismatches { line += ", \(mismatches) mismatches" }
            if let carries = output.carries { line += ", carries the expected \(carries)" }
            lines.append(line)
        }
        if let latency = report.latency {
            lines.append(String(
                format: "  latency over %d requests at concurrency %d: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms; %.1f requests/s",
                latency.requests, latency.concurrency, latency.p50Milliseconds, latency.p90Milliseconds,
                latency.p99Milliseconds, latency.throughput))
            if let count = latency.serverInferenceCount, let compute = latency.serverAverageComputeMicroseconds {
                lines.append(String(format: "  server: %d inferences, %.1f µs average compute", count, compute))
            }
        }
        for failure in report.failures { lines.append("  FAILED: \(failure)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension SmokeRuntime: ExpressibleByArgument {}
