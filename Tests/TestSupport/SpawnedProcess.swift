import Foundation
import TritonPackKit

/// The library's `ChildProcess` with the conveniences async tests want: the files its output went
/// to, and runs to completion that return the output.
public final class SpawnedProcess: Sendable {
    private let child: ChildProcess
    public let output: URL
    public let errors: URL?

    public var pid: pid_t { child.pid }

    /// stdout goes to `output`, stderr to `errors` (or `output` too). The child stays in this
    /// process's group.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String], output: URL, errors: URL? = nil) throws {
        self.output = output
        self.errors = errors
        child = try ChildProcess(
            executable: executable.path, arguments: arguments, environment: environment, output: output.path,
            errors: errors?.path, newProcessGroup: false)
    }

    /// The exit status (128 + signal when killed), or nil while it runs.
    public var exitStatus: Int32? { child.exitStatus }

    public var isRunning: Bool { exitStatus == nil }

    public func signal(_ number: Int32) { child.signal(number) }

    public func wait() async throws -> Int32 { try await child.wait() }

    /// Blocks the calling thread until it exits: only for threads of one's own, never a task.
    public func waitBlocking() -> Int32 { child.waitBlocking() }

    /// Blocks the calling thread until it exits; whether it exited or a signal ended it.
    package func terminationBlocking() -> ChildProcess.Termination {
        _ = child.waitBlocking()
        return child.termination!
    }

    public var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    public var errorText: String { errors.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? "" }

    /// Runs to completion; stdout and stderr together in the returned text.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> (status: Int32, output: String) {
        let result = try await ChildProcess.run(executable, arguments, environment: environment, mergingErrors: true)
        return (result.status, result.stdout)
    }

    /// Runs to completion with stdout and stderr apart.
    public static func run(
        _ executable: URL, _ arguments: [String], separating environment: [String: String]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try await ChildProcess.run(executable, arguments, environment: environment)
        return (result.status, result.stdout, result.stderr)
    }
}
