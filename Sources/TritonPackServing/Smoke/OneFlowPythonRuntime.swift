import Foundation
import TritonPackModels
import TritonPackRepository

/// A Python interpreter that has OneFlow (0.9.0 needs Python 3.7-3.10).
public struct OneFlowPython: Sendable, Equatable {
    public static let environmentVariable = "TRITONPACK_ONEFLOW_PYTHON"

    public var executable: URL
    /// `major.minor`, e.g. `3.10`.
    public var version: String
    /// The interpreter's library folder and the CUDA library folders of its packages.
    public var libraryDirectories: [String] = []

    /// Where `make setup` installs OneFlow for the project:
    /// `$TRITONPACK_HOME` or `${XDG_CACHE_HOME:-~/.cache}/tritonpack`, then `oneflow-0.9.0-py3.10/bin/python`.
    public static var projectInstall: URL {
        TritonPackHome.url.appendingPathComponent("oneflow-0.9.0-py3.10/bin/python")
    }

    /// The Python to use: `explicit` (a flag), then $TRITONPACK_ONEFLOW_PYTHON, then the project's install.
    public static func locate(explicit: String?) throws -> OneFlowPython {
        let environment = ProcessInfo.processInfo.environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        let (path, origin): (String, String) =
            if let explicit { (explicit, "--oneflow-python") } else if let environment {
                (environment, "$\(environmentVariable)")
            } else { (projectInstall.path, "the project's install (make setup)") }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TritonPackError.io(
                path,
                "no Python with OneFlow here (\(origin)): run `make setup`, or point --oneflow-python or $\(environmentVariable) at a Python 3.7-3.10 that has oneflow==0.9.0"
            )
        }
        return try probe(URL(fileURLWithPath: path))
    }

    /// Runs the runtime's own command line (`oneflow_runner.py`, compiled in) with this interpreter.
    package static func runner(_ executable: URL, _ arguments: [String]) throws -> ChildProcess.Result {
        let source = OneFlowPythonServing.runtimeFiles.first { $0.path == "oneflow_runner.py" }!.text
        return try ChildProcess.run(executable, ["-c", source] + arguments)
    }

    /// Asks the interpreter for its version and whether it has OneFlow, without importing OneFlow.
    public static func probe(_ executable: URL) throws -> OneFlowPython {
        let result = try runner(executable, ["describe"])
        struct Answer: Decodable {
            var version: String
            var oneflow: Bool
            var library_dirs: [String]
        }
        guard result.status == 0, let answer = try? JSONDecoder().decode(Answer.self, from: Data(result.stdout.utf8)) else {
            throw TritonPackError.io(executable.path, "cannot ask this Python about itself: \(result.stderr.suffix(300))")
        }
        guard answer.oneflow else {
            throw TritonPackError.io(
                executable.path,
                "this Python (\(answer.version)) has no oneflow package: `\(executable.path) -m pip install oneflow==0.9.0 \"numpy<2\"` needs Python 3.7-3.10, or run `make setup`"
            )
        }
        return OneFlowPython(executable: executable, version: answer.version, libraryDirectories: answer.library_dirs)
    }

    /// The environment of a child running OneFlow: this process's, with the CUDA libraries the
    /// wheel links (even on CPU) and the interpreter's own library folder on the loader path.
    package var runtimeEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        let inherited = environment["LD_LIBRARY_PATH"].map { [$0] } ?? []
        environment["LD_LIBRARY_PATH"] = (libraryDirectories + inherited).joined(separator: ":")
        return environment
    }

    /// The launcher a model folder uses as its Python-backend stub (see `oneflow_runner.stub_launcher`).
    public func stubLauncher(stub: URL) throws -> String {
        let result = try Self.runner(executable, ["stub-launcher", "--stub", stub.path])
        guard result.status == 0, result.stdout.hasPrefix("#!") else {
            throw TritonPackError.io(executable.path, "cannot write the stub launcher: \(result.stderr.suffix(300))")
        }
        return result.stdout
    }
}

/// The parts of a tritonserver installation that serving a OneFlow model needs: whether it has the
/// `oneflow` backend, and the Python-backend stub built for a given Python version.
public struct TritonInstallation: Sendable {
    /// Folders that may be the server's installation root (holding `backends/`).
    public var roots: [URL]

