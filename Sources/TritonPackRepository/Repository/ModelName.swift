/// A model name that is safe as a single directory name in a repository.
import TritonPackModels

public enum ModelName {
    public static func validate(_ name: String) throws {
        if name.isEmpty { throw TritonPackError.usage("model name is empty") }
        if name == "." || name == ".." || name.contains("/") || name.contains("\0") {
            throw TritonPackError.usage("model name '\(name)' is not a plain directory name (no '/', '.' or '..')")
        }
        if name.hasPrefix(".") {
            throw TritonPackError.usage("model name '\(name)' starts with '.': hidden folders are easy to miss")
        }
        if name.contains("..") {
            throw TritonPackError.usage(
                "model name '\(name)' contains '..', which Triton's load API refuses as path traversal", code: .badModelName)
        }
        if name.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) {
            throw TritonPackError.usage(
                "model name '\(name)' contains spaces, tabs or control characters: it cannot be addressed in Triton's HTTP API (/v2/models/<name>)",
                code: .badModelName)
        }
        if let character = name.first(where: { "?#%\\".contains($0) }) {
            throw TritonPackError.usage(
                "model name '\(name)' contains '\(character)', which Triton's HTTP API cannot carry in /v2/models/<name>",
                code: .badModelName)
        }
    }
}
