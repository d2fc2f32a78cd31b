import Crypto
import Foundation

/// One version of a model in an S3 repository, as the store sees it.
public struct S3VersionState: Sendable {
    public var version: Int64
    public var objects: [S3Object]
    /// The manifest, when its object is readable and every file it lists is there with its size.
    public var manifest: Manifest?
    public var served: Bool
    public var complete: Bool { manifest != nil }
}

/// One model of an S3 repository: its config and versions.
public struct S3ModelState: Sendable {
    public var name: String
    public var configText: String?
    public var config: Inference_ModelConfig?
    public var objects: [S3Object]
    public var versions: [Int64: S3VersionState]
    public var served: [Int64] { versions.values.filter(\.served).map(\.version).sorted() }
    public var complete: [Int64] { versions.values.filter(\.complete).map(\.version).sorted() }
}

public struct S3PublishResult: Codable, Equatable, Sendable {
    public var model: String
    public var version: Int64
    public var url: String
    public var served: [Int64]
    public var digest: String
    public var createdModel: Bool
    public var removedPartialVersions: [Int64]
    public var abortedUploads: Int
}

/// A model repository in S3 that a polling Triton sees change only whole
/// (docs/user-guide.md, "Repositories in S3"):
/// - the config always pins `specific` versions; a new model's config goes first, pinned to a
///   version that never exists;
/// - a version's objects go up (manifest last) and are checked against the manifest;
/// - the switch is one config PUT, made when the clock is a whole second past the newest
///   `Last-Modified` of the model, and repeated until its own `Last-Modified` is strictly newer;
/// - rollback is a config PUT; deletions only touch versions the config does not serve;
/// - every write happens under `S3RepositoryLock`; a run first removes what an interrupted run left
///   (versions without a complete manifest that are not served, multipart uploads).
public struct S3ModelStore: Sendable {
    public static let configFileName = "config.pbtxt"
    /// The version a new model's first config pins while its first version uploads.
    public static let placeholderVersion = Int64.max

    public let location: S3Location
    public let client: S3Client
    public var partSize = S3Uploader.defaultPartSize
    public var concurrency = S3Uploader.defaultConcurrency
    public var lockTTL: TimeInterval
    public var lockTimeout: TimeInterval
    public var onWait: @Sendable (String) -> Void
    public var onProgress: @Sendable (String) -> Void

    public init(
        location: S3Location, client: S3Client, lockTimeout: TimeInterval = 60,
        onWait: @escaping @Sendable (String) -> Void = { _ in },
        onProgress: @escaping @Sendable (String) -> Void = { _ in },
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.location = location
        self.client = client
        self.lockTimeout = lockTimeout
        self.onWait = onWait
        self.onProgress = onProgress
        lockTTL = environment["TRITONPACK_S3_LOCK_TTL"].flatMap(TimeInterval.init) ?? 60
    }

    public init(
        _ url: String, lockTimeout: TimeInterval = 60, onWait: @escaping @Sendable (String) -> Void = { _ in },
        onProgress: @escaping @Sendable (String) -> Void = { _ in },
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        let location = try S3Location(parsing: url, environment: environment)
        self.init(
            location: location, client: try S3Client(location: location, environment: environment), lockTimeout: lockTimeout,
            onWait: onWait, onProgress: onProgress, environment: environment)
    }

    func modelKey(_ model: String) -> String { location.key(model) }
    func configKey(_ model: String) -> String { location.key("\(model)/\(Self.configFileName)") }
    func versionKey(_ model: String, _ version: Int64) -> String { location.key("\(model)/\(version)") }

    // MARK: reading

    /// The names of the models in the repository (folders holding a config.pbtxt).
    public func models() async throws -> [String] {
        try await client.checkBucket()
        let root = location.prefix.isEmpty ? "" : location.prefix + "/"
        var names = Set<String>()
        for object in try await client.list(prefix: root) {
            let parts = object.key.dropFirst(root.count).split(separator: "/")
            if parts.count == 2, parts[1] == Self.configFileName { names.insert(String(parts[0])) }
        }
        return names.sorted()
    }

    public func readConfig(model: String) async throws -> String? {
        try S3Location.validateKeySegment(model, in: location.url)
        return try await client.get(configKey(model)).map { String(decoding: $0, as: UTF8.self) }
    }

