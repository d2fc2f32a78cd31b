import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// `pack --pipeline image` served by the project's tritonserver 2.51 as a stock server runs it: a
/// JPEG photo in, a PNG at the photo's size out, compared with the pipeline's steps and the model
/// computed directly (runtime/pipeline and OneFlow's runtime, scripts/pipeline-check.py).
final class ImagePipelineTests: XCTestCase {
    override func setUpWithError() throws { try requireOneFlowPython() }

    var oneflowPython: URL { get throws { try requireOneFlowPython().executable } }
    /// The trained style network (the demo's); the random-weight graph where it is missing.
    var styleSample: String {
        POSIXFiles.isDirectory(sample("style_transfer").path) ? "style_transfer" : "fast_neural_style"
    }

    func packPipeline(_ sample: String, name: String, into repository: URL, _ extra: [String] = []) throws -> [String: Any] {
        let outcome = try runProcess(
            tritonpackExecutable,
            [
                "pack", packageRoot.appendingPathComponent("samples/oneflow/\(sample)/model").path, "--repo", repository.path,
                "--name", name, "--runtime", "oneflow-python", "--instance-group", "cpu:1", "--pipeline", "image", "--link",
                "--no-sync", "--format", "json",
            ] + extra)
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        return (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func assertLintFindsNothing(_ repository: URL, backends: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let lint = try runProcess(
            tritonpackExecutable, ["lint", repository.path, "--backend-directory", backends.path, "--format", "json"])
        XCTAssertEqual(lint.status, 0, lint.stdout + lint.stderr, file: file, line: line)
        let json = (try? JSONSerialization.jsonObject(with: Data(lint.stdout.utf8)) as? [String: Any]) ?? [:]
        XCTAssertEqual(
            json["summary"] as? [String: Int], ["error": 0, "warning": 0, "info": 0], lint.stdout, file: file, line: line)
    }

    func testStylePipelineReturnsThePhotoAtItsSizeAsTheStepsComputedDirectly() throws {
        let work = try temporaryDirectory(self)
        let backends = try stockBackends(in: work)
        let repository = work.appendingPathComponent("repository")
        let json = try packPipeline(styleSample, name: "style", into: repository)
        let pipeline = json["pipeline"] as? [String: Any]
        XCTAssertEqual(pipeline?["ensemble"] as? String, "style_image")
        XCTAssertEqual(pipeline?["version"] as? Int, 1)
        XCTAssertEqual(
            (pipeline?["models"] as? [[String: Any]])?.compactMap { $0["model"] as? String },
            ["style", "style_preprocess", "style_postprocess", "style_image"])
        // The ensemble pins version 1 of each step; the environment is the model's own archive, once.
        let ensemble = try String(contentsOf: repository.appendingPathComponent("style_image/config.pbtxt"), encoding: .utf8)
        XCTAssertEqual(ensemble.components(separatedBy: "model_version: 1").count - 1, 3, ensemble)
        let preprocess = try String(
            contentsOf: repository.appendingPathComponent("style_preprocess/config.pbtxt"), encoding: .utf8)
        XCTAssertTrue(preprocess.contains("$$TRITON_MODEL_DIRECTORY/../style/oneflow-env-"), preprocess)
        XCTAssertFalse(
            try POSIXFiles.entries(of: repository.appendingPathComponent("style_preprocess").path).contains {
                $0.hasSuffix(".tar.gz")
            })
        try assertLintFindsNothing(repository, backends: backends)

        let server = try stockServer(
            repository, backends: backends, log: work.appendingPathComponent("server.log"),
            models: ["style_preprocess", "style", "style_postprocess", "style_image"])
        defer { server.stop() }
        guard let port = server.server.httpPort() else { return XCTFail("no HTTP port") }
        let photo = packageRoot.appendingPathComponent("samples/images/coffee.jpg")
        for format in ["png", "jpeg"] {
            let check = try runProcess(
                try oneflowPython,
                [
                    packageRoot.appendingPathComponent("scripts/pipeline-check.py").path, "127.0.0.1:\(port)", repository.path,
                    "style", photo.path, "--format", format, "--out", work.appendingPathComponent("answers").path,
                ])
            XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
            let report =
                (try? JSONSerialization.jsonObject(with: Data((check.stdout.split(separator: "\n").last ?? "").utf8))
                    as? [String: Any]) ?? [:]
            XCTAssertEqual(report["photo"] as? [Int], [600, 400], check.stdout)
            XCTAssertEqual(report["served"] as? [Int], [600, 400], check.stdout)
            XCTAssertEqual(report["format"] as? String, format.uppercased(), check.stdout)
            // A lossy JPEG of the same pixels differs by more than 2 levels in places: the check is the PNG's.
            if format == "png" {
                XCTAssertGreaterThanOrEqual(report["within_2_levels"] as? Double ?? 0, 0.99, check.stdout)
            }
        }
        // Bytes that are no image answer that request with what is wrong.
        let bad = try runProcess(
            try oneflowPython,
            [
                "-c",
                "import sys; sys.path.insert(0, sys.argv[1]); import triton_image_request as t\ntry:\n    t.infer_image(sys.argv[2], 'style_image', b'GIF89a not a photo')\nexcept t.PipelineRequestError as e:\n    print(e)",
                packageRoot.appendingPathComponent("runtime/pipeline").path, "127.0.0.1:\(port)",
            ])
        XCTAssertTrue(bad.stdout.contains("IMAGE is not a JPEG, PNG or WebP image"), bad.stdout + bad.stderr)
    }

    /// Width and height from a PNG's IHDR chunk.
    func pngSize(_ file: URL) -> [Int]? {
        guard let data = FileManager.default.contents(atPath: file.path), data.count > 24,
            data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        else { return nil }
        func number(_ at: Int) -> Int { data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return [number(16), number(20)]
    }

    /// A fresh unzip of the demo bundle of the style pipeline: run.sh starts the web app with a
    /// Python that has nothing but its standard library (Debian's /usr/bin/python3, no numpy, no
    /// Pillow); the client, the README's curl call and the web page in headless Chromium all get the
    /// photo back styled at its size.
    func testDemoBundleServesThePipelineWithTheStandardLibraryAndItsPageStylesAPhoto() throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repository")
        _ = try packPipeline(styleSample, name: "style_transfer", into: repository)
        let archive = root.appendingPathComponent("demo.zip")
        let bundled = try tritonpack("bundle", repository.path, "--out", archive.path)
        XCTAssertEqual(bundled.status, 0, bundled.stderr)
        let demo = root.appendingPathComponent("fresh")
        let unzip = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["unzip", "-q", archive.path, "-d", demo.path])
        XCTAssertEqual(unzip.status, 0, unzip.stderr)
        let bare = URL(fileURLWithPath: "/usr/bin/python3")
        let numpy = try runProcess(bare, ["-c", "import numpy"])
        XCTAssertNotEqual(numpy.status, 0, "the bare Python must lack numpy for this test to mean anything")

        let (httpPort, grpcPort, metricsPort, webPort) = (freePort(), freePort(), freePort(), freePort())
        let run = try RunningDemo(
            in: demo,
            [
                "--tritonserver", tritonServerLauncher.path,
                "--http-port", "\(httpPort)", "--grpc-port", "\(grpcPort)", "--metrics-port", "\(metricsPort)",
                "--web-port", "\(webPort)", "--python", bare.path, "--timeout", "300",
            ],
            log: root.appendingPathComponent("run.log"), test: self)
        XCTAssertTrue(run.waitUntilRunning(seconds: 400), "run.sh did not come up:\n\(run.text)")
        guard run.isRunning else { return }
        XCTAssertTrue(run.text.contains("run.sh: web app at http://"), run.text)
        let photo = packageRoot.appendingPathComponent("samples/images/coffee.jpg")

        // The client: bytes in, bytes out, the standard library alone.
        let result = root.appendingPathComponent("result.png")
        let client = try runProcess(
            bare,
            [
                demo.appendingPathComponent("client/infer.py").path, "--url", "127.0.0.1:\(httpPort)", "--image", photo.path,
                "--output", result.path,
            ])
        XCTAssertEqual(client.status, 0, client.stdout + client.stderr)
        XCTAssertEqual(pngSize(result), [600, 400])

        // The README's curl call, as written.
        let readme = try String(contentsOf: demo.appendingPathComponent("README.md"), encoding: .utf8)
        let curl = readme.components(separatedBy: "With `curl` alone (Triton's binary tensor extension):\n\n```sh\n")
            .dropFirst().first?.components(separatedBy: "```").first
        XCTAssertNotNil(curl, readme)
        if let curl {
            try FileManager.default.removeItem(at: result)
            let script =
                curl.replacingOccurrences(of: "photo=photo.jpg", with: "photo='\(photo.path)'")
                .replacingOccurrences(of: "127.0.0.1:8000", with: "127.0.0.1:\(httpPort)")
            let shell = try runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", "cd '\(root.path)' && set -e\n" + script])
            XCTAssertEqual(shell.status, 0, shell.stdout + shell.stderr)
            XCTAssertEqual(pngSize(root.appendingPathComponent("result.png")), [600, 400], script)
        }

        // The web page in headless Chromium.
        let python = packageRoot.appendingPathComponent(".venv/bin/python")
        let ready =
            (try runProcess(python, ["-c", "import selenium"])).status == 0
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        if ready {
            let artifacts = packageRoot.appendingPathComponent(".build/test-artifacts")
            try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
            let screenshot = artifacts.appendingPathComponent("pipeline-web-page.png")
            try? FileManager.default.removeItem(at: screenshot)
            let browser = try runProcess(
                python,
                [
                    packageRoot.appendingPathComponent("Tests/Fixtures/browser/upload_pipeline_photo.py").path,
                    "http://127.0.0.1:\(webPort)/", photo.path, screenshot.path,
                ])
            XCTAssertEqual(browser.status, 0, browser.stdout + browser.stderr)
            XCTAssertTrue(browser.stdout.contains("\"size\": [600, 400]"), browser.stdout)
            XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot.path), "no screenshot at \(screenshot.path)")
        } else {
            XCTAssertNil(ProcessInfo.processInfo.environment["CI"], "make setup installs chromium, chromium-driver and selenium")
        }
        XCTAssertTrue(run.terminate(seconds: 90), "run.sh did not stop within 90 s")
    }

    /// A classifier's pipeline (`--labels`): photos of a known colour, in each format the pipeline
    /// takes, answered with the right labels, best first, k from the request.
    func testClassifierPipelineReturnsTheRightTopKLabels() throws {
        let work = try temporaryDirectory(self)
        let backends = try stockBackends(in: work)
        let repository = work.appendingPathComponent("repository")
        let labels = packageRoot.appendingPathComponent("samples/oneflow/colour_classifier/labels.txt")
        let json = try packPipeline(
            "colour_classifier", name: "colours", into: repository, ["--labels", labels.path, "--top-k", "3"])
        XCTAssertEqual((json["pipeline"] as? [String: Any])?["output"] as? String, "LABELS")
        try assertLintFindsNothing(repository, backends: backends)
        let server = try stockServer(
            repository, backends: backends, log: work.appendingPathComponent("server.log"),
            models: ["colours_preprocess", "colours", "colours_postprocess", "colours_image"])
        defer { server.stop() }
        guard let port = server.server.httpPort() else { return XCTFail("no HTTP port") }
        let script = """
            import io, json, sys
            from PIL import Image
            sys.path.insert(0, sys.argv[1])
            import triton_image_request as t
            answers = {}
            for name, colour, kind, k in [("red", (230, 20, 30), "PNG", None), ("green", (10, 200, 40), "JPEG", 1),
                                          ("blue", (20, 30, 220), "WEBP", 2), ("dark", (12, 10, 14), "PNG", 4)]:
                out = io.BytesIO()
                Image.new("RGB", (90, 60), colour).save(out, format=kind)
                answers[name] = t.infer_labels(sys.argv[2], "colours_image", out.getvalue(), k)
            print(json.dumps(answers))
            """
        let outcome = try runProcess(
            try oneflowPython,
            ["-c", script, packageRoot.appendingPathComponent("runtime/pipeline").path, "127.0.0.1:\(port)"])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        let line = outcome.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let answers = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [String]]) ?? [:]
        func names(_ key: String) -> [String] {
            (answers[key] ?? []).map { $0.split(separator: ":").last.map(String.init) ?? "" }
        }
        XCTAssertEqual(names("red").count, 3, line)  // --top-k 3 when the request names none
        XCTAssertEqual(names("red").first, "red", line)
        XCTAssertEqual(names("green"), ["green"], line)
        XCTAssertEqual(names("blue").count, 2, line)
        XCTAssertEqual(names("blue").first, "blue", line)
        XCTAssertEqual(names("dark").count, 4, line)
        XCTAssertEqual(names("dark").first, "dark", line)
        // Scores are best first, and each names its index in labels.txt.
        for (key, values) in answers {
            let scores = values.compactMap { Double($0.split(separator: ":").first ?? "") }
            XCTAssertEqual(scores, scores.sorted(by: >), key)
            XCTAssertTrue(values.allSatisfy { $0.split(separator: ":").count == 3 }, key)
        }
    }

    /// A new pipeline version promoted as a unit into a repository a server polls, with requests
    /// in a loop throughout: every answer equals the old set's or the new set's answer computed
    /// directly (version 2 has another model and another preprocessing scale, so any mix of the
    /// two versions' steps gives a third picture), none fails, and once the new set answers the old
    /// one never does again.
    func testPromotingAPipelineUnderAPollingServerNeverServesAMixedSet() throws {
        let work = try temporaryDirectory(self)
        let backends = try stockBackends(in: work)
        let staging = work.appendingPathComponent("staging")
        let production = work.appendingPathComponent("production")
        _ = try packPipeline(styleSample, name: "style", into: staging)
        _ = try packPipeline("fast_neural_style", name: "style", into: staging, ["--image-scale", "1"])
        let photo = packageRoot.appendingPathComponent("samples/images/coffee.jpg")
        var expected: [String] = []
        for version in 1...2 {
            let file = work.appendingPathComponent("expected-\(version).png")
            let direct = try runProcess(
                try oneflowPython,
                [
                    packageRoot.appendingPathComponent("scripts/pipeline-check.py").path, "-", staging.path, "style", photo.path,
                    "--version", String(version), "--direct-only", file.path,
                ])
            XCTAssertEqual(direct.status, 0, direct.stdout + direct.stderr)
            expected.append(file.path)
        }
        try FileManager.default.createDirectory(at: production, withIntermediateDirectories: true)
        func promote(_ version: Int) throws {
            let outcome = try tritonpack(
                "promote", "style", "--from", staging.path, "--to", production.path, "--model-version", String(version))
            XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        }
        try promote(1)
        try assertLintFindsNothing(production, backends: backends)
        let server = try TritonProcess(
            launcher: tritonServerLauncher, repository: production,
            log: work.appendingPathComponent("server.log"), mode: "poll", autoComplete: true,
            extraArguments: ["--repository-poll-secs=1", "--backend-directory", backends.path])
        defer { server.stop() }
        try server.waitUntilReady(timeout: 600)
        try server.waitForModel("style_image", timeout: 300)
        guard let port = server.server.httpPort() else { return XCTFail("no HTTP port") }

        let stop = work.appendingPathComponent("stop")
        let answers = work.appendingPathComponent("answers.json")
        let loop = try SpawnedProcess(
            try oneflowPython,
            [
                packageRoot.appendingPathComponent("Tests/Fixtures/pipeline_request_loop.py").path, "127.0.0.1:\(port)",
                "style_image", photo.path, stop.path,
            ] + expected, environment: ProcessInfo.processInfo.environment, output: answers,
            errors: URL(fileURLWithPath: "/dev/null"))
        defer { loop.signal(SIGTERM) }
        sleep(15)
        try promote(2)
        let promoted = try String(contentsOf: production.appendingPathComponent("style_image/config.pbtxt"), encoding: .utf8)
        XCTAssertEqual(promoted.components(separatedBy: "model_version: 2").count - 1, 3, promoted)
        let deadline = Date().addingTimeInterval(300)
        // The server logs no version for a loaded model, but names the ensemble's old version it unloads.
        while !server.logText().contains("successfully unloaded 'style_image' version 1") && Date() < deadline { sleep(1) }
        sleep(10)
        FileManager.default.createFile(atPath: stop.path, contents: nil)
        _ = loop.waitBlocking()
        let text = try String(contentsOf: answers, encoding: .utf8)
        let report = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
        let served = report["answers"] as? [String] ?? []
        XCTAssertEqual(report["failures"] as? [String], [], text)
        XCTAssertEqual(report["unmatched"] as? Int, 0, text)
        XCTAssertTrue(served.contains("1") && served.contains("2"), text)
        if let first = served.firstIndex(of: "2") {
            XCTAssertFalse(served[first...].contains("1"), "the old set answered after the new one: \(served)")
        }
        print(
            "polling server: \(served.count) answers, \(served.filter { $0 == "1" }.count) from version 1 then \(served.filter { $0 == "2" }.count) from version 2"
        )
    }

    /// The Python steps' own tests, run without a server in the environment they run in on one.
    func testPipelineStepsPassTheirTestsWithoutAServer() throws {
        let outcome = try runProcess(
            try oneflowPython, [packageRoot.appendingPathComponent("runtime/pipeline/test_image_pipeline.py").path])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("passed"), outcome.stdout)
    }
}
