import Foundation
import XCTest

@testable import TritonPackKit

/// Triton's own conformance cases (qa/L0_model_config), read from ../shared when present.
final class TritonQATests: XCTestCase {
    let qa = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/triton-qa/L0_model_config")

    /// The case's expected texts, as grep patterns turned into plain text.
    func expectations(in directory: URL) throws -> [String] {
        try POSIXFiles.entries(of: directory.path).filter { $0.hasPrefix("expected") }.map { name in
            let raw = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            return raw.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\\", with: "")
        }.filter { !$0.isEmpty }
    }

    func requireQA() throws {
        guard POSIXFiles.isDirectory(qa.path) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(qa.path) is missing in CI") }
            throw XCTSkip("Triton's QA cases are not beside this checkout (\(qa.path))")
        }
    }

    func testNoAutofillPlatformCasesAreRefusedWithTritonsWording() throws {
        try requireQA()
        let cases = try POSIXFiles.entries(of: qa.appendingPathComponent("noautofill_platform").path)
        let platforms = ["tensorrt_plan": "model.plan", "onnxruntime_onnx": "model.onnx", "pytorch_libtorch": "model.pt"]
        var passed = 0
        var failures: [String] = []
        for name in cases {
            let directory = qa.appendingPathComponent("noautofill_platform/\(name)")
            let expected = try expectations(in: directory)
            let original = try String(contentsOf: directory.appendingPathComponent("config.pbtxt"), encoding: .utf8)
            for (platform, file) in platforms.sorted(by: { $0.key < $1.key }) {
                let config =
                    original.split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("platform:") }
                    .joined(separator: "\n") + "\nplatform: \"\(platform)\"\n"
                let repository = try temporaryDirectory(self)
                try writeModel(name, files: ["config.pbtxt": config, "1/\(file)": ""], into: repository)
                let report = Linter(options: LintOptions(gpus: 1, autoComplete: false)).lint(path: repository)
                let first = report.diagnostics.first { $0.severity == .error }?.message ?? "(no error)"
                if expected.contains(where: { first.contains($0) }) {
                    passed += 1
                } else {
                    failures.append("\(name) [\(platform)]: \(first)\n    expected one of: \(expected)")
                }
            }
        }
        let total = cases.count * platforms.count
        print("triton-qa noautofill_platform: \(passed)/\(total) refused with Triton's wording")
        XCTAssertEqual(passed, total, failures.joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(total, 150)
    }

    func testAutofillEnsembleCommonAndCustomCasesAreRefused() throws {
        try requireQA()
        var passed = 0
        var total = 0
        var failures: [String] = []
        for group in ["ensemble", "common", "custom"] {
            let groupDirectory = qa.appendingPathComponent("autofill_noplatform/\(group)")
            for name in try POSIXFiles.entries(of: groupDirectory.path) {
                total += 1
                let caseDirectory = groupDirectory.appendingPathComponent(name)
                let expected = try expectations(in: caseDirectory)
                let repository = try temporaryDirectory(self)
                let entries = try POSIXFiles.entries(of: caseDirectory.path)
                // A case is one model folder, or a repository of several.
                let models: [(String, URL)] =
                    entries.contains("config.pbtxt") || group != "ensemble"
                    ? [(name, caseDirectory)]
                    : entries.filter { POSIXFiles.isDirectory(caseDirectory.appendingPathComponent($0).path) }
                        .map { ($0, caseDirectory.appendingPathComponent($0)) }
                for (model, source) in models {
                    var files: [String: String] = [:]
                    if let config = try? String(contentsOf: source.appendingPathComponent("config.pbtxt"), encoding: .utf8) {
                        files["config.pbtxt"] = config
                    }
                    if name != "no_version" { files["1/.keep"] = "" }
                    try writeModel(model, files: files, into: repository)
                }
                let report = Linter(options: LintOptions(gpus: 1, autoComplete: true)).lint(path: repository)
                let errors = report.diagnostics.filter { $0.severity == .error }.map(\.message)
                // Triton stops at the first error: lint's first error must be Triton's.
                if let first = errors.first, expected.contains(where: { first.contains($0) }) {
                    passed += 1
                } else {
                    failures.append("\(group)/\(name): \(errors)\n    expected one of: \(expected)")
                }
            }
        }
        print("triton-qa autofill_noplatform ensemble/common/custom: \(passed)/\(total) refused with Triton's wording")
        XCTAssertEqual(passed, total, failures.joined(separator: "\n"))
    }

    /// The ONNX Runtime cases, with fixture models shaped like the ones Triton's script copies in.
    func testONNXRuntimeCasesAreRefusedWithTheBackendsWording() throws {
        try requireQA()
        let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures/onnx")
        let groupDirectory = qa.appendingPathComponent("autofill_noplatform/onnx")
        var passed = 0
        var failures: [String] = []
        let cases = try POSIXFiles.entries(of: groupDirectory.path)
        for name in cases {
            let caseDirectory = groupDirectory.appendingPathComponent(name)
            let expected = try expectations(in: caseDirectory)
            let repository = try temporaryDirectory(self)
            let config = try String(contentsOf: caseDirectory.appendingPathComponent("config.pbtxt"), encoding: .utf8)
            try writeModel(name, files: ["config.pbtxt": config], into: repository)
            let fixture = name == "bad_max_batch_size" ? "int32_int32_int8_nobatch.onnx" : "int32_int32_int8_batch.onnx"
            try FileManager.default.createDirectory(
                at: repository.appendingPathComponent("\(name)/1"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: fixtures.appendingPathComponent(fixture), to: repository.appendingPathComponent("\(name)/1/model.onnx"))
            let report = Linter(options: LintOptions(gpus: 1, autoComplete: true)).lint(path: repository)
            let first = report.diagnostics.first { $0.severity == .error }?.message ?? "(no error)"
            if expected.contains(where: { first.contains($0) }) {
                passed += 1
            } else {
                failures.append("onnx/\(name): \(first)\n    expected one of: \(expected)")
            }
        }
        print("triton-qa autofill_noplatform onnx: \(passed)/\(cases.count) refused with the backend's wording")
        XCTAssertEqual(passed, cases.count, failures.joined(separator: "\n"))
    }
}
