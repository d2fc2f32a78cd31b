import CSystemShims
import Foundation
import Glibc
import TritonPackLint
import TritonPackModels
import TritonPackRepository
import TritonPackServing

/// What `tritonpack bundle` is asked to do.
public struct BundleOptions: Sendable {
    public enum Versions: String, Sendable, CaseIterable {
        /// The versions each model's version policy serves (by default the newest one).
        case latest
        /// Every version folder.
        case all
    }

    public var repository: URL
    public var output: URL
    /// Models to bundle (each ensemble brings the models it calls); empty: every model.
    public var models: [String] = []
    public var versions: Versions = .latest
    public var template: BundleTemplate = .builtIn
    /// Replace an existing output file.
    public var force = false
    /// Keep hidden, editor and cache files that are left out by default.
    public var includePrivate = false
    public var timestamp: DOSTimestamp = .epoch
    /// The image `run.sh` starts when no local tritonserver is found; nil: chosen by backend.
    public var containerImage: String?
    /// Refuse to bundle a model that lint finds errors in.
    public var lint = true
    public var lintOptions = LintOptions()
    /// fsync the archive before it is renamed into place.
    public var sync = true

    public init(repository: URL, output: URL) {
        self.repository = repository
        self.output = output
    }
}

/// What a bundle holds, as `tritonpack bundle` reports it.
public struct BundleReport: Codable, Sendable, Equatable {
    public struct Model: Codable, Sendable, Equatable {
        public var name: String
        public var versions: [Int64]
    }

    public var output: String
    public var models: [Model]
    public var entries: Int
    public var storedFiles: Int
    public var deflatedFiles: Int
    /// Bytes of every file before compression.
    public var contentBytes: Int64
    public var archiveBytes: Int64
    /// Paths left out as private (see `PrivateFiles`), relative to the repository.
    public var leftOut: [String]

    package enum CodingKeys: String, CodingKey {
        case output, models, entries
        case storedFiles = "stored_files"
        case deflatedFiles = "deflated_files"
        case contentBytes = "content_bytes"
        case archiveBytes = "archive_bytes"
        case leftOut = "left_out"
    }
}

/// Builds a demo bundle: the selected models' folders under `model_repository/`, the template's
/// files rendered for them, and `bundle.json`, written as a reproducible ZIP that appears at the
/// output path only when complete.
public struct BundleBuilder: Sendable {
    public static let repositoryFolder = "model_repository"

    public var options: BundleOptions

    public init(options: BundleOptions) { self.options = options }

    /// The archive's entries, sorted by name, and what was left out; nothing is written.
    public func plan() throws -> (entries: [ZipEntry], description: BundleDescription, leftOut: [String]) {
        let repository = ModelRepository(root: options.repository)
        let root = repository.root.path
        guard POSIXFiles.isDirectory(root) else {
            throw TritonPackError.refused(root, "the repository does not exist or is not a folder")
        }
        let selected = try selectedModels(repository)
        let names = selected.map(\.name)
        try lintModels(names, in: repository)

        var walker = try SafeTreeWalker(boundary: root, includePrivate: options.includePrivate)
        var found: [FoundEntry] = [
            FoundEntry(archiveName: "\(Self.repositoryFolder)/", path: root, size: 0, isDirectory: true, executable: true)
        ]
        var models: [BundleModel] = []
        for (name, config) in selected {
            let model = try ModelDirectory.local(name, in: repository.root)
            let available = model.versions
            let versions =
                options.versions == .all ? available : VersionPolicyEvaluation.served(config.versionPolicy, available: available)
            guard !versions.isEmpty || config.platform == "ensemble" else {
                throw TritonPackError.refused(
                    model.directory.path,
                    available.isEmpty
                        ? "the model has no version folder"
                        : "the version policy serves none of versions \(available.map(String.init).joined(separator: ", "))")
            }
            let kept = Set(versions.map(String.init))
            let prefix = "\(Self.repositoryFolder)/\(name)/"
            found.append(
                FoundEntry(archiveName: prefix, path: model.directory.path, size: 0, isDirectory: true, executable: true))
            found += try walker.walk(model.directory.path, prefix: prefix) { entry in
                ModelNaming.canonicalVersion(entry) == nil || kept.contains(entry)
            }
            let signature = versions.last.flatMap {
                try? Manifest.read(from: model.directory.appendingPathComponent(String($0))).signature
            }
            models.append(BundleModel(name: name, config: config, versions: versions, signature: signature))
        }

        let defaultModel = options.models.first ?? models.first { $0.backend != "ensemble" }?.name ?? names[0]
        let description = BundleDescription(
            defaultModel: defaultModel, containerImage: options.containerImage ?? BundleDescription.defaultImage(for: models),
            models: models)

        var entries = try found.map(Self.entry(for:))
        let templateFiles = try options.template.rendered(with: Self.placeholderValues(description))
        let reserved = [Self.repositoryFolder, BundledOneFlowRuntime.folder]
        var generated = BundledOneFlowRuntime.files(
            for: selected.map(\.config).filter { $0.backend == OneFlowBackend.backendName }
        )
        .map { (path: $0.path, contents: Data($0.text.utf8), executable: false) }
        // The standard-library request an image pipeline takes, used by client/infer.py and server.py.
        if models.contains(where: BundleReadme.isPipeline),
            let request = ImagePipelineFiles.files.first(where: { $0.path == Self.pipelineRequestFile })
        {
            generated.append(("client/\(request.path)", Data(request.text.utf8), false))
        }
        for file in templateFiles {
            if file.path == BundleDescription.fileName
                || reserved.contains(where: { file.path == $0 || file.path.hasPrefix($0 + "/") })
            {
                throw TritonPackError.refused(
                    "\(options.template.origin)/\(file.path)",
                    "the bundle writes \(reserved.map { "\($0)/" }.joined(separator: ", ")) and \(BundleDescription.fileName) itself; these names are reserved in a template",
                    code: .reservedName)
            }
            generated.append((file.path, file.contents, file.executable))
        }
        var templateFolders: Set<String> = []
        for file in generated {
            var components = file.path.split(separator: "/").dropLast()
            while !components.isEmpty {
                templateFolders.insert(components.joined(separator: "/") + "/")
                components = components.dropLast()
            }
            entries.append(Self.entry(name: file.path, bytes: file.contents, executable: file.executable))
        }
        entries += templateFolders.map { ZipEntry(name: $0, content: .directory, permissions: 0o755, method: .stored) }
        entries.append(Self.entry(name: BundleDescription.fileName, bytes: try description.encoded(), executable: false))

        entries.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        let leftOut = walker.leftOut.map { $0.hasPrefix(root + "/") ? String($0.dropFirst(root.count + 1)) : $0 }
        return (entries, description, leftOut)
    }

