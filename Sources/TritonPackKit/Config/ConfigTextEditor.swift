import Foundation

/// Replaces one top-level field of a config.pbtxt in place, keeping the rest of the text
/// (comments, layout) as the user wrote it.
enum ConfigTextEditor {
    /// `text` with the top-level message field `field` replaced by `replacement` (appended when absent).
    public static func replacing(field: String, in text: String, with replacement: String) throws -> String {
        let document = try Inference_ModelConfig.parse(text)
        guard let start = document.positions[field] else {
            return text + (text.hasSuffix("\n") || text.isEmpty ? "" : "\n") + replacement
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var offset = 0
        for line in lines.prefix(start.line - 1) { offset += line.utf8.count + 1 }
        offset += start.column - 1
        let bytes = Array(text.utf8)
        guard let end = endOfMessageField(bytes, from: offset) else {
            throw TritonPackError.refused(nil, "cannot find the end of '\(field)' in the config")
        }
        let edited = Array(bytes[..<offset]) + Array(replacement.trimmingCharacters(in: .newlines).utf8) + Array(bytes[end...])
        let result = String(decoding: edited, as: UTF8.self)
        _ = try Inference_ModelConfig.parse(result)
        return result
    }

    /// The index just after the `}` or `>` closing the message that starts after `start`.
    static func endOfMessageField(_ bytes: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var index = start
        var quote: UInt8?
        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                if byte == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "#") {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "<") {
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: ">") {
                depth -= 1
                if depth == 0 { return index + 1 }
            }
            index += 1
        }
        return nil
    }
}
