import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The demo.zip that `make demo` writes (scripts/make-demo.sh), unzipped in a fresh folder and run:
/// run.sh serves the guide's style-transfer model with the project's tritonserver and OneFlow's
/// own runtime, the bundled client styles a real photo, the web page does the same in headless
/// Chromium, and SIGTERM leaves nothing behind. A bundle of a `--runtime oneflow-python`
/// repository runs the same way with the plain tritonserver and the environment its model carries.
final class OneFlowDemoTests: XCTestCase {
    let python = packageRoot.appendingPathComponent(".venv/bin/python")
    let photo = packageRoot.appendingPathComponent("samples/images/chelsea.jpg")

    func requireOneFlow() throws -> OneFlowPython { try requireOneFlowPython() }

    /// The model's output for the photo computed directly with OneFlow's runtime, no server:
    /// the photo as RGB CHW float32 in 0..255, as client/infer.py sends it.
    func golden(_ oneflow: OneFlowPython, graph: URL, into folder: URL) throws -> URL {
        let runner = packageRoot.appendingPathComponent("runtime/oneflow/oneflow_runner.py").path
        let described = try runProcess(oneflow.executable, [runner, "describe"])
        let libraries =
            ((try JSONSerialization.jsonObject(with: Data(described.stdout.utf8)) as? [String: Any])?["library_dirs"]
                as? [String]) ?? []
        let prepare = try runProcess(
            oneflow.executable,
            [
                "-c",
                """
                import numpy as np
                from PIL import Image
                pixels = np.asarray(Image.open("\(photo.path)").convert("RGB"))
                np.save("\(folder.path)/INPUT_0.npy", pixels.transpose(2, 0, 1)[None].astype(np.float32))
                """,
            ])
        XCTAssertEqual(prepare.status, 0, prepare.stderr)
        var environment = ProcessInfo.processInfo.environment
        environment["LD_LIBRARY_PATH"] = (libraries + [environment["LD_LIBRARY_PATH"] ?? ""]).joined(separator: ":")
        let run = try runProcess(
            oneflow.executable, [runner, "run", graph.path, "--inputs", folder.path, "--outputs", folder.path],
            environment: environment)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        return folder.appendingPathComponent("OUTPUT_0.npy")
    }

    func testDemoBundleStylesAPhotoThroughItsClientAndItsWebPage() throws {
        let oneflow = try requireOneFlow()
        let root = try temporaryDirectory(self)
        var environment = ProcessInfo.processInfo.environment
        environment["TRITONPACK"] = tritonpackExecutable.path
        let made = try runProcess(
            packageRoot.appendingPathComponent("scripts/make-demo.sh"), [root.path, "--no-smoke"], environment: environment)
        XCTAssertEqual(made.status, 0, made.stdout + made.stderr)
        // make-demo also packs the model for the Python backend, linted against a 3.10 stub, and bundles it.
        let pythonConfig = root.appendingPathComponent("demo-repository-python/fast_neural_style/config.pbtxt")
        XCTAssertTrue(
            ((try? String(contentsOf: pythonConfig, encoding: .utf8)) ?? "").contains("backend: \"python\""), made.stdout)
        XCTAssertTrue(POSIXFiles.isRegularFile(root.appendingPathComponent("demo-python.zip").path), made.stdout)

        let demo = root.appendingPathComponent("fresh")
        let unzip = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"), ["unzip", "-q", root.appendingPathComponent("demo.zip").path, "-d", demo.path])
        XCTAssertEqual(unzip.status, 0, unzip.stderr)
        // Nothing in the bundle names a folder of the machine that made it.
        let grep = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"), ["grep", "-rlI", "-e", packageRoot.path, "-e", root.path, demo.path])
        XCTAssertEqual(grep.stdout, "", "absolute paths of the packing machine inside the bundle")

        let expected = try golden(
            oneflow, graph: root.appendingPathComponent("demo-repository/fast_neural_style/1/model"), into: root)

        let regionsBefore = Set(((try? POSIXFiles.entries(of: "/dev/shm")) ?? []))
        let (httpPort, grpcPort, metricsPort, webPort) = (freePort(), freePort(), freePort(), freePort())
        let run = try RunningDemo(
            in: demo,
            [
                "--tritonserver", tritonServerLauncher.path,
                "--oneflow-python", oneflow.executable.path,
                "--http-port", "\(httpPort)", "--grpc-port", "\(grpcPort)", "--metrics-port", "\(metricsPort)",
                "--web-port", "\(webPort)", "--python", python.path, "--timeout", "300",
            ],
            log: root.appendingPathComponent("run.log"), test: self)
        XCTAssertTrue(run.waitUntilRunning(seconds: 400), "run.sh did not come up:\n\(run.text)")
        guard run.isRunning else { return }
        XCTAssertTrue(run.text.contains("run.sh: serving with oneflow-python (no oneflow backend in"), run.text)
        if GPUs.names().isEmpty {
            XCTAssertTrue(run.text.contains("fast_neural_style: no GPU on this machine, so it runs on CPU (KIND_CPU)"), run.text)
        }

        // Nothing listens beyond 127.0.0.1 without --host.
        let sockets = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["ss", "-Hltn"])
        for port in [httpPort, grpcPort, metricsPort, webPort] {
            let lines = sockets.stdout.split(separator: "\n").filter { $0.contains(":\(port) ") }
            XCTAssertFalse(lines.isEmpty, "nothing listens on port \(port):\n\(sockets.stdout)")
            for line in lines {
                XCTAssertTrue(line.contains(" 127.0.0.1:\(port) ") || line.contains("[::ffff:127.0.0.1]:\(port) "), String(line))
            }
        }

