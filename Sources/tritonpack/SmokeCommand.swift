import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Synchronization
import TritonPackKit

/// SIGINT and SIGTERM during a smoke test: the run's task is cancelled (its requests in flight
/// with it), the run stops its server, and the command reports the interruption. Should the run
/// not end within `patience`, the server's group is killed and tritonpack exits anyway.
private final class SmokeInterruption: Sendable {
    private struct State {
        var run: Task<SmokeReport, any Error>?
        var server: TritonServer?
        var signal: Int32?
    }

    private let state = Mutex(State())
    /// Kept alive while the command runs; set once, by `serverStarted`.
    nonisolated(unsafe) private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "tritonpack.smoke.signals")
    private let format: SmokeCommand.Format
    private let model: String
    private let patience: TimeInterval = 30

    init(format: SmokeCommand.Format, model: String) {
        self.format = format
        self.model = model
    }

    var received: TritonPackError? { state.withLock { $0.signal }.map { TritonPackError.interrupted(by: $0) } }

    func cancels(_ run: Task<SmokeReport, any Error>) { state.withLock { $0.run = run } }

    /// Called once the server runs: it must not inherit ignored SIGINT and SIGTERM, so the
    /// handlers go in only now.
    func serverStarted(_ server: TritonServer) {
        state.withLock { $0.server = server }
        for signal in [SIGINT, SIGTERM] {
            Glibc.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler { [self] in interrupted(by: signal) }
            source.resume()
            sources.append(source)
        }
    }

    private func interrupted(by signal: Int32) {
        let run = state.withLock { state -> Task<SmokeReport, any Error>? in
            guard state.signal == nil else { return nil }
            state.signal = signal
            return state.run
        }
        run?.cancel()
        queue.asyncAfter(deadline: .now() + patience) { [self] in
            state.withLock { $0.server }?.killGroup()
            reportAndExit(TritonPackError.interrupted(by: signal))
        }
    }

    func reportAndExit(_ interruption: TritonPackError) -> Never {
        let message = "\(interruption.message); tritonserver stopped, the smoke test did not finish"
        try? SmokeCommand.printFailure(message, model: model, format: format)
        printError("tritonpack: \(message)")
        exit(ExitStatus.code(for: interruption))
    }
}

