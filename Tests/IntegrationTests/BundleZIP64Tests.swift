import Foundation
import TestSupport
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackModels

/// A bundle past ZIP's 4 GiB limits: a sparse 4 GiB file, 12 GiB of free disk, about a minute.
final class BundleZIP64Tests: XCTestCase {
    func options(_ repository: URL, _ output: URL) -> BundleOptions { unsyncedBundleOptions(repository, output) }

    @discardableResult
    func bundle(_ options: BundleOptions) throws -> BundleReport { try BundleBuilder(options: options).build() }

    func testArchiveBeyondFourGiBUsesZIP64AndReadsBack() throws {
        let root = try temporaryDirectory(self)
        var info = statvfs()
        guard statvfs(root.path, &info) == 0, UInt64(info.f_bavail) * UInt64(info.f_frsize) > 12 << 30 else {
            throw XCTSkip("needs 12 GiB free for a 4.3 GiB archive")
        }
        let repository = try pythonRepository(in: root)
        let big = repository.appendingPathComponent("identity_fp32/1/weights.bin")
        XCTAssertTrue(FileManager.default.createFile(atPath: big.path, contents: nil))
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: (4 << 30) + 12345)  // sparse: reads as zeros
        try handle.seek(toOffset: (4 << 30) + 12000)
        handle.write(Data("the end of a large file".utf8))
        try handle.close()
        let output = root.appendingPathComponent("large.zip")
        try bundle(options(repository, output))
        XCTAssertGreaterThan(POSIXFiles.fileSize(output.path) ?? 0, 4 << 30)

        let listing = try ZipListing.read(output)
        XCTAssertNil(listing.firstBadEntry, "every entry, the large one included, reads back with its CRC")
        XCTAssertEqual(listing.entry("model_repository/identity_fp32/1/weights.bin")?.size, (4 << 30) + 12345)
        XCTAssertEqual(listing.entry("server.py")?.method, 8, "entries after the 4 GiB mark are intact")
    }
}
