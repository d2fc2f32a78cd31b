import Foundation

/// One gate of a promotion and what it found.
public struct PromotionGate: Codable, Equatable, Sendable {
    public enum Outcome: String, Codable, Sendable { case passed, failed, skipped, overridden }
    public var name: String
    public var outcome: Outcome
    public var detail: String
}

public struct PromotionResult: Codable, Equatable, Sendable {
    public var model: String
    public var sourceVersion: Int64
    public var targetVersion: Int64
    public var targetDirectory: String
    public var configCopied: Bool
    public var digest: String
    public var gates: [PromotionGate]
}

/// Refused promotion, with every gate's result.
public struct PromotionRefused: Error, CustomStringConvertible, Sendable {
    public var gates: [PromotionGate]
    public var description: String {
        gates.filter { $0.outcome == .failed }.map { "gate \($0.name) failed: \($0.detail)" }.joined(separator: "\n")
    }
}

/// Copies one version of a model from one repository into another, after gates: the source model
/// lints without error, its files match its manifest, and its signature is compatible with what the
/// target serves.
public struct Promoter: Sendable {
    public var name: String
    public var source: ModelRepository
    public var target: ModelRepository
    public var version: Int64?
    public var targetVersion: Int64?
    public var allowBreaking: Bool
    public var lintOptions: LintOptions
    public var lockTimeout: Double

    public init(
        name: String, source: ModelRepository, target: ModelRepository, version: Int64? = nil, targetVersion: Int64? = nil,
        allowBreaking: Bool = false, lintOptions: LintOptions = LintOptions(), lockTimeout: Double = 60
    ) {
        self.name = name
        self.source = source
        self.target = target
        self.version = version
        self.targetVersion = targetVersion
        self.allowBreaking = allowBreaking
        self.lintOptions = lintOptions
        self.lockTimeout = lockTimeout
    }

    public func promote(onWait: @escaping @Sendable (String) -> Void = { _ in }) throws -> PromotionResult {
        try ModelName.validate(name)
        let from = ModelVersions(repository: source, name: name)
        try from.requireModel()
        guard POSIXFiles.isDirectory(target.root.path) else {
            throw TritonPackError.refused(target.root.path, "the target repository is not a directory")
        }
        guard source.root.path != target.root.path else {
            throw TritonPackError.usage("--from and --to name the same repository")
        }
        let sourceConfig = try from.config()
        if !sourceConfig.name.isEmpty && sourceConfig.name != name {
            throw TritonPackError.refused(from.configPath.path, "the config names model '\(sourceConfig.name)', not '\(name)'")
        }
        let served = VersionPolicyEvaluation.served(sourceConfig.versionPolicy, available: try from.available())
        let version: Int64
        if let requested = self.version {
            guard try from.available().contains(requested) else {
                throw TritonPackError.refused(
                    from.directory.appendingPathComponent(String(requested)).path, "version \(requested) of '\(name)' does not exist")
            }
            version = requested
        } else {
            guard let newest = served.max() else {
                throw TritonPackError.refused(from.directory.path, "the source serves no version of '\(name)'")
            }
            version = newest
        }
        let destinationVersion = targetVersion ?? version
        guard destinationVersion >= 0 else { throw TritonPackError.usage("--as must be >= 0") }
        let versionFolder = from.directory.appendingPathComponent(String(version))

        var gates: [PromotionGate] = []
        let report = Linter(options: lintOptions).lint(path: from.directory)
        let errors = report.diagnostics.filter { $0.severity == .error }
        gates.append(
            PromotionGate(
                name: "lint", outcome: errors.isEmpty ? .passed : .failed,
                detail: errors.isEmpty ? "no error" : errors.prefix(3).map(\.compilerStyle).joined(separator: "; ")))

        let manifest = try? Manifest.read(from: versionFolder)
        if let manifest {
            let problems = try ManifestVerification.problems(of: manifest, in: versionFolder)
            gates.append(
                PromotionGate(
                    name: "manifest", outcome: problems.isEmpty ? .passed : .failed,
                    detail: problems.isEmpty ? "\(manifest.files.count) files match sha256:\(manifest.digest)" : problems.joined(separator: "; ")))
        } else {
            gates.append(PromotionGate(name: "manifest", outcome: .skipped, detail: "version \(version) has no manifest; one is recorded in the target"))
        }

        let to = ModelVersions(repository: target, name: name)
        let targetExists = POSIXFiles.isDirectory(to.directory.path)
        var targetConfig: Inference_ModelConfig?
        if targetExists && POSIXFiles.exists(to.configPath.path) {
            let config = try to.config()
            if !config.name.isEmpty && config.name != name {
                throw TritonPackError.refused(to.configPath.path, "the target's config names model '\(config.name)', not '\(name)'")
            }
            targetConfig = config
        }
        if let targetConfig {
            let differences = SignatureCompatibility.differences(served: targetConfig, candidate: sourceConfig)
            let outcome: PromotionGate.Outcome = differences.isEmpty ? .passed : (allowBreaking ? .overridden : .failed)
            gates.append(
                PromotionGate(
                    name: "signature", outcome: outcome,
                    detail: differences.isEmpty ? "compatible with the target's config" : differences.joined(separator: "; ")))
        } else {
            gates.append(PromotionGate(name: "signature", outcome: .passed, detail: "new model in the target"))
        }
        if gates.contains(where: { $0.outcome == .failed }) { throw PromotionRefused(gates: gates) }

        let lock = try RepositoryLock(repository: target, timeout: lockTimeout, onWait: onWait)
        defer { withExtendedLifetime(lock) {} }
        let staging = StagingArea.choose(for: target, model: name)
        staging.removeStaleStages()
        let destination = to.directory.appendingPathComponent(String(destinationVersion))
        if POSIXFiles.exists(destination.path) {
            throw TritonPackError.refused(
                destination.path, "version \(destinationVersion) of '\(name)' already exists in the target; pass --as with a free number")
        }
        let stage = try staging.makeStage(model: name)
        defer {
            POSIXFiles.removeTree(stage.path)
            staging.removeIfEmpty()
        }
        let createsModel = !POSIXFiles.isDirectory(to.directory.path)
        let stagedModel = stage.appendingPathComponent(name)
        let stagedVersion = (createsModel ? stagedModel : stage).appendingPathComponent(String(destinationVersion))
        try FileManager.default.createDirectory(at: stagedVersion, withIntermediateDirectories: true)
        let copied = try copyVersion(versionFolder, to: stagedVersion, manifest: manifest)
        var record = manifest ?? Manifest(
            model: name, version: destinationVersion, source: .init(kind: "promoted", location: versionFolder),
            signature: Signature(inputs: [], outputs: []), files: copied)
        if record.files != copied {
            throw TritonPackError.io(versionFolder.path, "changed while being promoted: the copy does not match the manifest")
        }
        record.version = destinationVersion
        try POSIXFiles.write(try record.encoded(), to: stagedVersion.appendingPathComponent(Manifest.fileName).path)
        try Interruption.check()
        if createsModel {
            try POSIXFiles.write(try Data(contentsOf: from.configPath), to: stagedModel.appendingPathComponent(ModelRepository.configFileName).path)
            try POSIXFiles.fsync(path: stagedModel.path)
            try POSIXFiles.rename(stagedModel.path, to: to.directory.path)
            try POSIXFiles.fsync(path: target.root.path)
        } else {
            try POSIXFiles.fsync(path: stagedVersion.path)
            try POSIXFiles.rename(stagedVersion.path, to: destination.path)
            try POSIXFiles.fsync(path: to.directory.path)
        }
        try ModelHistory.append(
            .init(
                operation: "promote", versions: [destinationVersion], digests: [String(destinationVersion): record.digest],
                detail: "from \(versionFolder.path)"),
            to: to.directory)
        return PromotionResult(
            model: name, sourceVersion: version, targetVersion: destinationVersion, targetDirectory: destination.path,
            configCopied: createsModel, digest: record.digest, gates: gates)
    }

