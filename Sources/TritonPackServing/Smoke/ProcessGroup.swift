import Foundation
import Glibc
import Synchronization
import TritonPackModels

/// A child started with posix_spawn as the leader of a new process group (POSIX_SPAWN_SETPGROUP,
/// pgid 0), so that it and everything it starts can be signalled as one. A dedicated thread
/// blocks in waitpid for it, so waiting for its exit never occupies the cooperative pool.
///
/// The child gets an empty signal mask and default SIGINT, SIGTERM, SIGPIPE and SIGCHLD: started
/// from a Dispatch or Swift-concurrency thread it would otherwise inherit that thread's blocked
/// signals, and tritonpack's ignored ones.
package final class ProcessGroup: Sendable {
    package let pid: pid_t
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` with stdin from /dev/null and stdout and stderr into `output`.
    package init(executable: String, arguments: [String], output: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
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
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var cArguments = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, &cArguments, environ)
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

    /// Whether the leader has exited (and been reaped).
    package var hasExited: Bool { status.withLock { $0 != nil } }

    /// Sends `signal` to every process of the group.
    package func signalGroup(_ signal: Int32) { kill(-pid, signal) }

    /// Waits, in short `Task.sleep` steps, until the leader has exited or `timeout` has passed.
    /// A cancelled task stops waiting at once. True when the leader has exited.
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
}
