import Foundation
import TritonPackModels

/// Checks a served answer against the model's config and, when there is an expected folder,
/// against its `.npy` files within the tolerance: smoke's, rollout's and tune's comparison.
package struct OutputComparison: Sendable {
    package var model: String
    /// The folder of the expected outputs (for a decoupled model: one folder per response).
    package var expected: URL?
    package var tolerance: Tolerance
    package var allowNonFinite: Bool
    /// For a decoupled model: how many responses the request must get.
    package var responses: Int?

    package init(options: SmokeOptions) {
        model = options.model
        expected = options.expected
        tolerance = options.tolerance
        allowNonFinite = options.allowNonFinite
        responses = options.responses
    }

    /// The checks of one answer against the config and the expected folder.
    package func check(_ answer: [String: TensorData], config: Inference_ModelConfig, batch: Int64?) throws -> [OutputCheck] {
        try check(answer, config: config, batch: batch, expected: expected)
    }

    /// The checks of one answer; `expected`: the folder of its expected outputs, if any.
    package func check(_ answer: [String: TensorData], config: Inference_ModelConfig, batch: Int64?, expected: URL?) throws
        -> [OutputCheck]
    {
        try config.output.enumerated().map { index, output in
            var check = OutputCheck(name: output.name, problems: [])
            guard let tensor = answer[output.name] else {
                check.problems.append("missing from the response")
                return check
            }
            check.dataType = tensor.dataType.configName
            check.shape = tensor.shape
            if tensor.dataType != output.dataType {
                check.problems.append("type \(tensor.dataType.configName), but the config says \(output.dataType.configName)")
            }
            let dims = output.hasReshape ? output.reshape.shape : output.dims
            let expectedShape = (config.maxBatchSize > 0 ? [batch ?? -1] : []) + dims
            let shapeMatches =
                tensor.shape.count == expectedShape.count
                && zip(tensor.shape, expectedShape).allSatisfy { $1 == -1 || $0 == $1 }
            if !shapeMatches {
                check.problems.append("shape \(tensor.shape), but the config says \(expectedShape)")
            }
            let values = tensor.doubles()
            if let values, [.typeFp16, .typeFp32, .typeFp64, .typeBf16].contains(tensor.dataType) {
                let nonFinite = values.filter { !$0.isFinite }.count
                check.nonFinite = nonFinite
                if nonFinite > 0 && !allowNonFinite {
                    check.problems.append("\(nonFinite) NaN or Inf value(s)")
                }
            }
            if let directory = expected {
                guard let file = expectedFile(for: output, index: index, in: directory) else {
                    check.problems.append("no expected file (\(output.name).npy or OUTPUT_\(index).npy) in \(directory.path)")
                    return check
                }
                let expected = try NPY.read(file)
                if expected.shape != tensor.shape {
                    check.problems.append("shape \(tensor.shape) differs from the expected \(expected.shape)")
                } else if let got = values, let want = expected.doubles() {
                    var maxAbsolute = 0.0
                    var maxRelative = 0.0
                    var mismatches = 0
                    for (a, e) in zip(got, want) {
                        let difference = abs(a - e)
                        maxAbsolute = max(maxAbsolute, difference.isNaN ? .infinity : difference)
                        if e != 0 { maxRelative = max(maxRelative, difference / abs(e)) }
                        if !tolerance.accepts(a, expected: e) { mismatches += 1 }
                    }
                    check.maxAbsoluteError = maxAbsolute
                    check.maxRelativeError = maxRelative
                    check.mismatches = mismatches
                    if mismatches > 0 {
                        check.problems.append(
                            "\(mismatches) of \(got.count) values differ from \(file.lastPathComponent) beyond rtol \(tolerance.relative), atol \(tolerance.absolute) (max abs error \(maxAbsolute), max rel error \(maxRelative))"
                        )
                    }
                } else if expected.bytes != tensor.bytes {
                    check.problems.append("differs from \(file.lastPathComponent)")
                }
            }
            return check
        }
    }

    /// A decoupled model's responses: each checked as one answer (against `expected/<i>/` when
    /// `expected` is given), and their number against the response folders or `responses`.
    package func checkResponses(_ answers: [[String: TensorData]], config: Inference_ModelConfig, batch: Int64?) throws
        -> ([OutputCheck], [String])
    {
        var problems: [String] = []
        let folders = try responseFolders()
        if let folders, folders.count != answers.count {
            problems.append(
                "\(answers.count) response(s), but \(expected!.path) has \(folders.count) response folder(s) (0 to \(folders.count - 1))"
            )
        }
        if let wanted = responses, wanted != answers.count {
            problems.append("\(answers.count) response(s), but --responses \(wanted)")
        }
        var checks: [OutputCheck] = []
        for (index, answer) in answers.enumerated() {
            let folder = folders.map { index < $0.count ? $0[index] : nil }
            if folders != nil && folder == nil { continue }
            for var output in try check(answer, config: config, batch: batch, expected: folder ?? nil) {
                output.response = index
                checks.append(output)
            }
        }
        return (checks, problems)
    }

    /// The response folders of a decoupled model's expected folder (0/, 1/, ...), in order; nil
    /// without `expected`.
    package func responseFolders() throws -> [URL]? {
        guard let directory = expected else { return nil }
        let names = try POSIXFiles.entries(of: directory.path).compactMap { Int($0) }.sorted()
        guard !names.isEmpty else {
            throw TritonPackError.refused(
                directory.path,
                "'\(model)' is decoupled: the expected folder holds one folder per response (0, 1, 2, ... each with <name>.npy or OUTPUT_<k>.npy), and this one has none"
            )
        }
        guard names == Array(0..<names.count) else {
            throw TritonPackError.refused(
                directory.path, "the response folders must be numbered 0 to \(names.count - 1) without gaps (found \(names))")
        }
        return names.map { directory.appendingPathComponent(String($0)) }
    }

    /// `<name>.npy` or `OUTPUT_<index>.npy` in the expected folder (or in `directory`).
    package func expectedFile(for output: Inference_ModelOutput, index: Int, in directory: URL? = nil) -> URL? {
        guard let directory = directory ?? expected else { return nil }
        return ["\(output.name).npy", "OUTPUT_\(index).npy"].map { directory.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Whether `tensor` equals `expected` in shape and, within the tolerances, in value.
    package func matches(_ tensor: TensorData, _ expected: TensorData) -> Bool {
        guard tensor.shape == expected.shape else { return false }
        guard let got = tensor.doubles(), let want = expected.doubles() else { return tensor.bytes == expected.bytes }
        return zip(got, want).allSatisfy { tolerance.accepts($0, expected: $1) }
    }
}
