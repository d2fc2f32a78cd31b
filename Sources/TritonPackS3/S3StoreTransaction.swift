import Foundation
import TritonPackModels
import TritonPackRepository

/// The S3 store's half of a `RepositoryTransaction`. Staging uploads a version's objects where a
/// polling server does not load them (the config does not serve them); publishing is one config
/// PUT that pins the versions the model's intended policy serves, then the deletions.
package final class S3StoreTransaction: StoreTransaction, @unchecked Sendable {
    private let store: S3RepositoryStore
    private let model: String
    private let lock: S3RepositoryLock
    /// Versions uploaded and not yet published, in order.
    private var staged: [Int64] = []
    /// Model-folder objects uploaded by this transaction (removed again when it does not publish).
    private var stagedModelFiles: [String] = []
    /// Whether this transaction wrote the new model's first config (pinned to no version).
    private var wroteFirstConfig = false
    private var published = false

    package init(store: S3RepositoryStore, model: String, lock: S3RepositoryLock) {
        self.store = store
        self.model = model
        self.lock = lock
    }

    private var client: S3Client { store.client }

    package func stageVersion(
        _ version: Int64, files: [PlacedFile], link: Bool, pendingConfig: Data?,
        manifest: @Sendable ([String: String]) throws -> Data
    ) async throws -> StagedVersion {
        guard version != S3RepositoryStore.placeholderVersion else {
            throw TritonPackError.usage("version \(version) is reserved in S3 repositories (a new model's first config pins it)")
        }
        let prefix = store.versionKey(model, version) + "/"
        for file in files {
            for segment in file.destination.split(separator: "/", omittingEmptySubsequences: false) {
                try S3Location.validateKeySegment(
                    String(segment), in: store.location.display("\(model)/\(version)/\(file.destination)"))
            }
        }
        if try await client.head(store.configKey(model)) == nil {
            // A model folder without a config is loaded with whatever Triton guesses: the config
            // goes first, pinned to a version that never exists.
            let text = pendingConfig.map { String(decoding: $0, as: UTF8.self) } ?? "name: \"\(model)\"\n"
            store.onProgress("new model: its config goes first, pinned to no version")
            try await lock.confirm()
            try await client.put(
                store.configKey(model),
                data: Data(
                    try S3PinnedConfig.pinning(
                        text, to: [S3RepositoryStore.placeholderVersion], intended: try S3PinnedConfig.ownPolicy(text)
                    ).utf8),
                contentType: "text/plain")
            wroteFirstConfig = true
        }
        staged.append(version)
        try await store.recordStaging(staged.map { .init(model: model, version: $0) })
        let uploads = files.map {
            S3FileUpload(localPath: $0.source.path, key: prefix + $0.destination, size: $0.size, sha256: nil)
        }
        store.onProgress("uploading \(files.count) file(s), \(ByteSize.human(files.reduce(0) { $0 + $1.size }))")
        let hashed = try await S3Uploader(client: client, partSize: store.partSize, concurrency: store.concurrency).upload(
            uploads)
        var digests: [String: String] = [:]
        for file in files { digests[file.destination] = hashed[prefix + file.destination] }
        try Interruption.check()
        try await client.put(prefix + Manifest.fileName, data: try manifest(digests), contentType: "application/json")
        let listed = try await store.files(ofModel: model, version: version)
        for file in files where listed[file.destination] != file.size {
            throw TritonPackError.io(
                store.location.display("\(model)/\(version)/\(file.destination)"),
                "after the upload the server lists \(listed[file.destination].map { "\($0) bytes" } ?? "nothing"), not \(file.size) bytes"
            )
        }
        return StagedVersion(version: version, digests: digests, copiedInsteadOfLinked: link ? files.count : 0)
    }

    /// Uploads the file beside the config: Triton loads nothing outside version folders, and
    /// nothing names the object until the config that does is published.
    package func stageModelFile(_ file: PlacedFile, link: Bool) async throws -> String {
        try S3Location.validateKeySegment(file.destination, in: store.location.display("\(model)/\(file.destination)"))
        let key = store.location.key("\(model)/\(file.destination)")
        stagedModelFiles.append(key)
        store.onProgress("uploading \(file.destination), \(ByteSize.human(file.size))")
        let hashed = try await S3Uploader(client: client, partSize: store.partSize, concurrency: store.concurrency).upload([
            S3FileUpload(localPath: file.source.path, key: key, size: file.size, sha256: nil)
        ])
        guard let digest = hashed[key] else { throw TritonPackError.io(file.source.path, "was not uploaded") }
        return digest
    }

    package func publish(_ change: ModelChange) async throws {
        let state = try await store.state(model: model)
        guard let text = change.config.map({ String(decoding: $0, as: UTF8.self) }) ?? state.configText else {
            throw TritonPackError.refused(
                store.location.display("\(model)/\(S3RepositoryStore.configFileName)"), "missing: the model has no config")
        }
        // A new config states its own policy; otherwise the one tritonpack pinned stays intended.
        let intended = change.config == nil ? try S3PinnedConfig.intendedPolicy(text) : try S3PinnedConfig.ownPolicy(text)
        let available = Set(state.complete).union(change.addedVersions).subtracting(change.removedVersions)
        let served = VersionPolicyEvaluation.served(intended, available: Array(available))
        guard !served.isEmpty else {
            throw TritonPackError.refused(
                store.location.display("\(model)/\(S3RepositoryStore.configFileName)"),
                "version policy '\(VersionPolicyEvaluation.describe(intended))' would serve none of the versions (\(available.sorted().map(String.init).joined(separator: ", "))); Triton would refuse the model"
            )
        }
        let pinned = try S3PinnedConfig.pinning(text, to: served, intended: intended)
        try Interruption.check()
        try await lock.confirm()
        if pinned != state.configText || !change.addedVersions.isEmpty {
            try await store.switchConfig(model: model, text: pinned)
        }
        published = true
        for version in change.removedVersions.sorted() {
            if let objects = state.versions[version]?.objects { try await store.remove(objects) }
        }
        try await store.recordStaging([])
        staged = []
        if let history = change.history {
            let key = store.location.key(ModelHistory.fileName)
            let before = try await client.get(key) ?? Data()
            try await client.put(
                key, data: before + (try ModelHistory.line(history, model: model)), contentType: "application/x-ndjson")
        }
    }

    /// Removes what was staged and not published (and a first config nobody was served by), then
    /// releases the lock.
    package func finish() async {
        if !published {
            for version in staged.reversed() {
                if let objects = try? await client.list(prefix: store.versionKey(model, version) + "/") {
                    try? await store.remove(objects)
                }
            }
            for key in stagedModelFiles { try? await client.delete(key) }
            if wroteFirstConfig { try? await client.delete(store.configKey(model)) }
            if !staged.isEmpty { try? await store.recordStaging([]) }
        }
        await lock.release()
    }
}

