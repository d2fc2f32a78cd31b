import Foundation
import TritonPackModels
import TritonPackRepository
import TritonPackServing

/// The pre- and postprocessing models of a pipeline, ready to be packed like any model.
public struct PipelineSteps: Sendable {
    public var preprocess: PackableModel
    public var postprocess: PackableModel
}

extension ImagePipeline {
    /// Prepares `model` (packed with `--pipeline image`) and its two Python steps. The steps run in
    /// the execution environment `--runtime oneflow-python` provides (numpy and Pillow included):
    /// the model's own archive when it has one, else the same archive placed once in the
    /// preprocessing model's folder, or the `--execution-env` path; a sibling model's archive is
    /// named through `$$TRITON_MODEL_DIRECTORY/../<model>/`, which the Python backend resolves to
    /// one canonical path and extracts once. The model serves its last two versions (unless
    /// `--version-policy` says otherwise) so the ensemble can switch between them.
    public static func prepare(
        _ model: inout PackableModel, options: ConfigOptions, pipeline: ImagePipelineOptions,
        placeEnvironment: Bool = false, progress: (String) -> Void = { _ in }
    ) throws -> (ImagePipeline, PipelineSteps) {
        let plan = try ImagePipeline.plan(for: model.config, options: pipeline)
        if options.versionPolicy == nil { model.config.versionPolicy = stepPolicy.message }
        let preprocessEnvironment: ExecutionEnvironment
        let postprocessEnvironment: ExecutionEnvironment
        var preprocessFiles: [PlacedFile] = []
        var digests: [String: String] = [:]
        if let own = ExecutionEnvironment.modelFile(namedBy: model.config) {
            let python = model.config.parameters[ExecutionEnvironment.pythonVersionParameter]?.stringValue ?? "3.10"
            let shared = ExecutionEnvironment(
                location: .serverPath("\(ExecutionEnvironment.modelDirectoryVariable)/../\(plan.model)/\(own)"),
                pythonVersion: python)
            (preprocessEnvironment, postprocessEnvironment) = (shared, shared)
        } else if let path = options.executionEnvironmentPath {
            let version = (try? OneFlowPython.locate(explicit: options.oneflowPython))?.version ?? "3.10"
            let shared = ExecutionEnvironment(location: .serverPath(path), pythonVersion: version)
            (preprocessEnvironment, postprocessEnvironment) = (shared, shared)
        } else {
            let python = try OneFlowPython.locate(explicit: options.oneflowPython)
            let archive = try OneFlowEnvironmentArchive.identify(python)
            preprocessEnvironment = ExecutionEnvironment(
                location: .modelFile(archive.fileName), pythonVersion: archive.pythonVersion)
            postprocessEnvironment = ExecutionEnvironment(
                location: .serverPath(
                    "\(ExecutionEnvironment.modelDirectoryVariable)/../\(plan.preprocessName)/\(archive.fileName)"),
                pythonVersion: archive.pythonVersion)
            if placeEnvironment {
                let (size, sha256) = try archive.build(with: python, progress: progress)
                preprocessFiles.append(PlacedFile(source: archive.url, destination: archive.fileName, size: size))
                digests[archive.fileName] = sha256
            }
        }
        var preprocess = try plan.step(
            preprocess: true, config: plan.preprocessConfig(environment: preprocessEnvironment), source: model.source)
        preprocess.modelFiles = preprocessFiles
        preprocess.modelFileDigests = digests
        let postprocess = try plan.step(
            preprocess: false, config: plan.postprocessConfig(environment: postprocessEnvironment), source: model.source)
        return (plan, PipelineSteps(preprocess: preprocess, postprocess: postprocess))
    }

    /// A step as a packable model: `model.py` (the step's script), `image_pipeline.py`,
    /// `pipeline.json` and, for a classifier's last step, `labels.txt`.
    package func step(preprocess: Bool, config: Inference_ModelConfig, source: URL) throws -> PackableModel {
        let runtime = try TritonPackHome.materialize(ImagePipelineFiles.files.map { ($0.path, $0.text) }, kind: "image-pipeline")
        let settings = String(decoding: try settings(preprocess: preprocess), as: UTF8.self)
        let settingsFolder = try TritonPackHome.materialize([(Self.settingsFile, settings)], kind: "pipeline-settings")
        func place(_ folder: URL, _ name: String, as destination: String) -> PlacedFile {
            let url = folder.appendingPathComponent(name)
            return PlacedFile(source: url, destination: destination, size: POSIXFiles.fileSize(url.path) ?? 0)
        }
        var files = [
            place(runtime, preprocess ? "preprocess.py" : "postprocess.py", as: "model.py"),
            place(runtime, "image_pipeline.py", as: "image_pipeline.py"),
            place(settingsFolder, Self.settingsFile, as: Self.settingsFile),
        ]
        if !preprocess, case .labels(_, _, _, let file, _, _) = output {
            files.append(PlacedFile(source: file, destination: Self.labelsFile, size: POSIXFiles.fileSize(file.path) ?? 0))
        }
        let signature = Signature(
            inputs: config.input.map { TensorSpec(name: $0.name, dataType: $0.dataType, shape: $0.dims) },
            outputs: config.output.map { TensorSpec(name: $0.name, dataType: $0.dataType, shape: $0.dims) })
        let description = ModelDescription(
            format: .pipeline, source: source, signature: signature, files: files, problems: [], notes: [], batching: .none)
        return PackableModel(description: description, config: config)
    }
}

