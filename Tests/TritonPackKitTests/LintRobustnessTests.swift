import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// Hostile inputs give diagnostics, never a crash or a hang.
final class LintRobustnessTests: XCTestCase {
    func lintModel(configBytes: [UInt8]) throws -> [Diagnostic] {
        let repository = try temporaryDirectory(self)
        try writeModel("m", files: ["1/model.py": ""], into: repository)
        try Data(configBytes).write(to: repository.appendingPathComponent("m/config.pbtxt"))
        return Linter().lint(path: repository).diagnostics
    }

    func testEmptyConfigIsAcceptedLikeTriton() throws {
        let diagnostics = try lintModel(configBytes: [])
        XCTAssertEqual(diagnostics.filter { $0.severity == .error }, [])
    }

    func testBinaryConfigIsASyntaxError() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let diagnostics = try lintModel(configBytes: [0x00, 0xff, 0xfe] + bytes)
        XCTAssertEqual(diagnostics.first?.rule, "config-syntax")
        XCTAssertNotNil(diagnostics.first?.line)
    }

    func testHugeConfigIsHandled() throws {
        let line = Array("# padding comment line of a huge but valid config file ......\n".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(100 << 20)
        while bytes.count < 100 << 20 { bytes += line }
        bytes += Array("backend: \"python\"\nmax_batch_size: -1\n".utf8)
        let diagnostics = try lintModel(configBytes: bytes)
        XCTAssertEqual(diagnostics.first?.rule, "max-batch-size-negative")
        XCTAssertGreaterThan(diagnostics.first?.line ?? 0, 1_000_000)
    }

    func testDeeplyNestedConfigIsASyntaxError() throws {
        let bytes = Array(String(repeating: "optimization { ", count: 50_000).utf8)
        XCTAssertEqual(try lintModel(configBytes: bytes).first?.rule, "config-syntax")
        let brackets = Array(("input [ " + String(repeating: "[ ", count: 50_000)).utf8)
        XCTAssertEqual(try lintModel(configBytes: brackets).first?.rule, "config-syntax")
    }

    func testSymlinkLoopsFifosAndFoldersInPlaceOfFiles() throws {
        let repository = try temporaryDirectory(self)
        try writeModel("loop", files: ["1/model.py": ""], into: repository)
        let loop = repository.appendingPathComponent("loop")
        try FileManager.default.createSymbolicLink(
            atPath: loop.appendingPathComponent("config.pbtxt").path, withDestinationPath: "config.pbtxt")
        try FileManager.default.createSymbolicLink(atPath: loop.appendingPathComponent("2").path, withDestinationPath: "2")
        try FileManager.default.createSymbolicLink(atPath: loop.appendingPathComponent("up").path, withDestinationPath: "..")
        try writeModel("fifo", files: ["1/model.py": ""], into: repository)
        XCTAssertEqual(mkfifo(repository.appendingPathComponent("fifo/config.pbtxt").path, 0o644), 0)
        try writeModel("folder", files: ["1/model.py": "", "config.pbtxt/x": ""], into: repository)
        try writeModel("unreadable", files: ["1/model.py": "", "config.pbtxt": "backend: \"python\""], into: repository)
        chmod(repository.appendingPathComponent("unreadable/config.pbtxt").path, 0)

        let report = Linter().lint(path: repository)
        for model in ["loop", "fifo", "folder"] {
            let first = report.diagnostics.first { $0.model == model }
            XCTAssertEqual(first?.rule, "config-syntax", "\(model): \(report.diagnostics.map(\.compilerStyle))")
            XCTAssertEqual(first?.file, "\(model)/config.pbtxt")
        }
        XCTAssertEqual(report.models, ["fifo", "folder", "loop", "unreadable"])
    }

    /// A few thousand mutations of real configs through the parser bridge, and some through the whole linter.
    func testMutatedConfigsNeverCrash() throws {
        var seeds: [[UInt8]] = []
        for rule in RuleRegistry.all {
            for example in rule.description.triggering + rule.description.nonTriggering {
                if let config = example.files["config.pbtxt"] { seeds.append(Array(config.utf8)) }
            }
        }
        seeds.append(Array(ConfigGeneratorTests.guideConfig.utf8))
        let tokens = Array("{}[]<>:;,\"'#\\ \n-0123456789.eE_xTYPE_FP32 dims input ".utf8)
        var generator = SystemRandomNumberGenerator()
        var parsed = 0
        for iteration in 0..<3000 {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<Int.random(in: 1...6, using: &generator) where !bytes.isEmpty {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[position] = tokens.randomElement(using: &generator)!
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(tokens.randomElement(using: &generator)!, at: position)
                default: bytes = Array(bytes[..<position])
                }
            }
            if (try? Inference_ModelConfig.parse(bytes: bytes)) != nil { parsed += 1 }
            if iteration % 20 == 0 { _ = try lintModel(configBytes: bytes) }
        }
        XCTAssertGreaterThan(parsed, 0)
    }
}
