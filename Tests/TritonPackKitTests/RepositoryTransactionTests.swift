import Foundation
import SystemPackage
import TestSupport
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The one write path (RepositoryTransaction over the local store), the pure parts around it
/// (versions, policies, the config text editor, staging, the lock) and the error model.
final class RepositoryTransactionTests: XCTestCase {
    private func file(_ directory: URL, _ name: String, _ text: String) throws -> PlacedFile {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return PlacedFile(source: url, destination: name, size: Int64(text.utf8.count))
    }

    private func manifest(_ model: String, _ version: Int64) -> @Sendable ([Manifest.Entry]) -> Manifest {
        {
            Manifest(
                model: model, version: version, source: .init(kind: "test", path: "t"),
                signature: Signature(inputs: [], outputs: []), files: $0)
        }
    }

    private func addVersion(_ number: Int64, to repository: ModelRepository, sources: URL, config: String? = nil) async throws {
        let weights = try file(sources, "weights-\(number).bin", "v\(number)")
        try await RepositoryTransaction.run(in: repository, model: "m", createRepository: true) { transaction in
            _ = try await transaction.addVersion(
                number, files: [PlacedFile(source: weights.source, destination: "w.bin", size: weights.size)],
                manifest: manifest("m", number))
            if let config { transaction.setConfig(Data(config.utf8)) }
            transaction.record("test", versions: [number])
        }
    }

    func testNewModelVersionsConfigAndRemovalsArePublishedAsOneChange() async throws {
        let root = try temporaryDirectory(self)
        let sources = root.appendingPathComponent("sources")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        let repository = ModelRepository(root: root.appendingPathComponent("repo"))
        try await addVersion(1, to: repository, sources: sources, config: "backend: \"python\"\n")
        var model = try await repository.model("m")
        XCTAssertEqual(model.versions, [1])
        XCTAssertEqual(try model.config().backend, "python")

        try await addVersion(2, to: repository, sources: sources)
        try await addVersion(3, to: repository, sources: sources, config: "backend: \"python\"\nmax_batch_size: 2\n")
        model = try await repository.model("m")
        XCTAssertEqual(model.versions, [1, 2, 3])
        XCTAssertEqual(try model.config().maxBatchSize, 2)

        let inode =
            try FileManager.default.attributesOfItem(atPath: repository.root.appendingPathComponent("m/1/w.bin").path)[
                .systemFileNumber] as? UInt64
        try await RepositoryTransaction.run(in: repository, model: "m") { transaction in
            transaction.removeVersions([1, 2, 9])
            XCTAssertEqual(transaction.versionsAfter, [3])
        }
        model = try await repository.model("m")
        XCTAssertEqual(model.versions, [3])
        XCTAssertNotNil(inode)
        let verify = try await model.version(3).verify(against: try await model.version(3).manifest())
        XCTAssertEqual(verify, [])
        XCTAssertEqual(ModelHistory.read(from: repository.modelDirectory("m")).map(\.operation), ["test", "test", "test"])
        XCTAssertEqual(
            try POSIXFiles.entries(of: root.path), ["repo", "sources"], "no staging folder is left beside the repository")
    }

