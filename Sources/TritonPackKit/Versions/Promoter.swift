import Foundation
import TritonPackLint
import TritonPackModels
import TritonPackRepository
import TritonPackServing

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

/// Copies one version of a model from one repository into another, after gates: the source model
/// lints without error, its files match its manifest, and its signature is compatible with what the
/// target serves. A refusal is a `.refused` error with one problem per failed gate, coded `gate <name>`.
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

    /// Promotes from a source in any store: one that is not on this machine is read from a
    /// temporary copy of the model's config and the version promoted.
    public func promote(onWait: @escaping @Sendable (String) -> Void = { _ in }) async throws -> PromotionResult {
        try ModelName.validate(name)
        guard source.store.displayName != target.store.displayName else {
            throw TritonPackError.usage("--from and --to name the same repository")
        }
        return try await source.withLocalCopy(of: [name], versions: version.map { .listed([$0]) } ?? .served) { source in
            try await promote(from: source, onWait: onWait)
        }
    }

    private func promote(from source: ModelRepository, onWait: @escaping @Sendable (String) -> Void) async throws
        -> PromotionResult
    {
        let from = try await source.model(name)
        try from.requireModel()
        guard try await target.store.exists() else {
            throw TritonPackError.refused(target.store.displayName, "the target repository is not a directory")
        }
        let candidate = try await PromotionCandidate.check(name: name, in: from, version: version, lintOptions: lintOptions)
        let (sourceConfig, version, manifest) = (candidate.config, candidate.version.number, candidate.manifest)
        let destinationVersion = targetVersion ?? version
        guard destinationVersion >= 0 else { throw TritonPackError.usage("--as must be >= 0") }
        let versionFolder = candidate.version

        return try await RepositoryTransaction.run(
            in: target, model: name, lock: LockPolicy(timeout: lockTimeout, onWait: onWait)
        ) {
            transaction in
            let to = transaction.model
            let served = to.configText == nil ? nil : try to.config()
            if let served, !served.name.isEmpty, served.name != name {
                throw TritonPackError.refused(to.configPath, "the target's config names model '\(served.name)', not '\(name)'")
            }
            let gates = try candidate.gates(servedBy: served, sourceConfig: sourceConfig, allowBreaking: allowBreaking)
            if to.versions.contains(destinationVersion) {
                throw TritonPackError.refused(
                    to.version(destinationVersion).displayPath,
                    "version \(destinationVersion) of '\(name)' already exists in the target", code: .versionExists)
            }
            if !to.exists, let config = from.configText { transaction.setConfig(config) }
            try await placeEnvironment(named: served ?? sourceConfig, from: from, in: source, expected: manifest, transaction)
            let files = try await placedFiles(of: versionFolder, in: source)
            let (record, staged) = try await transaction.addVersion(destinationVersion, files: files) { entries in
                var record =
                    manifest
                    ?? Manifest(
                        model: name, version: destinationVersion,
                        source: .init(kind: "promoted", path: versionFolder.displayPath),
                        signature: Signature(inputs: [], outputs: []), files: entries)
                record.version = destinationVersion
                return record
            }
            let copied = files.map {
                Manifest.Entry(path: $0.destination, size: $0.size, sha256: staged.digests[$0.destination] ?? "")
            }
            if record.files != copied.sorted(by: { $0.path < $1.path }) {
                throw TritonPackError.io(
                    versionFolder.displayPath, "changed while being promoted: the copy does not match the manifest")
            }
            transaction.record(
                "promote", versions: [destinationVersion], digests: [String(destinationVersion): record.digest],
                detail: "from \(versionFolder.displayPath)")
            return PromotionResult(
                model: name, sourceVersion: version, targetVersion: destinationVersion,
                targetDirectory: to.version(destinationVersion).displayPath, configCopied: !to.exists, digest: record.digest,
                gates: gates)
        }
    }

    /// The execution environment the target's config names (a file of the model folder, shared by
    /// its versions), copied from the source model when the target lacks it.
    private func placeEnvironment(
        named config: Inference_ModelConfig, from: ModelDirectory, in source: ModelRepository, expected manifest: Manifest?,
        _ transaction: RepositoryTransaction
    ) async throws {
        guard let name = ExecutionEnvironment.modelFile(namedBy: config), let root = source.store.localRoot,
            from.modelFiles.contains(name)
        else { return }
        let file = root.appendingPathComponent("\(from.name)/\(name)")
        let placed = PlacedFile(source: file, destination: name, size: POSIXFiles.fileSize(file.path) ?? 0)
        guard let digest = try await transaction.addModelFile(placed) else { return }
        if let expected = manifest?.environment, expected.path == name, expected.sha256 != digest {
            throw TritonPackError.io(
                file.path, "does not match the version's manifest (sha256:\(expected.sha256)): the environment changed")
        }
    }

    /// Every file of the source version but its manifest, placed at the same relative path.
    private func placedFiles(of version: VersionDirectory, in source: ModelRepository) async throws -> [PlacedFile] {
        guard let root = source.store.localRoot else {
            throw TritonPackError.usage("promoting from \(source.store.displayName) needs a local source repository")
        }
        let folder = root.appendingPathComponent(version.relativePath)
        return try await source.store.files(ofModel: version.model, version: version.number)
            .filter { $0.key != Manifest.fileName }
            .sorted { $0.key < $1.key }
            .map { PlacedFile(source: folder.appendingPathComponent($0.key), destination: $0.key, size: $0.value) }
    }
}

