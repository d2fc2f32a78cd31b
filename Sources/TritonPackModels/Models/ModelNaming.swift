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
            if last == "model" || last == "model.onnx" || ModelNaming.canonicalVersion(last) != nil {
                candidate = candidate.deletingLastPathComponent()
                continue
            }
            return last
        }
        return "model"
    }

    /// `3` -> 3; `03`, `3a`, `-1`, `+2`, ` 1` -> nil (Triton skips or misreads those).
    public static func canonicalVersion(_ name: String) -> Int64? {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard name == "0" || !name.hasPrefix("0") else { return nil }
        return Int64(name)
    }
}
