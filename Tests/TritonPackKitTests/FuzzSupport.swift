import Foundation
import XCTest

@testable import TritonPackModels
@testable import TritonPackServing

/// A fuzz test's random source: seeded, so a failure replays. The seed is printed; set
/// TRITONPACK_FUZZ_SEED to replay another one.
func fuzzGenerator(_ test: XCTestCase, defaultSeed: UInt64) -> SplitMix64 {
    let seed = ProcessInfo.processInfo.environment["TRITONPACK_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed
    print("\(test.name): seed \(seed) (TRITONPACK_FUZZ_SEED=\(seed) replays it)")
    return SplitMix64(seed: seed)
}

/// Whether `position` (1-based) names a place in `text`, a character of a line or just past its
/// end, counting columns as libprotobuf's tokenizer does (a tab advances to the next multiple of 8).
func position(_ position: SourcePosition, isInside text: [UInt8]) -> Bool {
    let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    guard (1...lines.count).contains(position.line) else { return false }
    var width = 0
    for byte in lines[lines.startIndex + position.line - 1] {
        width = byte == UInt8(ascii: "\t") ? width + 8 - width % 8 : width + 1
    }
    return (1...(width + 1)).contains(position.column)
}

/// `text` with 1 to 6 random edits: a byte replaced by, or a token inserted from, `tokens`; a byte
/// removed; the text cut short.
func mutated(_ text: [UInt8], tokens: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
    var bytes = text
    for _ in 0..<Int.random(in: 1...6, using: &generator) where !bytes.isEmpty {
        let position = Int.random(in: 0..<bytes.count, using: &generator)
        switch Int.random(in: 0..<4, using: &generator) {
        case 0: bytes[position] = tokens.randomElement(using: &generator)!
        case 1: bytes.remove(at: position)
        case 2: bytes.insert(tokens.randomElement(using: &generator)!, at: position)
        default: bytes = Array(bytes[..<position])
        }
    }
    return bytes
}

/// The outcome every config text must have: it parses to a message that prints back and re-parses
/// to the same message, or it is refused with a syntax error at a position inside the text.
/// Returns the error, nil when it parsed.
@discardableResult
func assertParsesAndRoundTripsOrIsRefusedInside(
    _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line
) -> TextProtoSyntaxError? {
    let shown = String(decoding: bytes.prefix(400), as: UTF8.self).debugDescription
    do {
        let message = try Inference_ModelConfig.parse(bytes: bytes).message
        let printed = message.pbtxt
        XCTAssertEqual(
            try Inference_ModelConfig.parse(printed).message, message, "\(shown) printed as \(printed)", file: file, line: line)
        return nil
    } catch let error as TextProtoSyntaxError {
        XCTAssertTrue(position(error.position, isInside: bytes), "\(error) outside \(shown)", file: file, line: line)
        XCTAssertFalse(error.message.isEmpty, file: file, line: line)
        return error
    } catch {
        XCTFail("\(shown): \(error) is not a syntax error", file: file, line: line)
        return nil
    }
}
