import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// Debian's libonnx-testdata (1,072 real models): each is packed or refused with a reason, and the
/// packed configs match the graphs as the `onnx` Python package reads them.
final class ONNXCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data")

    func testEveryTestdataModelIsPackedOrRefusedWithAReason() throws {
        guard POSIXFiles.isDirectory(Self.corpus.path) else {
            XCTFail("libonnx-testdata is not installed: run `make setup` (make test does)")
            return
        }
        var models: [URL] = []
        let enumerator = FileManager.default.enumerator(atPath: Self.corpus.path)!
        for case let relative as String in enumerator where relative.hasSuffix("/model.onnx") {
            models.append(Self.corpus.appendingPathComponent(relative))
        }
        models.sort { $0.path < $1.path }
        XCTAssertGreaterThanOrEqual(models.count, 1000)

        struct Tensor: Encodable {
            var name: String
            var data_type: String
            var dims: [Int64]
            var reshape: [Int64]?
        }
        struct Line: Encodable {
            var path: String
            var packed: Bool
            var reason: String?
            var max_batch_size: Int32?
            var inputs: [Tensor]?
            var outputs: [Tensor]?
        }
        var lines: [String] = []
        var packed = 0
        var reasons: [String: Int] = [:]
        let encoder = JSONEncoder()
        for model in models {
            let name = model.deletingLastPathComponent().lastPathComponent
            do {
                let packable = try PackableModel.read(at: model, options: ConfigOptions(name: name))
                let config = packable.config
                packed += 1
                XCTAssertEqual(try Inference_ModelConfig.parse(config.pbtxt).message, config, model.path)
                let line = Line(
                    path: model.path, packed: true, max_batch_size: config.maxBatchSize,
                    inputs: config.input.map {
                        Tensor(
                            name: $0.name, data_type: $0.dataType.configName, dims: $0.dims,
                            reshape: $0.hasReshape ? $0.reshape.shape : nil)
                    },
                    outputs: config.output.map {
                        Tensor(
                            name: $0.name, data_type: $0.dataType.configName, dims: $0.dims,
                            reshape: $0.hasReshape ? $0.reshape.shape : nil)
                    })
                lines.append(String(decoding: try encoder.encode(line), as: UTF8.self))
            } catch {
                let reason = String(describing: error)
                XCTAssertFalse(reason.isEmpty, model.path)
                let kind =
                    reason.contains("onnx checker")
                    ? "onnx checker"
                    : reason.contains("not a tensor")
                        ? "non-tensor I/O"
                        : reason.contains("no shape")
                            ? "unknown rank" : reason.contains("cannot serve") ? "element type" : "other"
                reasons[kind, default: 0] += 1
                lines.append(
                    String(decoding: try encoder.encode(Line(path: model.path, packed: false, reason: reason)), as: UTF8.self))
            }
        }
        print(
            "libonnx-testdata: \(models.count) models, \(packed) packed, \(models.count - packed) refused: \(reasons.sorted { $0.key < $1.key })"
        )
        let results = try temporaryDirectory(self).appendingPathComponent("results.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: results, atomically: true, encoding: .utf8)
        let check = try runProcess(
            packageRoot.appendingPathComponent(".venv/bin/python"),
            [packageRoot.appendingPathComponent("scripts/onnx_independent_check.py").path, results.path])
        print(check.stdout.split(separator: "\n").last { !$0.isEmpty } ?? "")
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
    }
}
