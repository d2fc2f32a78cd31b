import Foundation

public enum ModelNaming {
    /// A model name from where its files are: `fast_neural_style/model` -> `fast_neural_style`,
    /// `repo/net/1/model` -> `net`, `resnet.onnx` -> `resnet`.
    public static func defaultName(forModelAt url: URL) -> String {
        var candidate = url.standardizedFileURL
        if candidate.pathExtension == "onnx" {
            let base = candidate.deletingPathExtension().lastPathComponent
            if base != "model" { return base }
            candidate = candidate.deletingLastPathComponent()
        }
        while candidate.path != "/" {
            let last = candidate.lastPathComponent
            if last == "model" || last == "model.onnx" || ModelRepository.canonicalVersion(last) != nil {
                candidate = candidate.deletingLastPathComponent()
                continue
            }
            return last
        }
        return "model"
    }
}
