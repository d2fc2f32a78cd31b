import Crypto
import Foundation
import Glibc
import TritonPackModels
import TritonPackRepository

/// tritonpack's own folder for what it builds once and reuses: the OneFlow venv `make setup`
/// installs, packed execution environments, the runtime's files. `$TRITONPACK_HOME`, else
/// `${XDG_CACHE_HOME:-~/.cache}/tritonpack`.
public enum TritonPackHome {
    public static var url: URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["TRITONPACK_HOME"], !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty {
            return URL(fileURLWithPath: cache).appendingPathComponent("tritonpack")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/tritonpack")
    }

    /// Writes `files` once into a folder named by their content (`<home>/<kind>-<digest>/`), so
    /// they can be placed like any model file; an existing complete folder is reused.
    package static func materialize(_ files: [(path: String, text: String)], kind: String) throws -> URL {
        var hasher = SHA256()
        for file in files.sorted(by: { $0.path < $1.path }) {
            hasher.update(data: Data("\(file.path)\n\(file.text.utf8.count)\n".utf8))
            hasher.update(data: Data(file.text.utf8))
        }
        let folder = url.appendingPathComponent("\(kind)-\(hasher.finalize().hexString.prefix(16))")
        if POSIXFiles.isDirectory(folder.path) { return folder }
        let partial = url.appendingPathComponent(".\(kind)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
            for file in files {
                let target = partial.appendingPathComponent(file.path)
                try FileManager.default.createDirectory(
                    at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.text.utf8).write(to: target)
            }
            if rename(partial.path, folder.path) != 0 { POSIXFiles.removeTree(partial.path) }  // another writer won
        } catch {
            POSIXFiles.removeTree(partial.path)
            throw TritonPackError(
                .io, "cannot write tritonpack's files", at: SourceLocation(partial.path), cause: error as NSError)
        }
        return folder
    }
}

/// An execution environment packed from a Python with OneFlow (`runtime/environment`): a
/// reproducible `.tar.gz` with the interpreter, its standard library, `libpython`, the packages
/// and an `activate` script, built once per environment and kept in tritonpack's home.
public struct OneFlowEnvironmentArchive: Sendable, Equatable {
    /// The name it has in a model folder: `oneflow-env-py3.10-<identity>.tar.gz`.
    public var fileName: String
    public var pythonVersion: String
    /// The packed archive on this machine (built by `build()`).
    public var url: URL

    /// Names the archive `python`'s environment packs into, asking the Python about its packages
    /// without importing OneFlow. Nothing is built.
    public static func identify(_ python: OneFlowPython) throws -> OneFlowEnvironmentArchive {
        struct Identity: Decodable {
            var version: String
            var key: String
            var oneflow: Bool
        }
        let result = try packer(python, ["--describe"])
        guard result.status == 0, let identity = try? JSONDecoder().decode(Identity.self, from: Data(result.stdout.utf8))
        else {
            throw TritonPackError.io(
                python.executable.path, "cannot describe this Python's environment: \(result.stderr.suffix(300))")
        }
        let name = "oneflow-env-py\(identity.version)-\(identity.key).tar.gz"
        return OneFlowEnvironmentArchive(
            fileName: name, pythonVersion: identity.version,
            url: TritonPackHome.url.appendingPathComponent("environments/\(name)"))
    }

    /// The archive's SHA-256, recorded beside it when it was packed.
    package var digestURL: URL { url.appendingPathExtension("sha256") }

    /// Packs the environment unless this machine already has it; returns the archive's size and
    /// SHA-256.
    public func build(with python: OneFlowPython, progress: (String) -> Void = { _ in }) throws -> (
        size: Int64, sha256: String
    ) {
        if let size = POSIXFiles.fileSize(url.path), let digest = try? String(contentsOf: digestURL, encoding: .utf8),
            digest.count == 64
        {
            return (size, digest)
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        progress("packing the environment of \(python.executable.path) into \(url.path) (once: about 2 GB, a few minutes)")
        let result = try Self.packer(python, ["--out", url.path])
        struct Packed: Decodable {
            var sha256: String
            var size: Int64
        }
        guard result.status == 0, let packed = try? JSONDecoder().decode(Packed.self, from: Data(result.stdout.utf8)) else {
            throw TritonPackError.io(
                python.executable.path, "cannot pack this Python's environment: \(result.stderr.suffix(500))")
        }
        try POSIXFiles.writeAtomically(
            Data(packed.sha256.utf8), to: digestURL.path, stagingIn: digestURL.deletingLastPathComponent().path)
        return (packed.size, packed.sha256)
    }

    private static func packer(_ python: OneFlowPython, _ arguments: [String]) throws -> ChildProcess.Result {
        let folder = try TritonPackHome.materialize(
            EnvironmentPackerFiles.files.map { ($0.path, $0.text) }, kind: "environment-packer")
        return try ChildProcess.run(
            python.executable, [folder.appendingPathComponent("pack_environment.py").path] + arguments)
    }
}

/// What `pack --runtime oneflow-python` adds to a saved graph: the runtime's files in each
/// version, and the execution environment (an archive in the model folder, or a path on the
/// servers) named by the config.
public enum OneFlowPythonDeployment {
    /// The runtime's files (`model.py`, `oneflow_runner.py`) on this machine, to be placed into
    /// each version folder beside `model/`.
    public static func runtimeFiles() throws -> [PlacedFile] {
        let folder = try TritonPackHome.materialize(OneFlowPythonServing.runtimeFiles, kind: "oneflow-runtime")
        return OneFlowPythonServing.runtimeFiles.map { file in
            PlacedFile(
                source: folder.appendingPathComponent(file.path), destination: file.path, size: Int64(file.text.utf8.count))
        }
    }
}
