import Foundation
@_exported import TestSupport
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The `tritonpack` executable built beside the tests.
let tritonpackExecutable: URL = {
    _ = tritonServerLauncher
    let besideTests = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("tritonpack")
    if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
    let inBundle = Bundle.main.bundleURL.appendingPathComponent("tritonpack")
    if FileManager.default.isExecutableFile(atPath: inBundle.path) { return inBundle }
    return packageRoot.appendingPathComponent(".build/debug/tritonpack")
}()

/// Starts tritonpack in the background (output discarded), for kill and concurrency tests.
func spawnTritonpack(_ arguments: [String]) throws -> SpawnedProcess {
    try SpawnedProcess(
        tritonpackExecutable, arguments, environment: ProcessInfo.processInfo.environment,
        output: URL(fileURLWithPath: "/dev/null"))
}

func tritonpack(_ arguments: String...) throws -> ProcessOutcome {
    try runProcess(tritonpackExecutable, arguments)
}

/// Runs a shell command line on a pseudo-terminal (util-linux `script`), so that stdout and stderr
/// are a TTY; returns what the terminal showed (both streams).
func onTerminal(_ command: String, environment: [String: String] = [:]) throws -> String {
    let outcome = try runProcess(
        URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"],
        environment: ProcessInfo.processInfo.environment.filter { $0.key != "NO_COLOR" }.merging(environment) { $1 })
    return outcome.stdout
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for the demos' run.sh, which takes ports).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Every version folder's manifest matches the files on disk.
func assertVersionsVerify(_ modelDirectory: URL, file: StaticString = #filePath, line: UInt = #line) throws {
    let repository = ModelRepository(root: modelDirectory.deletingLastPathComponent())
    for version in try repository.versions(of: modelDirectory.lastPathComponent) {
        let versionDirectory = modelDirectory.appendingPathComponent(String(version))
        let manifest = try Manifest.read(from: versionDirectory)
        let digests = try FileCopier().hashFiles(manifest.files.map { versionDirectory.appendingPathComponent($0.path).path })
        for entry in manifest.files {
            XCTAssertEqual(
                digests[versionDirectory.appendingPathComponent(entry.path).path], entry.sha256,
                "\(versionDirectory.path)/\(entry.path)", file: file, line: line)
        }
        let onDisk = FileManager.default.enumerator(atPath: versionDirectory.path)!.compactMap { item -> String? in
            let path = item as! String
            return POSIXFiles.isDirectory(versionDirectory.appendingPathComponent(path).path) ? nil : path
        }
        XCTAssertEqual(
            Set(onDisk), Set(manifest.files.map(\.path) + [Manifest.fileName]), "files of \(versionDirectory.path)",
            file: file, line: line)
    }
}

/// A bundle's `run.sh` started in its folder (through the library's spawner, by a shell that
/// changes folder and execs it), its output going to a log file; the test's teardown stops it
/// (SIGTERM, then SIGKILL after a minute) if the test did not.
struct RunningDemo {
    let process: ChildProcess
    let log: URL

    init(in demo: URL, _ arguments: [String], log: URL, test: XCTestCase) throws {
        let process = try ChildProcess(
            executable: "/bin/sh", arguments: ["-c", #"cd "$0" && exec ./run.sh "$@""#, demo.path] + arguments,
            output: log.path)
        test.addTeardownBlock {
            guard !process.hasExited else { return }
            process.signal(SIGTERM)
            if !process.waitForExitBlocking(timeout: .seconds(60)) { process.signal(SIGKILL) }
        }
        self.process = process
        self.log = log
    }

    var text: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    var isRunning: Bool { !process.hasExited }

    /// run.sh's exit status once it has exited.
    var exitStatus: Int32? { process.exitStatus }

    /// Waits until run.sh says it is running (true), exits, or `seconds` pass.
    func waitUntilRunning(seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !text.contains("run.sh: running") && isRunning && Date() < deadline { usleep(250_000) }
        return text.contains("run.sh: running") && isRunning
    }

    /// Sends SIGTERM and waits up to `seconds` for run.sh to exit; true when it did.
    func terminate(seconds: TimeInterval) -> Bool {
        process.signal(SIGTERM)
        return process.waitForExitBlocking(timeout: .seconds(seconds))
    }
}

/// The Python with OneFlow the tests that run OneFlow need: in CI (`make setup` installs it) a
/// missing one is a failure; elsewhere the test is skipped, saying why.
@discardableResult
func requireOneFlowPython() throws -> OneFlowPython {
    do {
        return try OneFlowPython.locate(explicit: nil)
    } catch {
        if ProcessInfo.processInfo.environment["CI"] != nil { throw error }
        throw XCTSkip("no Python with OneFlow here (run `make setup`): \(error)")
    }
}

extension XCTestCase {
    /// Validates one command's stdout against `#/$defs/<definition>` of docs/json-schema.json, checks
    /// that every key is snake_case and that `ok` is true exactly when the exit status is 0.
    func assertMatchesSchema(
        _ outcome: ProcessOutcome, definition: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let document = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-json-\(UUID().uuidString).json")
        try Data(outcome.stdout.utf8).write(to: document)
        defer { try? FileManager.default.removeItem(at: document) }
        let checked = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-c", Self.jsonSchemaChecker, packageRoot.appendingPathComponent("docs/json-schema.json").path,
                document.path,
                definition,
                String(outcome.status),
            ])
        XCTAssertEqual(
            checked.status, 0, "\(arguments): \(checked.stdout)\(checked.stderr)\n\(outcome.stdout)", file: file, line: line)
    }

    static let jsonSchemaChecker = """
        import json, re, sys
        import jsonschema
        schema_path, document_path, definition, status = sys.argv[1:5]
        schema = json.load(open(schema_path))
        document = json.load(open(document_path))
        validator = jsonschema.Draft202012Validator(
            {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/" + definition})
        problems = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]
        def keys(value, path):
            if isinstance(value, dict):
                for key, item in value.items():
                    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                        problems.append(f"{path}.{key}: not snake_case")
                    keys(item, f"{path}.{key}")
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    keys(item, f"{path}[{index}]")
        keys(document, "$")
        if document.get("ok") != (status == "0"):
            problems.append(f"ok is {document.get('ok')} but the exit status is {status}")
        print("\\n".join(problems))
        sys.exit(1 if problems else 0)
        """
}

