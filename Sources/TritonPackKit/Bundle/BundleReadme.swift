/// The part of a bundle's README that depends on its models: each one's inputs and outputs, and
/// the client command that feeds it.
enum BundleReadme {
    static func modelsSection(_ description: BundleDescription) -> String {
        description.models.map(section).joined(separator: "\n")
    }

    private static func section(_ model: BundleModel) -> String {
        var lines: [String] = ["### `\(model.name)`", ""]
        var facts = ["backend `\(model.backend)`"]
        if let platform = model.platform { facts.append("platform `\(platform)`") }
        facts.append(model.versions.count == 1 ? "version \(model.versions[0])" : "versions \(model.versions.map(String.init).joined(separator: ", "))")
        facts.append(
            model.maxBatchSize > 0
                ? "`max_batch_size: \(model.maxBatchSize)` (the first dimension of every tensor is the batch)"
                : "no batching (`max_batch_size: 0`)")
        lines.append(facts.joined(separator: ", ").capitalizedFirst + ".")
        lines.append("")
        lines.append("| input | datatype | shape of one request | `client/infer.py` reads |")
        lines.append("|---|---|---|---|")
        for input in model.inputs {
            let reads = input.image.map { "an image file (\($0.rawValue), pixels 0-255)" } ?? "a `.npy` file"
            lines.append("| `\(input.name)` | \(input.datatype) | \(shape(input.shape)) | \(reads) |")
        }
        lines.append("")
        lines.append("| output | datatype | shape | `client/infer.py` writes |")
        lines.append("|---|---|---|---|")
        for output in model.outputs {
            let writes = output.image != nil ? "`\(output.name).png` and `\(output.name).npy`" : "`\(output.name).npy`"
            lines.append("| `\(output.name)` | \(output.datatype) | \(shape(output.shape)) | \(writes) |")
        }
        if let signature = model.signature {
            lines.append("")
            lines.append("Signature recorded when the model was packed: inputs \(signature.inputs.map(\.summary).joined(separator: ", ")); outputs \(signature.outputs.map(\.summary).joined(separator: ", ")).")
        }
        if model.backend != "ensemble" {
            let arguments = model.inputs.map { "--input \($0.name)=\($0.image != nil ? "picture.jpg" : "\($0.name).npy")" }
            lines.append("")
            lines.append("```")
            lines.append((["python3 client/infer.py --model \(model.name)"] + arguments).joined(separator: " "))
            lines.append("python3 client/infer.py --model \(model.name) --random")
            lines.append("```")
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    private static func shape(_ dims: [Int64]) -> String {
        "[" + dims.map { $0 < 0 ? "any" : String($0) }.joined(separator: ", ") + "]"
    }
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
