import TritonPackModels

/// A model directory written out for a rule's example: files by path relative to the model
/// directory (`config.pbtxt`, `1/model.py`), plus any other models of the same repository.
///
/// A triggering example says where each of the rule's diagnostics must point, as SwiftLint's
/// examples do: a `↓` written in a file's text marks the line and column of one diagnostic (the
/// marker is removed before the text is stored), and `fileLevel` names the files a diagnostic
/// points at as a whole (a missing file, a folder, an absent field), one entry per diagnostic.
public struct LintExample: Sendable {
    public var model: String
    /// The files as linted, without their `↓` markers.
    public var files: [String: String]
    /// Files whose content is not text (ONNX models), by path relative to the model directory.
    public var binaryFiles: [String: [UInt8]]
    public var otherModels: [String: [String: String]]
    /// Linter options the example needs (e.g. the target's GPU count).
    public var gpus: Int?
    /// false: the example is linted as for a server started with `--disable-auto-complete-config`.
    public var autoComplete: Bool
    /// Where the rule's diagnostics must point, one entry per diagnostic, sorted.
    public var expectedLocations: [ExpectedLocation]
    /// Where the example is written, so that a failing example test points at it.
    public var sourceFile: StaticString
    public var sourceLine: UInt

    public init(
        model: String = "m", files: [String: String], binaryFiles: [String: [UInt8]] = [:],
        otherModels: [String: [String: String]] = [:], gpus: Int? = nil, autoComplete: Bool = true,
        fileLevel: [String] = [], sourceFile: StaticString = #filePath, sourceLine: UInt = #line
    ) {
        var stripped: [String: String] = [:]
        var locations = fileLevel.map { ExpectedLocation(file: $0, position: nil) }
        for (path, text) in files {
            let marked = ViolationMarkers.strip(text)
            stripped[path] = marked.text
            locations += marked.positions.map { ExpectedLocation(file: path, position: $0) }
        }
        self.sourceFile = sourceFile
        self.sourceLine = sourceLine
        self.model = model
        self.files = stripped
        self.binaryFiles = binaryFiles
        self.otherModels = otherModels
        self.gpus = gpus
        self.autoComplete = autoComplete
        self.expectedLocations = locations.sorted()
    }

    /// A model whose config is `config` with a Python-backend version folder `1/model.py`.
    public static func config(
        _ config: String, model: String = "m", gpus: Int? = nil, extra: [String: String] = [:], autoComplete: Bool = true,
        fileLevel: [String] = [], sourceFile: StaticString = #filePath, sourceLine: UInt = #line
    ) -> LintExample {
        var files = ["config.pbtxt": config, "1/model.py": "# example\n"]
        files.merge(extra) { $1 }
        return LintExample(
            model: model, files: files, gpus: gpus, autoComplete: autoComplete, fileLevel: fileLevel, sourceFile: sourceFile,
            sourceLine: sourceLine)
    }
}

/// Where a diagnostic of a triggering example must point: a file relative to the model directory
/// ("" for the directory itself) and, inside it, a position (nil: the file as a whole).
public struct ExpectedLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition?

    public init(file: String, position: SourcePosition?) {
        self.file = file
        self.position = position
    }

    /// `file:line:column` (or `file`), the way `Diagnostic.compilerStyle` writes a location.
    public var description: String {
        guard let position else { return file }
        return "\(file):\(position.line):\(position.column)"
    }

    public static func < (lhs: ExpectedLocation, rhs: ExpectedLocation) -> Bool {
        (lhs.file, lhs.position?.line ?? 0, lhs.position?.column ?? 0)
            < (rhs.file, rhs.position?.line ?? 0, rhs.position?.column ?? 0)
    }
}

/// The `↓` markers of an example's text.
package enum ViolationMarkers {
    package static let marker: Unicode.Scalar = "↓"

    /// The text without markers, and the position of the character each marker stands before:
    /// 1-based lines and columns, columns counted in UTF-8 bytes as libprotobuf's tokenizer does.
    package static func strip(_ text: String) -> (text: String, positions: [SourcePosition]) {
        var stripped = String.UnicodeScalarView()
        var positions: [SourcePosition] = []
        var line = 1
        var column = 1
        for scalar in text.unicodeScalars {
            if scalar == marker {
                positions.append(SourcePosition(line: line, column: column))
                continue
            }
            stripped.append(scalar)
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += UTF8.width(scalar)
            }
        }
        return (String(stripped), positions)
    }
}