/// A backend folder as a stock server has it, whose Python backend's own stub embeds Python 3.10.
func stockBackends(in folder: URL) throws -> URL {
    let wheel = try runProcess(
        packageRoot.appendingPathComponent(".venv/bin/python"),
        ["-c", "import pytriton, os; print(os.path.dirname(pytriton.__file__) + '/tritonserver')"]
    ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let source = URL(fileURLWithPath: wheel)
    let python = folder.appendingPathComponent("backends/python")
    try FileManager.default.createDirectory(at: python, withIntermediateDirectories: true)
    for name in ["libtriton_python.so", "triton_python_backend_utils.py"] {
        try FileManager.default.createSymbolicLink(
            at: python.appendingPathComponent(name),
            withDestinationURL: source.appendingPathComponent("backends/python/\(name)"))
    }
    try FileManager.default.copyItem(
        at: source.appendingPathComponent("python_backend_stubs/3.10/triton_python_backend_stub"),
        to: python.appendingPathComponent("triton_python_backend_stub"))
    return folder.appendingPathComponent("backends")
}

/// Starts a stock server on `repository` (every model loaded at start) and waits for `models`.
func stockServer(_ repository: URL, backends: URL, log: URL, models: [String]) throws -> TritonProcess {
    let server = try TritonProcess(
        launcher: tritonServerLauncher, repository: repository, log: log,
        mode: "none", autoComplete: true, extraArguments: ["--backend-directory", backends.path])
    try server.waitUntilReady(timeout: 600)
    for model in models { try server.waitForModel(model, timeout: 300) }
    return server
}
