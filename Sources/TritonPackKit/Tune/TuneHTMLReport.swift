import Foundation
import TritonPackModels

/// `--report FILE.html`: every trial on a throughput-against-p99 chart (inline SVG, no script,
/// nothing fetched), the ranked table, and the proposed config as a diff against the current one.
public enum TuneHTMLReport {
    public static func render(_ report: TuneReport) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>tritonpack tune \(XMLText.escaped(report.model))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
            td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}th{background:#f4f4f4}
            td:first-child,th:first-child{text-align:left}.best{background:#e8f5e9}
            pre{background:#f8f8f8;padding:1em;overflow:auto}.add{color:#1b5e20;background:#e8f5e9}
            .del{color:#b71c1c;background:#ffebee}
            </style></head><body>
            <h1>tune \(XMLText.escaped(report.model))</h1>

            """
        let budget = report.latencyBudgetMilliseconds.map { String(format: "p99 budget %.2f ms", $0) } ?? "no latency budget"
        html += "<p>\(XMLText.escaped(report.device)); objective \(report.objective.rawValue), \(budget); "
        html += "\(report.search.rawValue) search: \(report.trials.count) trials of a space of \(report.spaceSize)"
        html += String(format: ", %.0f s", report.seconds) + (report.interrupted ? "; <b>interrupted</b>" : "") + ".</p>\n"
        for note in report.notes { html += "<p>note: \(XMLText.escaped(note))</p>\n" }
        html += chart(report)
        html += table(report)
        if let proposed = report.proposedConfig {
            html += "<h2>Proposed config</h2>\n<pre>\(diff(from: report.currentConfig, to: proposed))</pre>\n"
        } else {
            html += "<h2>No config proposed</h2><p>No trial was measured, stable, correct and within the budget.</p>\n"
        }
        return html + "</body></html>\n"
    }

    package static func chart(_ report: TuneReport) -> String {
        let measured = report.trials.filter(\.measured)
        guard !measured.isEmpty else { return "<p>No trial was measured.</p>\n" }
        let width = 640.0
        let height = 400.0
        let margin = 50.0
        let maxX = max(measured.map(\.p99Milliseconds).max() ?? 1, report.latencyBudgetMilliseconds ?? 0) * 1.1
        let maxY = (measured.map(\.throughput).max() ?? 1) * 1.1
        func x(_ value: Double) -> Double { margin + value / maxX * (width - 2 * margin) }
        func y(_ value: Double) -> Double { height - margin - value / maxY * (height - 2 * margin) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">\n"
        svg +=
            "<line x1=\"\(margin)\" y1=\"\(height - margin)\" x2=\"\(width - margin)\" y2=\"\(height - margin)\" stroke=\"#444\"/>\n"
        svg += "<line x1=\"\(margin)\" y1=\"\(margin)\" x2=\"\(margin)\" y2=\"\(height - margin)\" stroke=\"#444\"/>\n"
        svg += "<text x=\"\(width / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">p99 latency (ms)</text>\n"
        svg +=
            "<text x=\"14\" y=\"\(height / 2)\" transform=\"rotate(-90 14 \(height / 2))\" text-anchor=\"middle\">throughput (requests/s)</text>\n"
        for tick in 0...4 {
            let xValue = maxX * Double(tick) / 4
            let yValue = maxY * Double(tick) / 4
            svg += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%.1f</text>\n", x(xValue),
                height - margin + 14, xValue)
            svg += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.0f</text>\n", margin - 4,
                y(yValue) + 3,
                yValue)
        }
        if let budget = report.latencyBudgetMilliseconds {
            svg += String(
                format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c62828\" stroke-dasharray=\"4\"/>\n",
                x(budget),
                margin, x(budget), height - margin)
        }
        for trial in measured {
            let isBest = trial == report.best
            let colour = isBest ? "#2e7d32" : trial.eligible ? "#1565c0" : "#9e9e9e"
            svg += String(
                format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%@\"><title>%@</title></circle>\n",
                x(trial.p99Milliseconds), y(trial.throughput), isBest ? 7 : 4, colour,
                XMLText.escaped("\(trial.settings.label), concurrency \(trial.concurrency)"))
        }
        return svg + "</svg>\n"
    }

    package static func table(_ report: TuneReport) -> String {
        var html = "<h2>Trials</h2>\n<table><tr><th>rank</th><th>instances</th><th>max_batch_size</th>"
        html +=
            "<th>dynamic batching</th><th>queue delay µs</th><th>concurrency</th><th>requests/s</th><th>p99 ms</th><th>notes</th></tr>\n"
        let ranked = report.ranked()
        let ordered = ranked + report.trials.filter { !$0.eligible }
        for trial in ordered {
            let rank = ranked.firstIndex(of: trial).map { String($0 + 1) } ?? "-"
            html += "<tr\(trial == report.best ? " class=\"best\"" : "")><td>\(rank)</td>"
            html += "<td>\(trial.instanceCount) x \(trial.kind)</td><td>\(trial.maxBatchSize)</td>"
            html += "<td>\(trial.dynamicBatching ? "on" : "off")</td><td>\(trial.maxQueueDelayMicroseconds)</td>"
            html += "<td>\(trial.concurrency)</td>"
            html += String(format: "<td>%.1f</td><td>%.2f</td>", trial.throughput, trial.p99Milliseconds)
            html += "<td>\(XMLText.escaped(trial.problems.joined(separator: "; ")))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// A line diff (`-`/`+` lines marked) of two config texts.
    static func diff(from old: String, to new: String) -> String {
        let before = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in after.difference(from: before) {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var lines: [String] = []
        var oldIndex = 0
        var newIndex = 0
        while oldIndex < before.count || newIndex < after.count {
            if oldIndex < before.count && removed.contains(oldIndex) {
                lines.append("<span class=\"del\">- \(XMLText.escaped(before[oldIndex]))</span>")
                oldIndex += 1
            } else if newIndex < after.count && inserted.contains(newIndex) {
                lines.append("<span class=\"add\">+ \(XMLText.escaped(after[newIndex]))</span>")
                newIndex += 1
            } else {
                if newIndex < after.count { lines.append("  \(XMLText.escaped(after[newIndex]))") }
                oldIndex += 1
                newIndex += 1
            }
        }
        return lines.joined(separator: "\n")
    }

}
