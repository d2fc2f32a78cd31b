import Foundation

/// How a saved OneFlow graph is converted to ONNX and proven (`runtime/onnx/oneflow_to_onnx.py`).
public struct ONNXConversionOptions: Equatable, Sendable {
    public var opset: Int
    /// 8 loads in every Triton since 21.12; Triton 24.09-24.11 ship onnxruntime 1.19.2 (IR <= 10).
    public var irVersion: Int
    /// A folder of `INPUT_<k>.npy` to verify with; nil: seeded random inputs.
    public var golden: URL?
    /// Float outputs must satisfy max|onnx - oneflow| <= tolerance * max(1, max|oneflow|).
    public var tolerance: Double
    /// Locate the first diverging ONNX node when the answers differ.
    public var locateDivergence: Bool
    /// The converter's corrections to turn off (how a test feeds a conversion known to be wrong).
    public var disabledFixes: [String]
    /// Keep the saved batch fixed (for a config that cannot batch); otherwise a symbolic batch is
    /// kept where it verifies.
    public var fixedBatch = false

    public init(
        opset: Int = 13, irVersion: Int = 8, golden: URL? = nil, tolerance: Double = 1e-5, locateDivergence: Bool = false,
        disabledFixes: [String] = []
    ) {
        self.opset = opset
        self.irVersion = irVersion
        self.golden = golden
        self.tolerance = tolerance
        self.locateDivergence = locateDivergence
        self.disabledFixes = disabledFixes
    }
}

/// What a verified conversion proved, as the converter reports it; the manifest keeps it as the
/// version's provenance.
public struct ONNXConversionReport: Codable, Equatable, Sendable {
    public struct Batch: Codable, Equatable, Sendable {
        /// Whether the first dimension is symbolic (verified at 1 and at the saved batch).
        public var dynamic: Bool
        /// The saved batch: the most rows a request may carry.
        public var max: Int64
    }

    public struct Input: Codable, Equatable, Sendable {
        public var name: String
        /// `golden` or `seeded`.
        public var source: String
        public var seed: Int?
        public var shape: [Int64]
        public var dtype: String
        public var sha256: String
    }

    public struct Output: Codable, Equatable, Sendable {
        public var name: String
        public var maxAbsError: Double
        public var maxMagnitude: Double?
        public var bound: Double?
        public var exact: Bool

        package enum CodingKeys: String, CodingKey {
            case name, exact, bound
            case maxAbsError = "max_abs_error"
            case maxMagnitude = "max_magnitude"
        }
    }

    public var opset: Int
    public var irVersion: Int
    /// oneflow, oneflow_onnx, onnx, onnxruntime, protobuf, numpy, python.
    public var versions: [String: String]
    /// The converter's corrections applied (see runtime/onnx/README.md).
    public var fixes: [String]
    public var batch: Batch
    public var tolerance: Double
    public var inputs: [Input]
    public var outputs: [Output]
    public var maxError: Double
    /// SHA-256 of the saved graph's files (`sha256sum` lines of every file, sorted by path).
    public var graphSha256: String
    public var onnxSha256: String

    package enum CodingKeys: String, CodingKey {
        case opset, versions, fixes, batch, tolerance, inputs, outputs
        case irVersion = "ir_version"
        case maxError = "max_error"
        case graphSha256 = "graph_sha256"
        case onnxSha256 = "onnx_sha256"
    }
}
