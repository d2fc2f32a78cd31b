import Foundation
import XCTest

@testable import TritonPackKit

/// The real tritonserver (from the nvidia-pytriton wheel that `make setup` installs) as the judge
/// of packed repositories.
final class TritonServerTests: XCTestCase {
    let launcher = packageRoot.appendingPathComponent("scripts/tritonserver")

    /// With no OneFlow backend installed, the furthest a correct repository can get is the backend
    /// lookup: every check of the layout and config before it has passed.
    func testServerGetsAsFarAsLookingForTheOneFlowBackend() throws {
        guard FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent(".venv/bin/python").path) else {
            XCTFail("the project venv with tritonserver is missing: run `make setup` (make test does)")
            return
        }
        let repository = try temporaryDirectory(self).appendingPathComponent("model_repository")
        for name in ["fast_neural_style", "tiny_mlp", "multi_io"] {
            let packed = try tritonpack("pack", sample(name).path, "--repo", repository.path)
            XCTAssertEqual(packed.status, 0, packed.stderr)
        }
        let outcome = try runProcess(
            URL(fileURLWithPath: "/usr/bin/timeout"),
            ["120", launcher.path, "--model-repository", repository.path, "--disable-auto-complete-config",
             "--http-port", String(freePort()), "--grpc-port", String(freePort()), "--metrics-port", String(freePort())])
        let log = outcome.stdout + outcome.stderr
        XCTAssertNotEqual(outcome.status, 124, "tritonserver did not exit by itself:\n\(log)")
        for name in ["fast_neural_style", "tiny_mlp", "multi_io"] {
            XCTAssertTrue(
                log.contains(
                    "failed to load '\(name)' version 1: Invalid argument: unable to find backend library for backend 'oneflow'"),
                "\(name):\n\(log)")
        }
        XCTAssertFalse(log.contains("Poll failed"), log)
        XCTAssertFalse(log.contains("failed to read text proto"), log)
    }
}
