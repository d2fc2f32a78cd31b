import Foundation
import TritonPackModels

/// KServe v2 inference bodies with Triton's binary tensor data extension: a JSON header, whose
/// length travels in `Inference-Header-Content-Length`, followed by each tensor's raw bytes.
package enum BinaryTensorCodec {
    package static let headerLengthField = "Inference-Header-Content-Length"

    /// One inference request: every input in binary form, every output requested in binary form.
    package struct Request: Sendable, Equatable {
        package var path: String
        package var headerLength: Int
        package var body: Data
    }

    package static func path(model: String, version: Int64?) -> String {
        version.map { "v2/models/\(model)/versions/\($0)/infer" } ?? "v2/models/\(model)/infer"
    }

    package static func encode(model: String, version: Int64?, inputs: [(String, TensorData)], outputs: [String]) throws
        -> Request
    {
        var header: [String: Any] = [:]
        header["inputs"] = inputs.map { name, tensor in
            [
                "name": name, "shape": tensor.shape, "datatype": TensorData.wireName(tensor.dataType),
                "parameters": ["binary_data_size": tensor.bytes.count],
            ] as [String: Any]
        }
        header["outputs"] = outputs.map { ["name": $0, "parameters": ["binary_data": true]] as [String: Any] }
        let json = try JSONSerialization.data(withJSONObject: header)
        var body = json
        for (_, tensor) in inputs { body.append(tensor.bytes) }
        return Request(path: path(model: model, version: version), headerLength: json.count, body: body)
    }

    /// The outputs of a response body; `headerLength` is its `Inference-Header-Content-Length`
    /// (nil: the whole body is JSON).
    package static func decode(_ data: Data, headerLength: Int?) throws -> [String: TensorData] {
        let length = headerLength ?? data.count
        guard length <= data.count,
            let object = try? JSONSerialization.jsonObject(with: data.prefix(length)) as? [String: Any],
            let outputs = object["outputs"] as? [[String: Any]]
        else { throw TritonPackError.io(nil, "unreadable inference response") }
        var offset = data.startIndex + length
        var result: [String: TensorData] = [:]
        for output in outputs {
            guard let name = output["name"] as? String, let datatype = output["datatype"] as? String,
                let shape = (output["shape"] as? [NSNumber])?.map({ $0.int64Value })
            else { continue }
            let type = TensorData.type(wireName: datatype) ?? .typeInvalid
            if let parameters = output["parameters"] as? [String: Any],
                let size = (parameters["binary_data_size"] as? NSNumber)?.intValue
            {
                guard offset + size <= data.endIndex else { throw TritonPackError.io(nil, "truncated binary output \(name)") }
                result[name] = TensorData(dataType: type, shape: shape, bytes: data[offset..<offset + size])
                offset += size
            } else if let values = output["data"] as? [Any] {
                result[name] = jsonTensor(values, type: type, shape: shape)
            }
        }
        return result
    }

    /// The `error` field of a JSON error body, or the body itself.
    package static func errorMessage(_ data: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let error = object["error"] as? String {
            return error
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The JSON fallback: a flat array of numbers (or strings) converted to binary form.
    package static func jsonTensor(_ values: [Any], type: Inference_DataType, shape: [Int64]) -> TensorData {
        var bytes = Data()
        func append<T>(_ value: T) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        for value in values {
            let number = (value as? NSNumber)?.doubleValue ?? 0
            switch type {
            case .typeFp32: append(Float(number))
            case .typeFp64: append(number)
            case .typeInt32: append(Int32(number))
            case .typeInt64: append(Int64(number))
            case .typeInt8: append(Int8(number))
            case .typeUint8, .typeBool: append(UInt8(number))
            case .typeString:
                let text = Array(((value as? String) ?? "").utf8)
                append(UInt32(text.count).littleEndian)
                bytes.append(contentsOf: text)
            default: append(number)
            }
        }
        return TensorData(dataType: type, shape: shape, bytes: bytes)
    }
}
