import Foundation
import Glibc
import Synchronization
import TritonPackModels

/// The one way tritonpack (and its tests) start a program: posix_spawn, stdin from /dev/null,
/// stdout and stderr into files (a chatty child cannot block on a full pipe). By default the child
/// leads a new process group (POSIX_SPAWN_SETPGROUP, pgid 0), so that it and everything it starts
/// can be signalled as one. A dedicated thread blocks in waitpid for it, so waiting for its exit
/// never occupies the cooperative pool (Foundation's Process reports an exit through the run loop
/// of the thread that started it, which a task never runs).
///
/// The child gets an empty signal mask and default SIGINT, SIGTERM, SIGPIPE and SIGCHLD: started
/// from a Dispatch or Swift-concurrency thread it would otherwise inherit that thread's blocked
/// signals, and tritonpack's ignored ones.
package final class ChildProcess: Sendable {
    package let pid: pid_t
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` with stdout into `output` and stderr into `errors` (or `output` too).
    /// `environment`: the child's whole environment (nil: this process's). `newProcessGroup`: the
    /// child leads a process group of its own (else it joins this one).
    package init(
        executable: String, arguments: [String], environment: [String: String]? = nil, output: String,
        errors: String? = nil, newProcessGroup: Bool = true
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let errors {
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
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
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var cArguments = ([executable] + arguments).map { strdup($0) } + [nil]
        let cEnvironment = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            for argument in cArguments { free(argument) }
            for variable in cEnvironment ?? [] { free(variable) }
        }
        var child: pid_t = 0
        let result =
            if var cEnvironment {
                posix_spawn(&child, executable, &actions, &attributes, &cArguments, &cEnvironment)
            } else {
                posix_spawn(&child, executable, &actions, &attributes, &cArguments, environ)
            }
        guard result == 0 else {
            throw TritonPackError.io(executable, "cannot start: \(POSIXFiles.errnoMessage(result))")
        }
        pid = child
        Thread.detachNewThread { [self] in reap() }
    }

    private func reap() {
        var raw: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &raw, 0) } while result < 0 && errno == EINTR
        status.withLock { $0 = result == pid ? raw : -1 }
    }

    /// Whether the child has exited (and been reaped).
    package var hasExited: Bool { status.withLock { $0 != nil } }

    /// How a child ended.
    package enum Termination: Equatable, Sendable {
        case exit(Int32)
        case signal(Int32)
    }

    /// How the child ended, nil while it runs.
    package var termination: Termination? {
        status.withLock { raw in
            raw.map { raw in
                let signal = raw & 0x7f
                return signal == 0 ? .exit((raw >> 8) & 0xff) : .signal(signal)
            }
        }
    }

    /// The exit status (128 + the signal's number when a signal ended it), nil while it runs.
    package var exitStatus: Int32? {
        termination.map {
            switch $0 {
            case .exit(let code): code
            case .signal(let number): 128 + number
            }
        }
    }

    /// Sends `signal` to the child while it runs.
    package func signal(_ signal: Int32) { if !hasExited { kill(pid, signal) } }

    /// Sends `signal` to every process of the child's group (started with `newProcessGroup`).
    package func signalGroup(_ signal: Int32) { kill(-pid, signal) }

    /// Waits, in short `Task.sleep` steps, until the child has exited or `timeout` has passed.
    /// A cancelled task stops waiting at once. True when the child has exited.
    package func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !hasExited && ContinuousClock.now < deadline {
            guard (try? await Task.sleep(for: .milliseconds(20))) != nil else { break }
        }
        return hasExited
    }

    /// The same wait for threads outside Swift concurrency (tests, signal handlers).
    package func waitForExitBlocking(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !hasExited && ContinuousClock.now < deadline { usleep(20_000) }
        return hasExited
    }

    /// Waits until the child exits; its exit status. Throws when the task is cancelled.
    package func wait() async throws -> Int32 {
        while true {
            if let exitStatus { return exitStatus }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Blocks the calling thread until the child exits: never on a task of the cooperative pool.
    package func waitBlocking() -> Int32 {
        while true {
            if let exitStatus { return exitStatus }
            usleep(20_000)
        }
    }

    /// What a child run to completion said.
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    /// Runs `executable` to completion (blocking the calling thread), in this process's group; with
    /// `mergingErrors`, stderr goes into `stdout` too.
    package static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, mergingErrors: Bool = false
    ) throws -> Result {
        let files = CapturedOutput()
        defer { files.remove() }
        let child = try files.start(executable, arguments, environment: environment, mergingErrors: mergingErrors)
        return files.result(status: child.waitBlocking())
    }

    /// Runs `executable` to completion without blocking a thread, in this process's group; with
    /// `mergingErrors`, stderr goes into `stdout` too.
    package static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, mergingErrors: Bool = false
    ) async throws -> Result {
        let files = CapturedOutput()
        defer { files.remove() }
        let child = try files.start(executable, arguments, environment: environment, mergingErrors: mergingErrors)
        return files.result(status: try await child.wait())
    }

    /// The temporary files a run's output goes to.
    private struct CapturedOutput {
        let output: URL
        let errors: URL

        init() {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-child-\(UUID().uuidString)")
            output = base.appendingPathExtension("out")
            errors = base.appendingPathExtension("err")
        }

        func start(_ executable: URL, _ arguments: [String], environment: [String: String]?, mergingErrors: Bool) throws
            -> ChildProcess
        {
            try ChildProcess(
                executable: executable.path, arguments: arguments, environment: environment, output: output.path,
                errors: mergingErrors ? nil : errors.path, newProcessGroup: false)
        }

        func result(status: Int32) -> Result {
            func text(_ file: URL) -> String { String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self) }
            return Result(status: status, stdout: text(output), stderr: text(errors))
        }

        func remove() {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: errors)
        }
    }
}
