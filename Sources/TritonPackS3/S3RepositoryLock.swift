import Foundation
import TritonPackModels

/// Serializes tritonpack's writers on one S3 repository: an object created with
/// `If-None-Match: *` (one writer wins, the others get 412), holding who took it and until when.
/// The holder renews it while it works (`If-Match` on its own last write, so a renewal never
/// overwrites a lock taken over meanwhile); a lock past its expiry, or one whose holder process on
/// this machine is gone, is taken over by one PUT conditioned on the dead lock's ETag, so that of
/// two writers that both see it dead, exactly one takes it.
/// It lives at `<prefix>/tritonpack.lock`, a plain object at the repository root that Triton ignores.
public final class S3RepositoryLock: Sendable {
    public static let objectName = "tritonpack.lock"

    package struct Record: Codable, Equatable {
        package var holder: String
        package var host: String
        package var pid: Int32
        package var expiresAt: Double
    }

    package let client: S3Client
    package let key: String
    package let holder: String
    package let ttl: TimeInterval
    private let renewal: Task<Void, Never>

    private init(client: S3Client, key: String, holder: String, ttl: TimeInterval, etag: String) {
        self.client = client
        self.key = key
        self.holder = holder
        self.ttl = ttl
        renewal = Task {
            var etag = etag
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(ttl / 3 * 1e9))
                if Task.isCancelled { return }
                let data = Self.encode(Self.record(holder: holder, ttl: ttl))
                switch try? await client.put(key, data: data, if: .matching(etag: etag)) {
                case .written(let renewed): etag = renewed
                case .conditionFailed: return  // taken over: `confirm` fails from now on
                case nil: continue  // not reachable now; the next renewal tries again
                }
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
            let mine = encode(record(holder: holder, ttl: ttl))
            if case .written(let etag) = try await client.put(key, data: mine, if: .absent) {
                return S3RepositoryLock(client: client, key: key, holder: holder, ttl: ttl, etag: etag)
            }
            guard let (data, etag) = try await client.getWithETag(key) else { continue }
            let other = try? JSONDecoder().decode(Record.self, from: data)
            let holderText = other.map(describe) ?? "a lock object tritonpack cannot read"
            if other.map(isAbandoned) ?? true {
                if case .written(let taken) = try await client.put(key, data: mine, if: .matching(etag: etag)) {
                    return S3RepositoryLock(client: client, key: key, holder: holder, ttl: ttl, etag: taken)
                }
                // Another writer took it over first: wait for that one like for any holder.
            } else if !told {
                onWait("waiting for another tritonpack (\(holderText)) writing \(client.location.url) (up to \(Int(timeout)) s)")
                told = true
            }
            guard Date() < deadline else {
                throw TritonPackError.io(
                    client.location.display(objectName),
                    "timed out after \(timeout) s: another tritonpack (\(holderText)) is writing this repository",
                    code: .lockTimeout)
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
                "lost the repository lock (another tritonpack took it over); nothing was published", code: .lockLost)
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

    package static func record(holder: String, ttl: TimeInterval) -> Record {
        Record(
            holder: holder, host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier,
            expiresAt: Date().timeIntervalSince1970 + ttl)
    }

    package static func encode(_ record: Record) -> Data {
        (try? JSONEncoder().encode(record)) ?? Data()
    }

    package static func isAbandoned(_ record: Record) -> Bool {
        if record.expiresAt < Date().timeIntervalSince1970 { return true }
        if record.host == ProcessInfo.processInfo.hostName, record.pid > 0, kill(record.pid, 0) != 0, errno == ESRCH {
            return true
        }
        return false
    }

    package static func describe(_ record: Record) -> String {
        let until = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: record.expiresAt))
        return "pid \(record.pid) on \(record.host), lock held until \(until) unless renewed"
    }
}
