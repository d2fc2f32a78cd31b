import Foundation
import TritonPackModels
import TritonPackServing

/// The files a bundle carries beside `model_repository/`: the built-in set (from `templates/default`,
/// compiled in) or a user's folder. Text files are rendered; `@@name@@` takes a value from the bundle.
public struct BundleTemplate: Sendable {
    public struct File: Sendable, Equatable {
        /// Relative, `/`-separated.
        public var path: String
        public var contents: Data
        public var executable: Bool

        public init(path: String, contents: Data, executable: Bool) {
            self.path = path
            self.contents = contents
            self.executable = executable
        }
    }

    public var files: [File]
    /// Where the files came from, for messages: `built-in` or the folder.
    public var origin: String

    public static let builtIn = BundleTemplate(
        files: DefaultTemplates.files.map { File(path: $0.path, contents: Data($0.text.utf8), executable: $0.executable) },
        origin: "built-in")

    /// Reads a template folder; links are followed only inside it and private files are left out.
    public static func load(directory: URL) throws -> BundleTemplate {
        let root = directory.standardizedFileURL.path
        guard POSIXFiles.isDirectory(root) else {
            throw TritonPackError.refused(root, "the template folder does not exist or is not a folder")
        }
        var walker = try SafeTreeWalker(boundary: root, includePrivate: false)
        let files = try walker.walk(root, prefix: "").filter { !$0.isDirectory }.map { entry in
            guard let contents = FileManager.default.contents(atPath: entry.path) else {
                throw TritonPackError.io("\(root)/\(entry.archiveName)", "cannot read")
            }
            return File(path: entry.archiveName, contents: contents, executable: entry.executable)
        }
        guard !files.isEmpty else { throw TritonPackError.refused(root, "the template folder has no files") }
        return BundleTemplate(files: files, origin: root)
    }

    /// Every file rendered with `values`; files that are not UTF-8 text are carried unchanged.
    package func rendered(with values: [String: String]) throws -> [File] {
        try files.map { file in
            guard let text = String(data: file.contents, encoding: .utf8) else { return file }
            let output = try TemplateRenderer(values: values).render(text, file: "\(origin)/\(file.path)")
            return File(path: file.path, contents: Data(output.utf8), executable: file.executable)
        }
    }
}

/// Replaces `@@name@@` (a lowercase identifier between two `@@`) with its value. An unknown name is
/// an error naming the file, line and column; `@@` not followed by an identifier and `@@` stays as is.
package struct TemplateRenderer: Sendable {
    public var values: [String: String]

    public init(values: [String: String]) { self.values = values }

    public func render(_ text: String, file: String) throws -> String {
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var line = 1
        var column = 1
        var index = 0
        func isMarker(_ at: Int) -> Bool { at + 1 < scalars.count && scalars[at] == "@" && scalars[at + 1] == "@" }
        func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
        }
        while index < scalars.count {
            if isMarker(index) {
                var end = index + 2
                while end < scalars.count && isNameScalar(scalars[end]) { end += 1 }
                if end > index + 2 && isMarker(end) && ("a"..."z").contains(scalars[index + 2]) {
                    let name = String(String.UnicodeScalarView(scalars[(index + 2)..<end]))
                    guard let value = values[name] else {
                        throw TritonPackError.refused(
                            file, line: line, column: column,
                            "unknown placeholder @@\(name)@@; known: \(values.keys.sorted().joined(separator: ", "))",
                            code: .unknownPlaceholder)
                    }
                    output.append(contentsOf: value.unicodeScalars)
                    column += end + 2 - index
                    index = end + 2
                    continue
                }
            }
            let scalar = scalars[index]
            output.append(scalar)
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += 1
        }
        return String(output)
    }
}
