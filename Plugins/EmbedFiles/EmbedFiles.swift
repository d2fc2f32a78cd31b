import Foundation
import PackagePlugin

/// Compiles folders of text files into the targets that carry them, at build time: the built-in
/// bundle template and the Python runtimes tritonpack materialises. Each folder becomes one Swift
/// enum (`files: [File]` with path, executable and text); every file is an input of its command,
/// so editing, adding or removing one regenerates the source.
@main
struct EmbedFiles: BuildToolPlugin {
    struct Folder {
        /// The folder, relative to the package.
        var path: String
        var typeName: String
        var summary: String
        /// Only the Python modules are carried (the READMEs and tests stay on disk).
        var pythonModulesOnly = false
    }

    /// The folders each target carries.
    static let folders: [String: [Folder]] = [
        "TritonPackBundle": [
            Folder(
                path: "templates/default", typeName: "DefaultTemplates",
                summary: "The built-in bundle template, compiled in from `templates/default`.")
        ],
        "TritonPackServing": [
            Folder(
                path: "runtime/oneflow", typeName: "OneFlowRuntimeFiles",
                summary:
                    "The OneFlow Python runtime (a Python-backend model.py and its loader), compiled in from `runtime/oneflow`."
            ),
            Folder(
                path: "runtime/environment", typeName: "EnvironmentPackerFiles",
                summary: "The execution-environment packer, compiled in from `runtime/environment`."),
            Folder(
                path: "runtime/onnx", typeName: "ONNXConverterFiles",
                summary: "The OneFlow-to-ONNX converter and verifier, compiled in from `runtime/onnx`.",
                pythonModulesOnly: true),
            Folder(
                path: "runtime/onnxruntime", typeName: "ONNXRuntimeServingFiles",
                summary:
                    "The Python-backend model that runs model.onnx with onnxruntime, compiled in from `runtime/onnxruntime`."
            ),
            Folder(
                path: "runtime/pipeline", typeName: "ImagePipelineFiles",
                summary: "The image pipeline's Python-backend steps, compiled in from `runtime/pipeline`.",
                pythonModulesOnly: true),
        ],
    ]

    struct UnknownTarget: Error, CustomStringConvertible {
        var name: String
        var description: String { "EmbedFiles: no folders are listed for target \(name)" }
    }

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let folders = Self.folders[target.name] else { throw UnknownTarget(name: target.name) }
        let tool = try context.tool(named: "embed-files")
        return try folders.map { folder in
            let root = context.package.directoryURL.appending(path: folder.path)
            let files = try Self.files(in: root).filter { path in
                !folder.pythonModulesOnly || (path.hasSuffix(".py") && !path.hasPrefix("test_"))
            }
            let output = context.pluginWorkDirectoryURL.appending(path: "\(folder.typeName).swift")
            var arguments = [output.path, folder.typeName, folder.summary, folder.path, root.path]
            for path in files {
                let mode = try FileManager.default.attributesOfItem(atPath: root.appending(path: path).path)[.posixPermissions]
                if let mode = mode as? Int, mode & 0o100 != 0 {
                    arguments.append("--executable")
                }
                arguments.append(path)
            }
            return .buildCommand(
                displayName: "Embedding \(folder.path) as \(folder.typeName)",
                executable: tool.url,
                arguments: arguments,
                inputFiles: files.map { root.appending(path: $0) },
                outputFiles: [output]
            )
        }
    }

    /// The regular files under `root`, relative to it and sorted, without hidden files and folders
    /// or Python's `__pycache__`.
    static func files(in root: URL) throws -> [String] {
        var found: [String] = []
        func walk(_ relative: String) throws {
            let folder = relative.isEmpty ? root : root.appending(path: relative)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path)
            where !name.hasPrefix(".") && name != "__pycache__" {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root.appending(path: path).path, isDirectory: &isDirectory)
                else { continue }
                if isDirectory.boolValue {
                    try walk(path)
                } else {
                    found.append(path)
                }
            }
        }
        try walk("")
        return found.sorted()
    }
}
