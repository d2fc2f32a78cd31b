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

/// The bundle's pure parts on their own: the tree walker's boundary, the ZIP writer's bytes and
/// timestamps.
final class BundlePartsTests: XCTestCase {
    func testTheWalkerFollowsLinksInsideItsBoundaryOnlyAndLeavesPrivateFilesOut() throws {
        let root = try temporaryDirectory(self)
        let tree = root.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("a"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: tree.appendingPathComponent("a/file.txt"))
        try Data("k".utf8).write(to: tree.appendingPathComponent("a/.env"))
        try FileManager.default.createSymbolicLink(
            atPath: tree.appendingPathComponent("inside").path, withDestinationPath: "a/file.txt")
        var walker = try SafeTreeWalker(boundary: tree.path, includePrivate: false)
        let found = try walker.walk(tree.path, prefix: "r/")
        XCTAssertEqual(found.map(\.archiveName), ["r/a/", "r/a/file.txt", "r/inside"])
        XCTAssertEqual(found.last?.path, POSIXFiles.resolvedPath(tree.appendingPathComponent("a/file.txt").path))
        XCTAssertEqual(walker.leftOut, ["\(tree.path)/a/.env"])

        try Data("secret".utf8).write(to: root.appendingPathComponent("outside.txt"))
        try FileManager.default.createSymbolicLink(
            atPath: tree.appendingPathComponent("escape").path, withDestinationPath: "../outside.txt")
        var strict = try SafeTreeWalker(boundary: tree.path, includePrivate: false)
        XCTAssertThrowsError(try strict.walk(tree.path, prefix: "r/")) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .linkOutsideFolder, "\(error)")
        }
        try FileManager.default.removeItem(at: tree.appendingPathComponent("escape"))
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("a/loop").path, withDestinationPath: "..")
        var looping = try SafeTreeWalker(boundary: tree.path, includePrivate: true)
        XCTAssertThrowsError(try looping.walk(tree.path, prefix: "r/")) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .linkLoop, "\(error)")
        }
        XCTAssertThrowsError(try SafeTreeWalker.checkArchivable(name: "a\\b", path: "p"))
        XCTAssertThrowsError(try SafeTreeWalker.checkArchivable(name: "a\u{7}", path: "p"))
        XCTAssertNoThrow(try SafeTreeWalker.checkArchivable(name: "résumé.txt", path: "p"))
    }

    func testDOSTimestampsAreUTCAndClampedToWhatZIPHolds() {
        let first = DOSTimestamp(unixSeconds: 1_700_000_000)  // 2023-11-14 22:13:20 UTC
        XCTAssertEqual(first.date >> 9, 2023 - 1980)
        XCTAssertEqual((first.date >> 5) & 0xF, 11)
        XCTAssertEqual(first.date & 0x1F, 14)
        XCTAssertEqual(first.time >> 11, 22)
        XCTAssertEqual((first.time >> 5) & 0x3F, 13)
        XCTAssertEqual((first.time & 0x1F) * 2, 20)
        XCTAssertEqual(DOSTimestamp(unixSeconds: 0), .epoch)
    }

    func testTheWriterGivesEqualBytesForEqualInputAndReadsBack() throws {
        let root = try temporaryDirectory(self)
        let payload = root.appendingPathComponent("payload.bin")
        try Data((0..<100_000).map { UInt8($0 % 251) }).write(to: payload)
        func write(_ name: String) throws -> URL {
            let archive = root.appendingPathComponent(name)
            let writer = try ZipArchiveWriter.create(archive.path)
            let stamp = DOSTimestamp(unixSeconds: 1_700_000_000)
            try writer.add(ZipEntry(name: "d/", content: .directory, permissions: 0o755, method: .stored), timestamp: stamp)
            try writer.add(
                ZipEntry(
                    name: "d/payload.bin", content: .file(path: payload.path, size: 100_000), permissions: 0o644,
                    method: .deflated),
                timestamp: stamp)
            try writer.add(
                ZipEntry(name: "run.sh", content: .bytes(Data("echo hi\n".utf8)), permissions: 0o755, method: .stored),
                timestamp: stamp)
            try writer.close()
            return archive
        }
        let first = try write("a.zip")
        let second = try write("b.zip")
        XCTAssertEqual(sha256(of: first), sha256(of: second))
        let listing = try ZipListing.read(first)
        XCTAssertNil(listing.firstBadEntry)
        XCTAssertEqual(listing.names, ["d/", "d/payload.bin", "run.sh"])
        XCTAssertEqual(listing.entry("run.sh")?.permissions, 0o755)
        XCTAssertEqual(listing.entry("d/payload.bin")?.size, 100_000)
        XCTAssertEqual(listing.entry("d/payload.bin")?.dateTime, [2023, 11, 14, 22, 13, 20])
    }
}
