import Foundation
import Glibc
import TritonPackModels

/// The append-only record of what tritonpack did to the models of a repository, one JSON object per
/// line, in `<repository>/tritonpack-history.jsonl`. It lives in the repository root, not in a model
/// folder: a polling Triton reloads a model whenever a file in its folder changes, and it treats only
/// folders in the root as models, so appending there never causes a load. An S3 repository keeps
/// the same file as an object at its root (Triton's poller lists only the root's prefixes).
public enum ModelHistory {
    public static let fileName = "tritonpack-history.jsonl"

    public struct Entry: Codable, Equatable, Sendable {
        public var time: String
        public var model: String?
        public var operation: String
        public var versions: [Int64]
        public var digests: [String: String]
        public var detail: String?

        public init(operation: String, versions: [Int64], digests: [String: String] = [:], detail: String? = nil) {
            time = ISO8601DateFormatter().string(from: Date())
            self.operation = operation
            self.versions = versions
            self.digests = digests
            self.detail = detail
        }

        package init(
            time: String, model: String? = nil, operation: String, versions: [Int64], digests: [String: String],
            detail: String? = nil
        ) {
            self.time = time
            self.model = model
            self.operation = operation
            self.versions = versions
            self.digests = digests
            self.detail = detail
        }
    }

    /// The history file of the repository holding `modelDirectory`.
    public static func file(for modelDirectory: URL) -> URL {
        modelDirectory.absoluteURL.standardizedFileURL.deletingLastPathComponent().appendingPathComponent(fileName)
    }

    /// `entry` of `model` as one line of the history file.
    package static func line(_ entry: Entry, model: String) throws -> Data {
        var entry = entry
        entry.model = model
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(entry) + Data("\n".utf8)
    }

    public static func append(_ entry: Entry, to modelDirectory: URL) throws {
        let path = file(for: modelDirectory).path
        let line = try line(entry, model: modelDirectory.absoluteURL.standardizedFileURL.lastPathComponent)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TritonPackError.io(path, "cannot open history: \(POSIXFiles.errnoMessage())") }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw TritonPackError.io(path, "cannot append history: \(POSIXFiles.errnoMessage())")
        }
    }

    /// The model's entries, oldest first: those an older tritonpack wrote into the model folder,
    /// then the repository's entries for this model.
    public static func read(from modelDirectory: URL) -> [Entry] {
        func contents(_ file: URL) -> Data { (try? Data(contentsOf: file)) ?? Data() }
        return entries(
            of: modelDirectory.absoluteURL.standardizedFileURL.lastPathComponent,
            legacy: contents(modelDirectory.appendingPathComponent(fileName)), repository: contents(file(for: modelDirectory)))
    }

    /// The model's entries in a repository in any store, as `read(from:)` reads a local one.
    public static func read(model: String, in repository: ModelRepository) async throws -> [Entry] {
        entries(
            of: model, legacy: try await repository.store.read("\(model)/\(fileName)") ?? Data(),
            repository: try await repository.store.read(fileName) ?? Data())
    }

    /// The model's entries from an old per-model history file and from the repository's.
    private static func entries(of model: String, legacy: Data, repository: Data) -> [Entry] {
        let old = entries(in: legacy).map { entry -> Entry in
            var entry = entry
            entry.model = model
            return entry
        }
        return old + entries(in: repository).filter { $0.model == model }
    }

    private static func entries(in data: Data) -> [Entry] {
        String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONDecoder().decode(Entry.self, from: Data($0.utf8))
        }
    }
}
