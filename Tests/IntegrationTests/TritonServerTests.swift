import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The real tritonserver (from the nvidia-pytriton wheel that `make setup` installs) as the judge
/// of packed repositories.
final class TritonServerTests: XCTestCase {
    let launcher = tritonServerLauncher

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
            [
                "120", launcher.path, "--model-repository", repository.path, "--disable-auto-complete-config",
                "--http-port", "0", "--allow-grpc", "false", "--allow-metrics", "false",
            ])
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

    /// The server and its Python-backend stubs form one process group, and stopping the server
    /// ends the group: nothing of it survives, even a stub whose server was killed outright (what
    /// a scan of /proc used to clean up). Two servers started at once bind different ports, each
    /// chosen by the kernel, and the shared memory of their stubs is removed.
    func testStoppingTheServerEndsItsWholeProcessGroup() async throws {
        let folder = try temporaryDirectory(self)
        let servers = try (0..<2).map { index in
            try TritonServer(
                executable: launcher, repository: packageRoot.appendingPathComponent("samples/python"),
                log: folder.appendingPathComponent("server\(index).log"),
                arguments: [
                    "--model-control-mode=explicit", "--load-model", "identity_fp32", "--log-verbose=0", "--exit-timeout-secs=5",
                ])
        }
        var ports: [Int] = []
        var regions: [String] = []
        for server in servers {
            let port = try await server.waitUntilListening(timeout: 120).http
            ports.append(port)
            try await InferenceClient.withClient(port: port, connections: 1, timeout: 60) { client in
                try await server.waitUntilLive(client: client, timeout: 120)
                let ready = try await client.get("v2/models/identity_fp32/ready")
                XCTAssertEqual(ready.status, 200, server.logText())
            }
            let stubs = processes(inGroup: server.pid).filter { $0.contains("triton_python_backend_stub") }
            XCTAssertEqual(stubs.count, 1, "the stub runs in the server's group: \(processes(inGroup: server.pid))")
            regions += stubs.flatMap { $0.split(separator: " ") }.filter { $0.hasPrefix("triton_python_backend_shm") }.map(
                String.init)
        }
        XCTAssertNotEqual(ports[0], ports[1])
        XCTAssertFalse(regions.isEmpty)

        kill(servers[1].pid, SIGKILL)
        for server in servers {
            await server.stop()
            XCTAssertFalse(server.isRunning)
            let deadline = Date().addingTimeInterval(5)
            while !processes(inGroup: server.pid).isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            XCTAssertEqual(processes(inGroup: server.pid), [], "a process of the server's group survived")
        }
        for region in regions {
            XCTAssertFalse(FileManager.default.fileExists(atPath: "/dev/shm/\(region)"), region)
        }
    }

    /// Command lines of the live (not zombie) processes in process group `group`.
    func processes(inGroup group: pid_t) -> [String] {
        ((try? POSIXFiles.entries(of: "/proc")) ?? []).compactMap { entry in
            guard Int32(entry) != nil, let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 2,
                fields[0] != "Z", Int32(fields[2]) == group
            else { return nil }
            let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") ?? Data()
            return command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
        }
    }
}
