import Foundation

/// Promotion and packing into an S3 repository: the same gates as a local promotion (lint,
/// manifest, signature against what the target serves), then `S3ModelStore.publishVersion`.
public struct S3Promoter: Sendable {
    public var name: String
    public var source: ModelRepository
    public var target: S3ModelStore
    public var version: Int64?
    public var targetVersion: Int64?
    public var allowBreaking: Bool
    public var lintOptions: LintOptions

    public init(
        name: String, source: ModelRepository, target: S3ModelStore, version: Int64? = nil, targetVersion: Int64? = nil,
        allowBreaking: Bool = false, lintOptions: LintOptions = LintOptions()
    ) {
        self.name = name
        self.source = source
        self.target = target
        self.version = version
        self.targetVersion = targetVersion
        self.allowBreaking = allowBreaking
        self.lintOptions = lintOptions
    }

    public func promote() async throws -> PromotionResult {
        try ModelName.validate(name)
        try S3Location.validateKeySegment(name, in: target.location.url)
        let from = try await source.model(name)
        try from.requireModel()
        let candidate = try await PromotionCandidate.check(name: name, in: from, version: version, lintOptions: lintOptions)
        let version = candidate.version.number
        let destinationVersion = targetVersion ?? version
        let versionFolder = from.directory.appendingPathComponent(String(version))
        let manifest = try candidate.manifest ?? Self.manifest(of: versionFolder, model: name, version: destinationVersion)
        try await target.client.checkBucket()
        let served = try await target.readConfig(model: name).map { try Inference_ModelConfig.parse($0).message }
        let gates = try candidate.gates(servedBy: served, sourceConfig: candidate.config, allowBreaking: allowBreaking)

        let configText = String(decoding: from.configText ?? Data(), as: UTF8.self)
        let published = try await target.publishVersion(
            model: name, version: destinationVersion, localFolder: versionFolder, config: configText, manifest: manifest)
        return PromotionResult(
            model: name, sourceVersion: version, targetVersion: destinationVersion, targetDirectory: published.url,
            configCopied: published.createdModel, digest: published.digest, gates: gates)
    }

    /// A manifest for a version folder that has none (hashing every file).
    static func manifest(of folder: URL, model: String, version: Int64) throws -> Manifest {
        var paths: [String] = []
        if let enumerator = FileManager.default.enumerator(atPath: folder.path) {
            for case let relative as String in enumerator
            where relative != Manifest.fileName && POSIXFiles.isRegularFile(folder.appendingPathComponent(relative).path) {
                paths.append(relative)
            }
        }
        let digests = try FileCopier().hashFiles(paths.map { folder.appendingPathComponent($0).path })
        let files = paths.map { relative in
            let path = folder.appendingPathComponent(relative).path
            return Manifest.Entry(path: relative, size: POSIXFiles.fileSize(path) ?? 0, sha256: digests[path] ?? "")
        }
        return Manifest(
            model: model, version: version, source: .init(kind: "promoted", location: folder),
            signature: Signature(inputs: [], outputs: []),
            files: files)
    }
}

/// `pack --repo s3://...`: packs into a local staging repository, then publishes the version.
public struct S3Packer: Sendable {
    public var target: S3ModelStore
    public var version: Int64?

    public init(target: S3ModelStore, version: Int64? = nil) {
        self.target = target
        self.version = version
    }

    public func pack(_ model: PackableModel, updateConfig: Bool, link: Bool) async throws -> (PackResult, S3PublishResult) {
        try await target.client.checkBucket()
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-s3-pack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        var packed = try await Packer(
            PackRequest(
                repository: ModelRepository(root: staging), version: 1, updateConfig: updateConfig, link: link, durable: false)
        ).pack(model)
        let state = try await target.state(model: packed.model)
        let number = version ?? ((state.versions.keys.filter { $0 != S3ModelStore.placeholderVersion }.max() ?? 0) + 1)
        let folder = URL(fileURLWithPath: packed.versionDirectory)
        let configText = try String(
            contentsOf: URL(fileURLWithPath: packed.modelDirectory).appendingPathComponent(ModelRepository.configFileName),
            encoding: .utf8)
        let published = try await target.publishVersion(
            model: packed.model, version: number, localFolder: folder, config: configText)
        packed.version = number
        packed.modelDirectory = target.location.display(packed.model)
        packed.versionDirectory = published.url
        packed.config = published.createdModel ? .created : .kept
        return (packed, published)
    }
}
