import Foundation
import TritonPackModels
import TritonPackRepository
import TritonPackServing

/// A model ready to be placed into a repository: its description and the config generated for it.
public struct PackableModel: Sendable {
    public var description: ModelDescription
    public var config: Inference_ModelConfig
    /// Files placed directly in the model folder, once per model: the execution environment.
    public var modelFiles: [PlacedFile] = []
    /// The SHA-256 of model files known before they are copied, by name.
    public var modelFileDigests: [String: String] = [:]
    /// For a saved graph converted to ONNX: what the conversion proved (the manifest keeps it).
    public var conversion: ONNXConversionReport?
    /// The options the config was generated with, where it was: what a kept config may lack.
    public var options: ConfigOptions?

    public init(description: ModelDescription, config: Inference_ModelConfig) {
        self.description = description
        self.config = config
    }

    public var sourceKind: String { conversion == nil ? description.format.rawValue : ModelDescription.Format.oneflow.rawValue }
    public var source: URL { description.source }
    public var files: [PlacedFile] { description.files }
    public var signature: Signature { description.signature }
    public var notes: [String] { description.notes }

    /// Reads a saved OneFlow graph or an ONNX file, refusing it with every reason if it cannot be
    /// served, and generates its config.
    /// `placeEnvironment`: pack the execution environment (built once per machine) to place it in
    /// the model folder; without it the config only names it.
    public static func read(
        at url: URL, options: ConfigOptions, placeEnvironment: Bool = false, progress: (String) -> Void = { _ in }
    ) throws -> PackableModel {
        var packable = try readModel(at: url, options: options, placeEnvironment: placeEnvironment, progress: progress)
        if let golden = options.conversion.golden { packable.description.files += try goldenFiles(in: golden) }
        packable.options = options
        return packable
    }

    /// The golden data (`INPUT_<k>.npy`, `OUTPUT_<k>.npy`, or files named after the tensors) kept
    /// with the version in `tritonpack-golden/`, for `rollout` to check the version with.
    package static func goldenFiles(in folder: URL) throws -> [PlacedFile] {
        guard POSIXFiles.isDirectory(folder.path) else {
            throw TritonPackError.refused(folder.path, "--golden: no such folder (it holds INPUT_<k>.npy and OUTPUT_<k>.npy)")
        }
        let names = try POSIXFiles.entries(of: folder.path).filter { $0.hasSuffix(".npy") }.sorted()
        guard names.contains(where: { $0.hasPrefix("INPUT_") }) else {
            throw TritonPackError.refused(folder.path, "--golden: no INPUT_<k>.npy here")
        }
        return names.map {
            let source = folder.appendingPathComponent($0)
            return PlacedFile(
                source: source, destination: "\(Manifest.goldenFolder)/\($0)", size: POSIXFiles.fileSize(source.path) ?? 0)
        }
    }

