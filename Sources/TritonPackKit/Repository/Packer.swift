import Foundation

/// One file of a model and where it goes inside the version folder.
public struct PlacedFile: Equatable, Sendable {
    public var source: URL
    /// Relative to the version folder, e.g. `model/m.fc.weight/out` or `model.onnx`.
    public var destination: String
    public var size: Int64

    public init(source: URL, destination: String, size: Int64) {
        self.source = source
        self.destination = destination
        self.size = size
    }
}

/// A model ready to be placed into a repository: its files and where they go, its signature
/// and the config generated for it.
public struct PackableModel: Sendable {
    public var sourceKind: String
    public var source: URL
    public var files: [PlacedFile]
    public var signature: Signature
    public var config: Inference_ModelConfig
    /// What the reader wants the user to know: variable folders a OneFlow graph never reads, an
    /// ONNX check that was skipped and why.
    public var notes: [String]

    public init(
        sourceKind: String, source: URL, files: [PlacedFile], signature: Signature, config: Inference_ModelConfig,
        notes: [String] = []
    ) {
        self.sourceKind = sourceKind
        self.source = source
        self.files = files
        self.signature = signature
        self.config = config
        self.notes = notes
    }

    /// Reads a saved OneFlow graph or an ONNX file (by its `.onnx` name or content), refusing it
    /// with every reason if it cannot be served, and generates its config.
    public static func read(at url: URL, options: ConfigOptions) throws -> PackableModel {
        if POSIXFiles.isRegularFile(url.path) || url.pathExtension == "onnx" { return try onnx(at: url, options: options) }
        return try oneflow(at: url, options: options)
    }

    public static func oneflow(at directory: URL, options: ConfigOptions) throws -> PackableModel {
        let graph = try OneFlowSavedGraph.read(at: directory)
        if !graph.problems.isEmpty {
            throw SavedGraphRefused(directory: directory.path, problems: graph.problems)
        }
        let config = try ConfigGenerator.oneflow(graph.signature, options: options)
        let files = graph.files.map {
            PlacedFile(
                source: directory.appendingPathComponent($0.relativePath),
                destination: "\(OneFlowBackend.modelFolder)/\($0.relativePath)", size: $0.size)
        }
        return PackableModel(
            sourceKind: "oneflow", source: directory, files: files, signature: graph.signature, config: config,
            notes: graph.notes.map(\.description))
    }

    /// An ONNX file becomes `<version>/model.onnx`, or with external data the folder form
    /// `<version>/model.onnx/` holding `model.onnx` and the data files.
    public static func onnx(at file: URL, options: ConfigOptions) throws -> PackableModel {
        let model = try ONNXModel.read(at: file)
        let problems = model.problems
        if !problems.isEmpty {
            throw SavedGraphRefused(
                directory: file.deletingLastPathComponent().path,
                problems: problems.map { GraphProblem(file: file.lastPathComponent, $0) })
        }
        let config = try ConfigGenerator.onnx(model, options: options)
        let size = POSIXFiles.fileSize(file.path) ?? 0
        guard !model.externalData.isEmpty else {
            return PackableModel(
                sourceKind: "onnx", source: file, files: [PlacedFile(source: file, destination: "model.onnx", size: size)],
                signature: model.signature, config: config, notes: model.checkerNote.map { [$0] } ?? [])
        }
        var files = [PlacedFile(source: file, destination: "model.onnx/model.onnx", size: size)]
        var missing: [GraphProblem] = []
        for location in model.externalData {
            let data = file.deletingLastPathComponent().appendingPathComponent(location)
            guard let dataSize = POSIXFiles.fileSize(data.path), POSIXFiles.isRegularFile(data.path) else {
                missing.append(GraphProblem(file: location, "missing: \(file.lastPathComponent) keeps tensor data in this file"))
                continue
            }
            files.append(PlacedFile(source: data, destination: "model.onnx/\(location)", size: dataSize))
        }
        if !missing.isEmpty { throw SavedGraphRefused(directory: file.deletingLastPathComponent().path, problems: missing) }
        return PackableModel(
            sourceKind: "onnx", source: file, files: files, signature: model.signature, config: config,
            notes: model.checkerNote.map { [$0] } ?? [])
    }
}

/// A saved graph that cannot be served, with every reason.
public struct SavedGraphRefused: Error, CustomStringConvertible, Sendable {
    public var directory: String
    public var problems: [GraphProblem]

    public var description: String {
        problems.map { "\(directory)/\($0.description)" }.joined(separator: "\n")
    }
}

