import Crypto
import Foundation
import TritonPackModels
import TritonPackRepository

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
    package static func key(graph: URL, converter: URL, python: OneFlowPython, options: ONNXConversionOptions) throws -> String {
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
    package static func refusal(_ answer: [String: Any]?, graph: URL, status: Int32, stderr: String) -> TritonPackError {
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
