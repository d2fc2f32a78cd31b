import CProtobufBridge
import Foundation
import SwiftProtobuf

/// A 1-based position in a text file.
public struct SourcePosition: Equatable, Hashable, Sendable, Codable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// Why libprotobuf's text-format parser refused a file, in its own words.
public struct TextProtoSyntaxError: Error, Equatable, Sendable {
    public var message: String
    public var position: SourcePosition

    package init(message: String, position: SourcePosition) {
        self.message = message
        self.position = position
    }
}

/// A message parsed from text format, with the position where each field was written.
public struct TextProtoDocument<M: SwiftProtobuf.Message>: Sendable {
    public var message: M
    /// Field paths (`input[0].dims[1]`, `max_batch_size`) to where they start in the text.
    public var positions: [String: SourcePosition]
    public var warnings: [String]

    /// Where `path` was written; for a path the parser recorded no position for (a list element
    /// past the first, an absent field), the position of its nearest recorded ancestor.
    public func position(of path: String) -> SourcePosition? {
        var candidate = path
        while !candidate.isEmpty {
            if let found = positions[candidate] { return found }
            if candidate.hasSuffix("]"), let open = candidate.lastIndex(of: "[") {
                let first = candidate[..<open] + "[0]"
                if first != candidate, let found = positions[String(first)] { return found }
                candidate = String(candidate[..<open])
            } else if let dot = candidate.lastIndex(of: ".") {
                candidate = String(candidate[..<dot])
            } else {
                break
            }
        }
        return nil
    }
}

/// Parses and prints protobuf text format through libprotobuf's own TextFormat parser
/// (default options), so that tritonpack accepts exactly what Triton accepts.
public enum TextProto {
    public static func parse<M: SwiftProtobuf.Message>(
        _ text: String, as type: M.Type, protoName: String
    ) throws -> TextProtoDocument<M> {
        try parse(bytes: Array(text.utf8), as: type, protoName: protoName)
    }

    /// Parses raw file bytes (which need not be valid UTF-8: the parser reports what it finds).
    public static func parse<M: SwiftProtobuf.Message>(
        bytes input: [UInt8], as type: M.Type, protoName: String
    ) throws -> TextProtoDocument<M> {
        let length = input.count
        let bytes = input.isEmpty ? [0] : input  // a valid pointer for an empty text
        var result = tp_text_parse()
        let known = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                tp_parse_text_format(protoName, $0, length, &result)
            }
        }
        guard known == 1 else { fatalError("message type \(protoName) is not in the embedded schema") }
        defer { tp_text_parse_free(&result) }

        let warnings = String(cString: result.warnings).split(separator: "\n").map(String.init)
        guard result.ok == 1 else {
            throw TextProtoSyntaxError(
                message: String(cString: result.error),
                position: SourcePosition(line: Int(result.error_line), column: Int(result.error_column)))
        }
        let binary = Data(bytes: result.message, count: result.message_length)
        let message = try M(serializedBytes: binary)
        return TextProtoDocument(message: message, positions: locations(result.locations), warnings: warnings)
    }

    /// The bridge's `path<TAB>line<TAB>column` lines, read byte by byte (every config of a
    /// repository goes through here when it is linted).
    private static func locations(_ text: UnsafePointer<CChar>) -> [String: SourcePosition] {
        let bytes = UnsafeRawBufferPointer(start: text, count: strlen(text))
        var positions: [String: SourcePosition] = [:]
        var start = 0
        while start < bytes.count {
            var end = start
            var tabs = (first: 0, second: 0, count: 0)
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") {
                if bytes[end] == UInt8(ascii: "\t") {
                    tabs.count += 1
                    if tabs.count == 1 { tabs.first = end } else { tabs.second = end }
                }
                end += 1
            }
            if tabs.count == 2, let row = decimal(bytes[(tabs.first + 1)..<tabs.second]),
                let column = decimal(bytes[(tabs.second + 1)..<end])
            {
                positions[String(decoding: bytes[start..<tabs.first], as: UTF8.self)] = SourcePosition(line: row, column: column)
            }
            start = end + 1
        }
        return positions
    }

    private static func decimal(_ digits: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Prints `message` in the style of Triton's documentation.
    public static func print<M: SwiftProtobuf.Message>(_ message: M, protoName: String) -> String {
        let binary: [UInt8] = (try? message.serializedBytes()) ?? []
        let printed = binary.withUnsafeBufferPointer { buffer in
            tp_print_text_format(protoName, buffer.baseAddress, buffer.count)
        }
        guard let printed else { fatalError("cannot print \(protoName)") }
        defer { tp_string_free(printed) }
        return String(cString: printed)
    }
}

extension Inference_ModelConfig {
    public static let protoName = "inference.ModelConfig"

    /// Parses config.pbtxt text exactly as Triton's ReadTextProto does.
    public static func parse(_ text: String) throws -> TextProtoDocument<Inference_ModelConfig> {
        try TextProto.parse(text, as: Inference_ModelConfig.self, protoName: protoName)
    }

    public static func parse(bytes: [UInt8]) throws -> TextProtoDocument<Inference_ModelConfig> {
        try TextProto.parse(bytes: bytes, as: Inference_ModelConfig.self, protoName: protoName)
    }

    /// The config in the style of Triton's documentation (`input [ { ... } ]`).
    public var pbtxt: String { TextProto.print(self, protoName: Self.protoName) }
}

extension Oneflow_VariableMetaInfo {
    public static let protoName = "oneflow.VariableMetaInfo"

    public static func parse(_ text: String) throws -> Oneflow_VariableMetaInfo {
        try TextProto.parse(text, as: Oneflow_VariableMetaInfo.self, protoName: protoName).message
    }
}