    /// Writes the bundle: to a temporary file beside the output, synced, then renamed into place.
    @discardableResult
    public func build() throws -> BundleReport {
        let output = options.output.standardizedFileURL
        try checkOutput(output)
        let (entries, description, leftOut) = try plan()
        try write(entries, to: output)
        let files = entries.filter { $0.content != .directory }
        return BundleReport(
            output: output.path,
            models: description.models.map { BundleReport.Model(name: $0.name, versions: $0.versions) },
            entries: entries.count,
            storedFiles: files.filter { $0.method == .stored }.count,
            deflatedFiles: files.filter { $0.method == .deflated }.count,
            contentBytes: files.reduce(0) { $0 + $1.size },
            archiveBytes: POSIXFiles.fileSize(output.path) ?? 0,
            leftOut: leftOut)
    }

    /// Writes `entries` as a ZIP at `output`, which appears only complete: on any failure the
    /// temporary file is removed and whatever was at `output` stays as it was.
    package func write(_ entries: [ZipEntry], to output: URL) throws {
        let folder = output.deletingLastPathComponent().path
        let temporary = "\(folder)/.\(output.lastPathComponent).tritonpack-\(getpid()).tmp"
        unlink(temporary)
        do {
            let writer = try ZipArchiveWriter.create(temporary)
            for entry in entries { try writer.add(entry, timestamp: options.timestamp) }
            try writer.close()
            if options.sync { try POSIXFiles.fsync(path: temporary) }
            try Interruption.check()
            if options.force {
                try POSIXFiles.rename(temporary, to: output.path)
            } else if tp_rename_noreplace(temporary, output.path) != 0 {
                let exists = errno == EEXIST
                throw TritonPackError(
                    exists ? .refused : .io, file: output.path,
                    exists
                        ? "exists (created while bundling)"
                        : "cannot rename the finished archive into place: \(POSIXFiles.errnoMessage())",
                    code: exists ? .outputExists : nil)
            }
        } catch {
            unlink(temporary)
            if let signal = Interruption.signal { throw TritonPackError.interrupted(by: signal) }
            throw error
        }
        if options.sync { try POSIXFiles.fsync(path: folder) }
    }

