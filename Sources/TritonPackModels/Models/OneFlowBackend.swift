/// The Triton data types the OneFlow backend can serve.
public enum OneFlowBackend {
    public static let servableTypes: Set<Inference_DataType> = [
        .typeUint8, .typeInt8, .typeInt32, .typeInt64, .typeFp16, .typeFp32, .typeFp64,
    ]
    public static let backendName = "oneflow"
    /// The folder inside a version directory that holds the saved graph.
    public static let modelFolder = "model"
    public static let xrtValues = ["oneflow", "tensorrt", "openvino", "xla"]
}
