import Crypto
import Foundation
import TestSupport
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class FileCopierTests: XCTestCase {
    /// Sizes around the buffer's (empty, one byte, exact multiples, a partial last chunk).
    private let sizes = [0, 1, 4096, 1 << 16, (1 << 16) + 1, 3 * (1 << 16) - 7, 1_000_003]

    private func copyAndCheck(from sourceFolder: URL, to destinationFolder: URL, syncFiles: Bool) throws {
        var jobs: [FileCopyJob] = []
        var contents: [String: Data] = [:]
        for (index, size) in sizes.enumerated() {
            let source = sourceFolder.appendingPathComponent("in\(index)")
            let data = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) })
            try data.write(to: source)
            let destination = destinationFolder.appendingPathComponent("out\(index)").path
            contents[destination] = data
            jobs.append(FileCopyJob(source: source.path, destination: destination, size: Int64(size)))
        }
        let result = try FileCopier(bufferSize: 1 << 16, syncFiles: syncFiles).run(jobs)
        XCTAssertEqual(result.digests.count, jobs.count)
        for (destination, data) in contents {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: destination)), data, destination)
            XCTAssertEqual(result.digests[destination], SHA256.hash(data: data).hexString, destination)
        }
    }

    /// On one filesystem the kernel copies (copy_file_range); the digest is of the bytes written.
    func testCopiesAndHashesEveryByte() throws {
        let root = try temporaryDirectory(self)
        try copyAndCheck(from: root, to: root, syncFiles: true)
    }

    /// Between filesystems the kernel refuses to copy (EXDEV): the copier reads and writes instead.
    func testCopiesAcrossFilesystems() throws {
        let shared = URL(fileURLWithPath: "/dev/shm")
        guard POSIXFiles.isDirectory(shared.path) else { throw XCTSkip("no /dev/shm") }
        let source = shared.appendingPathComponent("tritonpack-copier-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: source) }
        try copyAndCheck(from: source, to: try temporaryDirectory(self), syncFiles: false)
    }

    func testRefusesAFileThatChangedSize() throws {
        let root = try temporaryDirectory(self)
        let source = root.appendingPathComponent("in")
        try Data(repeating: 7, count: 100_000).write(to: source)
        let job = FileCopyJob(source: source.path, destination: root.appendingPathComponent("out").path, size: 200_000)
        XCTAssertThrowsError(try FileCopier(syncFiles: false).run([job])) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .changedWhileReading, "\(error)")
        }
    }
}
