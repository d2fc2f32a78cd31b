import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Synchronization
import TritonPackKit

struct SmokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smoke",
        abstract: "Serve a model in a real tritonserver, send requests, check the answers, report latency.",
        discussion: """
            Exit 0 when the model loads and every check passes, 1 when a check fails or the model does not load, \
            2 for a usage error, 3 when the server cannot be started.

            Examples:
              tritonpack smoke model_repository --model resnet
              tritonpack smoke model_repository --model resnet --inputs golden/in --expected golden/out --cpu
              tritonpack smoke model_repository --model resnet --requests 1000 --concurrency 4 --format junit > smoke.xml
              tritonpack smoke model_repository --model resnet --protocol grpc --requests 1000 --concurrency 8
              tritonpack smoke model_repository --model streamer --protocol grpc --expected golden/responses --inputs golden/in
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, junit }

    @Argument(help: "The model repository.", completion: .directory, transform: nonEmptyPath)
    var repository: String

    @Option(help: "The model to test.")
    var model: String

    @Option(help: "For a decoupled model (--protocol grpc): how many responses each request must get.")
    var responses: Int?

    @Option(help: "Timed requests.")
    var requests: Int = 100

    @Option(help: "Requests in flight at once.")
    var concurrency: Int = 1

    @Flag(help: "Without a GPU, run a temporary KIND_CPU copy of a KIND_GPU model.")
    var cpu = false

    @Option(help: "text, json or junit.")
    var format: Format = .text

    @OptionGroup var serving: ServingOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if requests < 1 { throw ValidationError("--requests must be >= 1") }
        if concurrency < 1 { throw ValidationError("--concurrency must be >= 1") }
        if let responses, responses < 0 { throw ValidationError("--responses must be >= 0") }
        if model.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("the model name is empty") }
    }

    func run() async throws {
        do {
            try await smoke()
        } catch let error as TritonPackError {
            let error = ErrorHints.advised(error, command: "smoke")
            guard format != .text else { throw error }
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
            print(SmokeReport.junitOfFailedSetup(model: model, message: message), terminator: "")
        }
    }

    static func reportAndExit(_ interruption: TritonPackError, model: String, format: Format) -> Never {
        let message = "\(interruption.message); tritonserver stopped, the smoke test did not finish"
        try? printFailure(message, model: model, format: format)
        printError("tritonpack: \(message)")
        Glibc.exit(ExitStatus.code(for: interruption))
    }

    private func smoke() async throws {
        var options = try serving.smokeOptions(model: model, repository: repository)
        options.requests = requests
        options.concurrency = concurrency
        options.cpu = cpu
        options.responses = responses
        let interruption = ServerInterruption<SmokeReport> { [format, model] in
            Self.reportAndExit($0, model: model, format: format)
        }
        let run = Task { [options] in
            try await SmokeTest(options: options).run(onServerStarted: { interruption.serverStarted($0) })
        }
        interruption.cancels(run)
        let report: SmokeReport
        do {
            report = try await run.value
        } catch {
            if let interrupted = interruption.received { Self.reportAndExit(interrupted, model: model, format: format) }
            throw error
        }
        if let interrupted = interruption.received { Self.reportAndExit(interrupted, model: model, format: format) }
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
