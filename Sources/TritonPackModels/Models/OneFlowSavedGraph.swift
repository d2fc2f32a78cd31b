import Foundation

/// A file of a model that packing places into the repository, relative to the model's source.
public struct ModelFile: Equatable, Sendable {
    public var relativePath: String
    public var size: Int64
}

/// A graph saved by `flow.save(graph, dir)`: `model.mlir` plus one folder per variable,
/// each with a text-format `meta` and the raw tensor bytes in `out`.
public struct OneFlowSavedGraph: Sendable {
    public static let graphFileName = "model.mlir"
    public static let oneEmbeddingOptionsFileName = "one_embedding_options.json"

    public struct Interface: Sendable, Equatable {
        public var opName: String
        /// The position in the Python argument or return structure, from the op name.
        public var position: [Int]
        public var oneflowType: Oneflow_DataType
        public var shape: [Int64]
    }

    public struct Variable: Sendable, Equatable {
        public var name: String
        public var oneflowType: Oneflow_DataType
        public var shape: [Int64]
    }

    public var directory: URL
    /// Inputs and outputs in Python order (by position, never by file order).
    public var inputs: [Interface]
    public var outputs: [Interface]
    public var variables: [Variable]
    public var files: [ModelFile]
    /// Everything that makes this graph unfit to serve. Empty for a sound graph.
    public var problems: [Problem]
    /// Harmless facts worth telling, such as variable folders the job does not read.
    public var notes: [Problem] = []

    /// The graph's interface as Triton sees it: `INPUT_<i>` / `OUTPUT_<i>` in Python order.
    public var signature: Signature {
        func specs(_ list: [Interface], prefix: String) -> [TensorSpec] {
            list.enumerated().map { index, interface in
                TensorSpec(
                    name: "\(prefix)\(index)", dataType: interface.oneflowType.tritonType ?? .typeInvalid,
                    shape: interface.shape)
            }
        }
        return Signature(inputs: specs(inputs, prefix: "INPUT_"), outputs: specs(outputs, prefix: "OUTPUT_"))
    }

    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.size } }

    /// Reads and checks a saved graph. Throws only when the folder or `model.mlir` cannot be read
    /// at all; everything else wrong with the graph is listed in `problems`.
    /// Where a saved graph is one folder further down (flow.save writes `dir/model/`, a model
    /// version holds `model/`), the path to give instead.
    private static func nextStep(_ directory: URL) -> String {
        let below = directory.appendingPathComponent("model")
        guard POSIXFiles.isRegularFile(below.appendingPathComponent(graphFileName).path) else { return "" }
        return "; this is the folder above the saved graph: give \(below.path) instead"
    }

    public static func read(at directory: URL) throws -> OneFlowSavedGraph {
        let path = directory.path
        guard POSIXFiles.isDirectory(path) else {
            if POSIXFiles.exists(path) {
                throw TritonPackError.refused(path, "not a directory; expected a graph saved by flow.save(graph, dir)")
            }
            throw TritonPackError.refused(
                path, "no such file or folder; give the folder flow.save(graph, dir) wrote, or an ONNX file")
        }
        let graphPath = directory.appendingPathComponent(graphFileName).path
        guard POSIXFiles.isRegularFile(graphPath) else {
            throw TritonPackError.refused(
                graphPath, "missing: a saved OneFlow graph has model.mlir beside its variable folders" + nextStep(directory))
        }
        guard let data = FileManager.default.contents(atPath: graphPath) else {
            throw TritonPackError.io(graphPath, "cannot read: \(POSIXFiles.errnoMessage())")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TritonPackError.refused(graphPath, "not UTF-8 text; model.mlir must be MLIR text")
        }
        let operations: [MLIROperation]
        do {
            operations = try MLIRScanner.operations(in: text)
        } catch let error as MLIRSyntaxError {
            throw TritonPackError(.refused, file: graphPath, line: error.line, error.message)
        }
        var reader = Reader(directory: directory)
        reader.files.append(ModelFile(relativePath: graphFileName, size: Int64(data.count)))
        let inputs = reader.interfaces(operations.filter { $0.opType == "oneflow.input" }, role: "input")
        let outputs = reader.interfaces(operations.filter { $0.opType == "oneflow.output" }, role: "output")
        if outputs.isEmpty && reader.problems.isEmpty {
            reader.problems.append(Problem(file: graphFileName, "the graph has no oneflow.output operation"))
        }
        let variables = reader.variables(operations.filter { $0.opType == "oneflow.variable" })
        try reader.checkEntries(variableNames: Set(variables.map(\.name)))
        return OneFlowSavedGraph(
            directory: directory, inputs: inputs, outputs: outputs, variables: variables,
            files: reader.files.sorted { $0.relativePath < $1.relativePath }, problems: reader.problems,
            notes: reader.notes)
    }

    /// Parses the Python position out of an interface op name:
    /// `_G_1_input.0.1_3` -> [0, 1], `_G_1_output.0.0.1_4` -> [0, 0, 1], 0.6's `_G_1-input_2` -> [2].
    public static func position(inOpName name: String, role: String) -> [Int]? {
        let pattern = "(?:^|[_-])\(role)[._]([0-9]+(?:\\.[0-9]+)*)(?:_[0-9]+)?$"
        guard let expression = try? NSRegularExpression(pattern: pattern),
            let match = expression.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)),
            let range = Range(match.range(at: 1), in: name)
        else { return nil }
        return name[range].split(separator: ".").compactMap { Int($0) }
    }
}