        // The guide's client: an image in, the styled image (and its tensor) out.
        let work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let styled = work.appendingPathComponent("result.jpg")
        let client = try runProcess(
            python,
            [
                demo.appendingPathComponent("client/infer.py").path, "--url", "127.0.0.1:\(httpPort)", "--image", photo.path,
                "--output", styled.path,
            ])
        XCTAssertEqual(client.status, 0, client.stdout + client.stderr)
        let check = try runProcess(
            python,
            [
                "-c",
                """
                import numpy as np
                from PIL import Image
                image = Image.open("\(styled.path)")
                assert image.size == (256, 256) and image.mode == "RGB", (image.size, image.mode)
                got = np.load("\(work.path)/result.npy")
                want = np.load("\(expected.path)")
                assert got.shape == want.shape == (1, 3, 256, 256), (got.shape, want.shape)
                assert np.allclose(got, want, rtol=1e-4, atol=1e-3), float(np.abs(got - want).max())
                print("checked", float(np.abs(got - want).max()))
                """,
            ])
        XCTAssertTrue(check.stdout.hasPrefix("checked"), check.stdout + check.stderr)

        // The web page in a real browser: upload, wait, look at the pixels it shows.
        try driveWebPage(port: webPort, expected: expected)

        // SIGTERM stops everything run.sh started.
        XCTAssertTrue(run.terminate(seconds: 90), "run.sh did not stop within 90 s")
        XCTAssertEqual(run.exitStatus, 0, run.text)
        XCTAssertTrue(run.text.contains("run.sh: stopped"))
        assertNothingLeftBehind(by: demo, regionsBefore: regionsBefore)
    }

    /// No process of the demo (or of run.sh's temporary folders) still runs, and no Python-backend
    /// shared-memory region made since `regionsBefore` is left unmapped.
    func assertNothingLeftBehind(by demo: URL, regionsBefore: Set<String>, file: StaticString = #filePath, line: UInt = #line) {
        let left = ((try? POSIXFiles.entries(of: "/proc")) ?? []).compactMap { entry -> String? in
            guard Int32(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                return nil
            }
            let command = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            return command.contains(demo.path) || command.contains("tritonpack-demo.") ? command : nil
        }
        XCTAssertEqual(left, [], "processes left behind by run.sh", file: file, line: line)
        // A region left behind is one that no running process maps any more (other servers on this
        // machine may hold regions of their own meanwhile).
        let maps = ((try? POSIXFiles.entries(of: "/proc")) ?? []).filter { Int32($0) != nil }
            .compactMap { try? String(contentsOfFile: "/proc/\($0)/maps", encoding: .utf8) }.joined()
        let regionsLeft = Set(((try? POSIXFiles.entries(of: "/dev/shm")) ?? [])).subtracting(regionsBefore)
            .filter { $0.hasPrefix("triton_python_backend_shm") && !maps.contains($0) }
        XCTAssertEqual(regionsLeft, [], "shared-memory regions left behind", file: file, line: line)
    }

    /// `pack --runtime oneflow-python` bundled and unzipped in a fresh folder: run.sh serves it with the
    /// project's plain tritonserver (no oneflow backend, no OneFlow runtime copy, no --oneflow-python):
    /// the model carries OneFlow's runtime and its Python 3.10 environment, and since the server's own
    /// Python-backend stub embeds the venv's Python, run.sh gives Triton a backend folder of its own
    /// with the wheel's stub for Python 3.10. NVIDIA's client gets the golden answers; SIGTERM removes
    /// that folder and leaves nothing behind.
    func testPythonRuntimeBundleServesWithThePlainTritonserver() throws {
        _ = try requireOneFlow()  // packing the model's environment needs OneFlow's Python
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repository")
        let packed = try tritonpack(
            "pack", sample("tiny_mlp").path, "--repo", repository.path, "--runtime", "oneflow-python", "--instance-group",
            "cpu:1", "--link")
        XCTAssertEqual(packed.status, 0, packed.stdout + packed.stderr)
        let archive = root.appendingPathComponent("demo.zip")
        let bundled = try tritonpack("bundle", repository.path, "--out", archive.path, "--force")
        XCTAssertEqual(bundled.status, 0, bundled.stdout + bundled.stderr)

        let demo = root.appendingPathComponent("fresh")
        let unzip = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["unzip", "-q", archive.path, "-d", demo.path])
        XCTAssertEqual(unzip.status, 0, unzip.stderr)
        let config = try String(
            contentsOf: demo.appendingPathComponent("model_repository/tiny_mlp/config.pbtxt"), encoding: .utf8)
        XCTAssertTrue(config.contains("backend: \"python\""), config)
        XCTAssertTrue(config.contains("$$TRITON_MODEL_DIRECTORY/oneflow-env-py3.10-"), config)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: demo.appendingPathComponent("oneflow_runtime").path),
            "the model folder carries OneFlow's runtime; the bundle needs no copy of its own")

        let regionsBefore = Set(((try? POSIXFiles.entries(of: "/dev/shm")) ?? []))
        let (httpPort, grpcPort, metricsPort) = (freePort(), freePort(), freePort())
        let run = try RunningDemo(
            in: demo,
            [
                "--tritonserver", tritonServerLauncher.path, "--no-web",
                "--http-port", "\(httpPort)", "--grpc-port", "\(grpcPort)", "--metrics-port", "\(metricsPort)",
                "--python", python.path, "--timeout", "150",
            ],
            log: root.appendingPathComponent("run.log"), test: self)
        XCTAssertTrue(run.waitUntilRunning(seconds: 180), "run.sh did not come up:\n\(run.text)")
        guard run.isRunning else { return }
        XCTAssertTrue(run.text.contains("run.sh: serving with local (a local tritonserver: "), run.text)
        XCTAssertTrue(run.text.contains("so Triton gets a backend folder with the stub for Python 3.10 ("), run.text)
        XCTAssertTrue(run.text.contains("/python_backend_stubs/3.10/triton_python_backend_stub)"), run.text)
        XCTAssertFalse(run.text.contains("run.sh: serving with oneflow-python"), "no OneFlow runtime copy:\n\(run.text)")
        let prefix = "run.sh: Triton's backends: "
        let backends = run.text.components(separatedBy: "\n").first { $0.hasPrefix(prefix) }?
            .dropFirst(prefix.count).split(separator: " ").first.map { String($0) }
        XCTAssertNotNil(backends, run.text)

        // NVIDIA's client, every answer compared with the golden outputs.
        let answers = try runProcess(
            python,
            [
                packageRoot.appendingPathComponent("scripts/golden-client.py").path, "127.0.0.1:\(httpPort)", "tiny_mlp",
                packageRoot.appendingPathComponent("samples/oneflow/tiny_mlp/golden").path, "--concurrency", "2",
                "--requests", "8",
            ])
        XCTAssertEqual(answers.status, 0, answers.stdout + answers.stderr)
        let json = (try? JSONSerialization.jsonObject(with: Data(answers.stdout.utf8)) as? [String: Any]) ?? [:]
        XCTAssertEqual(json["requests"] as? Int, 8, answers.stdout)
        XCTAssertEqual(json["failed"] as? Int, 0, answers.stdout)
        XCTAssertEqual(json["mismatched"] as? Int, 0, answers.stdout)

        XCTAssertTrue(run.terminate(seconds: 90), "run.sh did not stop within 90 s")
        XCTAssertEqual(run.exitStatus, 0, run.text)
        XCTAssertTrue(run.text.contains("run.sh: stopped"))
        if let backends {
            XCTAssertFalse(FileManager.default.fileExists(atPath: backends), "run.sh left \(backends) behind")
        }
        assertNothingLeftBehind(by: demo, regionsBefore: regionsBefore)
    }

    func driveWebPage(port: Int, expected: URL) throws {
        let selenium = try runProcess(python, ["-c", "import selenium"]).status == 0
        let ready =
            selenium && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        if !ready {
            XCTAssertNil(ProcessInfo.processInfo.environment["CI"], "make setup installs chromium, chromium-driver and selenium")
            return
        }
        let artifacts = packageRoot.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts.appendingPathComponent("demo-web-page.png")
        try? FileManager.default.removeItem(at: screenshot)
        let browser = try runProcess(
            python,
            [
                packageRoot.appendingPathComponent("Tests/Fixtures/browser/upload_photo.py").path,
                "http://127.0.0.1:\(port)/", photo.path, expected.path, screenshot.path,
            ])
        XCTAssertEqual(browser.status, 0, browser.stdout + browser.stderr)
        XCTAssertTrue(browser.stdout.contains("\"size\": [256, 256]"), browser.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot.path), "no screenshot at \(screenshot.path)")
    }
}
