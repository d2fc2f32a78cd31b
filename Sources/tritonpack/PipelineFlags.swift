import ArgumentParser
import Foundation
import TritonPackKit

extension ImageLayout: ExpressibleByArgument {}

/// `pack --pipeline image` and what shapes it.
struct PipelineFlags: ParsableArguments {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case image
    }

    @Option(
        help: ArgumentHelp(
            "Also write <name>_preprocess, <name>_postprocess (Python backend) and the ensemble <name>_image, which takes one encoded image (IMAGE: JPEG, PNG or WebP) and returns an encoded image (OUTPUT_IMAGE: PNG, or JPEG with the request parameter format=jpeg) at the photo's size, or with --labels the top-k labels; the four models share the version number and the ensemble pins it.",
            valueName: "kind"))
    var pipeline: Kind?

    @Option(help: "With --pipeline: the image layout of the model's tensors, CHW or HWC (default: from their shapes).")
    var imageLayout: ImageLayout?

    @Option(help: "With --pipeline: the value of a white pixel in the model's tensors (default 255; 1 for images in 0..1).")
    var imageScale: Double?

    @Option(
        help:
            "With --pipeline: a text file with one label a line; the model's output is a score vector and the pipeline returns LABELS, the top k as <score>:<index>:<label>.",
        completion: .file())
    var labels: String?

    @Option(help: "With --labels: how many labels the pipeline returns when a request does not give top_k.")
    var topK: Int = 5

    func validate() throws {
        if pipeline == nil, imageLayout != nil || imageScale != nil || labels != nil {
            throw ValidationError("--image-layout, --image-scale and --labels shape a pipeline: add --pipeline image")
        }
    }

    var options: ImagePipelineOptions {
        ImagePipelineOptions(
            layout: imageLayout, scale: imageScale, labels: labels.map { URL(fileURLWithPath: $0) }, topK: topK)
    }
}