private struct Reader {
    let directory: URL
    var files: [ModelFile] = []
    var problems: [Problem] = []
    var notes: [Problem] = []

    init(directory: URL) { self.directory = directory }

    mutating func problem(_ file: String, line: Int? = nil, _ message: String) {
        problems.append(Problem(file: file, line: line, message))
    }

    mutating func dataType(of op: MLIROperation, what: String) -> Oneflow_DataType? {
        guard let code = op.dataTypeCode else {
            problem(OneFlowSavedGraph.graphFileName, line: op.line, "\(what) has no data_type attribute")
            return nil
        }
        guard let type = Oneflow_DataType(rawValue: code) else {
            problem(OneFlowSavedGraph.graphFileName, line: op.line, "\(what) has unknown OneFlow data_type \(code)")
            return nil
        }
        return type
    }

    mutating func interfaces(_ ops: [MLIROperation], role: String) -> [OneFlowSavedGraph.Interface] {
        let file = OneFlowSavedGraph.graphFileName
        var found: [OneFlowSavedGraph.Interface] = []
        for op in ops {
            guard let name = op.opName else {
                problem(file, line: op.line, "oneflow.\(role) operation has no op_name")
                continue
            }
            guard let position = OneFlowSavedGraph.position(inOpName: name, role: role) else {
                problem(
                    file, line: op.line,
                    "cannot tell the Python position of \(role) '\(name)' from its op name (expected '\(role).0.<k>')")
                continue
            }
            guard let shape = op.shape else {
                problem(file, line: op.line, "\(role) '\(name)' has no readable shape attribute")
                continue
            }
            guard let type = dataType(of: op, what: "\(role) '\(name)'") else { continue }
            found.append(.init(opName: name, position: position, oneflowType: type, shape: shape))
        }
        found.sort { $0.position.lexicographicallyPrecedes($1.position) }
        for (previous, next) in zip(found, found.dropFirst()) where previous.position == next.position {
            problem(file, "\(role)s '\(previous.opName)' and '\(next.opName)' claim the same position")
        }
        let prefix = role == "input" ? "INPUT_" : "OUTPUT_"
        for (index, interface) in found.enumerated() {
            let tensor = "\(prefix)\(index) ('\(interface.opName)')"
            guard let triton = interface.oneflowType.tritonType,
                OneFlowBackend.servableTypes.contains(triton)
            else {
                let tritonName = interface.oneflowType.tritonType.map { " (\($0.configName))" } ?? ""
                let servable = OneFlowBackend.servableTypes.map(\.configName).sorted().joined(separator: ", ")
                problem(
                    file,
                    "\(tensor) has data type \(interface.oneflowType.metaName)\(tritonName), which the OneFlow backend cannot serve (it serves \(servable))"
                )
                continue
            }
            if interface.shape.contains(where: { $0 < 1 }) {
                problem(file, "\(tensor) has shape \(interface.shape), which is not fully static")
            }
        }
        return found
    }

    mutating func variables(_ ops: [MLIROperation]) -> [OneFlowSavedGraph.Variable] {
        var variables: [OneFlowSavedGraph.Variable] = []
        var seen = Set<String>()
        for op in ops {
            guard let name = op.opName, let shape = op.shape,
                let type = dataType(of: op, what: "variable '\(op.opName ?? "?")'")
            else {
                if op.opName == nil || op.shape == nil {
                    problem(OneFlowSavedGraph.graphFileName, line: op.line, "oneflow.variable lacks op_name or shape")
                }
                continue
            }
            guard seen.insert(name).inserted else { continue }
            let variable = OneFlowSavedGraph.Variable(name: name, oneflowType: type, shape: shape)
            variables.append(variable)
            check(variable)
        }
        return variables
    }

    mutating func check(_ variable: OneFlowSavedGraph.Variable) {
        let folder = directory.appendingPathComponent(variable.name)
        guard !variable.name.contains("/"), variable.name != ".", variable.name != ".." else {
            problem(OneFlowSavedGraph.graphFileName, "variable name '\(variable.name)' is not a folder name")
            return
        }
        guard POSIXFiles.isDirectory(folder.path) else {
            problem(variable.name, "missing: model.mlir uses variable '\(variable.name)' but its folder is absent")
            return
        }
        let metaRelative = "\(variable.name)/meta"
        let metaPath = folder.appendingPathComponent("meta").path
        if let metaData = FileManager.default.contents(atPath: metaPath), POSIXFiles.isRegularFile(metaPath) {
            files.append(ModelFile(relativePath: metaRelative, size: Int64(metaData.count)))
            if let meta = parseMeta(Array(metaData), relative: metaRelative) {
                compare(meta, with: variable, relative: metaRelative)
            }
        } else {
            problem(metaRelative, "missing or unreadable: every variable folder holds a text-format meta")
        }
        checkOut(of: variable)
    }

