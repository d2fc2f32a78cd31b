import Foundation
import Glibc

/// The append-only record of what tritonpack did to a model, one JSON object per line, in
/// `<model>/tritonpack-history.jsonl` (a file, which Triton ignores).
public enum ModelHistory {
    public static let fileName = "tritonpack-history.jsonl"

    public struct Entry: Codable, Equatable, Sendable {
        public var time: String
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
    }

    public static func append(_ entry: Entry, to modelDirectory: URL) throws {
        let path = modelDirectory.appendingPathComponent(fileName).path
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = try encoder.encode(entry) + Data("\n".utf8)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TritonPackError.io(path, "cannot open history: \(POSIXFiles.errnoMessage())") }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw TritonPackError.io(path, "cannot append history: \(POSIXFiles.errnoMessage())")
        }
    }

    public static func read(from modelDirectory: URL) -> [Entry] {
        guard let text = try? String(contentsOf: modelDirectory.appendingPathComponent(fileName), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
    }
}
