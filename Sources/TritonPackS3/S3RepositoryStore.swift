import Foundation
import TritonPackModels
import TritonPackRepository

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
    /// The config, nil when there is none or it does not parse.
    public var config: Inference_ModelConfig?
    public var objects: [S3Object]
    public var versions: [Int64: S3VersionState]
    public var served: [Int64] { versions.values.filter(\.served).map(\.version).sorted() }
    public var complete: [Int64] { versions.values.filter(\.complete).map(\.version).sorted() }
}

/// A model repository in S3-compatible object storage, the second `RepositoryStore`: the
/// commands write into it through `RepositoryTransaction` as into a local folder, and a polling
/// Triton sees each change whole (docs/user-guide.md, "Repositories in S3"):
/// - the config always pins `specific` versions (`S3PinnedConfig`); a new model's config goes
///   first, pinned to a version that never exists;
/// - a version's objects go up unserved, manifest last, and are checked against the manifest;
/// - the switch is one config PUT, made when the clock is a whole second past the newest
///   `Last-Modified` of the model, and repeated until its own `Last-Modified` is strictly newer;
/// - versions are deleted only once the config no longer serves them;
/// - every write happens under `S3RepositoryLock`, and a writer first removes what an interrupted
///   one left: the versions it was staging (`tritonpack.staging`), versions without a complete
///   manifest that are not served, and multipart uploads.
public struct S3RepositoryStore: RepositoryStore {
    public static let configFileName = ModelRepository.configFileName
    /// The version a new model's first config pins while its first version uploads.
    public static let placeholderVersion = Int64.max
    /// The versions a writer is staging, at the repository root beside the lock; present at the
    /// start of a transaction only when the writer before died.
    package static let stagingObjectName = "tritonpack.staging"

    public let location: S3Location
    public let client: S3Client
    public var partSize = S3Uploader.defaultPartSize
    public var concurrency = S3Uploader.defaultConcurrency
    public var lockTTL: TimeInterval
    public var onProgress: @Sendable (String) -> Void

    public init(
        location: S3Location, client: S3Client, onProgress: @escaping @Sendable (String) -> Void = { _ in },
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.location = location
        self.client = client
        self.onProgress = onProgress
        lockTTL = environment["TRITONPACK_S3_LOCK_TTL"].flatMap(TimeInterval.init) ?? 60
        // As awscli's max_concurrent_requests and multipart_chunksize; memory is about their product.
        if let requests = environment["TRITONPACK_S3_CONCURRENCY"].flatMap(Int.init), requests > 0 { concurrency = requests }
        if let mebibytes = environment["TRITONPACK_S3_PART_MIB"].flatMap(Int.init), mebibytes >= 5 { partSize = mebibytes << 20 }
    }

    public init(
        _ url: String, onProgress: @escaping @Sendable (String) -> Void = { _ in },
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        let location = try S3Location(parsing: url, environment: environment)
        self.init(
            location: location, client: try S3Client(location: location, environment: environment), onProgress: onProgress,
            environment: environment)
    }

    package func modelKey(_ model: String) -> String { location.key(model) }
    package func configKey(_ model: String) -> String { location.key("\(model)/\(Self.configFileName)") }
    package func versionKey(_ model: String, _ version: Int64) -> String { location.key("\(model)/\(version)") }

    // MARK: RepositoryStore

    public var displayName: String { location.url }
    public var localRoot: URL? { nil }
    public func displayPath(_ relativePath: String) -> String { location.display(relativePath) }

    /// True when the bucket exists; a missing bucket, refused keys or an unreachable endpoint are
    /// each one clear error (tritonpack never creates buckets).
    public func exists() async throws -> Bool {
        try await client.checkBucket()
        return true
    }

    public func create() async throws { try await client.checkBucket() }

    public func removeIfUnused() async {}

    public func entries(ofModel model: String) async throws -> [StoreEntry] {
        try S3Location.validateKeySegment(model, in: location.url)
        let base = modelKey(model) + "/"
        var isDirectory: [String: Bool] = [:]
        for object in try await client.list(prefix: base) {
            let parts = object.key.dropFirst(base.count).split(separator: "/", maxSplits: 1)
            guard let first = parts.first.map(String.init) else { continue }
            isDirectory[first] = isDirectory[first] == true || parts.count > 1
        }
        return isDirectory.map { StoreEntry(name: $0.key, isDirectory: $0.value) }.sorted { $0.name < $1.name }
    }

    public func read(_ relativePath: String) async throws -> Data? { try await client.get(location.key(relativePath)) }