    public func state(model: String) async throws -> S3ModelState {
        try S3Location.validateKeySegment(model, in: location.url)
        let base = modelKey(model) + "/"
        let objects = try await client.list(prefix: base)
        let configText = try await readConfig(model: model)
        var config: Inference_ModelConfig?
        if let configText {
            do {
                config = try Inference_ModelConfig.parse(configText).message
            } catch {
                throw TritonPackError.refused(
                    location.display("\(model)/\(Self.configFileName)"), "not a config Triton can read: \(error)")
            }
        }
        var grouped: [Int64: [S3Object]] = [:]
        for object in objects {
            let relative = object.key.dropFirst(base.count)
            guard let first = relative.split(separator: "/").first, relative.contains("/"), let version = Int64(first) else {
                continue
            }
            grouped[version, default: []].append(object)
        }
        var versions: [Int64: S3VersionState] = [:]
        let policy = config?.versionPolicy
        let pinned: Set<Int64> = {
            if case .specific(let specific)? = policy?.policyChoice { return Set(specific.versions) }
            return []
        }()
        for (version, objects) in grouped {
            let manifest = try await completeManifest(model: model, version: version, objects: objects)
            versions[version] = S3VersionState(version: version, objects: objects, manifest: manifest, served: false)
        }
        if let policy {
            let servedByPolicy: [Int64]
            if case .specific = policy.policyChoice {
                servedByPolicy = versions.keys.filter { pinned.contains($0) }
            } else {
                servedByPolicy = VersionPolicyEvaluation.served(policy, available: Array(versions.keys))
            }
            for version in servedByPolicy { versions[version]?.served = true }
        }
        return S3ModelState(name: model, configText: configText, config: config, objects: objects, versions: versions)
    }

    private func completeManifest(model: String, version: Int64, objects: [S3Object]) async throws -> Manifest? {
        let prefix = versionKey(model, version) + "/"
        guard objects.contains(where: { $0.key == prefix + Manifest.fileName }),
            let data = try await client.get(prefix + Manifest.fileName),
            let manifest = try? JSONDecoder().decode(Manifest.self, from: data)
        else { return nil }
        let sizes = Dictionary(objects.map { ($0.key, $0.size) }, uniquingKeysWith: { first, _ in first })
        for entry in manifest.files where sizes[prefix + entry.path] != entry.size { return nil }
        return manifest
    }

    /// Each version with its manifest digest and whether the config serves it; with `verify`, every
    /// complete version is downloaded and checked against its manifest.
    public func listVersions(model: String, verify: Bool = false) async throws -> [VersionInfo] {
        try await client.checkBucket()
        let state = try await state(model: model)
        guard state.configText != nil else {
            throw TritonPackError.refused(location.display(model), "no model '\(model)' here (no \(Self.configFileName))")
        }
        var list: [VersionInfo] = []
        for version in state.versions.values.sorted(by: { $0.version < $1.version }) {
            var info = VersionInfo(
                version: version.version, served: version.served, digest: version.manifest?.digest,
                signature: version.manifest.map { describe($0.signature) },
                verified: nil, problems: version.complete ? nil : ["incomplete: no manifest or missing objects"])
            if verify, version.complete {
                let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "tritonpack-s3-verify-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: scratch) }
                do {
                    try await downloadVersion(model: model, version: version.version, to: scratch)
                    info.verified = true
                } catch let error as TritonPackError where error.kind == .refused {
                    info.verified = false
                    info.problems = [error.description]
                }
            }
            list.append(info)
        }
        return list
    }

    private func describe(_ signature: Signature) -> String {
        "\(signature.inputs.count) input(s), \(signature.outputs.count) output(s)"
    }

    /// Downloads one version's objects into `folder` (created), checking each against the manifest.
    public func downloadVersion(model: String, version: Int64, to folder: URL) async throws {
        let state = try await state(model: model)
        guard let entry = state.versions[version], let manifest = entry.manifest else {
            throw TritonPackError.refused(
                location.display("\(model)/\(version)"), "version \(version) of '\(model)' is not complete in this repository")
        }
        let prefix = versionKey(model, version) + "/"
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let expected = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        for object in entry.objects {
            let relative = String(object.key.dropFirst(prefix.count))
            let target = folder.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            let (size, digest) = try await client.download(object.key, to: target.path)
            if let file = expected[relative], file.size != size || file.sha256 != digest {
                throw TritonPackError.refused(location.objectURL(object.key), "does not match the version's manifest")
            }
        }
    }

