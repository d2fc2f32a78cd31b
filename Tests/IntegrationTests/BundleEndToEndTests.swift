import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// `tritonpack bundle` end to end: the archive is unzipped in a fresh folder, its run.sh starts the
/// real tritonserver (nvidia-pytriton) and the web app, the bundled client and the web app get
/// the right answers, and Ctrl-C's signal stops everything.
final class BundleEndToEndTests: XCTestCase {
    let python = packageRoot.appendingPathComponent(".venv/bin/python")

    func testBundledDemoRunsWithTheLocalTritonAndAnswersThroughItsClientAndWebApp() throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repository")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("samples/python"), to: repository)
        let archive = root.appendingPathComponent("demo.zip")
        let bundled = try tritonpack("bundle", repository.path, "--out", archive.path, "--format", "json")
        XCTAssertEqual(bundled.status, 0, bundled.stderr)
        XCTAssertTrue(bundled.stdout.contains("\"ok\" : true"), bundled.stdout)

        let again = root.appendingPathComponent("again.zip")
        XCTAssertEqual(try tritonpack("bundle", repository.path, "--out", again.path).status, 0)
        XCTAssertEqual(sha256(of: archive), sha256(of: again), "bundling twice gives the same bytes")
        XCTAssertEqual(try unzipTest(archive).status, 0)
        XCTAssertNil(try ZipListing.read(archive).firstBadEntry)

