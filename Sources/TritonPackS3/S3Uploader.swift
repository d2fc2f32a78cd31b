import CSystemShims
import Crypto
import Foundation
import Glibc
import NIOCore
import TritonPackModels

/// A local file to store under a key, with the SHA-256 it must have when one is known.
public struct S3FileUpload: Sendable {
    public var localPath: String
    public var key: String
    public var size: Int64
    public var sha256: String?

    public init(localPath: String, key: String, size: Int64, sha256: String?) {
        self.localPath = localPath
        self.key = key
        self.size = size
        self.sha256 = sha256
    }
}

/// Uploads files with at most `concurrency` requests in flight, each holding at most `partSize`
/// bytes: memory stays near `concurrency * partSize` whatever the model's size. A file larger
/// than `partSize` goes up as a multipart upload. One reader goes through each file in order and
/// hashes it whole, so a file that no longer matches its manifest is refused (and its multipart
/// upload aborted); each request carries its bytes' SHA-256 (`x-amz-content-sha256`), which the
/// server checks.
public struct S3Uploader: Sendable {
    public var client: S3Client
    public var partSize: Int
    public var concurrency: Int

    public static let defaultPartSize = 8 << 20
    public static let defaultConcurrency = 6

    public init(client: S3Client, partSize: Int = defaultPartSize, concurrency: Int = defaultConcurrency) {
        self.client = client
        self.partSize = max(partSize, 5 << 20)
        self.concurrency = max(concurrency, 1)
    }

    private struct Done: Sendable {
        var file: Int
        var part: Int
        var etag: String
    }

    /// Uploads every file and returns each one's SHA-256 (of the bytes sent), keyed by key.
    @discardableResult
    public func upload(_ files: [S3FileUpload]) async throws -> [String: String] {
        // A part's buffer is still referenced (by the HTTP client) for a while after its answer, so
        // buffers cannot be reused; freed, they go back to the system rather than to malloc's heap,
        // where they kept peak memory at twice the parts in flight.
        tp_return_large_allocations(1 << 20)
        var uploadIDs: [Int: String] = [:]
        var digests: [String: String] = [:]
        do {
            var etags: [Int: [(number: Int, etag: String)]] = [:]
            try await withThrowingTaskGroup(of: Done.self) { group in
                var inFlight = 0
                /// Waits for a free slot before the next chunk is read, so that at most `concurrency`
                /// chunks are in memory.
                func waitForSlot() async throws {
                    if inFlight >= concurrency, let done = try await group.next() {
                        etags[done.file, default: []].append((done.part, done.etag))
                        inFlight -= 1
                    }
                }
                func add(_ work: @escaping @Sendable () async throws -> Done) {
                    group.addTask(operation: work)
                    inFlight += 1
                }
                for (index, file) in files.enumerated() {
                    try Interruption.check()
                    let multipart = file.size > Int64(partSize)
                    let uploadID: String?
                    if multipart {
                        let id = try await client.createMultipartUpload(file.key)
                        uploadIDs[index] = id
                        uploadID = id
                    } else {
                        uploadID = nil
                    }
                    let reader = try FileChunkReader(path: file.localPath)
                    defer { reader.close() }
                    var hash = SHA256()
                    var wholeFile: String?
                    var number = 0
                    var total: Int64 = 0
                    repeat {
                        try await waitForSlot()
                        let chunk = try reader.read(Int(min(Int64(partSize), file.size - total)))
                        chunk.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
                        total += Int64(chunk.readableBytes)
                        number += 1
                        let client = self.client
                        let partNumber = number
                        if let uploadID {
                            if chunk.readableBytes == 0 { break }
                            add {
                                Done(
                                    file: index, part: partNumber,
                                    etag: try await client.uploadPart(
                                        file.key, uploadID: uploadID, number: partNumber, body: chunk,
                                        sha256: SHA256.hash(chunk).hexString))
                            }
                        } else {
                            // One part: the file's digest is the payload's.
                            let sha256 = hash.finalize().hexString
                            wholeFile = sha256
                            add { Done(file: index, part: 0, etag: try await client.put(file.key, body: chunk, sha256: sha256)) }
                        }
                    } while uploadID != nil && total < file.size
                    let digest = wholeFile ?? hash.finalize().hexString
                    let grew = try !reader.atEnd()
                    if total != file.size || grew || (file.sha256.map { $0 != digest } ?? false) {
                        throw TritonPackError.io(
                            file.localPath, "changed while being uploaded: it no longer matches its manifest (size or SHA-256)",
                            code: .changedWhileReading)
                    }
                    digests[file.key] = digest
                }
                for try await done in group { etags[done.file, default: []].append((done.part, done.etag)) }
            }
            for (index, id) in uploadIDs.sorted(by: { $0.key < $1.key }) {
                try await client.completeMultipartUpload(files[index].key, uploadID: id, parts: etags[index] ?? [])
            }
            return digests
        } catch {
            for (index, id) in uploadIDs {
                try? await client.abortMultipartUpload(files[index].key, uploadID: id)
            }
            throw error
        }
    }
}

/// Sequential reads of one file, each into a buffer of its own that is sent as it is.
package final class FileChunkReader {
    private let descriptor: Int32
    private let path: String

    package init(path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw TritonPackError.io(path, "cannot open for reading: \(POSIXFiles.errnoMessage())") }
        posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL)
        self.path = path
    }

    /// Up to `count` bytes: fewer only at the end of the file.
    package func read(_ count: Int) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        while buffer.readableBytes < count {
            let wanted = count - buffer.readableBytes
            let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { raw in
                while true {
                    let result = Glibc.read(descriptor, raw.baseAddress!, wanted)
                    if result >= 0 { return result }
                    if errno != EINTR { throw TritonPackError.io(path, "cannot read: \(POSIXFiles.errnoMessage())") }
                }
            }
            if got == 0 { break }
        }
        return buffer
    }

    /// Whether the file has no byte after those read (it did not grow while being read).
    package func atEnd() throws -> Bool { try read(1).readableBytes == 0 }

    package func close() { Glibc.close(descriptor) }
}
