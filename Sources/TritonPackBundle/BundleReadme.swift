/// The part of a bundle's README that depends on its models: each one's inputs and outputs, and
/// the client command that feeds it.
import TritonPackModels

package enum BundleReadme {
    package static func modelsSection(_ description: BundleDescription) -> String {
        description.models.map { section($0, image: description.containerImage) }.joined(separator: "\n")
    }

    private static func section(_ model: BundleModel, image: String) -> String {
        var lines: [String] = ["### `\(model.name)`", ""]
        var facts = ["backend `\(model.backend)`"]
        if let platform = model.platform { facts.append("platform `\(platform)`") }
        facts.append(
            model.versions.count == 1
                ? "version \(model.versions[0])" : "versions \(model.versions.map(String.init).joined(separator: ", "))")
        facts.append(
            model.maxBatchSize > 0
                ? "`max_batch_size: \(model.maxBatchSize)` (the first dimension of every tensor is the batch)"
                : "no batching (`max_batch_size: 0`)")
        lines.append(facts.joined(separator: ", ").capitalizedFirst + ".")
        lines.append("")
        if model.backend == OneFlowBackend.backendName {
            lines += oneflowNeeds(model, image: image)
        }
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
            lines.append(
                "Signature recorded when the model was packed: inputs \(signature.inputs.map(\.summary).joined(separator: ", ")); outputs \(signature.outputs.map(\.summary).joined(separator: ", "))."
            )
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

    /// What a OneFlow model needs, and the three ways `run.sh` can serve it.
    private static func oneflowNeeds(_ model: BundleModel, image: String) -> [String] {
        let gpu =
            model.gpu
            ? "Its config asks for a GPU (`KIND_GPU`). Without one, `run.sh` serves it with `KIND_CPU` instead, and says so."
            : "It runs on CPU (`KIND_CPU`)."
        return [
            "A graph saved by OneFlow (`flow.save`), served by Triton's `oneflow` backend. \(gpu)",
            "",
            "`run.sh` picks the first of these that this machine can do, and says which and why:",
            "",
            "1. a `tritonserver` with the `oneflow` backend (`backends/oneflow/libtriton_oneflow.so`), as in the",
            "   OneFlow Serving image: `./run.sh --tritonserver /opt/tritonserver/bin/tritonserver`;",
            "2. the OneFlow Serving image itself (`\(image)`), when a Docker engine answers;",
            "3. any local `tritonserver` (with its Python backend) plus OneFlow's own runtime, shipped in",
            "   `oneflow_runtime/`: it needs a Python 3.7-3.10 with `oneflow==0.9.0` (and `numpy<2`),",
            "   given with `--oneflow-python PATH` or `$TRITONPACK_ONEFLOW_PYTHON`",
            "   (`./run.sh --tritonserver PATH --oneflow-python ~/venvs/oneflow/bin/python`).",
            "",
        ]
    }

    private static func shape(_ dims: [Int64]) -> String {
        "[" + dims.map { $0 < 0 ? "any" : String($0) }.joined(separator: ", ") + "]"
    }
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

extension BundleReadme {
    /// Whether a bundled model is an image pipeline's ensemble (`pack --pipeline image`).
    package static func isPipeline(_ model: BundleModel) -> Bool {
        model.backend == "ensemble" && model.inputs.map(\.name) == ["IMAGE"] && model.inputs.first?.datatype == "BYTES"
            && [ImagePipeline.imageOutput, "LABELS"].contains(model.outputs.first?.name ?? "")
    }

    /// How to call each image pipeline: the client, the web page, and `curl` with Triton's binary
    /// tensor extension (a JSON header, then the tensor's bytes; a BYTES element is its length as 4
    /// little-endian bytes, then the bytes). Empty without pipelines.
    package static func pipelinesSection(_ description: BundleDescription) -> String {
        let pipelines = description.models.filter(isPipeline)
        guard !pipelines.isEmpty else { return "" }
        var lines = [
            "## Image pipelines", "",
            "These models take a photo's bytes (JPEG, PNG or WebP) and answer with an image at the photo's size (PNG, or JPEG with the request parameter `format` set to `jpeg`) or with labels; `client/infer.py --image` and the web page use them with Python's standard library alone.",
            "",
        ]
        for model in pipelines {
            let output = model.outputs.first?.name ?? ImagePipeline.imageOutput
            lines.append("### `\(model.name)`")
            lines.append("")
            lines.append("```sh")
            lines.append("python3 client/infer.py --model \(model.name) --image photo.jpg --output result.png")
            lines.append("```")
            lines.append("")
            lines.append("With `curl` alone (Triton's binary tensor extension):")
            lines.append("")
            lines.append("```sh")
            lines.append("photo=photo.jpg; n=$(stat -c %s \"$photo\")")
            lines.append(
                "header='{\"inputs\":[{\"name\":\"IMAGE\",\"shape\":[1],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":'$((n + 4))'}}],\"outputs\":[{\"name\":\"\(output)\",\"parameters\":{\"binary_data\":true}}]}'"
            )
            lines.append(
                "{ printf '%s' \"$header\"; printf \"$(printf '\\\\%03o' $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255)))\"; cat \"$photo\"; } >request.bin"
            )
            lines.append("curl -s -D answer.headers -o answer.bin -H 'Content-Type: application/octet-stream' \\")
            lines.append("  -H \"Inference-Header-Content-Length: ${#header}\" --data-binary @request.bin \\")
            lines.append("  http://127.0.0.1:8000/v2/models/\(model.name)/infer")
            lines.append("skip=$(tr -d '\\r' <answer.headers | sed -n 's/^[Ii]nference-[Hh]eader-[Cc]ontent-[Ll]ength: *//p')")
            if output == "LABELS" {
                lines.append("tail -c +$((skip + 1)) answer.bin | tr -c '[:print:]' '\\n'   # <score>:<index>:<label> each")
            } else {
                lines.append("tail -c +$((skip + 5)) answer.bin >result.png")
            }
            lines.append("```")
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