    private static func readModel(
        at url: URL, options: ConfigOptions, placeEnvironment: Bool, progress: (String) -> Void
    ) throws -> PackableModel {
        var description = try ModelDescription.read(at: url)
        try description.requireServable()
        var options = options
        var modelFiles: [PlacedFile] = []
        var digests: [String: String] = [:]
        switch (description.format, options.runtime ?? .oneflowBackend) {
        case (.oneflow, .oneflowBackend), (.onnx, .oneflowBackend):
            break
        case (.oneflow, .oneflowPython):
            description.files += try OneFlowPythonDeployment.runtimeFiles()
            if let path = options.executionEnvironmentPath {
                let version = (try? OneFlowPython.locate(explicit: options.oneflowPython))?.version ?? "3.10"
                options.environment = ExecutionEnvironment(location: .serverPath(path), pythonVersion: version)
            } else {
                let python = try OneFlowPython.locate(explicit: options.oneflowPython)
                let archive = try OneFlowEnvironmentArchive.identify(python)
                options.environment = ExecutionEnvironment(
                    location: .modelFile(archive.fileName), pythonVersion: archive.pythonVersion)
                if placeEnvironment {
                    let (size, sha256) = try archive.build(with: python, progress: progress)
                    modelFiles.append(PlacedFile(source: archive.url, destination: archive.fileName, size: size))
                    digests[archive.fileName] = sha256
                }
            }
        case (.oneflow, .onnx):
            let python = try OneFlowPython.locate(explicit: options.oneflowPython)
            progress("converting \(url.path) to ONNX and verifying it against OneFlow's runtime")
            // A config batches only where every tensor shares the saved batch and keeps another
            // dimension (the oneflow config's rule); otherwise the shapes stay as saved.
            var conversion = options.conversion
            conversion.fixedBatch = description.signature.savedBatch == nil || options.maxBatchSize == 0
            let (onnx, report) = try OneFlowToONNX.convert(url, python: python, options: conversion)
            var converted = try ONNXModel.read(at: onnx).description
            try converted.requireServable()
            converted.source = url
            converted.notes += description.notes
            // onnxruntime (and so Triton's backend) takes an output's first dimension from its own
            // shape inference, which keeps a batch that Reshape constants fix: batch only where
            // the ONNX reader sees every first dimension dynamic too.
            let batchable = report.batch.dynamic && converted.batching == .dynamicFirstDimension
            if !batchable {
                converted.notes.append(
                    "the converted model keeps the saved batch \(report.batch.max): max_batch_size 0, and every request carries the saved shapes"
                )
            }
            var packable = PackableModel(
                description: converted,
                config: try ConfigGenerator.onnx(
                    convertedFrom: description.signature, report: report, batchable: batchable, options: options))
            packable.conversion = report
            return packable
        case (.pipeline, _):
            throw TritonPackError.usage("\(url.path): a pipeline's models are generated with the model they wrap")
        case (.onnx, let runtime):
            throw TritonPackError.usage(
                "--runtime \(runtime.rawValue) serves saved OneFlow graphs; \(url.path) is an ONNX model, served by onnxruntime")
        }
        var packable = PackableModel(
            description: description, config: try ConfigGenerator.config(for: description, options: options))
        packable.modelFiles = modelFiles
        packable.modelFileDigests = digests
        return packable
    }
}

public struct PackRequest: Sendable {
    public var repository: ModelRepository
    public var version: Int64?
    public var updateConfig: Bool
    public var link: Bool
    public var lockTimeout: Double

    public init(
        repository: ModelRepository, version: Int64? = nil, updateConfig: Bool = false, link: Bool = false,
        lockTimeout: Double = 60,
        /// fsync every file and folder before publishing, so a power loss cannot leave a published
        /// version with missing data. Off only for throw-away repositories.
        durable: Bool = true
    ) {
        self.repository = repository
        if !durable, var local = repository.store as? LocalRepositoryStore {
            local.durable = false
            self.repository = ModelRepository(store: local)
        }
        self.version = version
        self.updateConfig = updateConfig
        self.link = link
        self.lockTimeout = lockTimeout
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
    /// What the pack did that its user may not expect; not part of the encoded result.
    public var warnings: [PackWarning] = []

    private enum CodingKeys: String, CodingKey {
        case model, version, modelDirectory, versionDirectory, config, files, bytes, digest, linked, notes
    }
}

/// Places a model into a repository as a new version, as one `RepositoryTransaction`: nothing
/// appears in the repository until it is complete, an existing version is never touched, and
/// concurrent writers are serialized.
public struct Packer: Sendable {
    public var request: PackRequest
    public var onWait: @Sendable (String) -> Void

    public init(_ request: PackRequest, onWait: @escaping @Sendable (String) -> Void = { _ in }) {
        self.request = request
        self.onWait = onWait
    }