    public func files(ofModel model: String, version: Int64) async throws -> [String: Int64] {
        let prefix = versionKey(model, version) + "/"
        return Dictionary(
            try await client.list(prefix: prefix).map { (String($0.key.dropFirst(prefix.count)), $0.size) },
            uniquingKeysWith: { first, _ in first })
    }

    /// Streams each object through SHA-256 (nothing is written locally).
    public func sha256(model: String, version: Int64, paths: [String]) async throws -> [String: String] {
        let prefix = versionKey(model, version) + "/"
        var digests: [String: String] = [:]
        for path in paths {
            try Interruption.check()
            digests[path] = try await client.download(prefix + path, to: nil).sha256
        }
        return digests
    }

    public func copyModel(_ model: String, versions: CopiedVersions, configAsServed: Bool, into repository: URL) async throws {
        let numbers: [Int64]? =
            switch versions {
            case .served: nil
            case .all: try await state(model: model).complete
            case .listed(let numbers): numbers
            }
        try await downloadModel(model: model, to: repository, versions: numbers, intendedPolicy: !configAsServed)
    }

    /// Uploads every file of `folder` under `<prefix>/<name>/`.
    public func placeFolder(_ folder: URL, as name: String) async throws {
        try S3Location.validateKeySegment(name, in: location.url)
        await removeFolder(name)
        var uploads: [S3FileUpload] = []
        if let enumerator = FileManager.default.enumerator(atPath: folder.path) {
            for case let relative as String in enumerator {
                let path = folder.appendingPathComponent(relative).path
                guard POSIXFiles.isRegularFile(path) else { continue }
                uploads.append(
                    S3FileUpload(
                        localPath: path, key: location.key("\(name)/\(relative)"), size: POSIXFiles.fileSize(path) ?? 0,
                        sha256: nil))
            }
        }
        _ = try await S3Uploader(client: client, partSize: partSize, concurrency: concurrency).upload(uploads)
    }

    public func removeFolder(_ name: String) async {
        guard let objects = try? await client.list(prefix: modelKey(name) + "/") else { return }
        for object in objects { try? await client.delete(object.key) }
    }

    public func begin(model: String, lockTimeout: Double, onWait: @escaping @Sendable (String) -> Void) async throws
        -> any StoreTransaction
    {
        try S3Location.validateKeySegment(model, in: location.url)
        try await client.checkBucket()
        let lock = try await S3RepositoryLock.acquire(client: client, ttl: lockTTL, timeout: lockTimeout, onWait: onWait)
        do {
            try await cleanUp(model: model)
        } catch {
            await lock.release()
            throw error
        }
        return S3StoreTransaction(store: self, model: model, lock: lock)
    }

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

