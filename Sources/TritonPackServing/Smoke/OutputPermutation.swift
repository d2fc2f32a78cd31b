import Foundation
import TritonPackModels

/// The outputs of a server that numbers them differently from the config (the oneflow backend
/// numbers them in hash-map order): a reordering under which each served output matches an
/// expected file.
package enum OutputPermutation {
    /// When the outputs do not match their expected files but a reordering of them does, the
    /// reordering: element `i` is the index of the expected output that served output `i` carries.
    package static func find(_ answer: [String: TensorData], config: Inference_ModelConfig, comparison: OutputComparison)
        throws -> [Int]?
    {
        let outputs = config.output
        guard outputs.count > 1, comparison.expected != nil else { return nil }
        var expected: [TensorData] = []
        var served: [TensorData] = []
        for (index, output) in outputs.enumerated() {
            guard let file = comparison.expectedFile(for: output, index: index), let tensor = answer[output.name] else {
                return nil
            }
            expected.append(try NPY.read(file))
            served.append(tensor)
        }
        let candidates = served.map { tensor in expected.indices.filter { comparison.matches(tensor, expected[$0]) } }
        if candidates.enumerated().allSatisfy({ $0.element.contains($0.offset) }) { return nil }
        func assign(_ index: Int, _ used: Set<Int>) -> [Int]? {
            if index == candidates.count { return [] }
            for choice in candidates[index] where !used.contains(choice) {
                if let rest = assign(index + 1, used.union([choice])) { return [choice] + rest }
            }
            return nil
        }
        return assign(0, [])
    }
}
