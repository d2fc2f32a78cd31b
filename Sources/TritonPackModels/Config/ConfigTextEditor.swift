import Foundation

/// Replaces one top-level field of a config.pbtxt in place, keeping the rest of the text
/// (comments, layout) as the user wrote it.
package enum ConfigTextEditor {
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
    package static func endOfMessageField(_ bytes: [UInt8], from start: Int) -> Int? {
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

extension ConfigTextEditor {
    /// `text` with every top-level occurrence of `fields` removed and `replacement` (text format
    /// of those fields) written where the first one was, or appended; the rest of the text, comments
    /// included, as written. Returns nil when the edited text would not parse to `expected`.
    package static func replacing(
        fields: Set<String>, in text: String, with replacement: String, expecting expected: Inference_ModelConfig
    )
        -> String?
    {
        let bytes = Array(text.utf8)
        let spans = topLevelFields(bytes).filter { fields.contains($0.name) }.map { lineSpan($0.range, in: bytes) }
        var edited: [UInt8] = []
        var cursor = 0
        let insertion = Array(replacement.trimmingCharacters(in: .newlines).utf8) + [UInt8(ascii: "\n")]
        for (index, span) in spans.enumerated() {
            edited += bytes[cursor..<span.lowerBound]
            if index == 0 { edited += insertion }
            cursor = span.upperBound
        }
        edited += bytes[cursor...]
        if spans.isEmpty && !replacement.isEmpty {
            if let last = edited.last, last != UInt8(ascii: "\n") { edited.append(UInt8(ascii: "\n")) }
            edited += insertion
        }
        let result = String(decoding: edited, as: UTF8.self)
        guard let parsed = try? Inference_ModelConfig.parse(result).message, parsed == expected else { return nil }
        return result
    }

    /// The name and byte range of each top-level field of a text-format message.
    package static func topLevelFields(_ bytes: [UInt8]) -> [(name: String, range: Range<Int>)] {
        var fields: [(String, Range<Int>)] = []
        var index = 0
        func skipSpace() {
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "#") {
                    while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
                } else if [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[index]) {
                    index += 1
                } else {
                    return
                }
            }
        }
        func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "+")
        }
        func skipValue() {
            guard index < bytes.count else { return }
            let byte = bytes[index]
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: "[") {
                index = endOfBracket(bytes, from: index) ?? bytes.count
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                while index < bytes.count && (bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'")) {
                    let quote = bytes[index]
                    index += 1
                    while index < bytes.count && bytes[index] != quote {
                        index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    index += 1
                    let mark = index
                    skipSpace()
                    if index >= bytes.count || (bytes[index] != UInt8(ascii: "\"") && bytes[index] != UInt8(ascii: "'")) {
                        index = mark
                        return
                    }
                }
            } else {
                while index < bytes.count && isNameByte(bytes[index]) { index += 1 }
            }
        }
        while true {
            skipSpace()
            guard index < bytes.count else { break }
            let start = index
            while index < bytes.count && isNameByte(bytes[index]) { index += 1 }
            guard index > start else { break }
            let name = String(decoding: bytes[start..<index], as: UTF8.self)
            skipSpace()
            if index < bytes.count && bytes[index] == UInt8(ascii: ":") {
                index += 1
                skipSpace()
            }
            skipValue()
            let end = index
            skipSpace()
            if index < bytes.count && (bytes[index] == UInt8(ascii: ",") || bytes[index] == UInt8(ascii: ";")) {
                index += 1
            } else {
                index = end
            }
            fields.append((name, start..<index))
        }
        return fields
    }

    /// The index just after the bracket closing the one at `start`, past strings and comments.
    package static func endOfBracket(_ bytes: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                index += 1
                while index < bytes.count && bytes[index] != byte { index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1 }
            } else if byte == UInt8(ascii: "#") {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else if [UInt8(ascii: "{"), UInt8(ascii: "<"), UInt8(ascii: "[")].contains(byte) {
                depth += 1
            } else if [UInt8(ascii: "}"), UInt8(ascii: ">"), UInt8(ascii: "]")].contains(byte) {
                depth -= 1
                if depth == 0 { return index + 1 }
            }
            index += 1
        }
        return nil
    }

    /// `range` widened to whole lines when no other field shares them (indentation, a trailing comment
    /// and the line break go too).
    package static func lineSpan(_ range: Range<Int>, in bytes: [UInt8]) -> Range<Int> {
        var lower = range.lowerBound
        while lower > 0 && (bytes[lower - 1] == UInt8(ascii: " ") || bytes[lower - 1] == UInt8(ascii: "\t")) { lower -= 1 }
        var upper = range.upperBound
        while upper < bytes.count && (bytes[upper] == UInt8(ascii: " ") || bytes[upper] == UInt8(ascii: "\t")) { upper += 1 }
        // A comment after the field on its line describes the field: it goes with it.
        if upper < bytes.count && bytes[upper] == UInt8(ascii: "#") {
            while upper < bytes.count && bytes[upper] != UInt8(ascii: "\n") { upper += 1 }
        }
        let startsLine = lower == 0 || bytes[lower - 1] == UInt8(ascii: "\n")
        let endsLine = upper == bytes.count || bytes[upper] == UInt8(ascii: "\n")
        guard startsLine && endsLine else { return range }
        return lower..<min(bytes.count, upper + 1)
    }
}
