import Foundation
import Glibc
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// A polling Triton loads a model again whenever anything in its folder changes. So each
/// promotion, rollback and policy change must change the model folder exactly once, in the step
/// that publishes it; anything written there before (a temporary file) or after (the history)
/// makes a server that polls in between load the model twice. Watched with inotify, so the check
/// does not depend on when a poll happens to land (PollingServerTests shows the same with the server).
final class ModelFolderChangeTests: XCTestCase {
    func testEachOperationChangesTheModelFolderOnceWhenPublishing() throws {
        let root = try temporaryDirectory(self)
        let staging = root.appendingPathComponent("staging")
        let production = root.appendingPathComponent("production")
        for _ in 0..<2 { XCTAssertEqual(try tritonpack("pack", sample("tiny_mlp").path, "--repo", staging.path).status, 0) }
        try FileManager.default.createDirectory(at: production, withIntermediateDirectories: true)
        let promote = { (version: String) in
            try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", version)
        }
        XCTAssertEqual(try promote("1").status, 0)
        let model = production.appendingPathComponent("tiny_mlp")

        let promoted = try changes(in: model) { XCTAssertEqual(try promote("2").status, 0) }
        XCTAssertEqual(promoted, ["moved in: 2"])
        let rolledBack = try changes(in: model) { XCTAssertEqual(try tritonpack("rollback", model.path).status, 0) }
        XCTAssertEqual(rolledBack, ["moved in: config.pbtxt"])
        let policy = try changes(in: model) {
            XCTAssertEqual(try tritonpack("version", "policy", model.path, "latest:1").status, 0)
        }
        XCTAssertEqual(policy, ["moved in: config.pbtxt"])
        XCTAssertEqual(ModelHistory.read(from: model).map(\.operation), ["promote", "promote", "rollback", "policy"])
    }

    /// What happened in `folder` and every folder below it while `body` ran, in order.
    private func changes(in folder: URL, during body: () throws -> Void) throws -> [String] {
        let watcher = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard watcher >= 0 else { throw TritonPackError.io(folder.path, "inotify_init1: \(POSIXFiles.errnoMessage())") }
        defer { close(watcher) }
        let mask = UInt32(IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB)
        var folders = [folder.path]
        if let walker = FileManager.default.enumerator(atPath: folder.path) {
            for case let relative as String in walker where POSIXFiles.isDirectory(folder.appendingPathComponent(relative).path) {
                folders.append(folder.appendingPathComponent(relative).path)
            }
        }
        for path in folders { XCTAssertGreaterThanOrEqual(inotify_add_watch(watcher, path, mask), 0, path) }
        try body()
        var seen: [String] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(watcher, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var offset = 0
            while offset < count {
                let (event, name) = buffer.withUnsafeBytes { raw -> (inotify_event, String) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let start = offset + MemoryLayout<inotify_event>.size
                    let bytes = raw[start..<(start + Int(event.len))].prefix { $0 != 0 }
                    return (event, String(decoding: bytes, as: UTF8.self))
                }
                seen.append("\(Self.describe(event.mask)): \(name)")
                offset += MemoryLayout<inotify_event>.size + Int(event.len)
            }
        }
        return seen
    }

    private static func describe(_ mask: UInt32) -> String {
        let names: [(Int32, String)] = [
            (IN_MOVED_TO, "moved in"), (IN_MOVED_FROM, "moved out"), (IN_CREATE, "created"), (IN_DELETE, "deleted"),
            (IN_MODIFY, "modified"), (IN_CLOSE_WRITE, "written"), (IN_ATTRIB, "attributes"),
        ]
        return names.filter { mask & UInt32($0.0) != 0 }.map(\.1).joined(separator: "+")
    }
}
