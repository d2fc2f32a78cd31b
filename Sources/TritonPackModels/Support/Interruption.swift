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

    /// Throws an `.interrupted` error once a signal was received.
    public static func check() throws {
        if let signal { throw TritonPackError.interrupted(by: signal) }
    }
}