    public func pack(_ model: PackableModel) async throws -> PackResult {
        let name = model.config.name
        try ModelName.validate(name)
        if let version = request.version, version < 0 {
            throw TritonPackError.usage("version \(version) is negative; versions are numbers >= 0")
        }
        let repository = request.repository
        return try await RepositoryTransaction.run(
            in: repository, model: name, lock: LockPolicy(timeout: request.lockTimeout, onWait: onWait), createRepository: true
        ) { transaction in
            let current = transaction.model
            if !current.exists, repository.store.localRoot != nil, POSIXFiles.exists(current.directory.path) {
                throw TritonPackError.refused(current.displayPath, "exists but is not a model folder", code: .notModelFolder)
            }
            let version = request.version ?? ((current.versions.last ?? 0) + 1)
            var notes = model.notes
            let configText = Data(model.config.pbtxt.utf8)
            let configAction = try decideConfig(for: model, current: current, notes: &notes)
            if configAction != .kept { transaction.setConfig(configText) }
            let source = Manifest.Source(kind: model.sourceKind, location: model.source)
            let served = configAction == .kept ? try current.config() : model.config
            let environment = try await placeEnvironment(of: model, served: served, in: transaction)
            let (manifest, staged) = try await transaction.addVersion(version, files: model.files, link: request.link) {
                Manifest(
                    model: name, version: version, source: source, signature: model.signature, files: $0,
                    environment: environment, conversion: model.conversion)
            }
            if staged.copiedInsteadOfLinked > 0 {
                notes.append("\(staged.copiedInsteadOfLinked) file(s) copied: hard links are impossible across filesystems")
            }
            transaction.record(
                "pack", versions: [version], digests: [String(version): manifest.digest],
                detail: "from \(model.source.path), config \(configAction.rawValue)")
            var result = PackResult(
                model: name, version: version, modelDirectory: current.displayPath,
                versionDirectory: current.version(version).displayPath, config: configAction, files: model.files.count,
                bytes: model.files.reduce(0) { $0 + $1.size }, digest: manifest.digest,
                linked: request.link && staged.copiedInsteadOfLinked < model.files.count, notes: notes)
            result.warnings = PackWarning.judge(
                version: version, versions: transaction.versionsAfter, served: served, packed: model.config,
                requested: model.options, configKept: configAction == .kept, configPath: current.configPath)
            return result
        }
    }

    /// Places the execution environment the served config names, when the model folder lacks it
    /// and this pack brings it; returns its manifest entry.
    private func placeEnvironment(
        of model: PackableModel, served config: Inference_ModelConfig, in transaction: RepositoryTransaction
    )
        async throws -> Manifest.Entry?
    {
        guard let name = ExecutionEnvironment.modelFile(namedBy: config),
            let file = model.modelFiles.first(where: { $0.destination == name })
        else { return nil }
        let copied = try await transaction.addModelFile(file, link: request.link)
        guard let digest = copied ?? model.modelFileDigests[name] else { return nil }
        return Manifest.Entry(path: name, size: file.size, sha256: digest)
    }

    /// Whether the model's config.pbtxt is created, kept, or (with --update-config) replaced.
    private func decideConfig(for model: PackableModel, current: ModelDirectory, notes: inout [String]) throws
        -> PackResult.ConfigAction
    {
        guard current.configText != nil else { return .created }
        let existing: Inference_ModelConfig
        do {
            existing = try current.config()
        } catch let error as TritonPackError where error.kind == .refused {
            guard request.updateConfig else {
                var refusal = error
                refusal.message = "existing config does not parse (\(error.message))"
                refusal.code = .configUnreadable
                throw refusal
            }
            return .updated
        }
        let runtimes = [existing, model.config].map { $0.backend.isEmpty ? $0.platform : $0.backend }
        if runtimes[0] != runtimes[1], !request.updateConfig,
            runtimes.contains(OneFlowBackend.backendName) || runtimes.contains("python")
        {
            throw TritonPackError.refused(
                current.configPath,
                "this config serves the model with '\(runtimes[0])', but this version is packed for '\(runtimes[1])'; the served versions would stop loading",
                code: .runtimeChanged)
        }
        let wanted = ConfigGenerator.interface(of: model.config)
        let currentInterface = ConfigGenerator.interface(of: existing)
        if wanted != currentInterface {
            guard request.updateConfig else {
                let differences = ConfigComparison.differences(current: currentInterface, packed: wanted)
                throw TritonPackError.refused(
                    current.configPath,
                    "the model's signature differs from this config (\(differences.joined(separator: "; "))); clients of the served versions would break",
                    code: .signatureChanged)
            }
            return .updated
        }
        if request.updateConfig && existing != model.config { return .updated }
        if existing != model.config {
            notes.append(
                "kept the existing \(ModelRepository.configFileName): it matches the model's signature; pass --update-config to regenerate it from the options"
            )
        }
        return .kept
    }
}

/// Human-readable differences between two config interfaces.
package enum ConfigComparison {
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