    /// Downloads the model's config and the versions it serves into `folder/<model>`.
    public func downloadModel(model: String, to repository: URL, versions: [Int64]? = nil) async throws {
        let state = try await state(model: model)
        guard let configText = state.configText else {
            throw TritonPackError.refused(location.display(model), "no model '\(model)' here (no \(Self.configFileName))")
        }
        let folder = repository.appendingPathComponent(model)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(configText.utf8).write(to: folder.appendingPathComponent(Self.configFileName))
        for version in versions ?? state.served {
            try await downloadVersion(model: model, version: version, to: folder.appendingPathComponent(String(version)))
        }
    }

    // MARK: writing

    /// Uploads a local version folder (with its `tritonpack-manifest.json`) as `version` of `model`
    /// and switches the config to serve it. `config` is the model's config text; its
    /// `version_policy` says which versions to serve afterwards (`latest N` and `all` are evaluated
    /// over the complete versions; `specific` serves the new version), and the config written
    /// pins those versions with `specific`.
    public func publishVersion(
        model: String, version: Int64, localFolder: URL, config: String, manifest recorded: Manifest? = nil
    ) async throws -> S3PublishResult {
        try S3Location.validateKeySegment(model, in: location.url)
        guard version >= 0, version != Self.placeholderVersion else {
            throw TritonPackError.usage("version \(version) cannot be published")
        }
        var manifest = try recorded ?? Manifest.read(from: localFolder)
        for file in manifest.files {
            for segment in file.path.split(separator: "/", omittingEmptySubsequences: false) {
                try S3Location.validateKeySegment(String(segment), in: location.display("\(model)/\(version)/\(file.path)"))
            }
        }
        let intent: Inference_ModelConfig
        do {
            intent = try Inference_ModelConfig.parse(config).message
        } catch {
            throw TritonPackError.refused(
                localFolder.deletingLastPathComponent().appendingPathComponent(Self.configFileName).path, "\(error)")
        }
        if !intent.name.isEmpty && intent.name != model {
            throw TritonPackError.refused(nil, "the config names model '\(intent.name)', not '\(model)'")
        }
        try await client.checkBucket()
        return try await locked { lock in
            let (before, removed, aborted) = try await cleanUp(model: model)
            // A run killed after its upload but before the switch left this very version complete
            // and unserved: the next run only makes the switch.
            let existing = before.versions[version]
            let resumes =
                existing?.complete == true && existing?.manifest?.digest == manifest.digest && !before.served.contains(version)
            if existing?.complete == true && !resumes {
                throw TritonPackError.refused(
                    location.display("\(model)/\(version)"),
                    "version \(version) of '\(model)' already exists; pass --as with a free number")
            }
            let createsModel = before.configText == nil
            if createsModel {
                onProgress("new model: config pinned to no version first")
                try await client.put(
                    configKey(model), data: Data(try pinned(config, to: [Self.placeholderVersion]).utf8),
                    contentType: "text/plain")
            }
            let prefix = versionKey(model, version) + "/"
            let uploads = manifest.files.filter { $0.path != Manifest.fileName }.map { file in
                S3FileUpload(
                    localPath: localFolder.appendingPathComponent(file.path).path, key: prefix + file.path, size: file.size,
                    sha256: file.sha256)
            }
            manifest.version = version
            if resumes {
                onProgress("version \(version) is complete from an interrupted run: switching to it")
            } else {
                onProgress("uploading \(uploads.count) file(s), \(manifest.files.reduce(0) { $0 + $1.size }) bytes")
                try await S3Uploader(client: client, partSize: partSize, concurrency: concurrency).upload(uploads)
                try Interruption.check()
                try await client.put(prefix + Manifest.fileName, data: try manifest.encoded(), contentType: "application/json")
            }
            let after = try await state(model: model)
            guard let uploaded = after.versions[version], uploaded.manifest?.digest == manifest.digest else {
                throw TritonPackError.io(
                    location.display("\(model)/\(version)"), "the uploaded objects do not match the manifest (listing)")
            }
            var available = after.complete
            if !available.contains(version) { available.append(version) }
            let served: [Int64]
            switch intent.versionPolicy.policyChoice {
            case .latest, .all, nil: served = VersionPolicyEvaluation.served(intent.versionPolicy, available: available)
            case .specific: served = [version]
            }
            try await lock.confirm()
            try await switchConfig(
                model: model, text: try pinned(createsModel ? config : after.configText!, to: served), after: after.objects)
            return S3PublishResult(
                model: model, version: version, url: location.display("\(model)/\(version)"), served: served,
                digest: manifest.digest,
                createdModel: createsModel, removedPartialVersions: removed, abortedUploads: aborted)
        }
    }

