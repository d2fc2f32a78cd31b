import Foundation
import TestSupport
import XCTest

/// The library's layers, read from the package manifest as SwiftPM sees it: each target may depend
/// only on the layers listed for it, so a dependency upward or sideways fails here before review.
final class PackageGraphTests: XCTestCase {
    /// Every Swift target of the project and the project targets it may depend on.
    static let layers: [String: Set<String>] = [
        "TritonPackModels": [],
        "TritonPackRepository": ["TritonPackModels"],
        "TritonPackS3": ["TritonPackModels", "TritonPackRepository"],
        "TritonPackLint": ["TritonPackModels", "TritonPackRepository"],
        "TritonPackServing": ["TritonPackModels", "TritonPackRepository"],
        "TritonPackBundle": ["TritonPackModels", "TritonPackRepository", "TritonPackLint", "TritonPackServing"],
        "TritonPackKit": [
            "TritonPackModels", "TritonPackRepository", "TritonPackS3", "TritonPackLint", "TritonPackServing",
            "TritonPackBundle",
        ],
        "tritonpack": ["TritonPackKit"],
    ]

    struct Manifest: Decodable {
        struct Target: Decodable {
            var name: String
            var type: String
            var dependencies: [Dependency]
        }

        /// `{"byName": ["X", null]}`, `{"target": ["X", null]}` or `{"product": ["P", "package", ...]}`.
        struct Dependency: Decodable {
            var projectTarget: String?

            init(from decoder: Decoder) throws {
                let container = try decoder.container(keyedBy: AnyKey.self)
                let key = container.allKeys.first { $0.stringValue == "byName" || $0.stringValue == "target" }
                guard let key else { return }
                var values = try container.nestedUnkeyedContainer(forKey: key)
                projectTarget = try values.decode(String.self)
            }
        }

        var targets: [Target]
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The manifest as `swift package dump-package` reads it (with its own scratch folder: the
    /// package's `.build` is locked by the `swift test` running this).
    func manifest() throws -> Manifest {
        let scratch = try temporaryDirectory(self)
        let dump = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["swift", "package", "--package-path", packageRoot.path, "--scratch-path", scratch.path, "dump-package"])
        XCTAssertEqual(dump.status, 0, "swift package dump-package failed")
        let data = Data(dump.stdout.utf8)
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    func testEveryLayerDependsOnlyOnTheLayersBelowIt() throws {
        let targets = try manifest().targets.filter { $0.type == "regular" || $0.type == "executable" }
        let swiftLayers = targets.map(\.name).filter { $0.hasPrefix("TritonPack") || $0 == "tritonpack" }
        XCTAssertEqual(Set(swiftLayers), Set(Self.layers.keys), "a target outside the layer list, or a layer gone")
        let projectTargets = Set(targets.map(\.name))
        for target in targets where Self.layers[target.name] != nil {
            let allowed = Self.layers[target.name]!
            let used = Set(target.dependencies.compactMap(\.projectTarget)).intersection(projectTargets)
                .filter { Self.layers[$0] != nil }
            XCTAssertTrue(
                used.isSubset(of: allowed),
                "\(target.name) depends on \(used.subtracting(allowed).sorted()), which is not below it")
        }
    }

    /// The layer list itself has no cycle and grows one way: each layer's allowed set includes the
    /// allowed sets of the layers it may use.
    func testTheLayerListIsAcyclicAndTransitive() {
        for (layer, allowed) in Self.layers {
            XCTAssertFalse(allowed.contains(layer), "\(layer) may not depend on itself")
            for lower in allowed {
                XCTAssertFalse(Self.layers[lower, default: []].contains(layer), "\(layer) and \(lower) form a cycle")
                if layer != "tritonpack" {
                    XCTAssertTrue(Self.layers[lower, default: []].isSubset(of: allowed), "\(layer) skips a layer below \(lower)")
                }
            }
        }
    }

    /// A source file imports only its own target's layers (an import of a layer that is not a declared
    /// dependency would build by accident when that module happens to be built first).
    func testSourceFilesImportOnlyLayersTheirTargetMayUse() throws {
        let sources = packageRoot.appendingPathComponent("Sources")
        for (layer, allowed) in Self.layers {
            let folder = sources.appendingPathComponent(layer)
            guard let files = FileManager.default.enumerator(atPath: folder.path) else {
                XCTFail("no folder for \(layer)")
                continue
            }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") where line.contains("import TritonPack") {
                    let module = line.split(separator: " ").last.map(String.init) ?? ""
                    XCTAssertTrue(allowed.contains(module), "\(layer)/\(file) imports \(module)")
                }
            }
        }
    }
}
