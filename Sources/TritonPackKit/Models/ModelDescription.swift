import Foundation

/// One file of a model and where it goes inside the version folder.
public struct PlacedFile: Equatable, Sendable {
    public var source: URL
    /// Relative to the version folder, e.g. `model/m.fc.weight/out` or `model.onnx`.
    public var destination: String
    public var size: Int64

    public init(source: URL, destination: String, size: Int64) {
        self.source = source
        self.destination = destination
        self.size = size
    }
}

/// What every model reader (OneFlow saved graphs, ONNX files) returns, and all that the config
/// generator, pack and the manifest consume: the interface, the files to place, what is wrong with
/// the model, and how it batches.
public struct ModelDescription: Sendable {
    public enum Format: String, Sendable {
        /// A graph saved by `flow.save(graph, dir)`, served by the `oneflow` backend.
        case oneflow
        /// An ONNX file, served by the ONNX Runtime backend.
        case onnx
    }

    /// How the model's tensors carry a batch.
    public enum Batching: Equatable, Sendable {
        /// Every input and output shares this first dimension and keeps one more (a OneFlow graph
        /// saved with a batch of that size, which its backend reads as max_batch_size).
        case savedBatch(Int64)
        /// Every input and output has a dynamic first dimension (ONNX Runtime auto-complete's test).
        case dynamicFirstDimension
        case none
    }

    public var format: Format
    /// The folder or file the model was read from.
    public var source: URL
    public var signature: Signature
    public var files: [PlacedFile]
    /// Why the model cannot be served; empty when it can.
    public var problems: [Problem]
    /// What the reader wants the user to know: variable folders a graph never reads, an ONNX
    /// check that was skipped and why.
    public var notes: [String]
    public var batching: Batching

    /// Reads a saved OneFlow graph or an ONNX file (by its `.onnx` name or because it is a file).
    public static func read(at url: URL) throws -> ModelDescription {
        if POSIXFiles.isRegularFile(url.path) || url.pathExtension == "onnx" { return try ONNXModel.read(at: url).description }
        return try OneFlowSavedGraph.read(at: url).description
    }

    /// Throws a refusal listing every problem, if there is any.
    public func requireServable() throws {
        guard problems.isEmpty else { throw TritonPackError.refused("\(source.path): cannot be served", problems: problems) }
    }
}

extension OneFlowSavedGraph {
    /// The graph's files go under `<version>/model/`, where the oneflow backend loads them.
    public var description: ModelDescription {
        let files = self.files.map {
            PlacedFile(
                source: directory.appendingPathComponent($0.relativePath),
                destination: "\(OneFlowBackend.modelFolder)/\($0.relativePath)", size: $0.size)
        }
        return ModelDescription(
            format: .oneflow, source: directory, signature: signature, files: files,
            problems: problems.map { $0.relative(to: directory.path) }, notes: notes.map(\.description),
            batching: signature.savedBatch.map { .savedBatch($0) } ?? .none)
    }
}

extension ONNXModel {
    /// `<version>/model.onnx`, or with external data the folder form `<version>/model.onnx/`
    /// holding `model.onnx` and the data files.
    public var description: ModelDescription {
        let size = POSIXFiles.fileSize(path.path) ?? 0
        var problems = self.problems.map { Problem(file: path.path, $0) }
        var files = [
            PlacedFile(source: path, destination: externalData.isEmpty ? "model.onnx" : "model.onnx/model.onnx", size: size)
        ]
        for location in externalData {
            let data = path.deletingLastPathComponent().appendingPathComponent(location)
            guard let dataSize = POSIXFiles.fileSize(data.path), POSIXFiles.isRegularFile(data.path) else {
                problems.append(Problem(file: data.path, "missing: \(path.lastPathComponent) keeps tensor data in this file"))
                continue
            }
            files.append(PlacedFile(source: data, destination: "model.onnx/\(location)", size: dataSize))
        }
        return ModelDescription(
            format: .onnx, source: path, signature: signature, files: files, problems: problems,
            notes: checkerNote.map { [$0] } ?? [], batching: supportsBatching ? .dynamicFirstDimension : .none)
    }
}
