import Crypto
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

        enum CodingKeys: String, CodingKey {
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

    enum CodingKeys: String, CodingKey {
        case opset, versions, fixes, batch, tolerance, inputs, outputs
        case irVersion = "ir_version"
        case maxError = "max_error"
        case graphSha256 = "graph_sha256"
        case onnxSha256 = "onnx_sha256"
    }
}

/// Converts a saved graph with OneFlow's converter (oneflow-onnx 0.6.2, pinned, with the
/// project's handlers and corrections) in the Python that has OneFlow, and keeps only conversions
/// whose answers onnxruntime and OneFlow's runtime agree on. Verified conversions are kept in
/// tritonpack's home, named by what they were made from, so `config` and `pack` share them.
public enum OneFlowToONNX {
    public static func convert(_ graph: URL, python: OneFlowPython, options: ONNXConversionOptions) throws -> (
        onnx: URL, report: ONNXConversionReport
    ) {
        let converter = try TritonPackHome.materialize(
            ONNXConverterFiles.files.map { ($0.path, $0.text) } + OneFlowPythonServing.runtimeFiles, kind: "onnx-converter")
        let folder = TritonPackHome.url.appendingPathComponent(
            "conversions/\(try key(graph: graph, converter: converter, python: python, options: options))")
        let onnx = folder.appendingPathComponent("model.onnx")
        let reportFile = folder.appendingPathComponent("report.json")
        if let data = FileManager.default.contents(atPath: reportFile.path), POSIXFiles.isRegularFile(onnx.path),
            let report = try? decoder.decode(ONNXConversionReport.self, from: data)
        {
            return (onnx, report)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var arguments = [
            converter.appendingPathComponent("oneflow_to_onnx.py").path, graph.path, "--output", onnx.path, "--opset",
            String(options.opset), "--ir-version", String(options.irVersion), "--tolerance", String(options.tolerance),
        ]
        if let golden = options.golden { arguments += ["--golden", golden.path] }
        if options.locateDivergence { arguments.append("--verbose") }
        if options.fixedBatch { arguments.append("--fixed-batch") }
        for fix in options.disabledFixes { arguments += ["--disable-fix", fix] }
        let result = try ChildProcess.run(python.executable, arguments, environment: python.runtimeEnvironment)
        let answer = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        guard result.status == 0, let answer, answer["ok"] as? Bool == true else {
            throw refusal(answer, graph: graph, status: result.status, stderr: result.stderr)
        }
        let report = try decoder.decode(ONNXConversionReport.self, from: Data(result.stdout.utf8))
        try POSIXFiles.writeAtomically(Data(result.stdout.utf8), to: reportFile.path, stagingIn: folder.path)
        return (onnx, report)
    }

    private static let decoder = JSONDecoder()

    /// The cache key: the converter's files, the graph's files, the inputs verified with, the options.
    static func key(graph: URL, converter: URL, python: OneFlowPython, options: ONNXConversionOptions) throws -> String {
        var hasher = SHA256()
        func add(_ text: String) { hasher.update(data: Data("\(text)\n".utf8)) }
        add(converter.lastPathComponent)
        add(python.executable.path)
        add("opset \(options.opset) ir \(options.irVersion) tolerance \(options.tolerance)")
        add("disabled \(options.disabledFixes.sorted().joined(separator: ",")) fixed \(options.fixedBatch)")
        for (label, folder) in [("graph", graph), ("golden", options.golden)] {
            guard let folder else { continue }
            let paths = try filesUnder(folder)
            let digests = try FileCopier().hashFiles(paths.map { folder.appendingPathComponent($0).path })
            for path in paths { add("\(label) \(path) \(digests[folder.appendingPathComponent(path).path] ?? "")") }
        }
        return hasher.finalize().hexString
    }

    private static func filesUnder(_ folder: URL) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else {
            throw TritonPackError.io(folder.path, "cannot read")
        }
        return enumerator.compactMap { $0 as? String }.filter {
            POSIXFiles.isRegularFile(folder.appendingPathComponent($0).path)
        }.sorted()
    }

    /// The converter's refusal as tritonpack's: the graph (or model.mlir) named, the reason in the
    /// converter's words, and the way out for graphs it cannot convert.
    static func refusal(_ answer: [String: Any]?, graph: URL, status: Int32, stderr: String) -> TritonPackError {
        guard let answer, let message = answer["message"] as? String else {
            return TritonPackError.io(
                graph.path, "the OneFlow-to-ONNX converter failed (exit \(status)): \(stderr.suffix(400))")
        }
        let reason = (answer["reason"] as? String ?? "failed").replacingOccurrences(of: "_", with: "-")
        let graphFile = graph.appendingPathComponent(OneFlowSavedGraph.graphFileName).path
        let ops = answer["unsupported_ops"] as? [String] ?? []
        let problems =
            ops.isEmpty
            ? [Problem(file: reason == "load-failed" ? graphFile : graph.path, message, code: "onnx-\(reason)")]
            : ops.map { Problem(file: graphFile, "the converter has no handler for op '\($0)'", code: "onnx-unsupported-op") }
        return TritonPackError(
            .refused, "cannot convert to a verified ONNX model (\(reason)): \(message)", at: SourceLocation(graph.path),
            problems: problems)
    }
}
