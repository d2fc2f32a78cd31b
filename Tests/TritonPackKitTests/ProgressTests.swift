import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class ProgressTests: XCTestCase {
    func testHumanSizes() {
        XCTAssertEqual(ByteSize.human(0), "0 B")
        XCTAssertEqual(ByteSize.human(1023), "1023 B")
        XCTAssertEqual(ByteSize.human(1024), "1.0 KiB")
        XCTAssertEqual(ByteSize.human(1536), "1.5 KiB")
        XCTAssertEqual(ByteSize.human(1 << 30), "1.0 GiB")
        XCTAssertEqual(ByteSize.human(1_610_612_736), "1.5 GiB")
        XCTAssertEqual(ByteSize.human((1 << 20) - 1), "1024.0 KiB")
        XCTAssertEqual(ByteSize.human(5 << 40), "5.0 TiB")
    }

    func testRenderedLine() {
        let half = ByteProgress.Snapshot(label: "packing", completed: 512 << 20, total: 1 << 30, elapsed: 2)
        XCTAssertEqual(ProgressLine.render(half), "packing 512.0 MiB / 1.0 GiB  50%  256.0 MiB/s")
        let unknownTotal = ByteProgress.Snapshot(label: "bundling", completed: 2048, total: 0, elapsed: 0)
        XCTAssertEqual(ProgressLine.render(unknownTotal), "bundling 2.0 KiB")
        let over = ByteProgress.Snapshot(label: "verifying", completed: 11, total: 10, elapsed: 1)
        XCTAssertEqual(ProgressLine.render(over), "verifying 11 B / 10 B  100%  11 B/s")
    }

    /// The copier reports every byte it reads to the task's progress, and the total up front.
    func testFileCopierFeedsTheCurrentProgress() throws {
        let root = try temporaryDirectory(self)
        var jobs: [FileCopyJob] = []
        for (index, size) in [3_000_000, 10, 0, 1_500_000].enumerated() {
            let source = root.appendingPathComponent("in\(index)")
            try Data(repeating: UInt8(index), count: size).write(to: source)
            jobs.append(
                FileCopyJob(source: source.path, destination: root.appendingPathComponent("out\(index)").path, size: Int64(size)))
        }
        let seen = SnapshotLog()
        let progress = ByteProgress(label: "copying") { seen.append($0) }
        _ = try ByteProgress.$current.withValue(progress) { try FileCopier(syncFiles: false).run(jobs) }
        let snapshots = seen.all
        XCTAssertEqual(snapshots.last?.completed, 4_500_010)
        XCTAssertTrue(snapshots.allSatisfy { $0.total == 4_500_010 && $0.label == "copying" })
        XCTAssertNil(FileCopier().progress, "no progress outside withValue")
    }
}

private final class SnapshotLog: @unchecked Sendable {
    private let lock = NSLock()
    private var snapshots: [ByteProgress.Snapshot] = []
    func append(_ snapshot: ByteProgress.Snapshot) {
        lock.lock()
        snapshots.append(snapshot)
        lock.unlock()
    }
    var all: [ByteProgress.Snapshot] {
        lock.lock()
        defer { lock.unlock() }
        return snapshots
    }
}
