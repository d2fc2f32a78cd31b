import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// Lints an example written into a fresh repository; returns the diagnostics of its model.
func lint(_ example: LintExample, in test: XCTestCase, autoComplete: Bool? = nil) throws -> [Diagnostic] {
    let repository = try temporaryDirectory(test).appendingPathComponent("repo")
    try writeModel(example.model, files: example.files, into: repository)
    for (path, bytes) in example.binaryFiles {
        let url = repository.appendingPathComponent("\(example.model)/\(path)")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }
    for (name, files) in example.otherModels { try writeModel(name, files: files, into: repository) }
    let report = Linter(options: LintOptions(gpus: example.gpus, autoComplete: autoComplete ?? example.autoComplete)).lint(
        path: repository)
    return report.diagnostics.filter { $0.model == example.model }
}

/// Lint options judging as the project's 2.51 server does: a backend directory holding only the
/// Python backend (as the nvidia-pytriton wheel's), the image's default repository-agent folder.
func optionsLikeTheProjectServer(autoComplete: Bool, in test: XCTestCase) throws -> LintOptions {
    let backends = try temporaryDirectory(test).appendingPathComponent("backends")
    try FileManager.default.createDirectory(at: backends.appendingPathComponent("python"), withIntermediateDirectories: true)
    try Data().write(to: backends.appendingPathComponent("python/libtriton_python.so"))
    return LintOptions(
        gpus: 0, autoComplete: autoComplete, backendDirectory: backends,
        repoAgentDirectory: URL(fileURLWithPath: "/opt/tritonserver/repoagents"))
}
