import COnnxBridge
import Foundation

/// An ONNX model as libonnx reads it: checked, shape-inferred, and described by its interface.
public struct ONNXModel: Sendable {
    /// What an input or output holds, as onnx.TypeProto's `value` case names it.
    public enum ValueKind: String, Decodable, Equatable, Sendable {
        case tensor, sequence, map, optional
        case sparseTensor = "sparse_tensor"
        case unknown
    }

    public struct Value: Decodable, Equatable, Sendable {
        public var name: String
        public var kind: ValueKind
        public var elementType: ONNXElementType
        /// nil for an unknown rank; -1 for a symbolic or unknown dimension.
        public var dims: [Int64]?

        package enum CodingKeys: String, CodingKey {
            case name, kind
            case elementType = "elem_type"
            case dims
        }
    }

    package struct Description: Decodable {
        package var irVersion: Int?
        package var opsets: [Opset]?
        package var inputs: [Value]?
        package var outputs: [Value]?
        package var initializers: [String]?
        package var externalData: [String]?
        package var checkError: String?
        package var inferenceError: String?
        package var loadError: String?
        package var checkerSkipped: String?

        package enum CodingKeys: String, CodingKey {
            case irVersion = "ir_version"
            case opsets, inputs, outputs, initializers
            case externalData = "external_data"
            case checkError = "check_error"
            case inferenceError = "inference_error"
            case loadError = "load_error"
            case checkerSkipped = "checker_skipped"
        }
    }

    public struct Opset: Decodable, Equatable, Sendable {
        public var domain: String
        public var version: Int
    }

    public var path: URL
    public var irVersion: Int
    public var opsets: [Opset]
    /// Graph inputs that are not initializers, in graph order.
    public var inputs: [Value]
    /// Graph inputs that are also initializers: ONNX Runtime accepts them as optional inputs.
    public var overridableInitializers: [Value]
    public var outputs: [Value]
    /// External data files, relative to the model's folder.
    public var externalData: [String]
    /// onnx::checker::check_model's reason, when it refused the model.
    public var checkError: String?
    /// Why libonnx's checker and shape inference were not run (a newer IR version or opset than
    /// libonnx knows); the inputs and outputs are then the graph's declared ones.
    public var checkerSkipped: String?

    /// The note every command prints when the checker and shape inference were skipped.
    public var checkerNote: String? {
        checkerSkipped.map {
            "\(path.lastPathComponent): onnx checker and shape inference skipped: \($0); the inputs and outputs are the graph's declared ones (ONNX Runtime in Triton 24.10 loads IR 10, opset 21)"
        }
    }

    public static func read(at url: URL) throws -> ONNXModel {
        guard POSIXFiles.isRegularFile(url.path) else {
            throw TritonPackError.refused(url.path, POSIXFiles.exists(url.path) ? "not a file" : "no such file")
        }
        guard let raw = tp_onnx_describe(url.path) else { throw TritonPackError.io(url.path, "cannot describe") }
        defer { tp_onnx_free(raw) }
        let description = try JSONDecoder().decode(Description.self, from: Data(String(cString: raw).utf8))
        if let error = description.loadError { throw TritonPackError.refused(url.path, error) }
        let initializers = Set(description.initializers ?? [])
        let graphInputs = description.inputs ?? []
        return ONNXModel(
            path: url, irVersion: description.irVersion ?? 0, opsets: description.opsets ?? [],
            inputs: graphInputs.filter { !initializers.contains($0.name) },
            overridableInitializers: graphInputs.filter { initializers.contains($0.name) },
            outputs: description.outputs ?? [], externalData: description.externalData ?? [],
            checkError: (description.checkError ?? "").isEmpty ? nil : description.checkError,
            checkerSkipped: (description.checkerSkipped ?? "").isEmpty ? nil : description.checkerSkipped)
    }

    /// Why Triton's ONNX Runtime backend cannot serve this model through tritonpack, if it cannot.
    public var problems: [String] {
        var found: [String] = []
        if let checkError { found.append("onnx checker: \(checkError)") }
        for (role, values) in [("input", inputs), ("output", outputs)] {
            for value in values {
                if value.kind != .tensor {
                    found.append(
                        "\(role) '\(value.name)' is a \(value.kind.rawValue), not a tensor (Triton: Unsupported ONNX Type '\(value.kind.rawValue)' for I/O '\(value.name)', expected 'ONNX_TYPE_TENSOR')"
                    )
                } else if value.elementType.tritonType == nil {
                    found.append(
                        "\(role) '\(value.name)' has ONNX element type \(value.elementType.name), which Triton cannot serve (no Triton data type; the ONNX Runtime backend reads it as TYPE_INVALID)"
                    )
                } else if value.dims == nil {
                    found.append("\(role) '\(value.name)' has no shape (unknown rank); Triton needs dims")
                }
            }
        }
        if outputs.isEmpty { found.append("the graph has no outputs") }
        for location in externalData where location.hasPrefix("/") || location.split(separator: "/").contains("..") {
            found.append("external data location '\(location)' leaves the model's folder")
        }
        return found
    }

    public var signature: Signature {
        func specs(_ values: [Value]) -> [TensorSpec] {
            values.map {
                TensorSpec(name: $0.name, dataType: $0.elementType.tritonType ?? .typeInvalid, shape: $0.dims ?? [])
            }
        }
        return Signature(inputs: specs(inputs), outputs: specs(outputs))
    }

    /// ONNX Runtime auto-complete's test: every input and output has rank >= 1 and a dynamic first dimension.
    public var supportsBatching: Bool {
        (inputs + outputs).allSatisfy { ($0.dims?.first ?? 0) == -1 }
    }
}

/// onnx.TensorProto.DataType, with ONNX's names and the Triton type the ONNX Runtime backend maps
/// each to (onnxruntime_utils.cc, OnnxDataTypeToModelConfigDataType).
public struct ONNXElementType: RawRepresentable, Decodable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int.self)
    }

    private static let names = [
        0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
        8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
        15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
        20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4",
    ]

    /// ONNX's name, as its API prints it (FLOAT, INT32, ...).
    public var name: String { Self.names[rawValue] ?? "TYPE_\(rawValue)" }
    public var description: String { name }

    /// The Triton type the ONNX Runtime backend maps this to; nil where it has none (it then writes TYPE_INVALID).
    public var tritonType: Inference_DataType? {
        switch rawValue {
        case 1: .typeFp32
        case 2: .typeUint8
        case 3: .typeInt8
        case 4: .typeUint16
        case 5: .typeInt16
        case 6: .typeInt32
        case 7: .typeInt64
        case 8: .typeString
        case 9: .typeBool
        case 10: .typeFp16
        case 11: .typeFp64
        case 12: .typeUint32
        case 13: .typeUint64
        case 16: .typeBf16
        default: nil
        }
    }

    /// TRITONSERVER_DataTypeString of the mapped type, as the backend's messages print it.
    public var serverTypeName: String {
        guard let type = tritonType else { return "INVALID" }
        return type == .typeString ? "BYTES" : String(type.configName.dropFirst("TYPE_".count))
    }
}