    /// Every object of the model, grouped by version, with each version's manifest checked against
    /// the listing and whether the config serves it.
    public func state(model: String) async throws -> S3ModelState {
        try S3Location.validateKeySegment(model, in: location.url)
        let base = modelKey(model) + "/"
        let objects = try await client.list(prefix: base)
        let configText = try await client.get(configKey(model)).map { String(decoding: $0, as: UTF8.self) }
        let config = configText.flatMap { try? Inference_ModelConfig.parse($0).message }
        var grouped: [Int64: [S3Object]] = [:]
        for object in objects {
            let relative = object.key.dropFirst(base.count)
            guard let first = relative.split(separator: "/").first, relative.contains("/"),
                let version = ModelNaming.canonicalVersion(String(first))
            else { continue }
            grouped[version, default: []].append(object)
        }
        var versions: [Int64: S3VersionState] = [:]
        for (version, objects) in grouped {
            let manifest = try await completeManifest(model: model, version: version, objects: objects)
            versions[version] = S3VersionState(version: version, objects: objects, manifest: manifest, served: false)
        }
        if let config {
            for version in VersionPolicyEvaluation.served(config.versionPolicy, available: Array(versions.keys)) {
                versions[version]?.served = true
            }
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

    /// Downloads one complete version's objects into `folder` (created), checking each against the manifest.
    package func downloadVersion(_ version: S3VersionState, model: String, to folder: URL) async throws {
        guard let manifest = version.manifest else {
            throw TritonPackError.refused(
                location.display("\(model)/\(version.version)"),
                "version \(version.version) of '\(model)' is not complete in this repository (no manifest, or objects missing)")
        }
        let prefix = versionKey(model, version.version) + "/"
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let expected = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        for object in version.objects {
            try Interruption.check()
            let relative = String(object.key.dropFirst(prefix.count))
            let target = folder.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            let (size, digest) = try await client.download(object.key, to: target.path)
            if let file = expected[relative], file.size != size || file.sha256 != digest {
                throw TritonPackError.refused(location.objectURL(object.key), "does not match the version's manifest")
            }
        }
    }

    /// Downloads the model's config and `versions` (default: those it serves) into
    /// `<repository>/<model>`. With `intendedPolicy`, the config gets back the policy tritonpack
    /// pinned (what a promotion from this repository copies); without, it is what Triton reads.
    public func downloadModel(model: String, to repository: URL, versions: [Int64]? = nil, intendedPolicy: Bool = false)
        async throws
    {
        let state = try await state(model: model)
        guard var configText = state.configText else {
            throw TritonPackError.refused(location.display(model), "no model '\(model)' here (no \(Self.configFileName))")
        }
        if intendedPolicy { configText = try S3PinnedConfig.unpinned(configText) }
        let folder = repository.appendingPathComponent(model)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(configText.utf8).write(to: folder.appendingPathComponent(Self.configFileName))
        for entry in try await entries(ofModel: model) where !entry.isDirectory && entry.name != Self.configFileName {
            try Interruption.check()
            _ = try await client.download(
                location.key("\(model)/\(entry.name)"), to: folder.appendingPathComponent(entry.name).path)
        }
        for number in versions ?? state.served {
            guard let version = state.versions[number] else {
                throw TritonPackError.refused(
                    location.display("\(model)/\(number)"), "version \(number) of '\(model)' does not exist",
                    code: .versionNotFound)
            }
            try await downloadVersion(version, model: model, to: folder.appendingPathComponent(String(number)))
        }
    }

    // MARK: writing

    /// What an interrupted writer left: the versions it was staging and versions without a complete
    /// manifest, when the config does not serve them, and multipart uploads under the model.
    /// Called under the lock.
    private func cleanUp(model: String) async throws {
        let stagingKey = location.key(Self.stagingObjectName)
        let leftovers = try await client.get(stagingKey).flatMap { try? JSONDecoder().decode(S3StagingRecord.self, from: $0) }
        var models = Set(leftovers?.versions.map(\.model) ?? [])
        models.insert(model)
        for name in models.sorted() {
            let state = try await state(model: name)
            if state.configText != nil && state.config == nil { continue }  // unreadable: nothing is known unserved
            let stagedByTheDead = Set(leftovers?.versions.filter { $0.model == name }.map(\.version) ?? [])
            let victims = state.versions.values.filter { !$0.served && (!$0.complete || stagedByTheDead.contains($0.version)) }
            for upload in try await client.listMultipartUploads(prefix: modelKey(name) + "/") {
                try await client.abortMultipartUpload(upload.key, uploadID: upload.uploadID)
            }
            for version in victims.sorted(by: { $0.version < $1.version }) {
                onProgress("removing version \(version.version) of '\(name)' left by an interrupted run")
                try await remove(version.objects)
            }
        }
        if leftovers != nil { try await client.delete(stagingKey) }
    }

    /// Deletes a version's objects, manifest first, so that an interrupted delete leaves a partial
    /// version that the next writer removes.
    package func remove(_ objects: [S3Object]) async throws {
        let manifests = objects.filter { $0.key.hasSuffix("/" + Manifest.fileName) }
        for object in manifests + objects.filter({ !$0.key.hasSuffix("/" + Manifest.fileName) }) {
            try await client.delete(object.key)
        }
    }

    /// Records the versions being staged, so that a writer taking over a dead one's lock removes them.
    package func recordStaging(_ versions: [S3StagingRecord.Version]) async throws {
        let key = location.key(Self.stagingObjectName)
        if versions.isEmpty {
            try await client.delete(key)
        } else {
            try await client.put(key, data: try JSONEncoder().encode(S3StagingRecord(versions: versions)))
        }
    }

    /// The one write a polling Triton acts on: made once the clock is a whole second past the newest
    /// `Last-Modified` in the model, and repeated until its own `Last-Modified` is strictly newer.
    package func switchConfig(model: String, text: String) async throws {
        let key = configKey(model)
        let objects = try await client.list(prefix: modelKey(model) + "/")
        var newest = objects.map { floor($0.lastModified.timeIntervalSince1970) }.max() ?? 0
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

/// `tritonpack.staging`: the versions the lock's holder is uploading and has not published.
package struct S3StagingRecord: Codable, Equatable {
    package struct Version: Codable, Equatable {
        package var model: String
        package var version: Int64
    }
    package var versions: [Version]
}
