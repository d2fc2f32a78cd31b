import Foundation
import TritonPackModels

/// Where a server answers inference requests: the protocol, and the address of that endpoint.
public struct InferenceEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var `protocol`: ServingProtocol
    public var host: String
    public var port: Int

    public init(_ protocol: ServingProtocol, host: String = "127.0.0.1", port: Int) {
        self.protocol = `protocol`
        self.host = host
        self.port = port
    }

    public var description: String { "\(`protocol` == .grpc ? "grpc" : "http")://\(host):\(port)" }
}

/// One inference request, whichever the protocol: the model, its inputs (sent as raw bytes), the
/// outputs asked for, and whether the model is decoupled (answered on a gRPC stream).
package struct InferenceRequest: Sendable {
    package var model: String
    package var version: Int64?
    package var inputs: [(String, TensorData)]
    package var outputs: [String]
    package var decoupled = false

    /// The HTTP/1.1 body with the binary tensor extension.
    package func http() throws -> BinaryTensorCodec.Request {
        try BinaryTensorCodec.encode(model: model, version: version, inputs: inputs, outputs: outputs)
    }

    /// The gRPC message; `streamed` asks the server to flag each request's final response.
    package func grpc(streamed: Bool = false) -> Inference_ModelInferRequest {
        GRPCTensorCodec.request(model: model, version: version, inputs: inputs, outputs: outputs, streamed: streamed)
    }

    /// The refusal of a decoupled model over HTTP, which answers one response per request.
    package static func decoupledOverHTTP(_ model: String, config: String? = nil) -> TritonPackError {
        TritonPackError.refused(
            config,
            "'\(model)' is decoupled (model_transaction_policy { decoupled: true }): it may answer a request with several responses, which only a gRPC stream carries",
            code: .decoupledOverHTTP)
    }

    package init(model: String, version: Int64? = nil, inputs: [(String, TensorData)], outputs: [String], decoupled: Bool = false)
    {
        self.model = model
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.decoupled = decoupled
    }
}