    public init(roots: [URL]) { self.roots = roots }

    /// The variable that names the installation root of a tritonserver started through a
    /// launcher script (whose own folder says nothing about where the server lives).
    public static let rootEnvironmentVariable = "TRITONSERVER_ROOT"

    /// The installation of `executable`, the folders that hold `backends/`, in order:
    /// $TRITONSERVER_ROOT; `<root>` of a `<root>/bin/tritonserver`; for a launcher script,
    /// `tritonserver/` in tritonpack's home (`make setup` links the nvidia-pytriton wheel's server
    /// folder there); `/opt/tritonserver`.
    public init(executable: URL) {
        let resolved = executable.resolvingSymlinksInPath()
        var roots: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment[Self.rootEnvironmentVariable], !explicit.isEmpty {
            roots.append(URL(fileURLWithPath: explicit))
        }
        roots.append(resolved.deletingLastPathComponent().deletingLastPathComponent())
        let head = (try? FileHandle(forReadingFrom: resolved).read(upToCount: 2)) ?? nil
        if head == Data("#!".utf8) {
            roots.append(TritonPackHome.url.appendingPathComponent("tritonserver"))
        }
        roots.append(URL(fileURLWithPath: "/opt/tritonserver"))
        self.roots = roots.filter { POSIXFiles.isDirectory($0.appendingPathComponent("backends").path) }
    }

    /// `libtriton_<name>.so` in one of the installation's backend folders.
    public func backendLibrary(_ name: String) -> URL? {
        roots.map { $0.appendingPathComponent("backends/\(name)/libtriton_\(name).so") }
            .first { POSIXFiles.isRegularFile($0.path) }
    }

    /// A backend folder like the installation's whose Python backend's own stub embeds Python
    /// `version` (the wheel's stub for it), written into `folder`; nil when the installation's own
    /// stub already does.
    public func backends(withPythonStubFor version: String, in folder: URL) throws -> URL? {
        guard let stub = pythonStub(version: version) else {
            throw TritonPackError.io(
                roots.first?.path,
                "this tritonserver has no Python-backend stub for Python \(version): set TRITONPACK_PYTHON_STUB to one built for this server"
            )
        }
        guard let root = roots.first(where: { stub.path.hasPrefix($0.path + "/") }) ?? roots.first,
            stub != root.appendingPathComponent("backends/python/triton_python_backend_stub")
        else { return nil }
        let source = root.appendingPathComponent("backends")
        for backend in try POSIXFiles.entries(of: source.path) {
            let target = folder.appendingPathComponent(backend)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            for entry in try POSIXFiles.entries(of: source.appendingPathComponent(backend).path)
            where !(backend == "python" && entry == OneFlowPythonServing.stubFileName) {
                try FileManager.default.createSymbolicLink(
                    at: target.appendingPathComponent(entry),
                    withDestinationURL: source.appendingPathComponent("\(backend)/\(entry)"))
            }
        }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("python"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: stub, to: folder.appendingPathComponent("python/\(OneFlowPythonServing.stubFileName)"))
        return folder
    }

    /// The Python-backend stub linked against libpython`version`: $TRITONPACK_PYTHON_STUB, the
    /// wheel's `python_backend_stubs/<version>/`, or the backend's own stub when it has that version.
    public func pythonStub(version: String) -> URL? {
        if let explicit = ProcessInfo.processInfo.environment["TRITONPACK_PYTHON_STUB"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        let name = "triton_python_backend_stub"
        for root in roots {
            let versioned = root.appendingPathComponent("python_backend_stubs/\(version)/\(name)")
            if FileManager.default.isExecutableFile(atPath: versioned.path) { return versioned }
            let own = root.appendingPathComponent("backends/python/\(name)")
            if let data = FileManager.default.contents(atPath: own.path),
                data.range(of: Data("libpython\(version).so".utf8)) != nil
            {
                return own
            }
        }
        return nil
    }
}

/// Serves a OneFlow model through the Python backend and OneFlow's own runtime: a copy of the
/// model folder whose config says `backend: "python"`, with the runtime's `model.py` beside
/// each version's untouched `model/` (linked, not copied) and the stub for OneFlow's Python.
public enum OneFlowPythonServing {
    public static let runtimeName = "oneflow-python"
    public static let stubFileName = "triton_python_backend_stub"

