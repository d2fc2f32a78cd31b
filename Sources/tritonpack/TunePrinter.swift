import Foundation
import TritonPackKit

/// tune's result as a ranked table (text) or the JSON report.
struct TunePrinter {
    var output: OutputOptions

    func printReport(_ report: TuneReport, format: TuneCommand.Format) {
        switch format {
        case .json:
            let errors = report.best == nil ? [ReportedProblem(message: noWinner(report))] : []
            try? printJSON(
                JSONReport(ok: report.best != nil && !report.interrupted, command: "tune", errors: errors, payload: report))
        case .text:
            print(text(report), terminator: "")
        }
    }

    func noWinner(_ report: TuneReport) -> String {
        "no config was measured stable, answering right and within the budget (\(report.trials.count) trials)"
    }

    func text(_ report: TuneReport) -> String {
        let budget = report.latencyBudgetMilliseconds.map { String(format: ", p99 budget %.2f ms", $0) } ?? ""
        var lines = [
            "tune \(report.model) on \(report.device): \(report.objective.rawValue)\(budget), \(report.search.rawValue) search, \(report.trials.count) of \(report.spaceSize) points in \(Int(report.seconds.rounded())) s"
                + (report.interrupted ? " (interrupted)" : "")
        ]
        if !output.quiet {
            for note in report.notes { lines.append("  note: \(note)") }
            lines.append("  rank  instances   max_batch  dyn.batching  delay µs  conc.    req/s    p99 ms")
            let ranked = report.ranked()
            for (index, trial) in ranked.prefix(output.verbose ? ranked.count : 10).enumerated() {
                lines.append(
                    String(
                        format: "  %4d  %-10@  %9d  %-12@  %8d  %5d  %7.1f  %8.2f", index + 1,
                        "\(trial.instanceCount) x \(trial.kind == "KIND_GPU" ? "GPU" : "CPU")", trial.maxBatchSize,
                        trial.dynamicBatching ? "on" : "off", trial.maxQueueDelayMicroseconds, trial.concurrency,
                        trial.throughput,
                        trial.p99Milliseconds))
            }
            let excluded = report.trials.filter { !$0.eligible }
            if !excluded.isEmpty {
                lines.append(
                    "  \(excluded.count) trial(s) not ranked: over budget, unstable, refused by lint, not loaded or answering wrong"
                )
            }
            if output.verbose {
                for trial in excluded {
                    lines.append(
                        "    \(trial.settings.label), concurrency \(trial.concurrency): \(trial.problems.joined(separator: "; "))"
                    )
                }
            }
        }
        guard let best = report.best else {
            lines.append("  FAILED: \(noWinner(report))")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append(
            String(
                format: "  best: %@ at concurrency %d: %.1f requests/s, p99 %.2f ms", best.settings.label, best.concurrency,
                best.throughput, best.p99Milliseconds))
        if let current = report.current {
            lines.append(
                String(
                    format: "  current config at concurrency %d: %.1f requests/s, p99 %.2f ms", current.concurrency,
                    current.throughput,
                    current.p99Milliseconds))
        }
        if !output.quiet, let proposed = report.proposedConfig {
            lines.append(report.written ? "  written to config.pbtxt:" : "  proposed config (--write publishes it):")
            lines += proposed.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
