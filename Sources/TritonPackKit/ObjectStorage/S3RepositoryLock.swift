import Foundation

/// Serializes tritonpack's writers on one S3 repository: an object created with
/// `If-None-Match: *` (one writer wins, the others get 412), holding who took it and until when.
/// The holder renews it while it works; a lock past its expiry, or one whose holder process on
/// this machine is gone, is taken over (delete, then the same conditional create).
/// It lives at `<prefix>/tritonpack.lock`, a plain object at the repository root that Triton ignores.
public final class S3RepositoryLock: Sendable {
    public static let objectName = "tritonpack.lock"

    struct Record: Codable, Equatable {
        var holder: String
        var host: String
        var pid: Int32
        var expiresAt: Double
    }

    let client: S3Client
    let key: String
    let holder: String
    let ttl: TimeInterval
    private let renewal: Task<Void, Never>

    private init(client: S3Client, key: String, holder: String, ttl: TimeInterval) {
        self.client = client
        self.key = key
        self.holder = holder
        self.ttl = ttl
        renewal = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(ttl / 3 * 1e9))
                if Task.isCancelled { return }
                _ = try? await client.put(key, data: Self.encode(Self.record(holder: holder, ttl: ttl)))
            }
        }
    }

    /// Takes the lock of `client.location`, waiting up to `timeout` seconds for another holder.
    public static func acquire(
        client: S3Client, ttl: TimeInterval, timeout: TimeInterval, onWait: @Sendable (String) -> Void = { _ in }
    ) async throws -> S3RepositoryLock {
        let key = client.location.key(objectName)
        let holder = UUID().uuidString
        let deadline = Date().addingTimeInterval(timeout)
        var told = false
        while true {
            try Interruption.check()
            if try await client.putIfAbsent(key, data: encode(record(holder: holder, ttl: ttl))) == .created {
                return S3RepositoryLock(client: client, key: key, holder: holder, ttl: ttl)
            }
            guard let data = try await client.get(key) else { continue }
            let other = try? JSONDecoder().decode(Record.self, from: data)
            if other.map(isAbandoned) ?? true {
                try await client.delete(key)
                continue
            }
            guard Date() < deadline else {
                throw TritonPackError.io(
                    client.location.display(objectName),
                    "timed out after \(timeout) s: another tritonpack (\(describe(other!))) is writing this repository")
            }
            if !told {
                onWait(
                    "waiting for another tritonpack (\(describe(other!))) writing \(client.location.url) (up to \(Int(timeout)) s)"
                )
                told = true
            }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
    }

    /// Fails unless the lock object still names this holder (it was not taken over meanwhile).
    public func confirm() async throws {
        guard let data = try await client.get(key), let record = try? JSONDecoder().decode(Record.self, from: data),
            record.holder == holder
        else {
            throw TritonPackError.io(
                client.location.display(Self.objectName),
                "lost the repository lock (another tritonpack took it over); nothing was published")
        }
    }

    public func release() async {
        renewal.cancel()
        if let data = try? await client.get(key), let record = try? JSONDecoder().decode(Record.self, from: data),
            record.holder == holder
        {
            try? await client.delete(key)
        }
    }

    deinit { renewal.cancel() }

    static func record(holder: String, ttl: TimeInterval) -> Record {
        Record(
            holder: holder, host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier,
            expiresAt: Date().timeIntervalSince1970 + ttl)
    }

    static func encode(_ record: Record) -> Data {
        (try? JSONEncoder().encode(record)) ?? Data()
    }

    static func isAbandoned(_ record: Record) -> Bool {
        if record.expiresAt < Date().timeIntervalSince1970 { return true }
        if record.host == ProcessInfo.processInfo.hostName, record.pid > 0, kill(record.pid, 0) != 0, errno == ESRCH {
            return true
        }
        return false
    }

    static func describe(_ record: Record) -> String {
        let until = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: record.expiresAt))
        return "pid \(record.pid) on \(record.host), lock held until \(until) unless renewed"
    }
}
