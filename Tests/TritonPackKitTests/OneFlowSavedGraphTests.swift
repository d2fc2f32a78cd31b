import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class OneFlowSavedGraphTests: XCTestCase {
    func testSamplesMatchTheirSignatureJSON() throws {
        for name in ["tiny_mlp", "multi_io", "fast_neural_style"] {
            let graph = try OneFlowSavedGraph.read(at: sample(name))
            XCTAssertEqual(graph.problems, [], name)
            let expected = try SampleSignature.load(name)
            let inputs = SampleSignature.tensors(expected.inputs)
            let outputs = SampleSignature.tensors(expected.outputs)
            XCTAssertEqual(graph.signature.inputs.map(\.shape), inputs.map(\.0), name)
            XCTAssertEqual(graph.signature.inputs.map(\.dataType), inputs.map(\.1), name)
            XCTAssertEqual(graph.signature.outputs.map(\.shape), outputs.map(\.0), name)
            XCTAssertEqual(graph.signature.outputs.map(\.dataType), outputs.map(\.1), name)
            XCTAssertEqual(graph.signature.inputs.map(\.name), (0..<inputs.count).map { "INPUT_\($0)" })
        }
    }

    func testListsEveryFileWithItsSize() throws {
        let graph = try OneFlowSavedGraph.read(at: sample("tiny_mlp"))
        XCTAssertEqual(
            graph.files.map(\.relativePath),
            [
                "m.fc1.bias/meta", "m.fc1.bias/out", "m.fc1.weight/meta", "m.fc1.weight/out", "m.fc2.bias/meta",
                "m.fc2.bias/out", "m.fc2.weight/meta", "m.fc2.weight/out", "model.mlir",
            ])
        XCTAssertEqual(graph.files.first { $0.relativePath == "m.fc1.weight/out" }?.size, 16 * 4 * 4)
        XCTAssertEqual(graph.variables.count, 4)
    }

    func testPositionsComeFromOpNamesNotFileOrder() {
        XCTAssertEqual(OneFlowSavedGraph.position(inOpName: "_G_1_input.0.1_3", role: "input"), [0, 1])
        XCTAssertEqual(OneFlowSavedGraph.position(inOpName: "_G_2_output.0.0_2", role: "output"), [0, 0])
        XCTAssertEqual(OneFlowSavedGraph.position(inOpName: "_G_1_output.0.0.12_4", role: "output"), [0, 0, 12])
        XCTAssertEqual(OneFlowSavedGraph.position(inOpName: "_MyGraph_0-input_2", role: "input"), [2])
        XCTAssertEqual(OneFlowSavedGraph.position(inOpName: "_G_1-output_1", role: "output"), [1])
        XCTAssertNil(OneFlowSavedGraph.position(inOpName: "m.fc.weight", role: "input"))
    }

    /// The trap seen on a real save: return order in the file differs from Python's.
    func testOutputsAreOrderedByPythonPositionWhenTheFileReordersThem() throws {
        let directory = try temporaryDirectory(self)
        let graphDirectory = try copyOfSample("multi_io", into: directory)
        let mlir = graphDirectory.appendingPathComponent("model.mlir")
        var text = try String(contentsOf: mlir, encoding: .utf8)
        // Give OUTPUT_1 an INT64 type and move it before OUTPUT_0 in the file.
        var lines = text.components(separatedBy: "\n")
        let first = lines.firstIndex { $0.contains("_G_1_output.0.0.0_3\"") }!
        let second = lines.firstIndex { $0.contains("_G_1_output.0.0.1_4\"") }!
        let moved = lines.remove(at: second)
        lines.insert(moved, at: first)
        text = lines.joined(separator: "\n")
        try text.write(to: mlir, atomically: true, encoding: .utf8)

        let graph = try OneFlowSavedGraph.read(at: graphDirectory)
        XCTAssertEqual(graph.problems, [])
        XCTAssertEqual(graph.outputs.map(\.opName), ["_G_1_output.0.0.0_3", "_G_1_output.0.0.1_4"])
        XCTAssertEqual(graph.signature.outputs.map(\.shape), [[2, 8], [2, 1]])
    }

    func testScannerReadsAttributesWithNestedBrackets() throws {
        let text = """
            %x = "oneflow.variable"() {data_type = 6 : i32, op_name = "w{,}", parallel = #sbp.parallel<[] -> [[#sbp.B]]>, shape = [2 : si64, 3 : si64]} : () -> tensor<2x3xsi64>
            %y = "oneflow.input"(%arg0) {data_type = 2 : i32, op_name = "_G_0_input.0.0_1", shape = []} : (tensor<f32>) -> tensor<f32>
            """
        let ops = try MLIRScanner.operations(in: text)
        XCTAssertEqual(ops.count, 2)
        XCTAssertEqual(ops[0].opName, "w{,}")
        XCTAssertEqual(ops[0].shape, [2, 3])
        XCTAssertEqual(ops[0].dataTypeCode, 6)
        XCTAssertEqual(ops[1].shape, [])
        XCTAssertEqual(ops[1].line, 2)
    }

    // MARK: corrupt graphs: each problem names the file

    func testMissingModelMLIRIsRefused() throws {
        let directory = try temporaryDirectory(self)
        let graph = try copyOfSample("tiny_mlp", into: directory)
        try FileManager.default.removeItem(at: graph.appendingPathComponent("model.mlir"))
        XCTAssertThrowsError(try OneFlowSavedGraph.read(at: graph)) { error in
            let refusal = error as? TritonPackError
            XCTAssertEqual(refusal?.kind, .refused)
            XCTAssertEqual(refusal?.file, graph.appendingPathComponent("model.mlir").path)
            XCTAssertTrue(refusal?.message.contains("missing") == true)
        }
    }

    func testTruncatedOutIsAProblem() throws {
        let directory = try temporaryDirectory(self)
        let graph = try copyOfSample("tiny_mlp", into: directory)
        let out = graph.appendingPathComponent("m.fc2.weight/out")
        try Data(try Data(contentsOf: out).prefix(100)).write(to: out)
        let problems = try OneFlowSavedGraph.read(at: graph).problems
        XCTAssertEqual(problems.map(\.file), ["m.fc2.weight/out"])
        XCTAssertTrue(problems[0].message.contains("holds 100 bytes but shape 3x16 of kFloat needs 192"), problems[0].message)
    }

    func testMetaDisagreeingWithTheGraphIsAProblem() throws {
        let directory = try temporaryDirectory(self)
        let graph = try copyOfSample("tiny_mlp", into: directory)
        try "shape {\n  dim: 4\n  dim: 16\n}\ndata_type: kDouble\n".write(
            to: graph.appendingPathComponent("m.fc1.weight/meta"), atomically: true, encoding: .utf8)
        let problems = try OneFlowSavedGraph.read(at: graph).problems
        XCTAssertEqual(problems.map(\.file), ["m.fc1.weight/meta", "m.fc1.weight/meta"])
        XCTAssertTrue(problems[0].message.contains("shape [4, 16] disagrees with model.mlir"), problems[0].message)
        XCTAssertTrue(problems[1].message.contains("data_type kDouble disagrees"), problems[1].message)
    }

    func testUnparsableMetaIsAProblemWithItsLine() throws {
        let directory = try temporaryDirectory(self)
        let graph = try copyOfSample("tiny_mlp", into: directory)
        try "shape {\n  dim: 16\n}\ndata_type: kFlot\n".write(
            to: graph.appendingPathComponent("m.fc1.bias/meta"), atomically: true, encoding: .utf8)
        let problems = try OneFlowSavedGraph.read(at: graph).problems
        XCTAssertEqual(problems.count, 1)
        XCTAssertEqual(problems[0].file, "m.fc1.bias/meta")
        XCTAssertEqual(problems[0].line, 5)  // libprotobuf reports an unknown enum at the token after it
        XCTAssertTrue(problems[0].message.contains("Unknown enumeration value of \"kFlot\""), problems[0].message)
    }

    /// BatchNorm's `num_batches_tracked` in a real OneFlow 0.9.0 save: written by flow.save, read
    /// by no variable op. Well-formed, it is kept (so it is packed) and noted.
    func testUnusedWellFormedVariableFolderIsKeptAndNoted() throws {
        let graph = try OneFlowSavedGraph.read(at: sample("batchnorm_cnn"))
        XCTAssertEqual(graph.problems, [])
        XCTAssertFalse(graph.variables.map(\.name).contains("m.bn.num_batches_tracked"))
        XCTAssertEqual(graph.notes.map(\.file), ["m.bn.num_batches_tracked"])
        XCTAssertTrue(graph.files.map(\.relativePath).contains("m.bn.num_batches_tracked/out"))
        XCTAssertTrue(graph.files.map(\.relativePath).contains("m.bn.num_batches_tracked/meta"))
    }

    func testUnusedMalformedVariableFoldersAreProblems() throws {
        let directory = try temporaryDirectory(self)
        let graph = try copyOfSample("batchnorm_cnn", into: directory)
        let unused = graph.appendingPathComponent("m.bn.num_batches_tracked")
        try Data([1, 2, 3]).write(to: unused.appendingPathComponent("out"))
        var read = try OneFlowSavedGraph.read(at: graph)
        XCTAssertEqual(read.problems.map(\.file), ["m.bn.num_batches_tracked/out"])
        XCTAssertTrue(read.problems[0].message.contains("holds 3 bytes but shape  of kInt64 needs 8"), read.problems[0].message)
        XCTAssertEqual(read.notes, [])
        try "data_type: kLong\n".write(to: unused.appendingPathComponent("meta"), atomically: true, encoding: .utf8)
        read = try OneFlowSavedGraph.read(at: graph)
        XCTAssertEqual(read.problems.map(\.file), ["m.bn.num_batches_tracked/meta"])
        try FileManager.default.removeItem(at: unused.appendingPathComponent("meta"))
        read = try OneFlowSavedGraph.read(at: graph)
        XCTAssertEqual(read.problems.map(\.file), ["m.bn.num_batches_tracked"])
        XCTAssertTrue(read.problems[0].message.contains("unknown entry"), read.problems[0].message)
    }

    func testMissingVariableFolderAndUnknownEntriesAreProblems() throws {
        let directory = try temporaryDirectory(self)
        let graph = try copyOfSample("tiny_mlp", into: directory)
        try FileManager.default.removeItem(at: graph.appendingPathComponent("m.fc1.bias"))
        try Data("x".utf8).write(to: graph.appendingPathComponent("notes.txt"))
        try Data("x".utf8).write(to: graph.appendingPathComponent("m.fc2.bias/extra"))
        let problems = try OneFlowSavedGraph.read(at: graph).problems
        XCTAssertEqual(problems.compactMap(\.file).sorted(), ["m.fc1.bias", "m.fc2.bias/extra", "notes.txt"])
    }

    func testTypesTheBackendCannotServeAreProblems() throws {
        let directory = try temporaryDirectory(self)
        let graph = try copyOfSample("tiny_mlp", into: directory)
        let mlir = graph.appendingPathComponent("model.mlir")
        let text = try String(contentsOf: mlir, encoding: .utf8).replacingOccurrences(
            of: "%output = \"oneflow.input\"(%arg0) {data_type = 2 : i32",
            with: "%output = \"oneflow.input\"(%arg0) {data_type = 12 : i32")
        try text.write(to: mlir, atomically: true, encoding: .utf8)
        let problems = try OneFlowSavedGraph.read(at: graph).problems
        XCTAssertEqual(problems.count, 1)
        XCTAssertEqual(problems[0].file, "model.mlir")
        XCTAssertTrue(
            problems[0].message.contains(
                "INPUT_0 ('_G_2_input.0.0_2') has data type kBool (TYPE_BOOL), which the OneFlow backend cannot serve"),
            problems[0].message)
    }

    func testGraphWithoutParametersReads() throws {
        let directory = try temporaryDirectory(self)
        let graph = directory.appendingPathComponent("identity")
        try FileManager.default.createDirectory(at: graph, withIntermediateDirectories: true)
        let mlir = """
            module {
              oneflow.job @G_0(%arg0: tensor<8x5xf64>) -> tensor<8x5xf64> {
                %output = "oneflow.input"(%arg0) {data_type = 3 : i32, op_name = "_G_0_input.0.0_2", shape = [8 : si64, 5 : si64]} : (tensor<8x5xf64>) -> tensor<8x5xf64>
                %0 = "oneflow.relu"(%output) {op_name = "relu"} : (tensor<8x5xf64>) -> tensor<8x5xf64>
                %output_0 = "oneflow.output"(%0) {data_type = 3 : i32, op_name = "_G_0_output.0.0_3", shape = [8 : si64, 5 : si64]} : (tensor<8x5xf64>) -> tensor<8x5xf64>
                oneflow.return %output_0 : tensor<8x5xf64>
              }
            }
            """
        try mlir.write(to: graph.appendingPathComponent("model.mlir"), atomically: true, encoding: .utf8)
        let read = try OneFlowSavedGraph.read(at: graph)
        XCTAssertEqual(read.problems, [])
        XCTAssertEqual(read.variables, [])
        XCTAssertEqual(read.signature.inputs, [TensorSpec(name: "INPUT_0", dataType: .typeFp64, shape: [8, 5])])
    }
}
