import Foundation
import TritonPackModels
import TritonPackRepository

/// SARIF 2.1.0 for code-scanning views. Each result's file is relative to `%SRCROOT%`, which
/// `originalUriBaseIds` gives as the linted folder's file URI, so a viewer places results even when
/// the repository is not at the root of the checkout.
public struct SARIFReporter: LintReporter {
    public static let baseId = "%SRCROOT%"

    public init() {}

    public func render(_ report: LintReport) throws -> String {
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
        struct ArtifactLocation: Encodable {
            var uri: String
            var uriBaseId: String?
        }
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
        func location(_ file: String?) -> ArtifactLocation {
            guard let file, !file.isEmpty else { return ArtifactLocation(uri: ".", uriBaseId: Self.baseId) }
            if file.hasPrefix("/") { return ArtifactLocation(uri: URL(fileURLWithPath: file).absoluteString) }
            let relative = file.split(separator: "/").map {
                String($0).addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0)
            }
            return ArtifactLocation(uri: relative.joined(separator: "/"), uriBaseId: Self.baseId)
        }
        let results = report.diagnostics.map { diagnostic in
            Result(
                ruleId: diagnostic.rule, level: level(diagnostic.severity), message: Message(text: diagnostic.message),
                locations: [
                    Location(
                        physicalLocation: PhysicalLocation(
                            artifactLocation: location(diagnostic.file),
                            region: diagnostic.line.map { Region(startLine: $0, startColumn: diagnostic.column) }))
                ])
        }
        let base = URL(fileURLWithPath: report.path, isDirectory: true).absoluteString
        let log = Log(
            runs: [
                Run(
                    tool: Tool(driver: Driver(rules: rules)), results: results,
                    originalUriBaseIds: [Self.baseId: ArtifactLocation(uri: base)])
            ])
        return try ReportEncoding.json(log)
    }
}
