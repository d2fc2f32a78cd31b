import Crypto
import Foundation
import TritonPackModels

/// The record of what a version folder holds: every file's size and SHA-256.
/// It lives in the version folder as `tritonpack-manifest.json`, which Triton ignores.
public struct Manifest: Codable, Equatable, Sendable {
    public static let fileName = "tritonpack-manifest.json"
    public static let formatName = "tritonpack-manifest/1"
    /// The folder of a version that holds its golden data (`pack --golden`): `INPUT_<k>.npy` and
    /// `OUTPUT_<k>.npy`, which `rollout` checks the version with.
    public static let goldenFolder = "tritonpack-golden"

    public struct Entry: Codable, Equatable, Sendable {
        /// Relative to the version folder, e.g. `model/m.fc.weight/out`.
        public var path: String
        public var size: Int64
        public var sha256: String

        package init(path: String, size: Int64, sha256: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }

    public struct Source: Codable, Equatable, Sendable {
        /// `oneflow`, `onnx` or `promoted`.
        public var kind: String
        /// Where the files came from, without naming the packing machine's folders, so that a
        /// repository (or a bundle of it) can move: relative to the working directory when the
        /// source is inside it, else its last two path components (`fast_neural_style/model`).
        public var path: String

        public init(kind: String, path: String) {
            self.kind = kind
            self.path = path
        }

        public init(kind: String, location: URL) {
            let absolute = location.standardizedFileURL.path
            let workingDirectory = FileManager.default.currentDirectoryPath
            if absolute.hasPrefix(workingDirectory + "/") {
                self.init(kind: kind, path: String(absolute.dropFirst(workingDirectory.count + 1)))
            } else {
                self.init(kind: kind, path: location.standardizedFileURL.pathComponents.suffix(2).joined(separator: "/"))
            }
        }
    }

    public var format: String
    public var model: String
    public var version: Int64
    public var createdAt: String
    public var tool: String
    public var source: Source
    public var signature: Signature
    public var files: [Entry]
    /// The execution environment the version runs in, when it is a file of the model folder
    /// (`path` relative to the model folder), shared by the model's versions.
    public var environment: Entry?
    /// For a saved OneFlow graph converted to ONNX: the source graph's digest, the converter's
    /// versions, the opset and IR version, and the verification's inputs and errors.
    public var conversion: ONNXConversionReport?
    /// SHA-256 over the sorted `<sha256>  <path>` lines of `files`: one value naming the content.
    public var digest: String

    public init(
        model: String, version: Int64, source: Source, signature: Signature, files: [Entry],
        environment: Entry? = nil, conversion: ONNXConversionReport? = nil, createdAt: Date = Date()
    ) {
        self.environment = environment
        self.conversion = conversion
        format = Self.formatName
        self.model = model
        self.version = version
        self.createdAt = ISO8601DateFormatter().string(from: createdAt)
        tool = "tritonpack \(TritonPack.version)"
        self.source = source
        self.signature = signature
        self.files = files.sorted { $0.path < $1.path }
        digest = Self.digest(of: self.files)
    }

    public static func digest(of files: [Entry]) -> String {
        let lines = files.sorted { $0.path < $1.path }.map { "\($0.sha256)  \($0.path)\n" }.joined()
        return SHA256.hash(data: Data(lines.utf8)).hexString
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    public static func read(from versionDirectory: URL) throws -> Manifest {
        let path = versionDirectory.appendingPathComponent(fileName).path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TritonPackError.refused(path, "missing: this version was not packed by tritonpack or lost its manifest")
        }
        return try decode(data, path: path)
    }

    public static func decode(_ data: Data, path: String) throws -> Manifest {
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw TritonPackError(.refused, "not a readable manifest: \(error)", at: SourceLocation(path), cause: error)
        }
    }
}
