import CSystemShims
import Glibc

/// SIGINT or SIGTERM received while tritonpack writes: long loops check for it, stop, and let
/// their cleanup remove what they were writing.
public enum Interruption {
    /// From now on SIGINT and SIGTERM are recorded instead of ending the process at once.
    public static func install() {
        tp_interruption_install()
    }

    /// The signal received since `install()`, or nil.
    public static var signal: Int32? {
        let number = tp_interruption_signal()
        return number == 0 ? nil : number
    }

    /// Throws `Interrupted` once a signal was received.
    public static func check() throws {
        if let signal { throw Interrupted(signal: signal) }
    }
}

/// The work was stopped by a signal; what it was writing has been removed.
public struct Interrupted: Error, CustomStringConvertible, Sendable {
    public var signal: Int32

    public init(signal: Int32) {
        self.signal = signal
    }

    public var name: String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    /// 128 + the signal number, as shells report a process ended by it.
    public var exitStatus: Int32 { 128 + signal }

    public var description: String { "interrupted by \(name)" }
}