    /// The runtime's files (`model.py`, `oneflow_runner.py`), as compiled into tritonpack.
    public static var runtimeFiles: [(path: String, text: String)] {
        OneFlowRuntimeFiles.files.map { ($0.path, $0.text) }
    }

    /// The config that serves `config`'s OneFlow model through the Python backend: the same
    /// name, tensors, batching and instance groups.
    public static func config(for config: Inference_ModelConfig, python: OneFlowPython?) -> Inference_ModelConfig {
        var serving = config
        serving.backend = "python"
        serving.platform = ""
        serving.parameters.removeValue(forKey: "xrt")
        if let python {
            serving.parameters["oneflow_python"] = Inference_ModelParameter.with { $0.stringValue = python.executable.path }
        }
        return serving
    }

    /// Writes `destination/<name>/` serving `source` (a OneFlow model folder) for `versions`.
    public static func writeModel(
        from source: URL, versions: [Int64], config: Inference_ModelConfig, python: OneFlowPython, stub: URL,
        into repository: URL
    ) throws {
        let model = repository.appendingPathComponent(config.name)
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try Data(Self.config(for: config, python: python).pbtxt.utf8).write(
            to: model.appendingPathComponent(ModelRepository.configFileName))
        let launcher = model.appendingPathComponent(stubFileName)
        try Data(try python.stubLauncher(stub: stub).utf8).write(to: launcher)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: launcher.path)
        for version in versions {
            let folder = model.appendingPathComponent(String(version))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for file in runtimeFiles {
                try Data(file.text.utf8).write(to: folder.appendingPathComponent(file.path))
            }
            let graph = source.appendingPathComponent("\(version)/\(OneFlowBackend.modelFolder)").resolvingSymlinksInPath()
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent(OneFlowBackend.modelFolder), withDestinationURL: graph)
        }
    }
}

/// Serves an ONNX model where the server has no onnxruntime backend (the nvidia-pytriton wheel
/// ships only the Python backend): a copy of the model folder whose config says `backend:
/// "python"`, with `runtime/onnxruntime/model.py` beside each version's `model.onnx` (linked), run
/// by the server's own Python, which needs onnxruntime (`make setup` installs 1.19.2, the one
/// Triton 24.09-24.11 ship).
public enum ONNXRuntimePythonServing {
    public static let backendRuntime = "onnxruntime-backend"
    public static let pythonRuntime = "onnxruntime-python"

    /// Which runtime executes the ONNX model, and why; for the Python package, the serving copy
    /// written into `copy` (returned), else nil (the repository is served as it is).
    public static func choose(
        versions: ModelDirectory, servingConfig: Inference_ModelConfig, executable: URL, into copy: URL
    ) throws -> (RuntimeChoice, URL?) {
        if let library = TritonInstallation(executable: executable).backendLibrary("onnxruntime") {
            return (RuntimeChoice(name: backendRuntime, reason: "the server has the onnxruntime backend (\(library.path))"), nil)
        }
        let model = copy.appendingPathComponent(servingConfig.name.isEmpty ? versions.name : servingConfig.name)
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        var config = servingConfig
        config.backend = "python"
        config.platform = ""
        config.defaultModelFilename = ""  // the Python backend loads model.py; the ONNX file is linked as model.onnx
        try Data(config.pbtxt.utf8).write(to: model.appendingPathComponent(ModelRepository.configFileName))
        let file = servingConfig.defaultModelFilename.isEmpty ? "model.onnx" : servingConfig.defaultModelFilename
        for version in try versions.served() {
            let folder = model.appendingPathComponent(String(version))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for runtime in ONNXRuntimeServingFiles.files {
                try Data(runtime.text.utf8).write(to: folder.appendingPathComponent(runtime.path))
            }
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent("model.onnx"),
                withDestinationURL: versions.directory.appendingPathComponent("\(version)/\(file)").resolvingSymlinksInPath())
        }
        return (
            RuntimeChoice(
                name: pythonRuntime,
                reason:
                    "this tritonserver has no onnxruntime backend (no libtriton_onnxruntime.so in its backends), so onnxruntime's Python package ran model.onnx through a Python-backend model"
            ), copy
        )
    }
}
