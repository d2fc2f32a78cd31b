import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class PackerTests: XCTestCase {
    func pack(
        _ name: String, into repository: URL, as model: String? = nil, version: Int64? = nil,
        options: ConfigOptions? = nil, updateConfig: Bool = false, link: Bool = false, source: URL? = nil
    ) async throws -> PackResult {
        let packable = try PackableModel.read(
            at: source ?? sample(name), options: options ?? ConfigOptions(name: model ?? name))
        let request = PackRequest(
            repository: ModelRepository(root: repository), version: version, updateConfig: updateConfig, link: link)
        return try await Packer(request).pack(packable)
    }

    func testPackGivesTheGuidesLayoutWithIdenticalFiles() async throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("model_repository")
        let result = try await pack("fast_neural_style", into: repository)
        XCTAssertEqual(result.version, 1)
        XCTAssertEqual(result.config, .created)

        let modelDirectory = repository.appendingPathComponent("fast_neural_style")
        XCTAssertEqual(try POSIXFiles.entries(of: modelDirectory.path), ["1", "config.pbtxt"])
        XCTAssertEqual(try POSIXFiles.entries(of: modelDirectory.appendingPathComponent("1").path), ["model", Manifest.fileName])
        let source = snapshot(sample("fast_neural_style"))
        let packed = snapshot(modelDirectory.appendingPathComponent("1/model"))
        XCTAssertEqual(packed, source)
        XCTAssertEqual(source.count, 1 + 62 + 62 * 2)  // model.mlir, 62 variable folders, meta + out in each

        let config = try Inference_ModelConfig.parse(
            String(contentsOf: modelDirectory.appendingPathComponent("config.pbtxt"), encoding: .utf8)
        ).message
        XCTAssertEqual(config, try Inference_ModelConfig.parse(ConfigGeneratorTests.guideConfig).message)
        // nothing but the repository, its lock and its history is left behind
        XCTAssertEqual(try POSIXFiles.entries(of: root.path), ["model_repository"])
        XCTAssertEqual(
            try POSIXFiles.entries(of: repository.path), [".tritonpack.lock", "fast_neural_style", ModelHistory.fileName])
    }

    func testPackWarnsOfAnUnservedVersionAndSettingsTheKeptConfigLacks() async throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("r")
        let pinned = ConfigOptions(name: "tiny_mlp", versionPolicy: try VersionPolicySpec(parsing: "specific:1"))
        let first = try await pack("tiny_mlp", into: repository, options: pinned)
        XCTAssertEqual(first.warnings, [])
        let configPath = repository.appendingPathComponent("tiny_mlp/config.pbtxt").path
        let grouped = ConfigOptions(name: "tiny_mlp", instanceGroups: [try InstanceGroupSpec(parsing: "cpu:2")])
        let second = try await pack("tiny_mlp", into: repository, options: grouped)
        XCTAssertEqual(second.config, .kept)
        XCTAssertEqual(
            second.warnings,
            [
                .notServed(version: 2, policy: "specific 1", served: [1], config: configPath),
                .settingsNotApplied([.instanceGroup], config: configPath),
            ])
        let updated = try await pack("tiny_mlp", into: repository, options: grouped, updateConfig: true)
        XCTAssertEqual(updated.warnings, [], "the new config serves the latest version and carries the group")
    }

    func testPackRecordsItsHistoryLine() async throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("r")
        let first = try await pack("tiny_mlp", into: repository)
        let second = try await pack("tiny_mlp", into: repository, version: 5)
        let history = ModelHistory.read(from: repository.appendingPathComponent("tiny_mlp"))
        XCTAssertEqual(history.map(\.operation), ["pack", "pack"])
        XCTAssertEqual(history.map(\.versions), [[1], [5]])
        XCTAssertEqual(history.map(\.digests), [["1": first.digest], ["5": second.digest]])
        XCTAssertEqual(
            history.map(\.detail),
            [
                "from \(sample("tiny_mlp").path), config created", "from \(sample("tiny_mlp").path), config kept",
            ])
        await assertThrowsAsync(try await pack("tiny_mlp", into: repository, version: 5)) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .versionExists)
        }
        XCTAssertEqual(
            ModelHistory.read(from: repository.appendingPathComponent("tiny_mlp")).count, 2, "a refused pack records nothing")
    }

    func testManifestRecordsEveryFilesDigest() async throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("r")
        let result = try await pack("multi_io", into: repository)
        let versionDirectory = URL(fileURLWithPath: result.versionDirectory)
        let manifest = try Manifest.read(from: versionDirectory)
        XCTAssertEqual(manifest.model, "multi_io")
        XCTAssertEqual(manifest.version, 1)
        XCTAssertEqual(manifest.digest, result.digest)
        XCTAssertEqual(manifest.files.count, 11)
        for entry in manifest.files {
            let url = versionDirectory.appendingPathComponent(entry.path)
            XCTAssertEqual(sha256(of: url), entry.sha256, entry.path)
            XCTAssertEqual(POSIXFiles.fileSize(url.path), entry.size)
        }
        XCTAssertEqual(manifest.signature.inputs.map(\.name), ["INPUT_0", "INPUT_1"])
    }

    func testNextVersionIsTheNextFreeNumberAndConfigIsKept() async throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("r")
        _ = try await pack("tiny_mlp", into: repository)
        let configBefore = sha256(of: repository.appendingPathComponent("tiny_mlp/config.pbtxt"))
        let second = try await pack("tiny_mlp", into: repository)
        XCTAssertEqual(second.version, 2)
        XCTAssertEqual(second.config, .kept)
        let fifth = try await pack("tiny_mlp", into: repository, version: 5)
        XCTAssertEqual(fifth.version, 5)
        let sixth = try await pack("tiny_mlp", into: repository)
        XCTAssertEqual(sixth.version, 6)
        XCTAssertEqual(sha256(of: repository.appendingPathComponent("tiny_mlp/config.pbtxt")), configBefore)
    }

    func testExistingVersionIsNeverOverwritten() async throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("r")
        _ = try await pack("tiny_mlp", into: repository)
        let before = snapshot(repository)
        await assertThrowsAsync(try await pack("tiny_mlp", into: repository, version: 1)) { error in
            XCTAssertEqual((error as? TritonPackError)?.kind, .refused)
            XCTAssertEqual((error as? TritonPackError)?.code, .versionExists)
            XCTAssertTrue(String(describing: error).contains("tiny_mlp/1"))
        }
        XCTAssertEqual(snapshot(repository), before)
    }

    func testChangedSignatureIsRefusedUnlessUpdateConfig() async throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("r")
        _ = try await pack("tiny_mlp", into: repository, as: "net")
        let before = snapshot(repository)
        await assertThrowsAsync(try await pack("multi_io", into: repository, as: "net")) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("net/config.pbtxt"), text)
            XCTAssertTrue(text.contains("max_batch_size 1 -> 2"), text)
            XCTAssertEqual((error as? TritonPackError)?.code, .signatureChanged, text)
        }
        XCTAssertEqual(snapshot(repository), before)

        let updated = try await pack("multi_io", into: repository, as: "net", updateConfig: true)
        XCTAssertEqual(updated.config, .updated)
        XCTAssertEqual(updated.version, 2)
        let config = try Inference_ModelConfig.parse(
            String(contentsOf: repository.appendingPathComponent("net/config.pbtxt"), encoding: .utf8)
        ).message
        XCTAssertEqual(config.input.count, 2)
    }

    func testBadNamesAreRefusedAndNothingIsWritten() async throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("r")
        for name in ["../x", "a/b", "", ".."] {
            await assertThrowsAsync(try await pack("tiny_mlp", into: repository, as: name), name) { error in
                XCTAssertEqual((error as? TritonPackError)?.kind, .usage)
            }
        }
        XCTAssertEqual(try POSIXFiles.entries(of: root.path), [])
    }

    func testCorruptGraphIsRefusedAndRepositoryUnchanged() async throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("r")
        _ = try await pack("tiny_mlp", into: repository)
        let before = snapshot(repository)
        let graph = try copyOfSample("tiny_mlp", into: root)
        try Data(count: 3).write(to: graph.appendingPathComponent("m.fc1.bias/out"))
        await assertThrowsAsync(try await pack("tiny_mlp", into: repository, source: graph)) { error in
            XCTAssertTrue(String(describing: error).contains("m.fc1.bias/out: holds 3 bytes"), String(describing: error))
        }
        XCTAssertEqual(snapshot(repository), before)
    }

    func testLinkModeSharesInodes() async throws {
        let root = try temporaryDirectory(self)
        let graph = try copyOfSample("tiny_mlp", into: root)
        let result = try await pack("tiny_mlp", into: root.appendingPathComponent("r"), link: true, source: graph)
        XCTAssertTrue(result.linked)
        let source = try FileManager.default.attributesOfItem(atPath: graph.appendingPathComponent("m.fc1.weight/out").path)
        let packed = try FileManager.default.attributesOfItem(
            atPath: result.versionDirectory + "/model/m.fc1.weight/out")
        XCTAssertEqual(source[.systemFileNumber] as? UInt64, packed[.systemFileNumber] as? UInt64)
        XCTAssertEqual(try Manifest.read(from: URL(fileURLWithPath: result.versionDirectory)).digest, result.digest)
    }

    func testStaleStagingFromAnInterruptedRunIsCleaned() async throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("r")
        let stale = root.appendingPathComponent(".tritonpack-staging-r/tiny_mlp.1.dead/1/model")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        _ = try await pack("tiny_mlp", into: repository)
        XCTAssertEqual(try POSIXFiles.entries(of: root.path), ["r"])
    }

    func testRepositoryThatIsAFileIsRefused() async throws {
        let root = try temporaryDirectory(self)
        let file = root.appendingPathComponent("r")
        try Data("x".utf8).write(to: file)
        await assertThrowsAsync(try await pack("tiny_mlp", into: file)) { error in
            XCTAssertEqual((error as? TritonPackError)?.file, file.path)
        }
    }
}