        let demo = root.appendingPathComponent("fresh")
        let unzip = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["unzip", "-q", archive.path, "-d", demo.path])
        XCTAssertEqual(unzip.status, 0, unzip.stderr)

        let (httpPort, grpcPort, metricsPort, webPort) = (freePort(), freePort(), freePort(), freePort())
        let run = try RunningDemo(
            in: demo,
            [
                "--tritonserver", tritonServerLauncher.path,
                "--http-port", "\(httpPort)", "--grpc-port", "\(grpcPort)", "--metrics-port", "\(metricsPort)",
                "--web-port", "\(webPort)", "--python", python.path, "--timeout", "120",
            ],
            log: root.appendingPathComponent("run.log"), test: self)
        XCTAssertTrue(run.waitUntilRunning(seconds: 150), "run.sh did not come up:\n\(run.text)")
        guard run.isRunning else { return }

        // The bundled client, with a .npy input.
        let work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let prepare = try runProcess(
            python,
            [
                "-c",
                """
                import numpy as np
                from PIL import Image
                np.save("\(work.path)/input.npy", np.array([1.5, -2.0, 3.25, 1e6], dtype=np.float32))
                pixels = np.stack([np.arange(32 * 32).reshape(32, 32) % 256, np.full((32, 32), 40), np.full((32, 32), 200)], axis=-1)
                Image.fromarray(pixels.astype(np.uint8), mode="RGB").save("\(work.path)/picture.png")
                """,
            ])
        XCTAssertEqual(prepare.status, 0, prepare.stderr)
        let client = demo.appendingPathComponent("client/infer.py").path
        let url = "127.0.0.1:\(httpPort)"
        let identity = try runProcess(
            python,
            [
                client, "--url", url, "--model", "identity_fp32", "--input", "INPUT0=\(work.path)/input.npy", "--out",
                "\(work.path)/identity",
            ])
        XCTAssertEqual(identity.status, 0, identity.stderr)
        // The same request over gRPC (tritonclient.grpc), at the gRPC address run.sh prints.
        XCTAssertTrue(run.text.contains("run.sh:   HTTP: http://127.0.0.1:\(httpPort)"), run.text)
        XCTAssertTrue(run.text.contains("run.sh:   gRPC: 127.0.0.1:\(grpcPort)"), run.text)
        let overGRPC = try runProcess(
            python,
            [
                client, "--protocol", "grpc", "--url", "127.0.0.1:\(grpcPort)", "--model", "identity_fp32", "--input",
                "INPUT0=\(work.path)/input.npy", "--out", "\(work.path)/grpc",
            ])
        XCTAssertEqual(overGRPC.status, 0, overGRPC.stderr)
        // The image path: a PNG goes in as CHW float32, the negative comes back as a PNG.
        let invert = try runProcess(
            python, [client, "--url", url, "--model", "invert_image", "\(work.path)/picture.png", "--out", "\(work.path)/invert"])
        XCTAssertEqual(invert.status, 0, invert.stderr)
        XCTAssertEqual(invert.stdout, "\(work.path)/invert/OUTPUT_0.npy\n\(work.path)/invert/OUTPUT_0.png\n")
        let check = try runProcess(
            python,
            [
                "-c",
                """
                import numpy as np
                from PIL import Image
                out = np.load("\(work.path)/identity/OUTPUT0.npy")
                assert out.dtype == np.float32 and out.shape == (1, 4), (out.dtype, out.shape)
                assert np.array_equal(out[0], np.load("\(work.path)/input.npy")), out
                assert np.array_equal(np.load("\(work.path)/grpc/OUTPUT0.npy"), out), "gRPC answered otherwise"
                picture = np.asarray(Image.open("\(work.path)/picture.png"))
                negative = np.asarray(Image.open("\(work.path)/invert/OUTPUT_0.png"))
                assert np.array_equal(negative, 255 - picture), "the returned image is not the negative"
                print("checked")
                """,
            ])
        XCTAssertEqual(check.stdout, "checked\n", check.stderr)

        // A missing input is a clear usage error, not a stack trace.
        let missing = try runProcess(python, [client, "--url", url, "--model", "identity_fp32"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr, "infer.py: input INPUT0 needs a .npy file (--input INPUT0=FILE) or --random\n")

        // A Python without the demo's packages is told to install requirements.txt.
        let bare = try runProcess(URL(fileURLWithPath: "/usr/bin/python3"), ["-S", client, "--url", url, "--random"])
        XCTAssertNotEqual(bare.status, 0)
        XCTAssertTrue(
            bare.stderr.contains(
                "is missing; install what the demo needs with: python3 -m pip install -r \(demo.path)/requirements.txt"),
            bare.stderr)

        // The web app: upload, infer, answer.
        let web = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "curl", "-sS", "-F", "model=identity_fp32", "-F", "INPUT0=@\(work.path)/input.npy",
                "http://127.0.0.1:\(webPort)/infer?format=json",
            ])
        XCTAssertEqual(web.status, 0, web.stderr)
        struct WebAnswer: Decodable {
            struct Output: Decodable {
                var datatype: String
                var shape: [Int]
                var data: [[Float]]
            }
            var model: String
            var outputs: [String: Output]
        }
        let answer = try JSONDecoder().decode(WebAnswer.self, from: Data(web.stdout.utf8))
        XCTAssertEqual(answer.outputs["OUTPUT0"]?.data, [[1.5, -2.0, 3.25, 1e6]])
        let page = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["curl", "-sS", "http://127.0.0.1:\(webPort)/"])
        XCTAssertTrue(page.stdout.contains("name='INPUT_0' accept='image/*'"), page.stdout)

        // Ctrl-C's signal stops the web app and Triton; run.sh waits for both and exits cleanly.
        XCTAssertTrue(run.terminate(seconds: 60), "run.sh did not stop within 60 s")
        XCTAssertEqual(run.exitStatus, 0, run.text)
        XCTAssertTrue(run.text.contains("run.sh: stopped"))
        for port in [httpPort, webPort] {
            let probe = try runProcess(
                URL(fileURLWithPath: "/usr/bin/env"), ["curl", "-s", "-m", "2", "http://127.0.0.1:\(port)/"])
            XCTAssertNotEqual(probe.status, 0, "port \(port) still answers after run.sh stopped")
        }
    }

    func testBundleCommandExitCodes() throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repository")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("samples/python"), to: repository)
        let archive = root.appendingPathComponent("demo.zip")
        try Data("someone's file".utf8).write(to: archive)

        let kept = try tritonpack("bundle", repository.path, "--out", archive.path, "--format", "json")
        XCTAssertEqual(kept.status, 1)
        XCTAssertTrue(kept.stdout.contains("exists; pass --force to replace it"), kept.stdout)
        XCTAssertEqual(try String(contentsOf: archive, encoding: .utf8), "someone's file")

        let badEpoch = try runProcess(
            tritonpackExecutable, ["bundle", repository.path, "--out", archive.path, "--force"],
            environment: ProcessInfo.processInfo.environment.merging(["SOURCE_DATE_EPOCH": "yesterday"]) { $1 })
        XCTAssertEqual(badEpoch.status, 2, badEpoch.stderr)

        let epoch = try runProcess(
            tritonpackExecutable, ["bundle", repository.path, "--out", archive.path, "--force"],
            environment: ProcessInfo.processInfo.environment.merging(["SOURCE_DATE_EPOCH": "1700000000"]) { $1 })
        XCTAssertEqual(epoch.status, 0, epoch.stderr)
        XCTAssertEqual(try ZipListing.read(archive).entries.first?.dateTime, [2023, 11, 14, 22, 13, 20])

        let noVersions = try tritonpack("bundle", repository.path, "--out", archive.path, "--force", "--versions", "newest")
        XCTAssertEqual(noVersions.status, 2)
        let missingRepository = try tritonpack(
            "bundle", root.appendingPathComponent("nowhere").path, "--out", archive.path, "--force")
        XCTAssertEqual(missingRepository.status, 1)
        XCTAssertTrue(missingRepository.stderr.contains("nowhere: the repository does not exist"), missingRepository.stderr)
    }
}
