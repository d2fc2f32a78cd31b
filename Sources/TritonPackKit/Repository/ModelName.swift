/// A model name that is safe as a single directory name in a repository.
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
                "model name '\(name)' contains '..', which Triton's load API refuses as path traversal")
        }
        if name.trimmingSpaces != name || name.contains(where: { $0.isNewline }) {
            throw TritonPackError.usage("model name '\(name)' has leading/trailing spaces or line breaks")
        }
    }
}
