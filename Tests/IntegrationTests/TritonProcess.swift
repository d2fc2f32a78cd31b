import Dispatch
import Foundation

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The library's TritonServer with blocking HTTP helpers on smoke's own client, for tests that
/// drive a server from their own thread. A request with no HTTP answer (the server died or hung)
/// reads as status 0.
final class TritonProcess {
    private(set) var server: TritonServer
    private var client: InferenceClient?

    private let start: (URL) throws -> TritonServer
    private let log: URL
    private var restarts = 0
    /// The HTTP port when the test chose it (a server that also listens for metrics has two ports).
    let fixedHTTPPort: Int?

    init(
        launcher: URL, repository: URL, log: URL, mode: String = "explicit", autoComplete: Bool = false,
        extraArguments: [String] = [], httpPort: Int? = nil
    ) throws {
        fixedHTTPPort = httpPort
        start = { log in
            try TritonServer(
                executable: launcher, repository: repository, log: log,
                arguments: ["--model-control-mode=\(mode)"] + (autoComplete ? [] : ["--disable-auto-complete-config"])
                    + ["--log-verbose=0"] + extraArguments + (httpPort.map { ["--http-port", String($0)] } ?? []))
        }
        self.log = log
        server = try start(log)
    }

    /// A fresh server (with its own log) after one died or hung on a model.
    func restart() throws {
        stop()
        restarts += 1
        server = try start(log.appendingPathExtension("\(restarts)"))
        try waitUntilReady()
    }

    func logText() -> String { server.logText() }

    func waitUntilReady(timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !server.isRunning { throw TritonPackError.io(nil, "tritonserver exited:\n\(logText())") }
            if client == nil, let port = fixedHTTPPort ?? server.httpPort() {
                client = InferenceClient(port: port, connections: 1, timeout: 60)
            }
            if client != nil, let (status, _) = try? get("/v2/health/live"), status == 200 { return }
            usleep(200_000)
        }
        throw TritonPackError.io(nil, "tritonserver not live after \(timeout) s:\n\(logText())")
    }

    func waitForModel(_ name: String, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let (status, _) = try? get("/v2/models/\(name)/ready"), status == 200 { return }
            usleep(200_000)
        }
        throw TritonPackError.io(nil, "model \(name) not ready after \(timeout) s:\n\(logText())")
    }

    func get(_ path: String) throws -> (Int, String) { exchange { try await $0.get(path) } }
    func post(_ path: String) throws -> (Int, String) { exchange { try await $0.post(path) } }
    func post(_ path: String, json: String) throws -> (Int, String) {
        exchange { try await $0.post(path, body: Data(json.utf8), headers: ["Content-Type": "application/json"]) }
    }

    private func exchange(_ send: @escaping @Sendable (InferenceClient) async throws -> InferenceClient.Response) -> (Int, String)
    {
        guard let client, let response = try? blocking({ try await send(client) }) else { return (0, "") }
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    func stop() {
        shutDownClient()
        server.stopBlocking()
    }

    private func shutDownClient() {
        if let client { try? blocking { try await client.shutdown() } }
        client = nil
    }

    deinit { shutDownClient() }
}

/// Runs async work to completion from a test's own thread (never from the cooperative pool).
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = BlockingOutcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { outcome.result = .success(try await work()) } catch { outcome.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try outcome.result!.get()
}

private final class BlockingOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