    private func checkOutput(_ output: URL) throws {
        let folder = output.deletingLastPathComponent().path
        guard POSIXFiles.isDirectory(folder) else {
            throw TritonPackError.refused(output.path, "the folder for the output does not exist")
        }
        if POSIXFiles.isDirectory(output.path) {
            throw TritonPackError.refused(output.path, "is a folder, not an archive file", code: .outputIsFolder)
        }
        if POSIXFiles.exists(output.path) && !options.force {
            throw TritonPackError.refused(output.path, "exists", code: .outputExists)
        }
        let repository = ModelRepository(root: options.repository).root.path
        let resolvedFolder = POSIXFiles.resolvedPath(folder) ?? folder
        let resolvedRepository = POSIXFiles.resolvedPath(repository) ?? repository
        if resolvedFolder.hasPrefix(resolvedRepository + "/") {
            throw TritonPackError.refused(
                output.path, "lies inside a model folder of the repository, where the next bundle (and Triton) would pick it up",
                code: .insideModelFolder)
        }
    }

    /// The requested models (validated, existing), plus every model an ensemble among them calls,
    /// sorted by name, each with its config.
    private func selectedModels(_ repository: ModelRepository) throws -> [(name: String, config: Inference_ModelConfig)] {
        var queue: [String]
        if options.models.isEmpty {
            queue = try POSIXFiles.entries(of: repository.root.path).filter {
                !PrivateFiles.isPrivate($0) && POSIXFiles.isDirectory(repository.modelDirectory($0).path)
            }
            guard !queue.isEmpty else {
                throw TritonPackError.refused(repository.root.path, "the repository has no model folder")
            }
        } else {
            for name in options.models { try ModelName.validate(name) }
            queue = options.models
        }
        var selected: [String: Inference_ModelConfig] = [:]
        while let name = queue.first {
            queue.removeFirst()
            if selected[name] != nil { continue }
            let model = try ModelDirectory.local(name, in: repository.root)
            try model.requireModel()
            let config = try model.config()
            selected[name] = config
            queue += config.ensembleScheduling.step.map(\.modelName)
        }
        return selected.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map { ($0.key, $0.value) }
    }

    private func lintModels(_ names: [String], in repository: ModelRepository) throws {
        guard options.lint else { return }
        let linter = Linter(options: options.lintOptions)
        var errors: [String] = []
        for name in names {
            let report = linter.lint(path: repository.modelDirectory(name))
            errors += report.diagnostics.filter { $0.severity == .error }.map(\.compilerStyle)
        }
        guard errors.isEmpty else {
            throw TritonPackError(
                .refused, "lint found \(errors.count) error(s); a bundle must load the first time",
                at: SourceLocation(repository.root.path), problems: errors.map { Problem(nil, $0) }, code: .lintFailed)
        }
    }

    private static func entry(for found: FoundEntry) throws -> ZipEntry {
        if found.isDirectory {
            return ZipEntry(name: found.archiveName, content: .directory, permissions: 0o755, method: .stored)
        }
        return ZipEntry(
            name: found.archiveName, content: .file(path: found.path, size: found.size),
            permissions: found.executable ? 0o755 : 0o644,
            method: try CompressionChoice.looksLikeText(file: found.path) ? .deflated : .stored)
    }

    private static func entry(name: String, bytes: Data, executable: Bool) -> ZipEntry {
        ZipEntry(
            name: name, content: .bytes(bytes), permissions: executable ? 0o755 : 0o644,
            method: CompressionChoice.looksLikeText(bytes.prefix(CompressionChoice.sniffBytes)) ? .deflated : .stored)
    }

    package static let pipelineRequestFile = "triton_image_request.py"

    /// The values templates can use.
    package static func placeholderValues(_ description: BundleDescription) -> [String: String] {
        [
            "default_model": description.defaultModel,
            "models": description.models.map(\.name).joined(separator: " "),
            "container_image": description.containerImage,
            "models_markdown": BundleReadme.modelsSection(description),
            "pipelines_markdown": BundleReadme.pipelinesSection(description),
            "oneflow_models": description.models.filter { $0.backend == OneFlowBackend.backendName }.map(\.name)
                .joined(separator: " "),
        ]
    }
}

/// Text is deflated; tensor data and other binary files are stored, since weights barely compress
/// (a few percent) at many times the cost of copying them.
package enum CompressionChoice {
    package static let sniffBytes = 8192

    package static func looksLikeText(file path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TritonPackError.io(path, "cannot read: \(POSIXFiles.errnoMessage())")
        }
        defer { try? handle.close() }
        return looksLikeText((try? handle.read(upToCount: sniffBytes)) ?? Data())
    }

    /// No NUL byte, and UTF-8 (allowing a character cut at the end of the sample).
    package static func looksLikeText(_ sample: Data) -> Bool {
        if sample.isEmpty || sample.contains(0) { return false }
        for cut in 0...min(3, sample.count - 1) where String(data: sample.dropLast(cut), encoding: .utf8) != nil {
            return true
        }
        return false
    }
}