    /// Copies every file of a version folder (but its manifest), hashing as it goes.
    private func copyVersion(_ folder: URL, to destination: URL, manifest: Manifest?) throws -> [Manifest.Entry] {
        var jobs: [FileCopyJob] = []
        var relatives: [String: String] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        for case let relative as String in enumerator where relative != Manifest.fileName {
            let source = folder.appendingPathComponent(relative)
            let target = destination.appendingPathComponent(relative)
            if POSIXFiles.isDirectory(source.path) {
                try POSIXFiles.makeDirectory(target.path)
            } else {
                jobs.append(FileCopyJob(source: source.path, destination: target.path, size: POSIXFiles.fileSize(source.path) ?? 0))
                relatives[target.path] = relative
            }
        }
        let result = try FileCopier().run(jobs)
        return jobs.map { job in
            Manifest.Entry(path: relatives[job.destination]!, size: job.size, sha256: result.digests[job.destination]!)
        }.sorted { $0.path < $1.path }
    }
}

/// Whether a new config can replace a served one without breaking its clients.
public enum SignatureCompatibility {
    public static func differences(served: Inference_ModelConfig, candidate: Inference_ModelConfig) -> [String] {
        var found: [String] = []
        if served.maxBatchSize > 0 && candidate.maxBatchSize == 0 || served.maxBatchSize == 0 && candidate.maxBatchSize > 0 {
            found.append("max_batch_size \(served.maxBatchSize) -> \(candidate.maxBatchSize) changes whether requests carry a batch dimension")
        } else if candidate.maxBatchSize < served.maxBatchSize {
            found.append("max_batch_size shrinks from \(served.maxBatchSize) to \(candidate.maxBatchSize)")
        }
        func compare(_ kind: String, _ old: [(String, Inference_DataType, [Int64])], _ new: [(String, Inference_DataType, [Int64])]) {
            let newByName = Dictionary(new.map { ($0.0, $0) }, uniquingKeysWith: { first, _ in first })
            for (name, type, dims) in old {
                guard let (_, newType, newDims) = newByName[name] else {
                    found.append("\(kind) '\(name)' disappears")
                    continue
                }
                if newType != type { found.append("\(kind) '\(name)' changes type \(type.configName) -> \(newType.configName)") }
                let compatible = dims.count == newDims.count && zip(dims, newDims).allSatisfy { $0 == $1 || $1 == -1 }
                if !compatible { found.append("\(kind) '\(name)' changes dims \(dims) -> \(newDims)") }
            }
            let oldNames = Set(old.map(\.0))
            for (name, _, _) in new where !oldNames.contains(name) && kind == "input" {
                found.append("input '\(name)' is new: clients do not send it")
            }
        }
        compare("input", served.input.map { ($0.name, $0.dataType, $0.dims) }, candidate.input.map { ($0.name, $0.dataType, $0.dims) })
        compare("output", served.output.map { ($0.name, $0.dataType, $0.dims) }, candidate.output.map { ($0.name, $0.dataType, $0.dims) })
        return found
    }
}
