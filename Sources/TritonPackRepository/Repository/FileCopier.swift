import CSystemShims
import Crypto
import Dispatch
import Foundation
import Glibc
import TritonPackModels

/// One file to place: where it comes from and where it goes.
package struct FileCopyJob: Sendable {
    public var source: String
    public var destination: String
    public var size: Int64

    public init(source: String, destination: String, size: Int64) {
        self.source = source
        self.destination = destination
        self.size = size
    }
}

/// Copies (or hard-links) files while computing their SHA-256, reading every byte once,
/// with one worker per core taking the largest remaining file first.
package struct FileCopier: Sendable {
    public enum Mode: Sendable { case copy, hardLink }

    public var mode: Mode
    public var bufferSize: Int
    public var workers: Int
    /// fsync every written file before returning, so a later rename publishes durable data.
    public var syncFiles: Bool
    /// Told every chunk read; by default the task's `ByteProgress.current`.
    public var progress: ByteProgress?

    public init(mode: Mode = .copy, bufferSize: Int = 1 << 20, workers: Int? = nil, syncFiles: Bool = true) {
        self.mode = mode
        self.bufferSize = bufferSize
        self.workers = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
        self.syncFiles = syncFiles
        progress = ByteProgress.current
    }

    public struct Result: Sendable {
        /// Hex SHA-256 per destination path.
        public var digests: [String: String]
        /// Files that were copied because a hard link was impossible (other filesystem).
        public var copiedInsteadOfLinked: Int
    }

    public func run(_ jobs: [FileCopyJob]) throws -> Result {
        let placed = try forEachLargestFirst(jobs) { job, buffer in try place(job, buffer: &buffer) }
        var digests: [String: String] = [:]
        var copiedInstead = 0
        for (job, (digest, linked)) in placed {
            digests[job.destination] = digest
            if mode == .hardLink && !linked { copiedInstead += 1 }
        }
        return Result(digests: digests, copiedInsteadOfLinked: copiedInstead)
    }

    /// SHA-256 of every file, in parallel; keyed by path.
    public func hashFiles(_ paths: [String]) throws -> [String: String] {
        let jobs = paths.map { FileCopyJob(source: $0, destination: $0, size: POSIXFiles.fileSize($0) ?? 0) }
        let hashed = try forEachLargestFirst(jobs) { job, buffer in try hash(job.source, buffer: &buffer) }
        return Dictionary(uniqueKeysWithValues: hashed.map { ($0.0.source, $0.1) })
    }

    /// Runs `body` over the jobs on `workers` threads, each taking the largest remaining job,
    /// each with its own buffer. The first error stops the remaining work and is thrown.
    private func forEachLargestFirst<T: Sendable>(
        _ jobs: [FileCopyJob], _ body: @Sendable (FileCopyJob, inout [UInt8]) throws -> T
    ) throws -> [(FileCopyJob, T)] {
        let ordered = jobs.sorted { $0.size > $1.size }
        progress?.expect(ordered.reduce(0) { $0 + $1.size })
        let state = WorkQueue<T>(count: ordered.count)
        DispatchQueue.concurrentPerform(iterations: min(workers, max(ordered.count, 1))) { _ in
            var buffer = [UInt8](repeating: 0, count: bufferSize)
            while let index = state.next() {
                do {
                    state.record(index: index, try body(ordered[index], &buffer))
                } catch {
                    state.fail(error)
                }
            }
        }
        if let error = state.firstError { throw error }
        return ordered.enumerated().map { ($0.element, state.results[$0.offset]!) }
    }

    private func place(_ job: FileCopyJob, buffer: inout [UInt8]) throws -> (String, Bool) {
        if mode == .hardLink {
            if link(job.source, job.destination) == 0 {
                return (try hash(job.source, buffer: &buffer), true)
            }
            guard errno == EXDEV || errno == EPERM || errno == EMLINK else {
                throw TritonPackError.io(job.destination, "cannot hard-link \(job.source): \(POSIXFiles.errnoMessage())")
            }
        }
        return (try copy(job, buffer: &buffer), false)
    }

    /// Copies inside the kernel (copy_file_range, as `cp` does) and hashes each chunk read back
    /// from the destination while it is still cached: the digest is of the bytes written, and the
    /// bytes cross user memory once instead of twice. Falls back to read and write where the
    /// kernel cannot copy between the two files.
    private func copy(_ job: FileCopyJob, buffer: inout [UInt8]) throws -> String {
        let input = open(job.source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw TritonPackError.io(job.source, "cannot open: \(POSIXFiles.errnoMessage())") }
        defer { close(input) }
        posix_fadvise(input, 0, 0, POSIX_FADV_SEQUENTIAL)
        let output = open(job.destination, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else {
            throw TritonPackError.io(job.destination, "cannot create: \(POSIXFiles.errnoMessage())")
        }
        defer { close(output) }
        var hasher = SHA256()
        var total: Int64 = 0
        var inKernel = true
        try buffer.withUnsafeMutableBytes { raw in
            while true {
                try Interruption.check()
                let count: Int
                if inKernel {
                    let copied = tp_copy_file_range(input, output, UInt(raw.count))
                    if copied < 0 {
                        if errno == EINTR { continue }
                        if total == 0, [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP].contains(errno) {
                            inKernel = false
                            continue
                        }
                        throw TritonPackError.io(job.destination, "copy failed: \(POSIXFiles.errnoMessage())")
                    }
                    count = copied
                    if count > 0 { try Self.readBack(output, job.destination, at: total, into: raw, count: count) }
                } else {
                    count = try Self.readSome(input, job.source, into: raw)
                    if count > 0 { try Self.writeAll(output, job.destination, raw, count: count) }
                }
                if count == 0 { break }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(start: raw.baseAddress!, count: count))
                total += Int64(count)
                progress?.advance(by: Int64(count))
            }
        }
        if total != job.size {
            throw TritonPackError.io(
                job.source, "changed while being copied (\(job.size) bytes expected, \(total) read)", code: .changedWhileReading)
        }
        if syncFiles, fsync(output) != 0 {
            throw TritonPackError.io(job.destination, "fsync failed: \(POSIXFiles.errnoMessage())")
        }
        return hasher.finalize().hexString
    }

    private static func readSome(_ file: Int32, _ path: String, into raw: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = read(file, raw.baseAddress!, raw.count)
            if count >= 0 { return count }
            if errno != EINTR { throw TritonPackError.io(path, "read failed: \(POSIXFiles.errnoMessage())") }
        }
    }

    private static func writeAll(_ file: Int32, _ path: String, _ raw: UnsafeMutableRawBufferPointer, count: Int) throws {
        var written = 0
        while written < count {
            let result = write(file, raw.baseAddress! + written, count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw TritonPackError.io(path, "write failed: \(POSIXFiles.errnoMessage())")
            }
            written += result
        }
    }

    private static func readBack(
        _ file: Int32, _ path: String, at offset: Int64, into raw: UnsafeMutableRawBufferPointer, count: Int
    ) throws {
        var done = 0
        while done < count {
            let result = pread(file, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if result < 0 {
                if errno == EINTR { continue }
                throw TritonPackError.io(path, "read back failed: \(POSIXFiles.errnoMessage())")
            }
            if result == 0 { throw TritonPackError.io(path, "shorter than the bytes just copied into it") }
            done += result
        }
    }

    /// SHA-256 of a file, streamed.
    public func hash(_ path: String, buffer: inout [UInt8]) throws -> String {
        var hasher = SHA256()
        _ = try Self.stream(path, buffer: &buffer, progress: progress) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hexString
    }

    /// Reads a file front to back through `buffer`, handing each chunk to `body`; returns the byte count.
    private static func stream(
        _ path: String, buffer: inout [UInt8], progress: ByteProgress?, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int64 {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw TritonPackError.io(path, "cannot open: \(POSIXFiles.errnoMessage())") }
        defer { close(input) }
        posix_fadvise(input, 0, 0, POSIX_FADV_SEQUENTIAL)
        var total: Int64 = 0
        try buffer.withUnsafeMutableBytes { raw in
            while true {
                let count = read(input, raw.baseAddress!, raw.count)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw TritonPackError.io(path, "read failed: \(POSIXFiles.errnoMessage())")
                }
                if count == 0 { break }
                try Interruption.check()
                try body(UnsafeRawBufferPointer(start: raw.baseAddress!, count: count))
                total += Int64(count)
                progress?.advance(by: Int64(count))
            }
        }
        return total
    }
}

/// The shared cursor and results of the copy workers.
private final class WorkQueue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private let count: Int
    private(set) var results: [T?]
    private(set) var firstError: (any Error)?

    init(count: Int) {
        self.count = count
        results = Array(repeating: nil, count: count)
    }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard firstError == nil, nextIndex < count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func record(index: Int, _ result: T) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }

    func fail(_ error: any Error) {
        lock.lock()
        if firstError == nil { firstError = error }
        lock.unlock()
    }
}

extension Sequence where Element == UInt8 {
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        for byte in self {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: characters, as: UTF8.self)
    }
}

extension SHA256.Digest {
    public var hexString: String { Array(self).hexString }
}
