import Foundation
import Glibc

/// A local tritonserver started for one job, on free loopback ports, always stopped cleanly
/// (SIGTERM, then SIGKILL after a grace period), with the Python-backend stubs and shared-memory
/// regions it leaves behind removed.
///
/// It is started with posix_spawn and an empty signal mask: a child started from a Dispatch or
/// Swift-concurrency thread would otherwise inherit that thread's blocked signals and ignore SIGTERM.
public final class TritonServer: @unchecked Sendable {
    public private(set) var pid: pid_t = 0
    private var exited = false
    private let lock = NSLock()
    public let logURL: URL
    public let httpPort: Int
    private let shmBefore: Set<String>

    /// The tritonserver to run: `--server`, $TRITONSERVER, PATH, or the project's own launcher.
    public static func locate(explicit: String?) throws -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRITONSERVER"], !fromEnvironment.isEmpty {
            return URL(fileURLWithPath: fromEnvironment)
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("tritonserver")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        // The project's launcher for its nvidia-pytriton install, found from this executable.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let launcher = directory.appendingPathComponent("scripts/tritonserver")
            if FileManager.default.isExecutableFile(atPath: launcher.path) { return launcher }
            directory = directory.deletingLastPathComponent()
        }
        throw TritonPackError.io(nil, "no tritonserver found: pass --server, set TRITONSERVER, put it on PATH, or run `make setup`")
    }

    public static func freePort() -> Int {
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

    static func sharedMemoryRegions() -> Set<String> {
        Set(((try? POSIXFiles.entries(of: "/dev/shm")) ?? []).filter { $0.hasPrefix("triton_python_backend_shm") })
    }

    public init(executable: URL, repository: URL, log: URL, arguments: [String]) throws {
        logURL = log
        httpPort = Self.freePort()
        shmBefore = Self.sharedMemoryRegions()
        let argv = [executable.path, "--model-repository", repository.path, "--http-port", String(httpPort),
            "--grpc-port", String(Self.freePort()), "--metrics-port", String(Self.freePort())] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable.path, &actions, &attributes, &cArguments, environ)
        guard result == 0 else {
            throw TritonPackError.io(executable.path, "cannot start tritonserver: \(POSIXFiles.errnoMessage(result))")
        }
        pid = child
    }

    public var baseURL: URL { URL(string: "http://127.0.0.1:\(httpPort)")! }
    /// Whether the server is alive; reaps it once it has exited.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exited || pid <= 0 { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid || (result < 0 && errno == ECHILD) { exited = true }
        return !exited
    }
    public func logText() -> String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Error lines of the server log that mention `model` (or all error lines).
    public func errorLines(mentioning model: String? = nil) -> [String] {
        logText().split(separator: "\n").map(String.init).filter { line in
            line.hasPrefix("E") && !line.contains("CudaDriverHelper") && !line.contains("NVML")
                && (model == nil || line.contains(model!))
        }
    }

    public func waitUntilLive(client: InferenceClient, timeout: TimeInterval) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !isRunning {
                throw TritonPackError.io(nil, "tritonserver exited during start-up:\n\(errorLines().joined(separator: "\n"))")
            }
            if let (status, _) = try? await client.get("v2/health/live"), status == 200 { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw TritonPackError.io(nil, "tritonserver not live after \(Int(timeout)) s")
    }

    public func stop(grace: TimeInterval = 15) {
        if pid > 0 && isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(grace)
            while isRunning && Date() < deadline { usleep(50_000) }
            if isRunning { kill(pid, SIGKILL) }
            while isRunning { usleep(20_000) }
        }
        killOrphanedStubs()
        for region in Self.sharedMemoryRegions().subtracting(shmBefore) { unlink("/dev/shm/\(region)") }
    }

    /// Python-backend stubs outlive a killed server; each names its server's pid among its arguments.
    private func killOrphanedStubs() {
        guard pid > 0, let entries = try? POSIXFiles.entries(of: "/proc") else { return }
        for entry in entries {
            guard let stub = Int32(entry),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.first?.hasSuffix("triton_python_backend_stub") == true && arguments.contains(String(pid)) {
                kill(stub, SIGKILL)
            }
        }
    }

    deinit { stop() }
}