public struct PackRequest: Sendable {
    public var repository: ModelRepository
    public var version: Int64?
    public var updateConfig: Bool
    public var link: Bool
    public var lockTimeout: Double
    /// fsync every file and folder before publishing, so a power loss cannot leave a published
    /// version with missing data. Off only for throw-away repositories.
    public var durable: Bool

    public init(
        repository: ModelRepository, version: Int64? = nil, updateConfig: Bool = false, link: Bool = false,
        lockTimeout: Double = 60, durable: Bool = true
    ) {
        self.repository = repository
        self.version = version
        self.updateConfig = updateConfig
        self.link = link
        self.lockTimeout = lockTimeout
        self.durable = durable
    }
}

public struct PackResult: Codable, Sendable, Equatable {
    public enum ConfigAction: String, Codable, Sendable {
        case created, updated, kept
    }

    public var model: String
    public var version: Int64
    public var modelDirectory: String
    public var versionDirectory: String
    public var config: ConfigAction
    public var files: Int
    public var bytes: Int64
    public var digest: String
    public var linked: Bool
    public var notes: [String]
}

/// Places a model into a repository as a new version, as one transaction: nothing appears in the
/// repository until it is complete, an existing version is never touched, and concurrent writers
/// are serialized by the repository lock.
public struct Packer: Sendable {
    public var request: PackRequest
    public var onWait: @Sendable (String) -> Void

    public init(_ request: PackRequest, onWait: @escaping @Sendable (String) -> Void = { _ in }) {
        self.request = request
        self.onWait = onWait
    }

