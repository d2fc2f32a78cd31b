import Crypto
import Foundation

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
                    var number = 0
                    var total: Int64 = 0
                    repeat {
                        try await waitForSlot()
                        let chunk = try reader.read(upTo: multipart ? partSize : Int(file.size) + 1)
                        hash.update(data: chunk)
                        total += Int64(chunk.count)
                        number += 1
                        let client = self.client
                        let partNumber = number
                        if let uploadID {
                            if chunk.isEmpty { break }
                            add {
                                Done(
                                    file: index, part: partNumber,
                                    etag: try await client.uploadPart(
                                        file.key, uploadID: uploadID, number: partNumber, data: chunk))
                            }
                        } else {
                            add { Done(file: index, part: 0, etag: try await client.put(file.key, data: chunk)) }
                            break
                        }
                    } while total < file.size
                    let digest = hash.finalize().hexString
                    if total != file.size || (file.sha256.map { $0 != digest } ?? false) {
                        throw TritonPackError.io(
                            file.localPath, "changed while being uploaded: it no longer matches its manifest (size or SHA-256)")
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

/// Sequential reads of one file.
final class FileChunkReader {
    private let handle: FileHandle
    private let path: String

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TritonPackError.io(path, "cannot open for reading") }
        self.handle = handle
        self.path = path
    }

    func read(upTo count: Int) throws -> Data {
        var data = Data()
        while data.count < count {
            let piece: Data?
            do { piece = try handle.read(upToCount: count - data.count) } catch {
                throw TritonPackError.io(path, "cannot read: \(error)")
            }
            guard let piece, !piece.isEmpty else { break }
            data.append(piece)
        }
        return data
    }

    func close() { try? handle.close() }
}
