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
        try lintRepository(configBytes: configBytes).diagnostics
    }

    /// A repository of one Python model `m` with this config, and what lint says of it.
    func lintRepository(configBytes: [UInt8]) throws -> (repository: URL, diagnostics: [Diagnostic]) {
        let repository = try temporaryDirectory(self)
        try writeModel("m", files: ["1/model.py": ""], into: repository)
        try Data(configBytes).write(to: repository.appendingPathComponent("m/config.pbtxt"))
        return (repository, Linter().lint(path: repository).diagnostics)
    }

    func testEmptyConfigIsAcceptedLikeTriton() throws {
        let diagnostics = try lintModel(configBytes: [])
        XCTAssertEqual(diagnostics.filter { $0.severity == .error }, [])
    }

    func testBinaryConfigIsASyntaxError() throws {
        var generator = fuzzGenerator(self, defaultSeed: 4096)
        let bytes = [0x00, 0xff, 0xfe] + (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let diagnostics = try lintModel(configBytes: bytes)
        XCTAssertEqual(diagnostics.first?.rule, "config-syntax")
        let line = try XCTUnwrap(diagnostics.first?.line)
        let column = try XCTUnwrap(diagnostics.first?.column)
        XCTAssertTrue(position(SourcePosition(line: line, column: column), isInside: bytes), "\(line):\(column)")
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

    /// A few thousand seeded mutations of real configs through the parser bridge, and some through
    /// the whole linter: each parses to a message that prints back and re-parses to itself, or is
    /// refused at a position inside its text; lint reports that refusal where the parser did, and
    /// every position it reports lies inside the file it names.
    func testMutatedConfigsRoundTripOrAreRefusedInsideTheText() throws {
        var seeds: [[UInt8]] = []
        for rule in RuleRegistry.all {
            for example in rule.description.triggering + rule.description.nonTriggering {
                if let config = example.files["config.pbtxt"] { seeds.append(Array(config.utf8)) }
            }
        }
        seeds.append(Array(ConfigGeneratorTests.guideConfig.utf8))
        let tokens = Array("{}[]<>:;,\"'#\\ \n\t-0123456789.eE_xTYPE_FP32 dims input ".utf8)
        var generator = fuzzGenerator(self, defaultSeed: 26)
        var parsed = 0
        var refused = 0
        var linted = 0
        for iteration in 0..<3000 {
            let bytes = mutated(seeds[iteration % seeds.count], tokens: tokens, using: &generator)
            let refusal = assertParsesAndRoundTripsOrIsRefusedInside(bytes)
            if refusal == nil { parsed += 1 } else { refused += 1 }
            guard iteration % 20 == 0 else { continue }
            linted += 1
            let (repository, diagnostics) = try lintRepository(configBytes: bytes)
            for diagnostic in diagnostics {
                guard let line = diagnostic.line else { continue }
                let file = try XCTUnwrap(diagnostic.file, "\(diagnostic.compilerStyle)")
                let text = try file == "m/config.pbtxt" ? bytes : Array(Data(contentsOf: repository.appendingPathComponent(file)))
                XCTAssertTrue(
                    position(SourcePosition(line: line, column: diagnostic.column ?? 1), isInside: text),
                    "\(diagnostic.compilerStyle) of \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            }
            let syntax = diagnostics.filter { $0.rule == "config-syntax" }.map {
                SourcePosition(line: $0.line ?? 0, column: $0.column ?? 0)
            }
            if let refusal {
                XCTAssertEqual(syntax, [refusal.position])
            } else {
                let document = try Inference_ModelConfig.parse(bytes: bytes)
                let newer = Triton251Proto.unknownField(in: document, text: bytes)
                XCTAssertEqual(syntax, newer.map { [$0.position] } ?? [])
            }
        }
        print("\(parsed) parsed, \(refused) refused, \(linted) linted")
        XCTAssertGreaterThan(parsed, 100)
        XCTAssertGreaterThan(refused, 100)
    }
}