/// What `pack --pipeline image` wrote: the four models' packs, in the order they were published.
public struct PipelinePackResult: Codable, Sendable, Equatable {
    public var kind: String
    /// The ensemble clients call.
    public var ensemble: String
    public var version: Int64
    /// `IMAGE` or `LABELS`.
    public var output: String
    public var models: [PackResult]
}

/// Packs a model and its pipeline as one version `V` of four models: the model, the preprocessing
/// step and the postprocessing step first (each its own transaction, served beside the versions
/// the ensemble pins now), then the ensemble's config pinning version `V` of each step, with its
/// version `V`, in one publication. A polling server therefore switches every request from the
/// old set to the new set at once. Every model and version is checked before anything is written.
public struct PipelinePacker: Sendable {
    public var request: PackRequest
    public var onWait: @Sendable (String) -> Void

    public init(_ request: PackRequest, onWait: @escaping @Sendable (String) -> Void = { _ in }) {
        self.request = request
        self.onWait = onWait
    }

    public func pack(_ model: PackableModel, pipeline: ImagePipeline, steps: PipelineSteps) async throws
        -> PipelinePackResult
    {
        let repository = request.repository
        for name in pipeline.models { try ModelName.validate(name) }
        var existing: [String: ModelDirectory] = [:]
        if try await repository.store.exists() {
            for name in pipeline.models { existing[name] = try await repository.model(name) }
        }
        let version = request.version ?? ((existing.values.compactMap(\.versions.last).max() ?? 0) + 1)
        if version < 0 { throw TritonPackError.usage("version \(version) is negative; versions are numbers >= 0") }
        for name in pipeline.models {
            if let directory = existing[name], directory.versions.contains(version) {
                throw TritonPackError.refused(
                    directory.version(version).displayPath,
                    "version \(version) of '\(name)' already exists; the pipeline's four models take the same version number",
                    code: .versionExists)
            }
        }
        var single = request
        single.version = version
        var results: [PackResult] = []
        for packable in [model, steps.preprocess, steps.postprocess] {
            results.append(try await Packer(single, onWait: onWait).pack(packable))
        }
        results.append(try await packEnsemble(pipeline, version: version))
        return PipelinePackResult(
            kind: "image", ensemble: pipeline.ensembleName, version: version, output: pipeline.outputName, models: results)
    }

    /// The ensemble's new version and its config pinning `version` of each step: one publication.
    package func packEnsemble(_ pipeline: ImagePipeline, version: Int64) async throws -> PackResult {
        let name = pipeline.ensembleName
        let config = pipeline.ensembleConfig(version: version)
        let signature = Signature(
            inputs: config.input.map { TensorSpec(name: $0.name, dataType: $0.dataType, shape: $0.dims) },
            outputs: config.output.map { TensorSpec(name: $0.name, dataType: $0.dataType, shape: $0.dims) })
        return try await RepositoryTransaction.run(
            in: request.repository, model: name, lock: LockPolicy(timeout: request.lockTimeout, onWait: onWait),
            createRepository: true
        ) { transaction in
            let current = transaction.model
            let action: PackResult.ConfigAction = current.configText == nil ? .created : .updated
            transaction.setConfig(Data(config.pbtxt.utf8))
            let source = Manifest.Source(kind: ModelDescription.Format.pipeline.rawValue, path: pipeline.model)
            let (manifest, _) = try await transaction.addVersion(version, files: []) {
                Manifest(model: name, version: version, source: source, signature: signature, files: $0)
            }
            transaction.record(
                "pack", versions: [version],
                detail: "pins \(pipeline.models.dropLast().map { "\($0) \(version)" }.joined(separator: ", "))")
            return PackResult(
                model: name, version: version, modelDirectory: current.displayPath,
                versionDirectory: current.version(version).displayPath, config: action, files: 0, bytes: 0,
                digest: manifest.digest, linked: false, notes: [])
        }
    }
}
