import COnnxBridge
import Foundation

/// An ONNX model as libonnx reads it: checked, shape-inferred, and described by its interface.
public struct ONNXModel: Sendable {
    public struct Value: Decodable, Equatable, Sendable {
        public var name: String
        /// `tensor`, `sequence`, `map`, `optional`, `sparse_tensor` or `unknown`.
        public var kind: String
        /// onnx.TensorProto.DataType
        public var elemType: Int
        /// nil for an unknown rank; -1 for a symbolic or unknown dimension.
        public var dims: [Int64]?

        enum CodingKeys: String, CodingKey { case name, kind, elemType = "elem_type", dims }
    }

    struct Description: Decodable {
        var irVersion: Int?
        var opsets: [Opset]?
        var inputs: [Value]?
        var outputs: [Value]?
        var initializers: [String]?
        var externalData: [String]?
        var checkError: String?
        var inferenceError: String?
        var loadError: String?
        var checkerSkipped: String?

        enum CodingKeys: String, CodingKey {
            case irVersion = "ir_version", opsets, inputs, outputs, initializers
            case externalData = "external_data", checkError = "check_error"
            case inferenceError = "inference_error", loadError = "load_error", checkerSkipped = "checker_skipped"
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
                if value.kind != "tensor" {
                    found.append(
                        "\(role) '\(value.name)' is a \(value.kind), not a tensor (Triton: Unsupported ONNX Type '\(value.kind)' for I/O '\(value.name)', expected 'ONNX_TYPE_TENSOR')")
                } else if ONNXModel.tritonType(value.elemType) == nil {
                    found.append(
                        "\(role) '\(value.name)' has ONNX element type \(ONNXModel.typeName(value.elemType)), which Triton cannot serve (no Triton data type; the ONNX Runtime backend reads it as TYPE_INVALID)")
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
                TensorSpec(name: $0.name, dataType: ONNXModel.tritonType($0.elemType) ?? .typeInvalid, shape: $0.dims ?? [])
            }
        }
        return Signature(inputs: specs(inputs), outputs: specs(outputs))
    }

    /// ONNX element type -> Triton type, as the ONNX Runtime backend maps them.
    public static func tritonType(_ elemType: Int) -> Inference_DataType? {
        switch elemType {
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

    /// TRITONSERVER_DataTypeString of the model's type, as the backend's messages print it.
    public static func serverTypeName(_ elemType: Int) -> String {
        guard let type = tritonType(elemType) else { return "INVALID" }
        return type == .typeString ? "BYTES" : String(type.configName.dropFirst("TYPE_".count))
    }

    /// ONNX's name of an element type, as its API prints it (FLOAT, INT32, ...).
    public static func typeName(_ elemType: Int) -> String {
        let names = [
            0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
            8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
            15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
            20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4",
        ]
        return names[elemType] ?? "TYPE_\(elemType)"
    }

    /// ONNX Runtime auto-complete's test: every input and output has rank >= 1 and a dynamic first dimension.
    public var supportsBatching: Bool {
        (inputs + outputs).allSatisfy { ($0.dims?.first ?? 0) == -1 }
    }
}
