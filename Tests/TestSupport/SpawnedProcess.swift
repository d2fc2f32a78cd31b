import Foundation
import TritonPackKit

#if canImport(Glibc)
    import Glibc
#endif

/// A child process for async tests, started with posix_spawn and awaited by polling waitpid with
/// Task.sleep: Foundation's Process reports an exit through the run loop of the thread that
/// started it, which a task on the cooperative pool never runs (waitUntilExit hangs there).
public final class SpawnedProcess: @unchecked Sendable {
    public let pid: pid_t
    public let output: URL
    private let lock = NSLock()
    private var status: Int32?

    public let errors: URL?

    /// stdout goes to `output`, stderr to `errors` (or `output` too).
    public init(_ executable: URL, _ arguments: [String], environment: [String: String], output: URL, errors: URL? = nil) throws {
        self.output = output
        self.errors = errors
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errors {
            posix_spawn_file_actions_addopen(&actions, 2, errors.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv = [executable.path] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for argument in cArguments { free(argument) }
            for variable in cEnvironment { free(variable) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable.path, &actions, &attributes, &cArguments, &cEnvironment)
        guard result == 0 else { throw TritonPackError.io(executable.path, "cannot start: error \(result)") }
        pid = child
    }

    /// The exit status (128 + signal when killed), or nil while it runs.
    public var exitStatus: Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        let signal = raw & 0x7f
        status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        return status
    }

    public var isRunning: Bool { exitStatus == nil }

    public func signal(_ number: Int32) { if isRunning { kill(pid, number) } }

    public func wait() async throws -> Int32 {
        while true {
            if let exitStatus { return exitStatus }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Blocks the calling thread until it exits: only for threads of one's own, never a task.
    public func waitBlocking() -> Int32 {
        while true {
            if let exitStatus { return exitStatus }
            usleep(20_000)
        }
    }

    public var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    public var errorText: String { errors.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? "" }

    /// Runs to completion; stdout and stderr together in the returned text.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let child = try SpawnedProcess(executable, arguments, environment: environment, output: output)
        let status = try await child.wait()
        return (status, child.text)
    }

    /// Runs to completion with stdout and stderr apart.
    public static func run(
        _ executable: URL, _ arguments: [String], separating environment: [String: String]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        let output = base.appendingPathExtension("out")
        let errors = base.appendingPathExtension("err")
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: errors)
        }
        let child = try SpawnedProcess(executable, arguments, environment: environment, output: output, errors: errors)
        let status = try await child.wait()
        return (status, child.text, child.errorText)
    }
}
