import Foundation
import TritonPackModels

extension Linter {
    /// Lints the path a user named, a model repository or one model folder. A path that is
    /// neither (a model's config, a model file, a folder inside a model) is one `repository-path`
    /// error that says what to lint instead, and so is a repository without any model folder
    /// unless `allowEmpty`. `shownAs`: the name the report gives a local copy of what the user
    /// named (an `s3://` URL), which is linted as it is.
    public func lint(named path: String, shownAs: String? = nil, allowEmpty: Bool = false) -> LintReport {
        var report = lint(path: URL(fileURLWithPath: path))
        if let shownAs {
            report.path = shownAs
        } else if let misplaced = Self.misplacement(of: path) {
            report.models = []
            report.diagnostics = [
                Diagnostic(severity: .error, rule: "repository-path", message: misplaced, model: nil, file: report.path)
            ]
        }
        if report.models.isEmpty && report.errorCount == 0 && !allowEmpty {
            report.diagnostics.append(
                Diagnostic(
                    severity: .error, rule: "repository-path",
                    message:
                        "contains no model folder: Triton would serve nothing. Lint the repository (the folder that holds <model>/config.pbtxt), or pass --allow-empty if an empty repository is expected",
                    model: nil, file: report.path))
        }
        return report
    }

    /// What to lint instead, when `path` is a model file or a folder inside a model.
    static func misplacement(of path: String) -> String? {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let parent = url.deletingLastPathComponent()
        if POSIXFiles.isRegularFile(url.path) && url.lastPathComponent == "config.pbtxt" {
            return "is a model's config; lint the model folder \(parent.path) or the repository above it"
        }
        if POSIXFiles.isRegularFile(url.path) {
            return
                "is a file; lint takes a model repository or one model folder (<repository>/<model>, holding config.pbtxt and version folders). To check a model file, pack it first: tritonpack pack \(path) --repo REPOSITORY"
        }
        let insideVersion =
            Int64(url.lastPathComponent) != nil
            && POSIXFiles.isRegularFile(parent.appendingPathComponent("config.pbtxt").path)
        let isModelFile =
            POSIXFiles.isRegularFile(url.appendingPathComponent("model.mlir").path)
            || POSIXFiles.isRegularFile(url.appendingPathComponent("model.onnx").path)
        if insideVersion || isModelFile {
            let model = insideVersion ? parent : parent.deletingLastPathComponent()
            return
                "is inside a model folder, not a repository; lint the model folder \(model.path) or the repository \(model.deletingLastPathComponent().path)"
        }
        return nil
    }
}
