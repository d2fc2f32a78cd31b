import Foundation

/// One operation of a OneFlow MLIR job, as far as tritonpack needs it.
package struct MLIROperation: Equatable, Sendable {
    /// `oneflow.input`, `oneflow.output` or `oneflow.variable`.
    public var opType: String
    /// Raw attribute values by name, e.g. `op_name` -> `"m.fc.weight"`, `shape` -> `[16 : si64, 4 : si64]`.
    public var attributes: [String: String]
    /// The 1-based line where the operation starts.
    public var line: Int

    public var opName: String? { attributes["op_name"].flatMap(MLIRScanner.stringLiteral) }
    public var dataTypeCode: Int? { attributes["data_type"].flatMap(MLIRScanner.integerAttribute) }
    public var shape: [Int64]? { attributes["shape"].flatMap(MLIRScanner.integerArray) }
}

/// Finds OneFlow's interface operations in `model.mlir` text (MLIR's generic op syntax:
/// `%r = "oneflow.input"(%arg0) {attr = value, ...} : (type) -> type`).
package enum MLIRScanner {
    public static let interfaceOps = ["oneflow.input", "oneflow.output", "oneflow.variable"]

    public static func operations(in text: String) throws -> [MLIROperation] {
        let bytes = Array(text.utf8)
        var found: [MLIROperation] = []
        var line = 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") { line += 1 }
            if byte == UInt8(ascii: "\""), let (opType, afterName) = interfaceOp(at: index, in: bytes) {
                let (attributes, end) = try attributeDictionary(after: afterName, in: bytes, line: line)
                found.append(MLIROperation(opType: opType, attributes: attributes, line: line))
                line += bytes[index..<end].lazy.filter { $0 == UInt8(ascii: "\n") }.count
                index = end
                continue
            }
            index += 1
        }
        return found
    }

    private static func interfaceOp(at index: Int, in bytes: [UInt8]) -> (String, Int)? {
        for op in interfaceOps {
            let quoted = Array("\"\(op)\"(".utf8)
            if index + quoted.count <= bytes.count, Array(bytes[index..<index + quoted.count]) == quoted {
                return (op, index + quoted.count - 1)
            }
        }
        return nil
    }

    /// Skips the operand list starting at `start` (an opening parenthesis) and reads the `{...}`
    /// attribute dictionary after it. Returns the attributes and the index after the dictionary.
    private static func attributeDictionary(
        after start: Int, in bytes: [UInt8], line: Int
    ) throws -> ([String: String], Int) {
        guard let operandsEnd = matchingClose(from: start, in: bytes) else {
            throw MLIRSyntaxError(line: line, message: "unterminated operand list")
        }
        var index = operandsEnd + 1
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{"),
            let end = matchingClose(from: index, in: bytes)
        else {
            throw MLIRSyntaxError(line: line, message: "operation has no attribute dictionary")
        }
        var attributes: [String: String] = [:]
        for entry in splitTopLevel(Array(bytes[(index + 1)..<end]), separator: UInt8(ascii: ",")) {
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: entry[..<equals], as: UTF8.self).trimmingSpaces
            let value = String(decoding: entry[(equals + 1)...], as: UTF8.self).trimmingSpaces
            attributes[key] = value
        }
        return (attributes, end + 1)
    }

    private static let openers: [UInt8: UInt8] = [
        UInt8(ascii: "("): UInt8(ascii: ")"), UInt8(ascii: "["): UInt8(ascii: "]"),
        UInt8(ascii: "{"): UInt8(ascii: "}"), UInt8(ascii: "<"): UInt8(ascii: ">"),
    ]

    /// The index of the bracket closing the one at `start`, skipping strings and nested brackets.
    /// `->` is an arrow, not a closing angle bracket.
    private static func matchingClose(from start: Int, in bytes: [UInt8]) -> Int? {
        var stack: [UInt8] = []
        var index = start
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if let closer = openers[byte] {
                stack.append(closer)
            } else if byte == UInt8(ascii: ">"), index > 0, bytes[index - 1] == UInt8(ascii: "-") {
                // an arrow
            } else if let expected = stack.last, byte == expected {
                stack.removeLast()
                if stack.isEmpty { return index }
            }
            index += 1
        }
        return nil
    }

    private static func splitTopLevel(_ bytes: [UInt8], separator: UInt8) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var depth = 0
        var inString = false
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if openers[byte] != nil {
                depth += 1
            } else if byte == UInt8(ascii: ">"), index > 0, bytes[index - 1] == UInt8(ascii: "-") {
                // an arrow
            } else if openers.values.contains(byte) {
                depth -= 1
            } else if byte == separator, depth == 0 {
                parts.append(bytes[start..<index])
                start = index + 1
            }
            index += 1
        }
        if start < bytes.count { parts.append(bytes[start...]) }
        return parts
    }

    /// `"text"` -> `text` (MLIR escapes are kept as written).
    package static func stringLiteral(_ raw: String) -> String? {
        guard raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") else { return nil }
        return String(raw.dropFirst().dropLast())
    }

    /// `2 : i32` -> 2
    package static func integerAttribute(_ raw: String) -> Int? {
        let number = raw.split(separator: ":", maxSplits: 1).first.map { String($0).trimmingSpaces } ?? ""
        return Int(number)
    }

    /// `[1 : si64, 4 : si64]` -> [1, 4]; `[]` -> []
    package static func integerArray(_ raw: String) -> [Int64]? {
        guard raw.hasPrefix("["), raw.hasSuffix("]") else { return nil }
        let body = raw.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        if body.isEmpty { return [] }
        var values: [Int64] = []
        for element in body.split(separator: ",") {
            let number = element.split(separator: ":", maxSplits: 1).first.map { String($0).trimmingSpaces } ?? ""
            guard let value = Int64(number) else { return nil }
            values.append(value)
        }
        return values
    }
}

package struct MLIRSyntaxError: Error, Equatable, Sendable {
    public var line: Int
    public var message: String
}

extension String {
    package var trimmingSpaces: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
