import Foundation
import TritonPackModels

/// Which rules a lint reports: all, or only `select`, less `ignore` (rule ids, as ruff and
/// SwiftLint take them), so a team can adopt the linter rule by rule.
public struct RuleSelection: Equatable, Sendable {
    public var select: [String]?
    public var ignore: [String]

    public init(select: [String]? = nil, ignore: [String] = []) {
        self.select = select
        self.ignore = ignore
    }

    /// Every id a diagnostic can carry.
    public static var knownIdentifiers: [String] { RuleRegistry.all.map(\.description.identifier) + ["repository-path"] }

    /// Refuses an id no rule has (a typo would otherwise silence nothing, or everything).
    public func validate(source: String) throws {
        let known = Set(Self.knownIdentifiers)
        for id in (select ?? []) + ignore where !known.contains(id) {
            throw TritonPackError.usage("\(source): unknown rule '\(id)'; `tritonpack rules` lists the rules")
        }
    }

    public func includes(_ rule: String) -> Bool {
        (select.map { $0.contains(rule) } ?? true) && !ignore.contains(rule)
    }

    public func apply(to report: LintReport) -> LintReport {
        var report = report
        report.diagnostics = report.diagnostics.filter { includes($0.rule) }
        return report
    }

    /// Ids given as repeated options and/or comma-separated lists.
    public static func identifiers(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// `tritonpack.json`: the lint settings a repository carries, found in the linted folder (or, for a
/// model folder, the repository above it) or given with `--config-file`. Command-line flags override it.
///
///     {"lint": {"select": ["io-config"], "ignore": ["oneflow-instances"], "strict": true}}
public struct LintConfiguration: Equatable, Sendable {
    public static let fileName = "tritonpack.json"

    public var selection = RuleSelection()
    public var strict = false
    /// The file it was read from; nil when there is none.
    public var file: String?

    public init(selection: RuleSelection = RuleSelection(), strict: Bool = false, file: String? = nil) {
        self.selection = selection
        self.strict = strict
        self.file = file
    }

    /// The configuration for linting `path`: the given file, else the first `tritonpack.json` in
    /// `path` or its parent folder, else the defaults.
    public static func load(for path: URL, explicit: URL? = nil) throws -> LintConfiguration {
        if let explicit {
            guard POSIXFiles.isRegularFile(explicit.path) else {
                throw TritonPackError.usage("--config-file \(explicit.path) is not a file")
            }
            return try read(explicit)
        }
        let folder = path.absoluteURL.standardizedFileURL
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let file = candidate.appendingPathComponent(fileName)
            if POSIXFiles.isRegularFile(file.path) { return try read(file) }
        }
        return LintConfiguration()
    }

    private struct FileContents: Decodable {
        struct Lint: Decodable {
            var select: [String]?
            var ignore: [String]?
            var strict: Bool?
        }
        var lint: Lint?
    }

    public static func read(_ file: URL) throws -> LintConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw TritonPackError.io(file.path, "cannot read: \(error.localizedDescription)")
        }
        let contents: FileContents
        do {
            let object = try JSONSerialization.jsonObject(with: data)
            guard let top = object as? [String: Any] else { throw TritonPackError.usage("\(file.path): expected a JSON object") }
            try refuseUnknownKeys(Set(top.keys), allowed: ["lint"], in: file, section: nil)
            if let lint = top["lint"] as? [String: Any] {
                try refuseUnknownKeys(Set(lint.keys), allowed: ["select", "ignore", "strict"], in: file, section: "lint")
            }
            contents = try JSONDecoder().decode(FileContents.self, from: data)
        } catch let error as TritonPackError {
            throw error
        } catch {
            throw TritonPackError.usage("\(file.path): not a valid \(fileName): \(error.localizedDescription)")
        }
        let selection = RuleSelection(select: contents.lint?.select, ignore: contents.lint?.ignore ?? [])
        try selection.validate(source: file.path)
        return LintConfiguration(selection: selection, strict: contents.lint?.strict ?? false, file: file.path)
    }

    private static func refuseUnknownKeys(_ keys: Set<String>, allowed: Set<String>, in file: URL, section: String?) throws {
        guard let unknown = keys.subtracting(allowed).sorted().first else { return }
        let place = section.map { "in \"\($0)\"" } ?? "at the top level"
        throw TritonPackError.usage(
            "\(file.path): unknown key \"\(unknown)\" \(place); expected \(allowed.sorted().map { "\"\($0)\"" }.joined(separator: ", "))"
        )
    }

    /// The file's settings with the command line's on top: a flag given replaces the file's value.
    public func overridden(select: [String]?, ignore: [String]?, strict: Bool) -> LintConfiguration {
        var result = self
        if let select { result.selection.select = select }
        if let ignore { result.selection.ignore = ignore }
        result.strict = self.strict || strict
        return result
    }
}