/// The source side of a promotion, which every target (a local folder, an S3 bucket) checks the
/// same way: the version to promote, and the gates that look at the source (lint, manifest).
public struct PromotionCandidate: Sendable {
    public var config: Inference_ModelConfig
    public var version: VersionDirectory
    public var manifest: Manifest?
    public var sourceGates: [PromotionGate]

    /// Chooses the version (`requested`, else the newest the source serves) and runs the source gates.
    public static func check(name: String, in from: ModelDirectory, version requested: Int64?, lintOptions: LintOptions)
        async throws -> PromotionCandidate
    {
        let config = try from.config()
        if !config.name.isEmpty && config.name != name {
            throw TritonPackError.refused(from.configPath, "the config names model '\(config.name)', not '\(name)'")
        }
        let number: Int64
        if let requested {
            guard from.versions.contains(requested) else {
                throw TritonPackError.refused(
                    from.version(requested).displayPath, "version \(requested) of '\(name)' does not exist",
                    code: .versionNotFound)
            }
            number = requested
        } else {
            guard let newest = try from.served().max() else {
                throw TritonPackError.refused(from.displayPath, "the source serves no version of '\(name)'")
            }
            number = newest
        }
        let version = from.version(number)
        var gates: [PromotionGate] = []
        let errors = Linter(options: lintOptions).lint(path: from.directory).diagnostics.filter { $0.severity == .error }
        gates.append(
            PromotionGate(
                name: "lint", outcome: errors.isEmpty ? .passed : .failed,
                detail: errors.isEmpty ? "no error" : errors.prefix(3).map(\.compilerStyle).joined(separator: "; ")))
        let manifest = try? await version.manifest()
        if let manifest {
            let problems = try await version.verify(against: manifest)
            gates.append(
                PromotionGate(
                    name: "manifest", outcome: problems.isEmpty ? .passed : .failed,
                    detail: problems.isEmpty
                        ? "\(manifest.files.count) files match sha256:\(manifest.digest)" : problems.joined(separator: "; ")))
        } else {
            gates.append(
                PromotionGate(
                    name: "manifest", outcome: .skipped,
                    detail: "version \(number) has no manifest; one is recorded in the target"))
        }
        return PromotionCandidate(config: config, version: version, manifest: manifest, sourceGates: gates)
    }

    /// Every gate, the signature gate against what the target serves (`served` nil: a new model)
    /// included; throws the refusal, one problem per failed gate coded `gate <name>`, if any failed.
    public func gates(servedBy served: Inference_ModelConfig?, sourceConfig: Inference_ModelConfig, allowBreaking: Bool) throws
        -> [PromotionGate]
    {
        var gates = sourceGates
        if let served {
            let differences = SignatureCompatibility.differences(served: served, candidate: sourceConfig)
            gates.append(
                PromotionGate(
                    name: "signature", outcome: differences.isEmpty ? .passed : (allowBreaking ? .overridden : .failed),
                    detail: differences.isEmpty ? "compatible with the target's config" : differences.joined(separator: "; ")))
        } else {
            gates.append(PromotionGate(name: "signature", outcome: .passed, detail: "new model in the target"))
        }
        let failed = gates.filter { $0.outcome == .failed }
        if !failed.isEmpty {
            throw TritonPackError.refused(
                "promotion refused", problems: failed.map { Problem(nil, $0.detail, code: "gate \($0.name)") })
        }
        return gates
    }
}

/// Whether a new config can replace a served one without breaking its clients.
package enum SignatureCompatibility {
    public static func differences(served: Inference_ModelConfig, candidate: Inference_ModelConfig) -> [String] {
        var found: [String] = []
        if served.maxBatchSize > 0 && candidate.maxBatchSize == 0 || served.maxBatchSize == 0 && candidate.maxBatchSize > 0 {
            found.append(
                "max_batch_size \(served.maxBatchSize) -> \(candidate.maxBatchSize) changes whether requests carry a batch dimension"
            )
        } else if candidate.maxBatchSize < served.maxBatchSize {
            found.append("max_batch_size shrinks from \(served.maxBatchSize) to \(candidate.maxBatchSize)")
        }
        func compare(
            _ kind: String, _ old: [(String, Inference_DataType, [Int64])], _ new: [(String, Inference_DataType, [Int64])]
        ) {
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
        compare(
            "input", served.input.map { ($0.name, $0.dataType, $0.dims) }, candidate.input.map { ($0.name, $0.dataType, $0.dims) }
        )
        compare(
            "output", served.output.map { ($0.name, $0.dataType, $0.dims) },
            candidate.output.map { ($0.name, $0.dataType, $0.dims) })
        return found
    }
}