    public func pack(_ model: PackableModel) throws -> PackResult {
        let name = model.config.name
        try ModelName.validate(name)
        if let version = request.version, version < 0 {
            throw TritonPackError.usage("version \(version) is negative; versions are numbers >= 0")
        }
        let repository = request.repository
        let repositoryExisted = POSIXFiles.isDirectory(repository.root.path)
        try repository.create()
        var published = false
        defer {
            if !repositoryExisted && !published {
                unlink(repository.root.appendingPathComponent(ModelRepository.lockFileName).path)
                rmdir(repository.root.path)
            }
        }
        let lock = try RepositoryLock(repository: repository, timeout: request.lockTimeout, onWait: onWait)
        defer { withExtendedLifetime(lock) {} }

        let modelDirectory = repository.modelDirectory(name)
        let modelExists = POSIXFiles.exists(modelDirectory.path)
        if modelExists && !POSIXFiles.isDirectory(modelDirectory.path) {
            throw TritonPackError.refused(modelDirectory.path, "exists but is not a model folder")
        }
        let existing = try repository.versions(of: name)
        let version = request.version ?? ((existing.last ?? 0) + 1)
        let versionDirectory = modelDirectory.appendingPathComponent(String(version))
        if POSIXFiles.exists(versionDirectory.path) {
            throw TritonPackError.refused(
                versionDirectory.path, "version \(version) of '\(name)' already exists; versions are never overwritten")
        }
        var notes = model.notes
        let configAction = try decideConfig(for: model, at: repository.configPath(name), notes: &notes)

        let staging = StagingArea.choose(for: repository, model: name)
        staging.removeStaleStages()
        if staging.isInsideRepository {
            notes.append("staged inside the repository at \(staging.root.path): no writable folder beside it on the same filesystem")
        }
        let stage = try staging.makeStage(model: name)
        defer {
            POSIXFiles.removeTree(stage.path)
            staging.removeIfEmpty()
        }

        let stagedModel = stage.appendingPathComponent(name)
        let stagedVersion = (modelExists ? stage : stagedModel).appendingPathComponent(String(version))
        try FileManager.default.createDirectory(at: stagedVersion, withIntermediateDirectories: true)
        let directories = Set(model.files.map { ($0.destination as NSString).deletingLastPathComponent })
        for directory in directories.sorted() where !directory.isEmpty {
            try FileManager.default.createDirectory(
                at: stagedVersion.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        let jobs = model.files.map { file in
            FileCopyJob(
                source: file.source.path, destination: stagedVersion.appendingPathComponent(file.destination).path,
                size: file.size)
        }
        let copier = FileCopier(mode: request.link ? .hardLink : .copy, syncFiles: request.durable)
        let copied = try copier.run(jobs)
        if copied.copiedInsteadOfLinked > 0 {
            notes.append("\(copied.copiedInsteadOfLinked) file(s) copied: hard links are impossible across filesystems")
        }

        let entries = model.files.map { file in
            Manifest.Entry(
                path: file.destination, size: file.size,
                sha256: copied.digests[stagedVersion.appendingPathComponent(file.destination).path]!)
        }
        let manifest = Manifest(
            model: name, version: version,
            source: .init(kind: model.sourceKind, location: model.source),
            signature: model.signature, files: entries)
        try POSIXFiles.write(try manifest.encoded(), to: stagedVersion.appendingPathComponent(Manifest.fileName).path)
        let configText = Data(model.config.pbtxt.utf8)
        if !modelExists {
            try POSIXFiles.write(configText, to: stagedModel.appendingPathComponent(ModelRepository.configFileName).path)
        }
        if request.durable { try syncDirectories(under: modelExists ? stagedVersion : stagedModel) }

        try Interruption.check()
        published = true
        if modelExists {
            try POSIXFiles.rename(stagedVersion.path, to: versionDirectory.path)
            if configAction == .updated || configAction == .created {
                try POSIXFiles.writeAtomically(configText, to: repository.configPath(name).path)
            }
            try POSIXFiles.fsync(path: modelDirectory.path)
        } else {
            try POSIXFiles.rename(stagedModel.path, to: modelDirectory.path)
            try POSIXFiles.fsync(path: repository.root.path)
        }
        return PackResult(
            model: name, version: version, modelDirectory: modelDirectory.path,
            versionDirectory: versionDirectory.path, config: configAction, files: model.files.count,
            bytes: model.files.reduce(0) { $0 + $1.size }, digest: manifest.digest,
            linked: request.link && copied.copiedInsteadOfLinked < model.files.count, notes: notes)
    }

    /// Whether the model's config.pbtxt is created, kept, or (with --update-config) replaced.
    private func decideConfig(for model: PackableModel, at path: URL, notes: inout [String]) throws
        -> PackResult.ConfigAction
    {
        guard let data = FileManager.default.contents(atPath: path.path) else { return .created }
        let existing: Inference_ModelConfig
        do {
            existing = try Inference_ModelConfig.parse(bytes: Array(data)).message
        } catch let error as TextProtoSyntaxError {
            guard request.updateConfig else {
                throw TritonPackError.refused(
                    path.path, line: error.position.line, column: error.position.column,
                    "existing config does not parse (\(error.message)); fix it or pass --update-config to replace it")
            }
            return .updated
        }
        let wanted = ConfigGenerator.interface(of: model.config)
        let current = ConfigGenerator.interface(of: existing)
        if wanted != current {
            guard request.updateConfig else {
                let differences = ConfigComparison.differences(current: current, packed: wanted)
                throw TritonPackError.refused(
                    path.path,
                    "the model's signature differs from this config (\(differences.joined(separator: "; "))); clients of the served versions would break. Pass --update-config to replace the config"
                )
            }
            return .updated
        }
        if request.updateConfig && existing != model.config { return .updated }
        if existing != model.config {
            notes.append("kept the existing \(path.lastPathComponent): it matches the model's signature; pass --update-config to regenerate it from the options")
        }
        return .kept
    }

    private func syncDirectories(under root: URL) throws {
        var directories = [root.path]
        if let enumerator = FileManager.default.enumerator(atPath: root.path) {
            for case let relative as String in enumerator {
                let path = root.appendingPathComponent(relative).path
                if POSIXFiles.isDirectory(path) { directories.append(path) }
            }
        }
        for directory in directories { try POSIXFiles.fsync(path: directory) }
    }
}

/// Human-readable differences between two config interfaces.
public enum ConfigComparison {
    public static func differences(current: Inference_ModelConfig, packed: Inference_ModelConfig) -> [String] {
        var found: [String] = []
        if current.maxBatchSize != packed.maxBatchSize {
            found.append("max_batch_size \(current.maxBatchSize) -> \(packed.maxBatchSize)")
        }
        func describe(_ name: String, _ type: Inference_DataType, _ dims: [Int64]) -> String {
            "\(name) \(type.configName) \(dims)"
        }
        let currentInputs = current.input.map { describe($0.name, $0.dataType, $0.dims) }
        let packedInputs = packed.input.map { describe($0.name, $0.dataType, $0.dims) }
        if currentInputs != packedInputs {
            found.append("inputs [\(currentInputs.joined(separator: ", "))] -> [\(packedInputs.joined(separator: ", "))]")
        }
        let currentOutputs = current.output.map { describe($0.name, $0.dataType, $0.dims) }
        let packedOutputs = packed.output.map { describe($0.name, $0.dataType, $0.dims) }
        if currentOutputs != packedOutputs {
            found.append("outputs [\(currentOutputs.joined(separator: ", "))] -> [\(packedOutputs.joined(separator: ", "))]")
        }
        if found.isEmpty { found.append("reshape settings differ") }
        return found
    }
}
