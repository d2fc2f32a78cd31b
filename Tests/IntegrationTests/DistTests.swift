import Foundation
import XCTest

/// `make dist` output runs on a machine without Swift: scripts/test-dist.sh packs it (from the
/// release build in .build when it is current, else from one it builds in .build-dist: minutes the
/// first time), unpacks it outside the source tree and runs `tritonpack --version` and
/// `tritonpack lint` with a clean environment.
final class DistTests: XCTestCase {
    func testDistTarballRunsWithoutTheToolchain() throws {
        if ProcessInfo.processInfo.environment["TRITONPACK_SKIP_DIST_TEST"] == "1" {
            throw XCTSkip("TRITONPACK_SKIP_DIST_TEST=1")
        }
        let outcome = try runProcess(packageRoot.appendingPathComponent("scripts/test-dist.sh"), [])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("runs from /tmp/tritonpack-dist-test."), outcome.stdout)
        XCTAssertTrue(
            outcome.stdout.contains("1 model(s): 0 error(s)"), "the unpacked binary linted the repository: \(outcome.stdout)")
    }
}
