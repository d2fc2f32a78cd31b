import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A KServe v2 HTTP client for Triton with the binary tensor data extension.
public struct InferenceClient: Sendable {
    public var baseURL: URL
    public var session: URLSession

    public init(baseURL: URL, timeout: TimeInterval = 60) {
        self.baseURL = baseURL
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: configuration)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var status: Int
        public var message: String
        public var description: String { "HTTP \(status): \(message)" }
    }

    public func get(_ path: String) async throws -> (Int, Data) {
        let (data, response) = try await session.data(from: baseURL.appendingPathComponent(path))
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    public func post(_ path: String, body: Data = Data(), headers: [String: String] = [:]) async throws -> (Int, Data, HTTPURLResponse?) {
        var request = URLRequest(url: baseURL.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.httpBody = body
        for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
        let (data, response) = try await session.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, data, http)
    }

    /// The `error` field of a JSON error body, or the body itself.
    static func errorMessage(_ data: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let error = object["error"] as? String {
            return error
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The request of one inference: every input in binary form, every output requested in binary form.
    static func inferenceRequest(model: String, version: Int64?, inputs: [(String, TensorData)], outputs: [String]) throws
        -> (path: String, headers: [String: String], body: Data)
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
        let path = version.map { "v2/models/\(model)/versions/\($0)/infer" } ?? "v2/models/\(model)/infer"
        return (path, ["Inference-Header-Content-Length": String(json.count), "Content-Type": "application/octet-stream"], body)
    }

    /// One inference with every input in binary form; every output requested in binary form.
    public func infer(model: String, version: Int64? = nil, inputs: [(String, TensorData)], outputs: [String]) async throws
        -> [String: TensorData]
    {
        let request = try Self.inferenceRequest(model: model, version: version, inputs: inputs, outputs: outputs)
        let (status, data, response) = try await post(request.path, body: request.body, headers: request.headers)
        guard status == 200 else { throw Failure(status: status, message: Self.errorMessage(data)) }
        return try Self.decodeResponse(data, headerLength: response?.value(forHTTPHeaderField: "Inference-Header-Content-Length"))
    }

    /// The same inference over a persistent connection (blocking).
    static func infer(over connection: KeepAliveConnection, request: (path: String, headers: [String: String], body: Data)) throws
        -> [String: TensorData]
    {
        let (status, headers, data) = try connection.post(request.path, headers: request.headers, body: request.body)
        guard status == 200 else { throw Failure(status: status, message: errorMessage(data)) }
        return try decodeResponse(data, headerLength: headers["inference-header-content-length"])
    }

    static func decodeResponse(_ data: Data, headerLength: String?) throws -> [String: TensorData] {
        let length = headerLength.flatMap(Int.init) ?? data.count
        guard length <= data.count,
            let object = try JSONSerialization.jsonObject(with: data.prefix(length)) as? [String: Any],
            let outputs = object["outputs"] as? [[String: Any]]
        else { throw Failure(status: 200, message: "unreadable response") }
        var offset = data.startIndex + length
        var result: [String: TensorData] = [:]
        for output in outputs {
            guard let name = output["name"] as? String, let datatype = output["datatype"] as? String,
                let shape = (output["shape"] as? [NSNumber])?.map({ $0.int64Value })
            else { continue }
            let type = TensorData.type(wireName: datatype) ?? .typeInvalid
            if let parameters = output["parameters"] as? [String: Any], let size = (parameters["binary_data_size"] as? NSNumber)?.intValue {
                guard offset + size <= data.endIndex else { throw Failure(status: 200, message: "truncated binary output \(name)") }
                result[name] = TensorData(dataType: type, shape: shape, bytes: data[offset..<offset + size])
                offset += size
            } else if let values = output["data"] as? [Any] {
                result[name] = jsonTensor(values, type: type, shape: shape)
            }
        }
        return result
    }

    /// The JSON fallback: a flat array of numbers (or strings) converted to binary form.
    static func jsonTensor(_ values: [Any], type: Inference_DataType, shape: [Int64]) -> TensorData {
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