    /// Pins the config to exactly `versions`, which must all be complete (rollback, policy).
    @discardableResult
    public func setServedVersions(model: String, versions: [Int64]) async throws -> [Int64] {
        try await client.checkBucket()
        return try await locked { lock in
            let (state, _, _) = try await cleanUp(model: model)
            guard let text = state.configText else {
                throw TritonPackError.refused(location.display(model), "no model '\(model)' here (no \(Self.configFileName))")
            }
            let missing = versions.filter { state.versions[$0]?.complete != true }
            guard missing.isEmpty, !versions.isEmpty else {
                throw TritonPackError.refused(
                    location.display(model),
                    versions.isEmpty
                        ? "a policy that serves no version: Triton would refuse the model"
                        : "version(s) \(missing.map(String.init).joined(separator: ", ")) of '\(model)' are not complete here (complete: \(state.complete.map(String.init).joined(separator: ", ")))"
                )
            }
            try await lock.confirm()
            try await switchConfig(model: model, text: try pinned(text, to: versions.sorted()), after: state.objects)
            return versions.sorted()
        }
    }

    /// Evaluates `policy` over the complete versions and pins the result.
    @discardableResult
    public func setPolicy(model: String, policy: Inference_ModelVersionPolicy) async throws -> [Int64] {
        let state = try await state(model: model)
        let served: [Int64]
        if case .specific(let specific) = policy.policyChoice {
            served = specific.versions
        } else {
            served = VersionPolicyEvaluation.served(policy, available: state.complete)
        }
        return try await setServedVersions(model: model, versions: served)
    }

    /// Serves `version` (default: the newest complete version below the newest served) alone again.
    public func rollback(model: String, to version: Int64? = nil) async throws -> VersionOperations.RollbackResult {
        let state = try await state(model: model)
        let before = state.served
        let target: Int64
        if let version {
            target = version
        } else {
            guard let newest = before.max(), let previous = state.complete.filter({ $0 < newest }).max() else {
                throw TritonPackError.refused(
                    location.display(model),
                    "no complete version older than the one served (\(before.map(String.init).joined(separator: ", "))) to roll back to"
                )
            }
            target = previous
        }
        let served = try await setServedVersions(model: model, versions: [target])
        return VersionOperations.RollbackResult(previouslyServed: before, served: served)
    }

    /// Deletes versions the config does not serve: manifest first, so that an interrupted delete
    /// leaves a partial version the next run removes.
    public func deleteVersions(model: String, versions: [Int64]) async throws {
        try await client.checkBucket()
        try await locked { _ in
            let (state, _, _) = try await cleanUp(model: model)
            let served = versions.filter { state.versions[$0]?.served == true }
            guard served.isEmpty else {
                throw TritonPackError.refused(
                    location.display(model),
                    "version(s) \(served.map(String.init).joined(separator: ", ")) are served; change the policy first")
            }
            for version in versions { if let entry = state.versions[version] { try await remove(entry) } }
        }
    }

    /// Removes the versions the config does not serve, keeping the `keep` newest complete ones too.
    @discardableResult
    public func prune(model: String, keep: Int, dryRun: Bool = false) async throws -> [Int64] {
        guard keep >= 0 else { throw TritonPackError.usage("--keep must be >= 0") }
        try await client.checkBucket()
        return try await locked { _ in
            let (state, _, _) = try await cleanUp(model: model, dryRun: dryRun)
            let kept = Set(state.served).union(state.complete.suffix(keep))
            let victims = state.versions.keys.filter { !kept.contains($0) }.sorted()
            if !dryRun { for version in victims { try await remove(state.versions[version]!) } }
            return victims
        }
    }

