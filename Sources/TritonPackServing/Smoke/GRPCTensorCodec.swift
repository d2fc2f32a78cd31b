import Foundation
import TritonPackModels

/// KServe v2 gRPC inference messages: every input's bytes in `raw_input_contents` (the same layout
/// as the HTTP binary extension: little-endian, C order, BYTES elements length-prefixed), and the
/// outputs read from `raw_output_contents` (or the typed `contents` of a server that sent those).
package enum GRPCTensorCodec {
    /// Triton's parameter that makes a stream end each request with a response flagged final
    /// (`triton_final_response`), so that a client knows when a decoupled model is done with it.
    package static let enableFinalResponse = "triton_enable_empty_final_response"
    package static let finalResponse = "triton_final_response"

    package static func request(
        model: String, version: Int64?, inputs: [(String, TensorData)], outputs: [String], streamed: Bool = false
    ) -> Inference_ModelInferRequest {
        var request = Inference_ModelInferRequest()
        request.modelName = model
        request.modelVersion = version.map(String.init) ?? ""
        request.inputs = inputs.map { name, tensor in
            var input = Inference_ModelInferRequest.InferInputTensor()
            input.name = name
            input.datatype = TensorData.wireName(tensor.dataType)
            input.shape = tensor.shape
            return input
        }
        request.rawInputContents = inputs.map(\.1.bytes)
        request.outputs = outputs.map { name in
            var output = Inference_ModelInferRequest.InferRequestedOutputTensor()
            output.name = name
            return output
        }
        if streamed {
            var flag = Inference_InferParameter()
            flag.boolParam = true
            request.parameters[enableFinalResponse] = flag
        }
        return request
    }

    /// The outputs of one response, by name.
    package static func outputs(of response: Inference_ModelInferResponse) throws -> [String: TensorData] {
        var result: [String: TensorData] = [:]
        let raw = response.rawOutputContents
        for (index, output) in response.outputs.enumerated() {
            let type = TensorData.type(wireName: output.datatype) ?? .typeInvalid
            if index < raw.count {
                result[output.name] = TensorData(dataType: type, shape: output.shape, bytes: raw[index])
            } else if output.hasContents {
                result[output.name] = BinaryTensorCodec.jsonTensor(values(output.contents), type: type, shape: output.shape)
            } else {
                throw TritonPackError.io(nil, "the gRPC response carries no data for output \(output.name)")
            }
        }
        return result
    }

    /// Whether a streamed response is the one flagged final (it may carry outputs or be empty).
    package static func isFinal(_ response: Inference_ModelInferResponse) -> Bool {
        response.parameters[finalResponse]?.boolParam == true
    }

    /// The typed contents as the values `BinaryTensorCodec.jsonTensor` converts.
    private static func values(_ contents: Inference_InferTensorContents) -> [Any] {
        if !contents.boolContents.isEmpty { return contents.boolContents.map { NSNumber(value: $0 ? 1 : 0) } }
        if !contents.intContents.isEmpty { return contents.intContents.map { NSNumber(value: $0) } }
        if !contents.int64Contents.isEmpty { return contents.int64Contents.map { NSNumber(value: $0) } }
        if !contents.uintContents.isEmpty { return contents.uintContents.map { NSNumber(value: $0) } }
        if !contents.uint64Contents.isEmpty { return contents.uint64Contents.map { NSNumber(value: $0) } }
        if !contents.fp32Contents.isEmpty { return contents.fp32Contents.map { NSNumber(value: $0) } }
        if !contents.fp64Contents.isEmpty { return contents.fp64Contents.map { NSNumber(value: $0) } }
        return contents.bytesContents.map { String(decoding: $0, as: UTF8.self) }
    }
}