struct SmokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smoke",
        abstract: "Serve a model in a real tritonserver, send requests, check the answers, report latency.",
        discussion: """
            Exit 0 when the model loads and every check passes, 1 when a check fails or the model does not load,
            2 for a usage error, 3 when the server cannot be started.

            Examples:
              tritonpack smoke model_repository --model resnet
              tritonpack smoke model_repository --model resnet --inputs golden/in --expected golden/out --cpu
              tritonpack smoke model_repository --model resnet --requests 1000 --concurrency 4 --format junit > smoke.xml
              tritonpack smoke model_repository --model resnet --protocol grpc --requests 1000 --concurrency 8
              tritonpack smoke model_repository --model streamer --protocol grpc --expected golden/responses --inputs golden/in
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, junit }

    @Argument(help: "The model repository.", transform: nonEmptyPath)
    var repository: String

    @Option(help: "The model to test.")
    var model: String

    @Option(help: "The model version to send requests to (default: the server's choice).", transform: parseModelVersion)
    var modelVersion: Int64?

    @Option(help: "The tritonserver executable (default: $TRITONSERVER, PATH, or the project's own).", transform: nonEmptyPath)
    var server: String?

    @Option(help: "A folder of <name>.npy or INPUT_<k>.npy inputs (default: seeded synthetic data).", transform: nonEmptyPath)
    var inputs: String?

    @Option(
        help: ArgumentHelp(
            "A folder of <name>.npy or OUTPUT_<k>.npy expected outputs.",
            discussion:
                "For a decoupled model, a folder of one folder per response, named 0, 1, 2, ... in the order the responses arrive, each holding that response's expected outputs; the model must send as many responses as there are folders."
        ), transform: nonEmptyPath)
    var expected: String?

    @Option(
        help: ArgumentHelp(
            "http or grpc: how the checked and timed requests reach the server.",
            discussion:
                "grpc speaks KServe v2 gRPC (GRPCInferenceService, raw tensor contents) to a gRPC endpoint the server binds on a loopback port of its own; a decoupled model's responses are streamed (ModelStreamInfer) up to the final one. A decoupled model needs grpc. Loading the model and reading its statistics go over HTTP either way."
        ))
    var `protocol`: ServingProtocol = .http

    @Option(help: "For a decoupled model (--protocol grpc): how many responses each request must get.")
    var responses: Int?

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

    @OptionGroup var output: OutputOptions

    @Option(
        help: ArgumentHelp(
            "How to execute a OneFlow model: auto, oneflow-backend or oneflow-python.",
            discussion:
                "auto uses the server's oneflow backend when it has one, else OneFlow's own runtime (a Python 3.7-3.10 with oneflow==0.9.0) through a Python-backend model."
        ))
    var runtime: SmokeRuntime = .auto

    @Option(help: "Keep the server's log in this file.", transform: nonEmptyPath)
    var serverLog: String?

    @Option(
        help:
            "The Python that has OneFlow, for the oneflow-python runtime (default: $TRITONPACK_ONEFLOW_PYTHON, then the one `make setup` installs)."
    )
    var oneflowPython: String?

    func validate() throws {
        if requests < 1 { throw ValidationError("--requests must be >= 1") }
        if concurrency < 1 { throw ValidationError("--concurrency must be >= 1") }
        if let responses, responses < 0 { throw ValidationError("--responses must be >= 0") }
        if rtol < 0 || atol < 0 { throw ValidationError("tolerances must be >= 0") }
        if model.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("the model name is empty") }
    }

    func run() async throws {
        do {
            try await smoke()
        } catch let error as TritonPackError where format != .text {
            try Self.printFailure(error.description, model: model, format: format, problem: ReportedProblem.all(error)[0])
            printError(errorText(error))
            throw ReportedFailure(code: ExitStatus.code(for: error))
        } catch let error as ValidationError where format != .text {
            try Self.printFailure(error.message, model: model, format: format)
            throw error
        }
    }

    /// An early failure (unknown model, no server...) in the requested format, so CI has a report to read.
    static func printFailure(_ message: String, model: String, format: Format, problem: ReportedProblem? = nil) throws {
        switch format {
        case .text: break
        case .json:
            try printJSON(
                JSONReport(
                    ok: false, command: "smoke", errors: [problem ?? ReportedProblem(message: message)], payload: NoPayload()))
        case .junit:
            print(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="tritonpack smoke \(xmlEscaped(model))" tests="1" failures="1" time="0">
                  <testcase classname="\(xmlEscaped(model))" name="setup" time="0">
                    <failure message="\(xmlEscaped(message))">\(xmlEscaped(message))</failure>
                  </testcase>
                </testsuite>
                """)
        }
    }

    private static func xmlEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private func smoke() async throws {
        var options = SmokeOptions(repository: URL(fileURLWithPath: repository), model: model)
        options.version = modelVersion
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
        options.protocol = `protocol`
        options.responses = responses
        for item in shape {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--shape '\(item)' is not NAME=D,D,...") }
            let dims = parts[1].split(separator: ",").compactMap { Int64($0) }
            guard !dims.isEmpty, dims.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("--shape '\(item)': dims must be >= 1")
            }
            options.shapes[String(parts[0])] = dims
        }
        let interruption = SmokeInterruption(format: format, model: model)
        let run = Task { [options] in
            try await SmokeTest(options: options).run(onServerStarted: { interruption.serverStarted($0) })
        }
        interruption.cancels(run)
        let report: SmokeReport
        do {
            report = try await run.value
        } catch {
            if let interrupted = interruption.received { interruption.reportAndExit(interrupted) }
            throw error
        }
        if let interrupted = interruption.received { interruption.reportAndExit(interrupted) }
        switch format {
        case .json:
            let errors = report.failures.map { ReportedProblem(message: $0) }
            try printJSON(JSONReport(ok: report.passed, command: "smoke", errors: errors, payload: report))
        case .junit: print(report.junit, terminator: "")
        case .text: print(text(report), terminator: "")
        }
        if !report.passed { throw ReportedFailure(status: .refused) }
    }

    func text(_ report: SmokeReport) -> String {
        var lines = ["smoke \(report.model) on \(report.device): \(report.passed ? "PASSED" : "FAILED")"]
        if let runtime = report.runtime { lines.append("  runtime: \(runtime.name) (\(runtime.reason))") }
        if report.protocol != .http { lines.append("  protocol: \(report.protocol.rawValue)") }
        if let responses = report.responses { lines.append("  responses: \(responses) to the checked request") }
        for note in report.notes { lines.append("  note: \(note)") }
        for output in report.outputs {
            var line = "  \(output.label): \(output.dataType ?? "?") \(output.shape.map { "\($0)" } ?? "")"
            if let error = output.maxAbsoluteError {
                line += String(format: ", max abs error %.3g, max rel error %.3g", error, output.maxRelativeError ?? 0)
            }
            if let mismatches = output.mismatches { line += ", \(mismatches) mismatches" }
            if let carries = output.carries { line += ", carries the expected \(carries)" }
            lines.append(line)
        }
        if let latency = report.latency {
            lines.append(
                String(
                    format:
                        "  latency over %d requests at concurrency %d: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms; %.1f requests/s",
                    latency.requests, latency.concurrency, latency.p50Milliseconds, latency.p90Milliseconds,
                    latency.p99Milliseconds, latency.throughput))
            if let count = latency.serverInferenceCount, let compute = latency.serverAverageComputeMicroseconds {
                lines.append(String(format: "  server: %d inferences, %.1f µs average compute", count, compute))
            }
        }
        if output.quiet { lines = [lines[0]] }
        for failure in report.failures { lines.append("  FAILED: \(failure)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension SmokeRuntime: ExpressibleByArgument {}
extension ServingProtocol: ExpressibleByArgument {}
