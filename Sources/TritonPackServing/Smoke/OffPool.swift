import Foundation
import TritonPackRepository

/// Blocking work (a short-lived child process waited for, a model folder copied) run on a thread
/// of its own, so that it never holds one of the cooperative pool's few threads.
package enum OffPool {
    package static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}
