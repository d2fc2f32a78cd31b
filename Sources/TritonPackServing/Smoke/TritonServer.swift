import Foundation
import Glibc
import TritonPackModels

/// A local tritonserver started for one job in its own process group, stopped as a group (SIGTERM,
/// then SIGKILL after a grace period) so that its Python-backend stubs go with it, and the
/// shared-memory regions created while it ran removed.
///
/// Ports cannot collide: the server binds HTTP on 127.0.0.1 port 0 (the kernel picks a free
/// port) and smoke reads the port from /proc. gRPC, when asked for, binds port 0 on 127.0.0.2 (also
/// loopback), so that the two listening sockets are told apart by their address; metrics are off.
public final class TritonServer: Sendable {
    public let logURL: URL
    private let group: ChildProcess
    private let sharedMemoryBefore: Set<String>

    public static let environmentVariable = "TRITONSERVER"

    /// The tritonserver to run, the first of: `explicit` (`--server`), $TRITONSERVER, `tritonserver`
    /// on PATH, and `bin/tritonserver` in tritonpack's home (`$TRITONPACK_HOME`, else
    /// `${XDG_CACHE_HOME:-~/.cache}/tritonpack`), where `make setup` links the project's launcher.
    public static func locate(explicit: String?) throws -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        let environment = ProcessInfo.processInfo.environment
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty {
            return URL(fileURLWithPath: fromEnvironment)
        }
        let onPath = (environment["PATH"] ?? "").split(separator: ":").map {
            URL(fileURLWithPath: String($0)).appendingPathComponent("tritonserver")
        }
        let installed = TritonPackHome.url.appendingPathComponent("bin/tritonserver")
        if let found = (onPath + [installed]).first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
            return found
        }
        throw TritonPackError.io(
            nil,
            "no tritonserver found: pass --server, set $\(environmentVariable), put it on PATH, or run `make setup` (it links \(installed.path))"
        )
    }

    package static func sharedMemoryRegions() -> Set<String> {
        Set(((try? POSIXFiles.entries(of: "/dev/shm")) ?? []).filter { $0.hasPrefix("triton_python_backend_shm") })
    }

    /// The loopback address the gRPC endpoint binds (HTTP binds 127.0.0.1).
    package static let grpcAddress = "127.0.0.2"

    /// Starts the server; `executable` must be tritonserver or a launcher that execs it. With
    /// `grpc`, it serves KServe v2 gRPC too.
    public init(executable: URL, repository: URL, log: URL, arguments: [String], grpc: Bool = false) throws {
        logURL = log
        sharedMemoryBefore = Self.sharedMemoryRegions()
        let grpcPorts = grpc ? ["--grpc-address", Self.grpcAddress, "--grpc-port", "0"] : ["--allow-grpc", "false"]
        let ports = ["--http-address", "127.0.0.1", "--http-port", "0", "--allow-metrics", "false"] + grpcPorts
        do {
            group = try ChildProcess(
                executable: executable.path, arguments: ["--model-repository", repository.path] + ports + arguments,
                output: log.path)
        } catch let error as TritonPackError {
            throw TritonPackError.io(executable.path, "cannot start tritonserver: \(error.message)")
        }
    }

    public var pid: pid_t { group.pid }
    public var isRunning: Bool { !group.hasExited }

    /// The HTTP port the server has bound, nil until it listens.
    public func httpPort() -> Int? { ListeningSockets.loopbackPorts(of: group.pid).first }

    /// The gRPC port the server has bound (started with `grpc`), nil until it listens.
    public func grpcPort() -> Int? { ListeningSockets.loopbackPorts(of: group.pid, address: Self.grpcAddress).first }

    public func logText() -> String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Error lines of the server log that mention `model` (or all error lines).
    public func errorLines(mentioning model: String? = nil) -> [String] {
        logText().split(separator: "\n").map(String.init).filter { line in
            line.hasPrefix("E") && !line.contains("CudaDriverHelper") && !line.contains("NVML")
                && (model == nil || line.contains(model!))
        }
    }

    /// The HTTP port (and with `grpc`, the gRPC port too), once the server listens on them.
    package func waitUntilListening(timeout: TimeInterval, grpc: Bool = false) async throws -> (http: Int, grpc: Int?) {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if let http = httpPort() {
                if !grpc { return (http, nil) }
                if let port = grpcPort() { return (http, port) }
            }
            try exitedDuringStartUp()
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TritonPackError.io(nil, "tritonserver not listening after \(Int(timeout)) s")
    }

    /// Where the server answers inference requests over `protocol` (gRPC: a server started with
    /// `grpc`), once it listens, and its HTTP port (model control and statistics are HTTP calls).
    package func waitForEndpoint(_ protocol: ServingProtocol, timeout: TimeInterval) async throws
        -> (endpoint: InferenceEndpoint, httpPort: Int)
    {
        let ports = try await waitUntilListening(timeout: timeout, grpc: `protocol` == .grpc)
        let endpoint =
            ports.grpc.map { InferenceEndpoint(.grpc, host: Self.grpcAddress, port: $0) }
            ?? InferenceEndpoint(.http, port: ports.http)
        return (endpoint, ports.http)
    }

    package func waitUntilLive(client: InferenceClient, timeout: TimeInterval) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            try exitedDuringStartUp()
            if let response = try? await client.get("v2/health/live"), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TritonPackError.io(nil, "tritonserver not live after \(Int(timeout)) s")
    }

    private func exitedDuringStartUp() throws {
        guard isRunning else {
            throw TritonPackError.io(nil, "tritonserver exited during start-up:\n\(errorLines().joined(separator: "\n"))")
        }
    }

    /// Stops the group and removes the shared memory it created. It runs in a task of its own, so
    /// a cancelled caller still waits for the server to go.
    public func stop(grace: Duration = .seconds(15)) async {
        await Task {
            group.signalGroup(SIGTERM)
            if !(await group.waitForExit(timeout: grace)) {
                group.signalGroup(SIGKILL)
                _ = await group.waitForExit(timeout: .seconds(10))
            }
            finish()
        }.value
    }

    /// `stop` for threads outside Swift concurrency (tests).
    public func stopBlocking(grace: Duration = .seconds(15)) {
        group.signalGroup(SIGTERM)
        if !group.waitForExitBlocking(timeout: grace) {
            group.signalGroup(SIGKILL)
            _ = group.waitForExitBlocking(timeout: .seconds(10))
        }
        finish()
    }

    /// SIGKILL to the whole group, without waiting: the last resort of an interrupted run.
    public func killGroup() { group.signalGroup(SIGKILL) }

    /// Whatever of the group outlived its leader (a stub the server did not stop) is killed.
    private func finish() {
        group.signalGroup(SIGKILL)
        for region in Self.sharedMemoryRegions().subtracting(sharedMemoryBefore) { unlink("/dev/shm/\(region)") }
    }
}