    func testAFailureInsideTheTransactionChangesNothingAndRemovesANewRepository() async throws {
        let root = try temporaryDirectory(self)
        let sources = root.appendingPathComponent("sources")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        let weights = try file(sources, "w.bin", "x")
        let repository = ModelRepository(root: root.appendingPathComponent("new"))
        await assertThrowsAsync(
            try await RepositoryTransaction.run(in: repository, model: "m", createRepository: true) { transaction in
                _ = try await transaction.addVersion(1, files: [weights], manifest: self.manifest("m", 1))
                throw TritonPackError.refused(nil, "changed my mind")
            }
        ) { error in
            XCTAssertEqual((error as? TritonPackError)?.message, "changed my mind")
        }
        XCTAssertEqual(try POSIXFiles.entries(of: root.path), ["sources"])

        try await addVersion(
            1, to: ModelRepository(root: root.appendingPathComponent("repo")), sources: sources, config: "backend: \"python\"\n")
        let existing = ModelRepository(root: root.appendingPathComponent("repo"))
        let before = snapshot(existing.root)
        await assertThrowsAsync(
            try await RepositoryTransaction.run(in: existing, model: "m") { transaction in
                _ = try await transaction.addVersion(1, files: [weights], manifest: self.manifest("m", 1))
            }
        ) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .versionExists, "\(error)")
        }
        XCTAssertEqual(snapshot(existing.root), before)
    }

    func testAMissingRepositoryIsRefusedUnlessItMayBeCreated() async throws {
        let root = try temporaryDirectory(self)
        let repository = ModelRepository(root: root.appendingPathComponent("absent"))
        await assertThrowsAsync(try await RepositoryTransaction.run(in: repository, model: "m") { _ in }) { error in
            XCTAssertEqual((error as? TritonPackError)?.kind, .refused)
        }
        XCTAssertFalse(POSIXFiles.exists(repository.root.path))
    }

    func testStaleStagesOfInterruptedRunsAreRemovedUnderTheLock() throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        let staging = StagingArea.choose(for: repository, model: "m")
        XCTAssertFalse(staging.isInsideRepository)
        XCTAssertEqual(staging.root.deletingLastPathComponent().path, root.path)
        let stale = try staging.makeStage(model: "m")
        try Data("partial".utf8).write(to: stale.appendingPathComponent("part"))
        staging.removeStaleStages()
        XCTAssertFalse(POSIXFiles.exists(stale.path))
        staging.removeIfEmpty()
        XCTAssertFalse(POSIXFiles.exists(staging.root.path))
    }

    func testASecondWriterWaitsForTheLockAndTimesOut() throws {
        let root = try temporaryDirectory(self)
        var first: RepositoryLock? = try RepositoryLock(root: root, timeout: 1)
        var waited: [String] = []
        XCTAssertThrowsError(try RepositoryLock(root: root, timeout: 0.2, onWait: { waited.append($0) })) { error in
            XCTAssertEqual((error as? TritonPackError)?.kind, .io)
            XCTAssertEqual((error as? TritonPackError)?.code, .lockTimeout)
        }
        XCTAssertEqual(waited.count, 1)
        XCTAssertNotNil(first)
        first = nil
        XCTAssertNoThrow(try RepositoryLock(root: root, timeout: 0.2))
    }

    func testVersionFolderNamesAndPolicies() {
        XCTAssertEqual(
            ["3", "0", "03", "3a", "-1", "+2", " 1", ""].map(ModelNaming.canonicalVersion),
            [3, 0, nil, nil, nil, nil, nil, nil])
        var policy = Inference_ModelVersionPolicy()
        XCTAssertEqual(VersionPolicyEvaluation.served(policy, available: [3, 1, 2]), [3])
        policy.latest.numVersions = 2
        XCTAssertEqual(VersionPolicyEvaluation.served(policy, available: [3, 1, 2]), [2, 3])
        policy.specific.versions = [1, 7]
        XCTAssertEqual(VersionPolicyEvaluation.served(policy, available: [3, 1, 2]), [1])
        XCTAssertEqual(VersionPolicyEvaluation.describe(policy), "specific 1, 7")
        policy.all = Inference_ModelVersionPolicy.All()
        XCTAssertEqual(VersionPolicyEvaluation.served(policy, available: [3, 1]), [1, 3])
    }

    func testTheConfigTextEditorReplacesOneFieldAndKeepsTheRest() throws {
        let text = "# note\nname: \"m\"\nversion_policy: { latest: { num_versions: 2 } } # keep\nbackend: \"python\"\n"
        var policy = Inference_ModelConfig()
        policy.versionPolicy.specific.versions = [1, 3]
        let edited = try ConfigTextEditor.replacing(field: "version_policy", in: text, with: policy.pbtxt)
        XCTAssertTrue(edited.hasPrefix("# note\nname: \"m\"\n"), edited)
        XCTAssertTrue(edited.hasSuffix(" # keep\nbackend: \"python\"\n"), edited)
        XCTAssertEqual(try Inference_ModelConfig.parse(edited).message.versionPolicy.specific.versions, [1, 3])
        let appended = try ConfigTextEditor.replacing(field: "version_policy", in: "backend: \"python\"", with: policy.pbtxt)
        XCTAssertEqual(try Inference_ModelConfig.parse(appended).message.versionPolicy.specific.versions, [1, 3])
        XCTAssertThrowsError(try ConfigTextEditor.replacing(field: "version_policy", in: "backend: ", with: policy.pbtxt))
    }

    func testEveryErrorMapsToOneDocumentedExitCode() {
        XCTAssertEqual(ExitStatus.code(for: TritonPackError.refused(nil, "x")), 1)
        XCTAssertEqual(ExitStatus.code(for: TritonPackError.usage("x")), 2)
        XCTAssertEqual(ExitStatus.code(for: TritonPackError.interrupted(by: SIGTERM)), 143)
        XCTAssertEqual(ExitStatus.code(for: TritonPackError.interrupted(by: SIGINT)), 130)
        let missing = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/file")
        do {
            _ = try FileManager.default.attributesOfItem(atPath: missing.path)
            XCTFail("no error")
        } catch {
            XCTAssertEqual(ExitStatus.code(for: error), 3, "a FileManager failure is an I/O failure")
            let wrapped = TritonPackError.from(error)
            XCTAssertEqual(wrapped.kind, .io)
            XCTAssertEqual(wrapped.errno, .noSuchFileOrDirectory)
        }
        struct Unknown: Error {}
        XCTAssertEqual(ExitStatus.code(for: Unknown()), 3)
        let system = TritonPackError.system("/x", "cannot open", errno: ENOENT)
        XCTAssertEqual(system.errno, .noSuchFileOrDirectory)
        XCTAssertEqual(system.description, "/x: cannot open: No such file or directory")
    }

    func testPositionsAndProblemsStayFieldsNotPathText() {
        let error = TritonPackError(
            .refused, "cannot be served", at: SourceLocation("/g"),
            problems: [Problem(file: "model.mlir", line: 4, column: 9, "bad"), Problem(nil, "also bad", code: "gate lint")])
        XCTAssertEqual(error.file, "/g")
        XCTAssertEqual(error.problems[0].location, SourceLocation("model.mlir", line: 4, column: 9))
        XCTAssertEqual(error.problems[0].relative(to: "/g").file, "/g/model.mlir")
        XCTAssertEqual(error.description, "/g: cannot be served\n  model.mlir:4:9: bad\n  also bad")
    }
}
