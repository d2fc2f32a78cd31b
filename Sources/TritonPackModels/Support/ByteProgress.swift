import Foundation

/// Bytes done out of bytes expected, for one long operation. Workers call `advance(by:)` from any
/// thread; the observer (the command line's renderer) is called with each new count.
public final class ByteProgress: @unchecked Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var label: String
        public var completed: Int64
        public var total: Int64
        public var elapsed: Double
    }

    /// The progress that file copiers and hashers created in this task report to; set by the
    /// caller with `ByteProgress.$current.withValue(progress) { ... }`.
    @TaskLocal public static var current: ByteProgress?

    public let label: String
    private let lock = NSLock()
    private let start = Date()
    private var completed: Int64 = 0
    private var total: Int64
    private let observer: @Sendable (Snapshot) -> Void

    public init(label: String, total: Int64 = 0, observer: @escaping @Sendable (Snapshot) -> Void) {
        self.label = label
        self.total = total
        self.observer = observer
    }

    /// Adds work that became known (a copier learns its file sizes only when it starts).
    public func expect(_ bytes: Int64) {
        lock.lock()
        total += bytes
        lock.unlock()
    }

    public func advance(by bytes: Int64) {
        lock.lock()
        completed += bytes
        let snapshot = Snapshot(label: label, completed: completed, total: total, elapsed: -start.timeIntervalSinceNow)
        lock.unlock()
        observer(snapshot)
    }

    /// Sets the completed count (for writers that know a fraction, such as libzip).
    public func set(completed bytes: Int64) {
        lock.lock()
        completed = bytes
        let snapshot = Snapshot(label: label, completed: completed, total: total, elapsed: -start.timeIntervalSinceNow)
        lock.unlock()
        observer(snapshot)
    }
}

/// Sizes as people read them: binary units, one decimal (`1.0 GiB`, `512 B`).
public enum ByteSize {
    public static func human(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

/// One line of progress: `packing  412.0 MiB / 1.0 GiB  40%  205.3 MiB/s`.
public enum ProgressLine {
    public static func render(_ snapshot: ByteProgress.Snapshot) -> String {
        var line = "\(snapshot.label) \(ByteSize.human(snapshot.completed))"
        if snapshot.total > 0 {
            let percent = min(100, Int(Double(snapshot.completed) * 100 / Double(snapshot.total)))
            line += " / \(ByteSize.human(snapshot.total))  \(percent)%"
        }
        if snapshot.elapsed > 0 {
            line += "  \(ByteSize.human(Int64(Double(snapshot.completed) / snapshot.elapsed)))/s"
        }
        return line
    }
}
