import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class SafetyTests: XCTestCase {
    func makeSyntheticGraph(in directory: URL, bytes: Int, variables: Int) throws -> URL {
        let graph = directory.appendingPathComponent("big")
        let outcome = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", packageRoot.appendingPathComponent("scripts/make_synthetic_graph.py").path, graph.path,
                String(bytes), String(variables),
            ])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return graph
    }

    /// SIGKILL at many points during a pack: afterwards every version in the repository is complete
    /// (its manifest verifies), nothing staged is left inside it, and the next run succeeds.
    func testKilledPackLeavesOnlyCompleteVersions() throws {
        let root = try temporaryDirectory(self)
        let graph = try makeSyntheticGraph(in: root, bytes: 48 << 20, variables: 24)
        let repository = root.appendingPathComponent("repo")
        let start = Date()
        XCTAssertEqual(try tritonpack("pack", graph.path, "--repo", repository.path).status, 0)
        let duration = Date().timeIntervalSince(start)
        let model = repository.appendingPathComponent("big")

        for attempt in 0..<10 {
            let process = try spawnTritonpack(["pack", graph.path, "--repo", repository.path])
            usleep(useconds_t(duration * 1_000_000 * Double(attempt) / 10))
            process.signal(SIGKILL)
            _ = process.waitBlocking()
            XCTAssertEqual(try POSIXFiles.entries(of: repository.path), [".tritonpack.lock", "big", ModelHistory.fileName])
            XCTAssertEqual(try POSIXFiles.entries(of: model.path).filter { $0.hasPrefix(".") }, [])
        }
        try assertVersionsVerify(model)
        let finalRun = try tritonpack("pack", graph.path, "--repo", repository.path)
        XCTAssertEqual(finalRun.status, 0, finalRun.stderr)
        XCTAssertEqual(try POSIXFiles.entries(of: root.path), ["big", "repo"])  // staging cleaned
        try assertVersionsVerify(model)
    }

    /// Concurrent packs of one model are serialized: distinct, complete versions, none lost.
    func testConcurrentPacksProduceDistinctCompleteVersions() throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repo")
        let processes = try (0..<4).map { _ -> SpawnedProcess in
            let process = try spawnTritonpack([
                "pack", sample("fast_neural_style").path, "--repo", repository.path, "--name", "m",
            ])
            return process
        }
        for process in processes {
            XCTAssertEqual(process.waitBlocking(), 0)
        }
        XCTAssertEqual(try ModelRepository(root: repository).versions(of: "m"), [1, 2, 3, 4])
        try assertVersionsVerify(repository.appendingPathComponent("m"))
    }
}