    // MARK: steps

    private func locked<T: Sendable>(_ body: (S3RepositoryLock) async throws -> T) async throws -> T {
        let lock = try await S3RepositoryLock.acquire(client: client, ttl: lockTTL, timeout: lockTimeout, onWait: onWait)
        do {
            let result = try await body(lock)
            await lock.release()
            return result
        } catch {
            await lock.release()
            throw error
        }
    }

    /// What an interrupted run left: versions without a complete manifest that the config does not
    /// serve, and multipart uploads under the model. Called under the lock.
    private func cleanUp(model: String, dryRun: Bool = false) async throws -> (S3ModelState, [Int64], Int) {
        var state = try await state(model: model)
        let partial = state.versions.values.filter { !$0.complete && !$0.served }.map(\.version).sorted()
        let uploads = try await client.listMultipartUploads(prefix: modelKey(model) + "/")
        if dryRun { return (state, partial, uploads.count) }
        for upload in uploads { try await client.abortMultipartUpload(upload.key, uploadID: upload.uploadID) }
        for version in partial {
            onProgress("removing partial version \(version) left by an interrupted run")
            try await remove(state.versions[version]!)
            state.versions[version] = nil
        }
        if !partial.isEmpty || !uploads.isEmpty { state = try await self.state(model: model) }
        return (state, partial, uploads.count)
    }

    private func remove(_ version: S3VersionState) async throws {
        let manifests = version.objects.filter { $0.key.hasSuffix("/" + Manifest.fileName) }
        for object in manifests + version.objects.filter({ !$0.key.hasSuffix("/" + Manifest.fileName) }) {
            try await client.delete(object.key)
        }
    }

    /// `text` with `version_policy` pinning `versions`.
    func pinned(_ text: String, to versions: [Int64]) throws -> String {
        var only = Inference_ModelConfig()
        var specific = Inference_ModelVersionPolicy.Specific()
        specific.versions = versions
        only.versionPolicy.specific = specific
        return try ConfigTextEditor.replacing(field: "version_policy", in: text, with: only.pbtxt)
    }

    /// The one write a polling Triton acts on: made once the clock is a whole second past the newest
    /// `Last-Modified` in the model, and repeated until its own `Last-Modified` is strictly newer.
    private func switchConfig(model: String, text: String, after objects: [S3Object]) async throws {
        let key = configKey(model)
        var newest = objects.map { floor($0.lastModified.timeIntervalSince1970) }.max() ?? 0
        if let current = try await client.head(key) { newest = max(newest, floor(current.lastModified.timeIntervalSince1970)) }
        for _ in 0..<10 {
            let wait = newest + 1.05 - Date().timeIntervalSince1970
            if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
            try await client.put(key, data: Data(text.utf8), contentType: "text/plain")
            guard let written = try await client.head(key) else { continue }
            let seconds = floor(written.lastModified.timeIntervalSince1970)
            if seconds > newest { return }
            newest = max(newest, seconds)
        }
        throw TritonPackError.io(
            location.display("\(model)/\(Self.configFileName)"), "the server's clock never moved past the model's newest object")
    }
}

extension S3ModelStore {
    /// Downloads what an `s3://` URL names, a repository or one model in it (config and served
    /// versions), into `folder`, and returns the local path that stands for it.
    public static func downloadForReading(
        _ url: String, into folder: URL, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> URL {
        let location = try S3Location(parsing: url, environment: environment)
        let client = try S3Client(location: location, environment: environment)
        let store = S3ModelStore(location: location, client: client, environment: environment)
        let models = try await store.models()
        if !models.isEmpty {
            for model in models { try await store.downloadModel(model: model, to: folder) }
            return folder
        }
        if !location.prefix.isEmpty {
            let (repository, model) = try location.splittingModel()
            let parent = S3ModelStore(
                location: repository, client: S3Client(location: repository, credentials: client.signer.credentials),
                environment: environment)
            if try await parent.readConfig(model: model) != nil {
                try await parent.downloadModel(model: model, to: folder)
                return folder.appendingPathComponent(model)
            }
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
