import Foundation

/// A Triton model repository on disk: one folder per model, one numbered folder per version.
public struct ModelRepository: Sendable {
    public static let configFileName = "config.pbtxt"
    public static let lockFileName = ".tritonpack.lock"

    public var root: URL

    public init(root: URL) { self.root = root.standardizedFileURL }

    public func modelDirectory(_ name: String) -> URL { root.appendingPathComponent(name, isDirectory: true) }

    public func configPath(_ name: String) -> URL {
        modelDirectory(name).appendingPathComponent(Self.configFileName)
    }

    /// The versions Triton would load from a model folder: canonical numeric folder names only.
    public func versions(of name: String) throws -> [Int64] {
        let directory = modelDirectory(name).path
        guard POSIXFiles.isDirectory(directory) else { return [] }
        return try POSIXFiles.entries(of: directory).compactMap { entry -> Int64? in
            guard let version = ModelRepository.canonicalVersion(entry),
                POSIXFiles.isDirectory(directory + "/" + entry)
            else { return nil }
            return version
        }.sorted()
    }

    /// `3` -> 3; `03`, `3a`, `-1`, `+2`, ` 1` -> nil (Triton skips or misreads those).
    public static func canonicalVersion(_ name: String) -> Int64? {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard name == "0" || !name.hasPrefix("0") else { return nil }
        return Int64(name)
    }

    /// Creates the repository folder (and its parents) if it does not exist yet.
    public func create() throws {
        if POSIXFiles.exists(root.path) {
            guard POSIXFiles.isDirectory(root.path) else {
                throw TritonPackError.refused(root.path, "exists but is not a directory; a repository is a folder")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        } catch {
            throw TritonPackError.io(root.path, "cannot create repository: \(error.localizedDescription)")
        }
    }
}
