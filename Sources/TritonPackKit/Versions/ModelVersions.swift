import Foundation

/// One version folder of a model, as `tritonpack versions` reports it.
public struct VersionInfo: Codable, Equatable, Sendable {
    public var version: Int64
    public var served: Bool
    /// The manifest's digest; nil when the version has no manifest.
    public var digest: String?
    public var signature: String?
    /// With --verify: whether every file matches the manifest (nil when not checked or no manifest).
    public var verified: Bool?
    public var problems: [String]?
}

/// A model folder in a repository, for the version operations.
public struct ModelVersions: Sendable {
    public var repository: ModelRepository
    public var name: String

    public init(modelDirectory: URL) {
        let standardized = modelDirectory.standardizedFileURL
        repository = ModelRepository(root: standardized.deletingLastPathComponent())
        name = standardized.lastPathComponent
    }

    public init(repository: ModelRepository, name: String) {
        self.repository = repository
        self.name = name
    }

    public var directory: URL { repository.modelDirectory(name) }
    public var configPath: URL { repository.configPath(name) }

    public func requireModel() throws {
        guard POSIXFiles.isDirectory(directory.path) else {
            throw TritonPackError.refused(directory.path, "no such model folder")
        }
    }

    /// The model's config as written (an error names the file and position when it does not parse).
    public func config() throws -> Inference_ModelConfig {
        guard let data = FileManager.default.contents(atPath: configPath.path) else {
            throw TritonPackError.refused(configPath.path, "missing: version operations need the model's config.pbtxt")
        }
        do {
            return try Inference_ModelConfig.parse(bytes: Array(data)).message
        } catch let error as TextProtoSyntaxError {
            throw TritonPackError.refused(
                configPath.path, line: error.position.line, column: error.position.column, error.message)
        }
    }

    public func available() throws -> [Int64] { try repository.versions(of: name) }

    public func served() throws -> [Int64] {
        VersionPolicyEvaluation.served(try config().versionPolicy, available: try available())
    }

    public func list(verify: Bool = false) throws -> [VersionInfo] {
        try requireModel()
        let served = Set(try self.served())
        return try available().map { version in
            let folder = directory.appendingPathComponent(String(version))
            var info = VersionInfo(version: version, served: served.contains(version))
            if let manifest = try? Manifest.read(from: folder) {
                info.digest = manifest.digest
                let inputs = manifest.signature.inputs.map(\.summary).joined(separator: ", ")
                let outputs = manifest.signature.outputs.map(\.summary).joined(separator: ", ")
                info.signature = "(\(inputs)) -> (\(outputs))"
                if verify {
                    let problems = try ManifestVerification.problems(of: manifest, in: folder)
                    info.verified = problems.isEmpty
                    info.problems = problems.isEmpty ? nil : problems
                }
            }
            return info
        }
    }
}

/// Compares a version folder with its manifest.
public enum ManifestVerification {
    /// Every difference between the manifest and the folder: changed, missing and unlisted files.
    public static func problems(of manifest: Manifest, in folder: URL) throws -> [String] {
        let paths = manifest.files.map { folder.appendingPathComponent($0.path).path }
        var problems: [String] = []
        let present = paths.filter { POSIXFiles.isRegularFile($0) }
        let digests = try FileCopier().hashFiles(present)
        for entry in manifest.files {
            let path = folder.appendingPathComponent(entry.path).path
            guard let digest = digests[path] else {
                problems.append("\(entry.path): missing")
                continue
            }
            if digest != entry.sha256 { problems.append("\(entry.path): SHA-256 differs from the manifest") }
        }
        let listed = Set(manifest.files.map(\.path) + [Manifest.fileName])
        if let enumerator = FileManager.default.enumerator(atPath: folder.path) {
            for case let relative as String in enumerator
            where !listed.contains(relative) && POSIXFiles.isRegularFile(folder.appendingPathComponent(relative).path) {
                problems.append("\(relative): not in the manifest")
            }
        }
        return problems
    }
}
