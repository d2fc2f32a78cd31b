import Foundation
import XCTest

@testable import TritonPackKit

/// Writes a model folder (files by relative path) into `repository`.
func writeModel(_ name: String, files: [String: String], into repository: URL) throws {
    let directory = repository.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (path, content) in files {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
    }
}

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
    let report = Linter(options: LintOptions(gpus: example.gpus, autoComplete: autoComplete ?? example.autoComplete)).lint(path: repository)
    return report.diagnostics.filter { $0.model == example.model }
}
