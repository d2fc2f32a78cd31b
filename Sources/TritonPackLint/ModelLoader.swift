import Foundation
import TritonPackModels
import TritonPackRepository

/// Reads one model folder: its entries, config file, parse, and Triton's normalization.
package enum ModelLoader {
    /// `configText`, when given, stands for the config file's contents.
    package static func load(name: String, directory: URL, displayPath: String, options: LintOptions, configText: [UInt8]? = nil)
        -> ModelUnderLint
    {
        var entries = (try? POSIXFiles.entries(of: directory.path)) ?? []
        var configFile: String?
        if configText != nil {
            configFile = ModelRepository.configFileName
            if !entries.contains(ModelRepository.configFileName) { entries.append(ModelRepository.configFileName) }
        } else if let custom = options.modelConfigName,
            POSIXFiles.exists(directory.appendingPathComponent("configs/\(custom).pbtxt", isDirectory: false).path)
        {
            configFile = "configs/\(custom).pbtxt"
        } else if entries.contains(ModelRepository.configFileName) {
            configFile = ModelRepository.configFileName
        }
        var model = ModelUnderLint(
            name: name, directory: directory, displayPath: displayPath, entries: entries, configFile: configFile,
            configText: nil, document: nil, syntaxError: nil, readError: nil, written: Inference_ModelConfig(),
            config: Inference_ModelConfig(), backendDetectionError: nil)
        if let configFile {
            let path = directory.appendingPathComponent(configFile, isDirectory: false).path
            switch configText.map({ ReadResult.success($0) }) ?? readRegularFile(path) {
            case .success(let bytes):
                model.configText = bytes
                do {
                    let document = try Inference_ModelConfig.parse(bytes: bytes)
                    if let error = Triton251Proto.unknownField(in: document, text: bytes) {
                        model.syntaxError = error
                    } else {
                        model.document = document
                        model.written = document.message
                    }
                } catch let error as TextProtoSyntaxError {
                    model.syntaxError = error
                } catch {
                    model.readError = "failed to read text proto from \(path): \(error)"
                }
            case .failure(let message):
                model.readError = message
            }
        }
        model.subdirectories = entries.filter {
            POSIXFiles.isDirectory(directory.appendingPathComponent($0, isDirectory: false).path)
        }
        var config = model.written
        model.backendDetectionError = BackendDetection.complete(&config, modelName: name, directory: directory)
        ConfigNormalization.normalize(&config)
        model.config = config
        model.isOneFlowPython =
            config.backend == "python"
            && model.servedVersions.contains { version in
                let folder = directory.appendingPathComponent(String(version), isDirectory: true)
                return POSIXFiles.isRegularFile(folder.appendingPathComponent("model.py", isDirectory: false).path)
                    && POSIXFiles.isRegularFile(
                        folder.appendingPathComponent(
                            "\(OneFlowBackend.modelFolder)/\(OneFlowSavedGraph.graphFileName)", isDirectory: false
                        ).path)
            }
        return model
    }

    package enum ReadResult {
        case success([UInt8])
        case failure(String)
    }

    /// Reads a file without blocking on FIFOs or following it into devices.
    package static func readRegularFile(_ path: String) -> ReadResult {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure("failed to open text file for read \(path): \(POSIXFiles.errnoMessage())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return .failure("failed to open text file for read \(path): not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure("failed to read text proto from \(path): \(POSIXFiles.errnoMessage())")
            }
            if count == 0 { break }
            offset += count
        }
        return .success(Array(bytes[0..<offset]))
    }
}

/// Fields of the project's model_config.proto (Triton common, 2026) that the model_config.proto
/// built into Triton 2.51 (r24.10) does not have: 2.51's parser refuses them as unknown fields
/// ("failed to read text proto"; seen on the 2.51 server for exactly these two of the fields
/// tried, every other field of the proto loading).
package enum Triton251Proto {
    package static let newerFields: [(path: String, message: String, field: String)] = [
        ("model_metrics", "inference.ModelConfig", "model_metrics"),
        ("ensemble_scheduling.max_inflight_requests", "inference.ModelEnsembling", "max_inflight_requests"),
    ]

    /// The first such field in the text, as libprotobuf's parser would report it: at the token
    /// after the field name (seen: `model_metrics {` on line 10 is reported as 10:15).
    package static func unknownField(in document: TextProtoDocument<Inference_ModelConfig>, text: [UInt8])
        -> TextProtoSyntaxError?
    {
        let found = newerFields.compactMap { field in document.positions[field.path].map { (field, $0) } }
        guard let (field, position) = found.min(by: { ($0.1.line, $0.1.column) < ($1.1.line, $1.1.column) }) else {
            return nil
        }
        return TextProtoSyntaxError(
            message: "Message type \"\(field.message)\" has no field named \"\(field.field)\".",
            position: tokenAfterName(at: position, in: text))
    }

    /// The position of the first token after the identifier that starts at `position` (1-based).
    package static func tokenAfterName(at position: SourcePosition, in text: [UInt8]) -> SourcePosition {
        var line = 1
        var index = 0
        while index < text.count && line < position.line {
            if text[index] == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }
        var column = 1
        index += position.column - 1
        column = position.column
        func isName(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
        }
        while index < text.count && isName(text[index]) {
            index += 1
            column += 1
        }
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                column += 1
            case UInt8(ascii: "\n"):
                line += 1
                column = 0
            case UInt8(ascii: "#"):
                while index + 1 < text.count && text[index + 1] != UInt8(ascii: "\n") { index += 1 }
            default:
                return SourcePosition(line: line, column: column)
            }
            index += 1
        }
        return SourcePosition(line: line, column: column)
    }
}
