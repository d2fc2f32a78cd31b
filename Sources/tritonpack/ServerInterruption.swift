import Dispatch
import Foundation
import Glibc
import Synchronization
import TritonPackKit

/// SIGINT and SIGTERM while a command runs a tritonserver (smoke, tune): the run's task is
/// cancelled (its requests in flight with it) and the run stops its server and returns or throws;
/// the command then reports the interruption. Should the run not end within `patience`, the
/// server's group is killed and `giveUp` ends tritonpack anyway.
final class ServerInterruption<Value: Sendable>: Sendable {
    private struct State {
        var run: Task<Value, any Error>?
        var server: TritonServer?
        var signal: Int32?
    }

    private let state = Mutex(State())
    /// Kept alive while the command runs; set once, by `serverStarted`.
    nonisolated(unsafe) private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "tritonpack.server.signals")
    private let patience: TimeInterval = 30
    private let giveUp: @Sendable (TritonPackError) -> Never

    init(giveUp: @escaping @Sendable (TritonPackError) -> Never) { self.giveUp = giveUp }

    var received: TritonPackError? { state.withLock { $0.signal }.map { TritonPackError.interrupted(by: $0) } }

    func cancels(_ run: Task<Value, any Error>) { state.withLock { $0.run = run } }

    /// Called once a server runs (each time one is started): it must not inherit ignored SIGINT
    /// and SIGTERM, so the handlers go in only now, the first time.
    func serverStarted(_ server: TritonServer) {
        state.withLock { $0.server = server }
        guard sources.isEmpty else { return }
        for signal in [SIGINT, SIGTERM] {
            Glibc.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler { [self] in interrupted(by: signal) }
            source.resume()
            sources.append(source)
        }
    }

    private func interrupted(by signal: Int32) {
        let run = state.withLock { state -> Task<Value, any Error>? in
            guard state.signal == nil else { return nil }
            state.signal = signal
            return state.run
        }
        run?.cancel()
        queue.asyncAfter(deadline: .now() + patience) { [self] in
            state.withLock { $0.server }?.killGroup()
            giveUp(TritonPackError.interrupted(by: signal))
        }
    }
}
