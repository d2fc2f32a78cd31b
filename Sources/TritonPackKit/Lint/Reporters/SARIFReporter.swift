import Foundation

/// Renders a lint report for people or for tools.
public enum LintReporter {
    /// Compiler-style lines, then a summary line.
    public static func text(_ report: LintReport) -> String {
        var lines = report.diagnostics.map(\.compilerStyle)
        let infos = report.diagnostics.count - report.errorCount - report.warningCount
        lines.append(
            "\(report.models.count) model(s): \(report.errorCount) error(s), \(report.warningCount) warning(s), \(infos) info")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `ok` is what the exit status says (it depends on --strict); errors and warnings repeat the
    /// diagnostics of those severities, as every command's JSON has them.
    public static func json(_ report: LintReport, ok: Bool? = nil) throws -> String {
        struct Output: Encodable {
            var ok: Bool
            var command = "lint"
            var path: String
            var models: [String]
            var summary: [String: Int]
            var diagnostics: [Diagnostic]
            var errors: [Diagnostic]
            var warnings: [Diagnostic]
        }
        let output = Output(
            ok: ok ?? (report.errorCount == 0), path: report.path, models: report.models,
            summary: [
                Severity.error.rawValue: report.errorCount, Severity.warning.rawValue: report.warningCount,
                Severity.info.rawValue: report.diagnostics.count - report.errorCount - report.warningCount,
            ],
            diagnostics: report.diagnostics,
            errors: report.diagnostics.filter { $0.severity == .error },
            warnings: report.diagnostics.filter { $0.severity == .warning })
        return try encode(output)
    }

    /// SARIF 2.1.0, for code-scanning views.
    public static func sarif(_ report: LintReport) throws -> String {
        struct Message: Encodable { var text: String }
        struct Rule: Encodable {
            struct Configuration: Encodable { var level: String }
            var id: String
            var name: String
            var shortDescription: Message
            var fullDescription: Message
            var defaultConfiguration: Configuration
        }
        struct Region: Encodable {
            var startLine: Int
            var startColumn: Int?
        }
        struct ArtifactLocation: Encodable { var uri: String }
        struct PhysicalLocation: Encodable {
            var artifactLocation: ArtifactLocation
            var region: Region?
        }
        struct Location: Encodable { var physicalLocation: PhysicalLocation }
        struct Result: Encodable {
            var ruleId: String
            var level: String
            var message: Message
            var locations: [Location]
        }
        struct Driver: Encodable {
            var name = "tritonpack"
            var version = TritonPack.version
            var informationUri = "https://github.com/triton-inference-server/server"
            var rules: [Rule]
        }
        struct Tool: Encodable { var driver: Driver }
        struct Run: Encodable {
            var tool: Tool
            var results: [Result]
            var originalUriBaseIds: [String: ArtifactLocation]
        }
        struct Log: Encodable {
            var version = "2.1.0"
            var schema = "https://json.schemastore.org/sarif-2.1.0.json"
            var runs: [Run]
            enum CodingKeys: String, CodingKey {
                case version
                case schema = "$schema"
                case runs
            }
        }
        func level(_ severity: Severity) -> String {
            switch severity {
            case .error: "error"
            case .warning: "warning"
            case .info: "note"
            }
        }
        var rules = RuleRegistry.all.map { rule -> Rule in
            let description = rule.description
            return Rule(
                id: description.identifier, name: description.name,
                shortDescription: Message(text: description.name), fullDescription: Message(text: description.summary),
                defaultConfiguration: .init(level: level(description.severity)))
        }
        rules.append(
            Rule(
                id: "repository-path", name: "Repository path", shortDescription: Message(text: "Repository path"),
                fullDescription: Message(text: "The linted path must be a directory."),
                defaultConfiguration: .init(level: "error")))
        let results = report.diagnostics.map { diagnostic in
            Result(
                ruleId: diagnostic.rule, level: level(diagnostic.severity), message: Message(text: diagnostic.message),
                locations: [
                    Location(
                        physicalLocation: PhysicalLocation(
                            artifactLocation: ArtifactLocation(uri: diagnostic.file ?? "."),
                            region: diagnostic.line.map { Region(startLine: $0, startColumn: diagnostic.column) }))
                ])
        }
        let base = URL(fileURLWithPath: report.path, isDirectory: true).absoluteString
        let log = Log(
            runs: [
                Run(
                    tool: Tool(driver: Driver(rules: rules)), results: results,
                    originalUriBaseIds: ["SRCROOT": ArtifactLocation(uri: base)])
            ])
        return try encode(log)
    }

    /// The rule reference (docs/lint-rules.md), generated from the rules' own metadata.
    public static func ruleReference() -> String {
        var text = """
            # Lint rules

            Generated by `tritonpack rules` from each rule's metadata; the examples are the rule's tests.
            Severity: `error` = Triton refuses to load the model (or crashes, or, for a model cross-check,
            serves garbage); `warning` = Triton loads it but it is almost certainly wrong; `info` = advice.
            Catalog ids refer to the rule catalog of Triton's load-time checks (L = layout, P = parsing,
            N = normalization, R = core validation, O = ONNX Runtime backend).
            "Reproduces" names the Triton (or backend) source each rule follows; where the source and the
            2.51 server disagree, the server's behaviour wins and the rule says it was seen there.

            Configs reported to crash Triton 2.51 (a warmup batch above max_batch_size; a ragged input with
            a BATCH_ACCUMULATED_ELEMENT_COUNT batch input whose target is also a regular input and a batch
            output; dynamic batching with three priority levels, a max_queue_size-only default policy and
            a DELAY policy for level 1) were loaded into the real 2.51 server, with their variants, in both
            modes and at start-up. The warmup batch above max_batch_size is refused in some runs and kills
            the server while loading in others (both seen here; the oracle test loads it last and counts
            a load without an HTTP answer as not served); lint reports it as an error either way. The other two
            load, so no rule flags them (oracle cases `warmup_batch_over_max`,
            `valid_ragged_batch_input_output`, `valid_priority_delay_policy`).


            """
        for rule in RuleRegistry.all {
            let description = rule.description
            text += "## `\(description.identifier)`: \(description.name)\n\n"
            text += "Severity: **\(description.severity.rawValue)**"
            if !description.catalog.isEmpty { text += " · catalog: \(description.catalog.joined(separator: ", "))" }
            text += "\n\n\(description.summary)\n\n"
            if let message = description.tritonMessage { text += "Triton's wording: `\(message)`\n\n" }
            if !description.tritonSource.isEmpty {
                text += "Reproduces: " + description.tritonSource.joined(separator: "; ") + "\n\n"
            }
            for (title, examples) in [("Triggers", description.triggering), ("Does not trigger", description.nonTriggering)]
            where !examples.isEmpty {
                text += "\(title):\n\n"
                for example in examples {
                    let config = example.files["config.pbtxt"].map { "config.pbtxt: " + $0.replacingOccurrences(of: "\n", with: " ") }
                    let files = example.files.keys.filter { $0 != "config.pbtxt" }.sorted().joined(separator: ", ")
                    var parts = ["model `\(example.model)`"]
                    if let config { parts.append("`\(config)`") }
                    if !files.isEmpty { parts.append("files: \(files)") }
                    if !example.otherModels.isEmpty { parts.append("with models \(example.otherModels.keys.sorted().joined(separator: ", "))") }
                    if let gpus = example.gpus { parts.append("--gpus \(gpus)") }
                    if !example.autoComplete { parts.append("--disable-auto-complete-config") }
                    text += "- " + parts.joined(separator: "; ") + "\n"
                }
                text += "\n"
            }
        }
        return text
    }

    private static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
