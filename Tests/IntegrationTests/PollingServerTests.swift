import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// A real tritonserver polling the production repository while versions are promoted and rolled
/// back: it never logs a failed load and answers every request.
final class PollingServerTests: XCTestCase {
    func testPollingServerAlwaysServesDuringPromotionsAndRollbacks() throws {
        guard let (production, server, promote) = try pollingProduction(versions: 3, precompiled: false) else { return }
        defer { server.stop() }

        var requests = 0
        var failures: [String] = []
        func serve(for seconds: Double) throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let (status, body) = try server.post(
                    "/v2/models/identity_fp32/infer",
                    json: #"{"inputs":[{"name":"INPUT0","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#)
                requests += 1
                if status != 200 || !body.contains("[1.0,2.0,3.0,4.0]") { failures.append("\(status): \(body)") }
                usleep(100_000)
            }
        }
        try serve(for: 1)
        try promote(2)
        try serve(for: 4)
        try promote(3)
        try serve(for: 4)
        let model = production.appendingPathComponent("identity_fp32")
        XCTAssertEqual(try tritonpack("rollback", model.path).status, 0)
        try serve(for: 4)
        XCTAssertEqual(try tritonpack("rollback", model.path, "--model-version", "1").status, 0)
        try serve(for: 4)
        XCTAssertEqual(try tritonpack("version", "policy", model.path, "latest", "1").status, 0)
        try serve(for: 4)

        let log = server.logText()
        let errorLines = log.split(separator: "\n").filter {
            $0.hasPrefix("E") && !$0.contains("CudaDriverHelper") && !$0.contains("NVML")
        }
        XCTAssertEqual(errorLines, [], log)
        XCTAssertFalse(log.contains("failed to load"), log)
        XCTAssertTrue(log.contains("loading: identity_fp32:3"), log)
        XCTAssertTrue(log.contains("successfully unloaded 'identity_fp32' version 3"), log)  // the rollback
        XCTAssertEqual(failures, [])
        print("polling server: \(requests) requests answered across 2 promotions, 2 rollbacks and a policy change")
    }

    /// Each promotion and rollback is one load in a polling server: nothing tritonpack writes after
    /// publishing (the history) lands in the model folder. A second load needs a poll to land
    /// between publishing and a later write, so this shows the outcome with the real server;
    /// ModelFolderChangeTests checks the cause deterministically. The model's Python file is compiled in
    /// advance into an unchecked-hash .pyc, so that the Python backend writes no __pycache__ into a
    /// new version folder (which would itself make the server load the model again).
    func testPromotionAndRollbackEachCauseExactlyOneLoad() throws {
        guard let (production, server, promote) = try pollingProduction(versions: 2, precompiled: true) else { return }
        defer { server.stop() }

        func count(_ text: String) -> Int { server.logText().components(separatedBy: text).count - 1 }
        /// The loads that `operation` causes: it waits for the server to have loaded (and unloaded)
        /// what it should, then for several more polls, in which a second load would show.
        func loads(after operation: () throws -> Void) throws -> Int {
            let loadsBefore = count("loading: identity_fp32:")
            let loadedBefore = count("successfully loaded 'identity_fp32'")
            try operation()
            let deadline = Date().addingTimeInterval(60)
            while count("successfully loaded 'identity_fp32'") == loadedBefore && Date() < deadline { usleep(200_000) }
            sleep(6)
            return count("loading: identity_fp32:") - loadsBefore
        }
        let model = production.appendingPathComponent("identity_fp32")
        XCTAssertEqual(try loads { try promote(2) }, 1, server.logText())
        XCTAssertEqual(try loads { XCTAssertEqual(try tritonpack("rollback", model.path).status, 0) }, 1, server.logText())
        XCTAssertEqual(
            try loads { XCTAssertEqual(try tritonpack("version", "policy", model.path, "latest", "1").status, 0) }, 1,
            server.logText())
        XCTAssertEqual(ModelHistory.read(from: model).map(\.operation), ["promote", "promote", "rollback", "policy"])
        XCTAssertFalse(count("failed to load") > 0, server.logText())
    }

    /// A staging repository holding `versions` copies of the sample Python model (compiled in
    /// advance when `precompiled`), its version 1 promoted into a new production repository, and a
    /// tritonserver polling production every second with the model loaded. Nil (after a failure)
    /// without the project venv.
    private func pollingProduction(versions: Int, precompiled: Bool) throws
        -> (production: URL, server: TritonProcess, promote: (Int) throws -> Void)?
    {
        let python = packageRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.fileExists(atPath: python.path) else {
            XCTFail("the project venv with tritonserver is missing: run `make setup` (make test does)")
            return nil
        }
        let root = try temporaryDirectory(self)
        let staging = root.appendingPathComponent("staging/identity_fp32")
        let production = root.appendingPathComponent("production")
        let sampleModel = packageRoot.appendingPathComponent("samples/python/identity_fp32")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: sampleModel.appendingPathComponent("config.pbtxt"), to: staging.appendingPathComponent("config.pbtxt"))
        for version in 1...versions {
            try FileManager.default.copyItem(
                at: sampleModel.appendingPathComponent("1"), to: staging.appendingPathComponent(String(version)))
        }
        if precompiled {
            let compiled = try runProcess(
                python, ["-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", staging.path])
            XCTAssertEqual(compiled.status, 0, compiled.stderr)
        }
        try FileManager.default.createDirectory(at: production, withIntermediateDirectories: true)
        let promote = { (version: Int) in
            let outcome = try tritonpack(
                "promote", "identity_fp32", "--from", staging.deletingLastPathComponent().path, "--to", production.path,
                "--model-version", String(version))
            XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        }
        try promote(1)
        let server = try TritonProcess(
            launcher: tritonServerLauncher, repository: production,
            log: root.appendingPathComponent("server.log"), mode: "poll", extraArguments: ["--repository-poll-secs=1"])
        do {
            try server.waitUntilReady()
            try server.waitForModel("identity_fp32")
        } catch {
            server.stop()
            throw error
        }
        return (production, server, promote)
    }
}