    /// `<variable>/out` holds exactly product(shape) x item size bytes: the C++ loader reads that
    /// many without checking, so a short file is read past its end by the server.
    mutating func checkOut(of variable: OneFlowSavedGraph.Variable) {
        let outRelative = "\(variable.name)/out"
        let outPath = directory.appendingPathComponent(outRelative).path
        guard POSIXFiles.isRegularFile(outPath), let size = POSIXFiles.fileSize(outPath) else {
            problem(outRelative, "missing: every variable folder holds its tensor bytes in out")
            return
        }
        files.append(ModelFile(relativePath: outRelative, size: size))
        if let itemSize = variable.oneflowType.itemSize {
            let expected = variable.shape.reduce(Int64(1), *) * Int64(itemSize)
            if size != expected {
                let shape = variable.shape.map(String.init).joined(separator: "x")
                problem(
                    outRelative,
                    "holds \(size) bytes but shape \(shape) of \(variable.oneflowType.metaName) needs \(expected) (the server would read past the data)"
                )
            }
        } else {
            problem(outRelative, "variable type \(variable.oneflowType.metaName) has no fixed item size")
        }
    }

    /// A folder `flow.save` wrote for a parameter or buffer the traced job never reads (BatchNorm's
    /// `num_batches_tracked` in eval mode): the C++ loader iterates only the job's variable ops, so
    /// it is harmless and packed unchanged, but only when it is a well-formed variable folder.
    mutating func checkUnused(folder name: String) throws {
        let path = directory.appendingPathComponent(name).path
        let metaRelative = "\(name)/meta"
        for inner in try POSIXFiles.entries(of: path) where inner != "meta" && inner != "out" {
            problem("\(name)/\(inner)", "unexpected file in a variable folder (flow.save writes only meta and out)")
        }
        let metaPath = directory.appendingPathComponent(metaRelative).path
        guard let metaData = FileManager.default.contents(atPath: metaPath), POSIXFiles.isRegularFile(metaPath) else {
            problem(
                name,
                "unknown entry: model.mlir declares no variable of this name, and it is no variable folder (no meta); flow.save writes model.mlir and one folder per variable"
            )
            return
        }
        files.append(ModelFile(relativePath: metaRelative, size: Int64(metaData.count)))
        let problemsBefore = problems.count
        guard let meta = parseMeta(Array(metaData), relative: metaRelative) else { return }
        checkOut(of: OneFlowSavedGraph.Variable(name: name, oneflowType: meta.dataType, shape: meta.shape.dim))
        if problems.count == problemsBefore {
            notes.append(
                Problem(
                    file: name,
                    "variable folder that model.mlir does not read (a buffer such as BatchNorm's num_batches_tracked): packed unchanged; the backend never loads it"
                ))
        }
    }

    mutating func parseMeta(_ bytes: [UInt8], relative: String) -> Oneflow_VariableMetaInfo? {
        do {
            return try TextProto.parse(
                bytes: bytes, as: Oneflow_VariableMetaInfo.self, protoName: Oneflow_VariableMetaInfo.protoName
            ).message
        } catch let error as TextProtoSyntaxError {
            problem(relative, line: error.position.line, "does not parse as VariableMetaInfo: \(error.message)")
        } catch {
            problem(relative, "does not parse as VariableMetaInfo: \(error)")
        }
        return nil
    }

    mutating func compare(_ meta: Oneflow_VariableMetaInfo, with variable: OneFlowSavedGraph.Variable, relative: String) {
        if meta.shape.dim != variable.shape {
            problem(
                relative,
                "shape \(meta.shape.dim) disagrees with model.mlir, which declares \(variable.shape) for '\(variable.name)'")
        }
        if meta.dataType != variable.oneflowType {
            problem(
                relative,
                "data_type \(meta.dataType.metaName) disagrees with model.mlir, which declares \(variable.oneflowType.metaName) for '\(variable.name)'"
            )
        }
    }

    mutating func checkEntries(variableNames: Set<String>) throws {
        for name in try POSIXFiles.entries(of: directory.path) {
            if name == OneFlowSavedGraph.graphFileName { continue }
            let path = directory.appendingPathComponent(name).path
            if name == OneFlowSavedGraph.oneEmbeddingOptionsFileName, POSIXFiles.isRegularFile(path) {
                files.append(ModelFile(relativePath: name, size: POSIXFiles.fileSize(path) ?? 0))
                continue
            }
            if variableNames.contains(name) {
                for inner in try POSIXFiles.entries(of: path) where inner != "meta" && inner != "out" {
                    problem("\(name)/\(inner)", "unexpected file in a variable folder (flow.save writes only meta and out)")
                }
                continue
            }
            guard POSIXFiles.isDirectory(path) else {
                problem(
                    name,
                    "unknown entry: model.mlir declares no variable of this name (flow.save writes model.mlir and one folder per variable)"
                )
                continue
            }
            try checkUnused(folder: name)
        }
    }
}
