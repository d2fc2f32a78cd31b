import Foundation
@_exported import TestSupport
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// A writable copy of a sample graph (the shared samples are read-only).
func copyOfSample(_ name: String, into directory: URL) throws -> URL {
    let target = directory.appendingPathComponent("\(name)-graph")
    try FileManager.default.copyItem(at: sample(name), to: target)
    try makeWritable(target)
    return target
}

/// signature.json of a sample: [[shape, "oneflow.float32"], ...] for inputs and outputs.
struct SampleSignature: Decodable {
    var inputs: [[JSONValue]]
    var outputs: [[JSONValue]]

    enum JSONValue: Decodable {
        case shape([Int64])
        case type(String)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let shape = try? container.decode([Int64].self) {
                self = .shape(shape)
            } else {
                self = .type(try container.decode(String.self))
            }
        }
    }

    static func load(_ name: String) throws -> SampleSignature {
        let url = packageRoot.appendingPathComponent("samples/oneflow/\(name)/signature.json")
        return try JSONDecoder().decode(SampleSignature.self, from: Data(contentsOf: url))
    }

    /// As (shape, Triton type) pairs.
    static func tensors(_ list: [[JSONValue]]) -> [([Int64], Inference_DataType)] {
        let types: [String: Inference_DataType] = [
            "oneflow.float32": .typeFp32, "oneflow.float64": .typeFp64, "oneflow.int64": .typeInt64,
            "oneflow.int32": .typeInt32, "oneflow.int8": .typeInt8, "oneflow.uint8": .typeUint8,
            "oneflow.float16": .typeFp16,
        ]
        return list.map { pair in
            guard case .shape(let shape) = pair[0], case .type(let type) = pair[1] else { fatalError("bad signature.json") }
            return (shape, types[type] ?? .typeInvalid)
        }
    }
}
