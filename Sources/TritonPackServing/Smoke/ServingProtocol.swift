/// How tritonpack talks to Triton for inference: KServe v2 over HTTP/1.1 (binary tensor extension)
/// or over gRPC (`GRPCInferenceService`, raw tensor contents). Smoke, tune and rollout take it as
/// `--protocol`.
public enum ServingProtocol: String, Sendable, CaseIterable, Codable {
    case http
    case grpc
}
