import Foundation
import Glibc
import TritonPackModels

/// An advisory lock (flock) that serializes tritonpack's writers on one repository.
/// The lock file is a plain file in the repository root, which Triton ignores.
package final class RepositoryLock: @unchecked Sendable {
    private let fd: Int32
    public let path: String

    /// Takes the lock, waiting up to `timeout` seconds; `onWait` is called once if another
    /// process holds it.
    public init(root: URL, timeout: Double = 60, onWait: (String) -> Void = { _ in }) throws {
        path = root.appendingPathComponent(ModelRepository.lockFileName).path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TritonPackError.system(path, "cannot open lock file") }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        onWait("waiting for another tritonpack process that holds \(path) (up to \(Int(timeout)) s)")
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            usleep(50_000)
            if let signal = Interruption.signal {
                close(fd)
                throw TritonPackError.interrupted(by: signal)
            }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        }
        close(fd)
        throw TritonPackError.io(path, "timed out after \(Int(timeout)) s waiting for the repository lock", code: .lockTimeout)
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
