import Crypto
import Foundation
import TritonPackKit
import XCTest

/// The package root, found from this file's location.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The tritonserver the tests run: the checkout's launcher over the venv's nvidia-pytriton wheel.
/// Reading it sets $TRITONSERVER and $TRITONSERVER_ROOT (the wheel's server folder) in this process,
/// so every tritonpack the tests start is told which server to run.
public let tritonServerLauncher: URL = {
    let launcher = packageRoot.appendingPathComponent("scripts/tritonserver")
    let lib = packageRoot.appendingPathComponent(".venv/lib")
    let wheel = ((try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []).sorted()
        .map { lib.appendingPathComponent("\($0)/site-packages/pytriton/tritonserver") }
        .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("backends").path) }
    setenv(TritonServer.environmentVariable, launcher.path, 1)
    if let wheel { setenv(TritonInstallation.rootEnvironmentVariable, wheel.path, 1) }
    return launcher
}()

/// A bundled OneFlow sample's saved graph.
public func sample(_ name: String) -> URL {
    packageRoot.appendingPathComponent("samples/oneflow/\(name)/model")
}

/// A fresh temporary folder, removed when the test ends.
public func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Every file and folder under `root` with each file's SHA-256: equal snapshots mean an unchanged tree.
public func snapshot(_ root: URL) -> [String: String] {
    var result: [String: String] = [:]
    guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return result }
    for case let relative as String in enumerator {
        let path = root.appendingPathComponent(relative).path
        if POSIXFiles.isDirectory(path) {
            result[relative] = "dir"
        } else {
            let data = FileManager.default.contents(atPath: path) ?? Data()
            result[relative] = SHA256.hash(data: data).hexString
        }
    }
    return result
}

public func sha256(of url: URL) -> String {
    SHA256.hash(data: FileManager.default.contents(atPath: url.path) ?? Data()).hexString
}

/// XCTAssertThrowsError for an expression that suspends.
public func assertThrowsAsync<T>(
    _ expression: @autoclosure () async throws -> T, _ message: String = "", file: StaticString = #filePath,
    line: UInt = #line, _ handler: (any Error) -> Void = { _ in }
) async {
    do {
        _ = try await expression()
        XCTFail("no error thrown\(message.isEmpty ? "" : ": \(message)")", file: file, line: line)
    } catch {
        handler(error)
    }
}

public struct ProcessOutcome {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs a program to completion, capturing its output (through files, so large output cannot block).
@discardableResult
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessOutcome {
    let result = try ChildProcess.run(executable, arguments, environment: environment)
    return ProcessOutcome(status: result.status, stdout: result.stdout, stderr: result.stderr)
}

/// Writes a model folder (files by relative path) into `repository`.
public func writeModel(_ name: String, files: [String: String], into repository: URL) throws {
    let directory = repository.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (path, content) in files {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
    }
}

/// Gives a copied tree (the shared samples are read-only) writable folders and files.
public func makeWritable(_ url: URL) throws {
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    let enumerator = FileManager.default.enumerator(atPath: url.path)!
    for case let relative as String in enumerator {
        let path = url.appendingPathComponent(relative).path
        let isDirectory = POSIXFiles.isDirectory(path)
        try FileManager.default.setAttributes([.posixPermissions: isDirectory ? 0o755 : 0o644], ofItemAtPath: path)
    }
}

/// A writable copy of samples/python (identity_fp32 and invert_image) as a repository in `root`.
public func pythonRepository(in root: URL) throws -> URL {
    let repository = root.appendingPathComponent("repository")
    try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("samples/python"), to: repository)
    try makeWritable(repository)
    return repository
}

/// Bundle options for a test: `repository` into `output`, without fsync.
public func unsyncedBundleOptions(_ repository: URL, _ output: URL) -> BundleOptions {
    var options = BundleOptions(repository: repository, output: output)
    options.sync = false
    return options
}