/// The config a polling server reads from S3: `version_policy` pinned to `specific` versions (so
/// that one config PUT switches them all), with the policy the user meant kept in a comment line
/// above it, which tritonpack evaluates again when versions are added or removed.
package enum S3PinnedConfig {
    package static let marker = "# tritonpack intended "
    package static let explanation =
        "# tritonpack pins version_policy to the versions the intended policy serves, so that a polling server switches in one step"

    /// `text` (its tritonpack comments dropped) with `version_policy` pinning `versions`, and
    /// `intended` recorded above it.
    package static func pinning(_ text: String, to versions: [Int64], intended: Inference_ModelVersionPolicy? = nil) throws
        -> String
    {
        var pin = Inference_ModelConfig()
        pin.versionPolicy.specific.versions = versions
        var replacement = pin.pbtxt
        if let intended {
            var only = Inference_ModelConfig()
            only.versionPolicy = intended.policyChoice == nil ? VersionPolicySpec.latest(1).message : intended
            let oneLine = only.pbtxt.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            replacement = "\(explanation)\n\(marker)\(oneLine)\n" + replacement
        }
        return try ConfigTextEditor.replacing(field: "version_policy", in: withoutMarkers(text), with: replacement)
    }

    /// The policy recorded in `text`'s comment, else its own `version_policy`.
    package static func intendedPolicy(_ text: String) throws -> Inference_ModelVersionPolicy {
        for line in text.split(separator: "\n") where line.hasPrefix(marker) {
            return try Inference_ModelConfig.parse(String(line.dropFirst(marker.count))).message.versionPolicy
        }
        return try ownPolicy(text)
    }

    package static func ownPolicy(_ text: String) throws -> Inference_ModelVersionPolicy {
        try Inference_ModelConfig.parse(text).message.versionPolicy
    }

    /// `text` with the intended policy back in `version_policy` and tritonpack's comments gone: the
    /// config a copy elsewhere (a local repository, another bucket) starts from.
    package static func unpinned(_ text: String) throws -> String {
        guard text.split(separator: "\n").contains(where: { $0.hasPrefix(marker) }) else { return text }
        var only = Inference_ModelConfig()
        only.versionPolicy = try intendedPolicy(text)
        return try ConfigTextEditor.replacing(field: "version_policy", in: withoutMarkers(text), with: only.pbtxt)
    }

    private static func withoutMarkers(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix(marker) && !$0.hasPrefix(explanation) }
            .joined(separator: "\n")
    }
}
