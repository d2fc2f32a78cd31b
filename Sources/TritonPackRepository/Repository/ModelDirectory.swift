import Foundation
import TritonPackModels

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

/// A model folder as it was when loaded: its config (read and parsed once) and its versions.
public struct ModelDirectory: Sendable {
    public var repository: ModelRepository
    public var name: String
    public var exists: Bool
    /// The versions Triton would load: canonical numeric folder names, ascending.
    public var versions: [Int64]
    /// `config.pbtxt` as written, nil when there is none.
    public var configText: Data?
    /// The other files directly in the model folder (an execution environment the config names),
    /// which Triton does not load as versions.
    public var modelFiles: [String]
    private var parsedConfig: Result<Inference_ModelConfig, TritonPackError>?

    package static func load(_ name: String, in repository: ModelRepository) async throws -> ModelDirectory {
        let entries = try await repository.store.entries(ofModel: name)
        let configText = try await repository.store.read("\(name)/\(ModelRepository.configFileName)")
        return ModelDirectory(name, in: repository, entries: entries, configText: configText)
    }

    /// A model of a local repository, read without suspending (bundle and smoke read local folders).
    public static func local(_ name: String, in root: URL) throws -> ModelDirectory {
        let store = LocalRepositoryStore(root: root)
        return ModelDirectory(
            name, in: ModelRepository(store: store), entries: try store.entriesNow(ofModel: name),
            configText: try store.readNow("\(name)/\(ModelRepository.configFileName)"))
    }

    private init(_ name: String, in repository: ModelRepository, entries: [StoreEntry], configText: Data?) {
        self.repository = repository
        self.name = name
        exists = !entries.isEmpty
        versions = entries.compactMap { $0.isDirectory ? ModelNaming.canonicalVersion($0.name) : nil }.sorted()
        modelFiles = entries.filter { !$0.isDirectory && $0.name != ModelRepository.configFileName }.map(\.name).sorted()
        self.configText = configText
        let configPath = self.configPath
        parsedConfig = configText.map { text in
            Result {
                do {
                    return try Inference_ModelConfig.parse(bytes: Array(text)).message
                } catch let error as TextProtoSyntaxError {
                    throw TritonPackError.refused(
                        configPath, line: error.position.line, column: error.position.column, error.message)
                }
            }.mapError { TritonPackError.from($0) }
        }
    }

    /// The local folder (see `ModelRepository.root`).
    public var directory: URL { repository.modelDirectory(name) }
    /// How the model folder and its config are named in messages.
    public var displayPath: String { repository.store.displayPath(name) }
    public var configPath: String { repository.store.displayPath("\(name)/\(ModelRepository.configFileName)") }

    public func requireModel() throws {
        guard exists else { throw TritonPackError.refused(displayPath, "no such model folder", code: .modelNotFound) }
    }

    /// The model's config; an error names the file and position when it does not parse.
    public func config() throws -> Inference_ModelConfig {
        guard let parsedConfig else {
            throw TritonPackError.refused(configPath, "missing: version operations need the model's config.pbtxt")
        }
        return try parsedConfig.get()
    }

    /// The versions the config's version policy serves.
    public func served() throws -> [Int64] {
        VersionPolicyEvaluation.served(try config().versionPolicy, available: versions)
    }

    public func version(_ number: Int64) -> VersionDirectory {
        VersionDirectory(repository: repository, model: name, number: number)
    }

    public func list(verify: Bool = false) async throws -> [VersionInfo] {
        try requireModel()
        let served = Set(try self.served())
        var list: [VersionInfo] = []
        for number in versions {
            let folder = version(number)
            var info = VersionInfo(version: number, served: served.contains(number))
            if let manifest = try? await folder.manifest() {
                info.digest = manifest.digest
                let inputs = manifest.signature.inputs.map(\.summary).joined(separator: ", ")
                let outputs = manifest.signature.outputs.map(\.summary).joined(separator: ", ")
                info.signature = "(\(inputs)) -> (\(outputs))"
                if verify {
                    let problems = try await folder.verify(against: manifest)
                    info.verified = problems.isEmpty
                    info.problems = problems.isEmpty ? nil : problems
                }
            }
            list.append(info)
        }
        return list
    }
}

/// One version folder: its files and the manifest that records them.
public struct VersionDirectory: Sendable {
    public var repository: ModelRepository
    public var model: String
    public var number: Int64

    public var relativePath: String { "\(model)/\(number)" }
    public var displayPath: String { repository.store.displayPath(relativePath) }

    /// The manifest; an error when it is missing or unreadable.
    public func manifest() async throws -> Manifest {
        let relative = "\(relativePath)/\(Manifest.fileName)"
        guard let data = try await repository.store.read(relative) else {
            throw TritonPackError.refused(
                repository.store.displayPath(relative), "missing: this version was not packed by tritonpack or lost its manifest")
        }
        return try Manifest.decode(data, path: repository.store.displayPath(relative))
    }

    /// Every difference between the manifest and the folder: changed, missing and unlisted files.
    public func verify(against manifest: Manifest) async throws -> [String] {
        let present = try await repository.store.files(ofModel: model, version: number)
        let digests = try await repository.store.sha256(
            model: model, version: number, paths: manifest.files.map(\.path).filter { present[$0] != nil })
        var problems: [String] = []
        for entry in manifest.files {
            guard let digest = digests[entry.path] else {
                problems.append("\(entry.path): missing")
                continue
            }
            if digest != entry.sha256 { problems.append("\(entry.path): SHA-256 differs from the manifest") }
        }
        let listed = Set(manifest.files.map(\.path) + [Manifest.fileName])
        for relative in present.keys.sorted() where !listed.contains(relative) {
            problems.append("\(relative): not in the manifest")
        }
        return problems
    }
}
