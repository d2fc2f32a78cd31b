import Foundation
import TritonPackModels

/// The inputs of the checked and timed requests: the `.npy` files of an inputs folder, or
/// synthetic tensors of the config's shapes (with `shapes` for variable dimensions) from `seed`.
package struct SmokeInputs: Sendable {
    package var folder: URL?
    package var shapes: [String: [Int64]]
    package var seed: UInt64

    package init(options: SmokeOptions) {
        folder = options.inputs
        shapes = options.shapes
        seed = options.seed
    }

    package func build(_ config: Inference_ModelConfig) throws -> [(String, TensorData)] {
        try config.input.enumerated().map { index, input in
            if let directory = folder {
                for file in ["\(input.name).npy", "INPUT_\(index).npy"] {
                    let url = directory.appendingPathComponent(file)
                    guard FileManager.default.fileExists(atPath: url.path) else { continue }
                    let tensor = try NPY.read(url)
                    guard tensor.dataType == input.dataType else {
                        throw TritonPackError.refused(
                            url.path,
                            "holds \(tensor.dataType.configName) but input '\(input.name)' is \(input.dataType.configName)")
                    }
                    return (input.name, tensor)
                }
                throw TritonPackError.refused(
                    directory.path, "no \(input.name).npy or INPUT_\(index).npy for input '\(input.name)'")
            }
            let dims = shapes[input.name] ?? input.dims.map { $0 == -1 ? 1 : $0 }
            let shape = (config.maxBatchSize > 0 ? [1] : []) + dims
            return (input.name, TensorData.synthetic(input.dataType, shape: shape, seed: seed &+ UInt64(index)))
        }
    }
}
