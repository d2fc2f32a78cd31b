import Foundation
import TestSupport
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class BundleTests: XCTestCase {
    func options(_ repository: URL, _ output: URL) -> BundleOptions { unsyncedBundleOptions(repository, output) }

    @discardableResult
    func bundle(_ options: BundleOptions) throws -> BundleReport { try BundleBuilder(options: options).build() }

    func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    // MARK: reproducibility and format

    func testSameRepositoryGivesByteIdenticalArchiveWhateverTheFileTimesModesAndTimeZone() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        let first = root.appendingPathComponent("first.zip")
        try bundle(options(repository, first))

        let config = repository.appendingPathComponent("identity_fp32/config.pbtxt").path
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 2_000_000_000), .posixPermissions: 0o600], ofItemAtPath: config)
        let previousZone = ProcessInfo.processInfo.environment["TZ"]
        setenv("TZ", "Pacific/Kiritimati", 1)
        tzset()
        defer {
            if let previousZone { setenv("TZ", previousZone, 1) } else { unsetenv("TZ") }
            tzset()
        }
        let second = root.appendingPathComponent("second.zip")
        try bundle(options(repository, second))
        XCTAssertEqual(sha256(of: first), sha256(of: second))

        try write("# changed\n", to: repository.appendingPathComponent("identity_fp32/1/notes.txt"))
        let third = root.appendingPathComponent("third.zip")
        try bundle(options(repository, third))
        XCTAssertNotEqual(sha256(of: first), sha256(of: third), "a changed repository must give a different archive")
    }

    func testArchiveHasSortedEntriesFixedTimesNormalizedModesAndMethodsByContent() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        try Data((0..<4096).map { UInt8($0 % 251) }).write(to: repository.appendingPathComponent("identity_fp32/1/weights.bin"))
        let output = root.appendingPathComponent("demo.zip")
        var bundleOptions = options(repository, output)
        bundleOptions.timestamp = DOSTimestamp(unixSeconds: 1_700_000_000)  // 2023-11-14 22:13:20 UTC
        let report = try bundle(bundleOptions)

        let listing = try ZipListing.read(output)
        XCTAssertNil(listing.firstBadEntry)
        XCTAssertEqual(try unzipTest(output).status, 0)
        XCTAssertEqual(listing.names, listing.names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        XCTAssertEqual(
            listing.names,
            [
                "README.md", "bundle.json", "client/", "client/infer.py", "model_repository/",
                "model_repository/identity_fp32/", "model_repository/identity_fp32/1/",
                "model_repository/identity_fp32/1/model.py", "model_repository/identity_fp32/1/weights.bin",
                "model_repository/identity_fp32/config.pbtxt", "model_repository/invert_image/",
                "model_repository/invert_image/1/", "model_repository/invert_image/1/model.py",
                "model_repository/invert_image/config.pbtxt", "requirements.txt", "run.sh", "server.py",
            ])
        for entry in listing.entries {
            XCTAssertEqual(entry.dateTime, [2023, 11, 14, 22, 13, 20], entry.name)
            XCTAssertEqual(entry.createSystem, 3, "\(entry.name): made on Unix, so modes are read")
            XCTAssertEqual(entry.extraBytes, 0, "\(entry.name): no extra field (no timestamps beside the fixed one)")
            let executable = entry.name.hasSuffix("/") || ["run.sh", "server.py", "client/infer.py"].contains(entry.name)
            XCTAssertEqual(entry.permissions, executable ? 0o755 : 0o644, entry.name)
        }
        XCTAssertEqual(listing.entry("model_repository/identity_fp32/1/weights.bin")?.method, 0, "binary data is stored")
        XCTAssertEqual(listing.entry("model_repository/identity_fp32/config.pbtxt")?.method, 8, "text is deflated")
        XCTAssertEqual(listing.entry("run.sh")?.method, 8)
        XCTAssertEqual(report.storedFiles, 1)
        XCTAssertEqual(report.models.map(\.name), ["identity_fp32", "invert_image"])
    }

    func testSourceDateEpochIsClampedToWhatZIPCanHold() {
        XCTAssertEqual(DOSTimestamp(unixSeconds: 0), DOSTimestamp.epoch)
        XCTAssertEqual(DOSTimestamp(unixSeconds: 315_532_800), DOSTimestamp.epoch)
        let late = DOSTimestamp(unixSeconds: 9_999_999_999)
        XCTAssertEqual(late.date >> 9, 127, "2107 is the last year a DOS date holds")
    }

    // MARK: what goes in

    func testLatestFollowsTheVersionPolicyAndAllKeepsEveryVersion() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        let model = repository.appendingPathComponent("identity_fp32")
        for version in ["2", "3"] {
            try FileManager.default.copyItem(at: model.appendingPathComponent("1"), to: model.appendingPathComponent(version))
        }
        func versions(_ selection: BundleOptions.Versions) throws -> [String] {
            let output = root.appendingPathComponent("\(UUID().uuidString).zip")
            var bundleOptions = options(repository, output)
            bundleOptions.models = ["identity_fp32"]
            bundleOptions.versions = selection
            try bundle(bundleOptions)
            return try ZipListing.read(output).names.compactMap { name in
                let parts = name.split(separator: "/")
                return parts.count == 3 && name.hasSuffix("/") ? String(parts[2]) : nil
            }
        }
        XCTAssertEqual(try versions(.latest), ["3"])
        XCTAssertEqual(try versions(.all), ["1", "2", "3"])

        let config = model.appendingPathComponent("config.pbtxt")
        try (String(contentsOf: config, encoding: .utf8) + "version_policy: { specific: { versions: [ 1, 3 ] } }\n")
            .write(to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try versions(.latest), ["1", "3"])
    }

    func testSelectedModelsOnlyAndAnEnsembleBringsTheModelsItCalls() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        try write(
            """
            platform: "ensemble"
            max_batch_size: 8
            input [ { name: "IN" data_type: TYPE_FP32 dims: [ 4 ] } ]
            output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
            ensemble_scheduling {
              step [ { model_name: "identity_fp32" model_version: -1 input_map { key: "INPUT0" value: "IN" } output_map { key: "OUTPUT0" value: "OUT" } } ]
            }

            """, to: repository.appendingPathComponent("pipeline/config.pbtxt"))
        try FileManager.default.createDirectory(
            at: repository.appendingPathComponent("pipeline/1"), withIntermediateDirectories: true)

        let output = root.appendingPathComponent("demo.zip")
        var bundleOptions = options(repository, output)
        bundleOptions.models = ["pipeline"]
        let report = try bundle(bundleOptions)
        XCTAssertEqual(report.models.map(\.name), ["identity_fp32", "pipeline"])
        let names = try ZipListing.read(output).names
        XCTAssertFalse(names.contains { $0.hasPrefix("model_repository/invert_image") })

        let description = try JSONDecoder().decode(
            BundleDescription.self, from: try unzipEntry("bundle.json", of: output, scratch: root))
        XCTAssertEqual(description.defaultModel, "pipeline", "the first model asked for")
        XCTAssertEqual(description.models.first { $0.name == "pipeline" }?.backend, "ensemble")
        XCTAssertEqual(description.containerImage, BundleDescription.tritonImage)

        bundleOptions.models = ["nothing_here"]
        XCTAssertThrowsError(try BundleBuilder(options: bundleOptions).plan()) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .modelNotFound)
        }
        bundleOptions.models = ["../outside"]
        XCTAssertThrowsError(try BundleBuilder(options: bundleOptions).plan()) { error in
            XCTAssertEqual((error as? TritonPackError)?.kind, .usage)
        }
    }

    func testPrivateFilesAreLeftOutUnlessAskedFor() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        let version = repository.appendingPathComponent("identity_fp32/1")
        let privateFiles = [
            ".git/config", "identity_fp32/.env", "identity_fp32/1/model.py~", "identity_fp32/1/.model.py.swp",
            "identity_fp32/1/__pycache__/model.cpython-311.pyc", "identity_fp32/#notes#", ".tritonpack.lock",
        ]
        for path in privateFiles { try write("secret\n", to: repository.appendingPathComponent(path)) }
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent(".tritonpack-staging-repository"), withIntermediateDirectories: true)
        XCTAssertTrue(POSIXFiles.isDirectory(version.path))

        let output = root.appendingPathComponent("demo.zip")
        let report = try bundle(options(repository, output))
        let names = try ZipListing.read(output).names
        XCTAssertFalse(
            names.contains {
                $0.contains("secret") || $0.contains(".git") || $0.contains(".env") || $0.contains("~")
                    || $0.contains("__pycache__") || $0.contains(".swp") || $0.contains("#") || $0.contains(".tritonpack")
            })
        XCTAssertEqual(
            Set(report.leftOut),
            [
                "identity_fp32/.env", "identity_fp32/1/model.py~", "identity_fp32/1/.model.py.swp", "identity_fp32/1/__pycache__",
                "identity_fp32/#notes#",
            ],
            "files inside the bundled models are reported; the repository root's own hidden entries are not models")

        var withPrivate = options(repository, root.appendingPathComponent("all.zip"))
        withPrivate.includePrivate = true
        withPrivate.models = ["identity_fp32"]
        try bundle(withPrivate)
        let all = try ZipListing.read(root.appendingPathComponent("all.zip")).names
        XCTAssertTrue(all.contains("model_repository/identity_fp32/.env"))
        XCTAssertTrue(all.contains("model_repository/identity_fp32/1/__pycache__/model.cpython-311.pyc"))
    }

    // MARK: safety

    func testSymbolicLinksAreFollowedOnlyInsideTheRepository() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        let version = repository.appendingPathComponent("identity_fp32/1")
        let output = root.appendingPathComponent("demo.zip")

        try FileManager.default.createSymbolicLink(
            atPath: version.appendingPathComponent("shared.py").path, withDestinationPath: "../../invert_image/1/model.py")
        try bundle(options(repository, output))
        let linked = try unzipEntry("model_repository/identity_fp32/1/shared.py", of: output, scratch: root)
        XCTAssertEqual(
            linked, try Data(contentsOf: repository.appendingPathComponent("invert_image/1/model.py")),
            "a link inside is bundled as the file it points to")

        try write("private key\n", to: root.appendingPathComponent("secret.txt"))
        let escape = version.appendingPathComponent("escape.txt")
        try FileManager.default.createSymbolicLink(atPath: escape.path, withDestinationPath: "../../../secret.txt")
        let refusedOutput = root.appendingPathComponent("refused.zip")
        XCTAssertThrowsError(try bundle(options(repository, refusedOutput))) { error in
            let error = error as? TritonPackError
            XCTAssertEqual(error?.kind, .refused)
            XCTAssertEqual(error?.file, "\(repository.path)/identity_fp32/1/escape.txt")
            XCTAssertEqual(error?.code, .linkOutsideFolder, error?.message ?? "")
        }
        XCTAssertFalse(POSIXFiles.exists(refusedOutput.path))
        try FileManager.default.removeItem(at: escape)

        try FileManager.default.createSymbolicLink(atPath: version.appendingPathComponent("loop").path, withDestinationPath: "..")
        XCTAssertThrowsError(try bundle(options(repository, refusedOutput))) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .linkLoop, "\(error)")
        }
        try FileManager.default.removeItem(at: version.appendingPathComponent("loop"))

        try FileManager.default.createSymbolicLink(
            atPath: version.appendingPathComponent("dangling").path, withDestinationPath: "gone")
        XCTAssertThrowsError(try bundle(options(repository, refusedOutput))) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .linkTargetMissing, "\(error)")
        }
    }

    func testNamesAnExtractorCouldMisreadAreRefused() throws {
        for name in ["sub\\..\\..\\evil.py", "line\nbreak.py"] {
            let root = try temporaryDirectory(self)
            let repository = try pythonRepository(in: root)
            try write("x\n", to: repository.appendingPathComponent("identity_fp32/1").appendingPathComponent(name))
            XCTAssertThrowsError(try bundle(options(repository, root.appendingPathComponent("demo.zip")))) { error in
                XCTAssertEqual((error as? TritonPackError)?.kind, .refused, name)
            }
            XCTAssertFalse(POSIXFiles.exists(root.appendingPathComponent("demo.zip").path))
        }
    }

    func testAnExistingOutputIsKeptUnlessForcedAndAFailedWriteLeavesNothing() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        let outputFolder = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        let output = outputFolder.appendingPathComponent("demo.zip")
        try write("keep me", to: output)

        XCTAssertThrowsError(try bundle(options(repository, output))) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .outputExists)
        }
        XCTAssertEqual(try String(contentsOf: output, encoding: .utf8), "keep me")

        var forced = options(repository, output)
        forced.force = true
        try bundle(forced)
        XCTAssertNil(try ZipListing.read(output).firstBadEntry)
        let good = sha256(of: output)

        // A file that is not the size the plan recorded (it changed while bundling) fails the write.
        let (entries, _, _) = try BundleBuilder(options: forced).plan()
        let broken = entries.map { entry -> ZipEntry in
            guard case .file(let path, let size) = entry.content, entry.name.hasSuffix("model.py") else { return entry }
            return ZipEntry(
                name: entry.name, content: .file(path: path, size: size + 1), permissions: entry.permissions, method: entry.method
            )
        }
        XCTAssertThrowsError(try BundleBuilder(options: forced).write(broken, to: output)) { error in
            let error = error as? TritonPackError
            XCTAssertTrue(error?.file?.hasSuffix("model.py") ?? false, "the message names the file: \(String(describing: error))")
            XCTAssertEqual(error?.code, .changedWhileReading)
        }
        XCTAssertEqual(sha256(of: output), good, "the previous archive is untouched")
        XCTAssertEqual(try POSIXFiles.entries(of: outputFolder.path), ["demo.zip"], "no temporary file is left")
    }

    func testOutputInsideAModelFolderIsRefused() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        let output = repository.appendingPathComponent("identity_fp32/demo.zip")
        XCTAssertThrowsError(try bundle(options(repository, output))) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .insideModelFolder, "\(error)")
        }
        try bundle(options(repository, repository.appendingPathComponent("demo.zip")))  // the repository root is fine
    }

    func testALintErrorRefusesTheBundleUnlessSkipped() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        let config = repository.appendingPathComponent("identity_fp32/config.pbtxt")
        try (try String(contentsOf: config, encoding: .utf8)).replacingOccurrences(
            of: "max_batch_size: 8", with: "max_batch_size: -1"
        )
        .write(to: config, atomically: true, encoding: .utf8)
        let output = root.appendingPathComponent("demo.zip")
        XCTAssertThrowsError(try bundle(options(repository, output))) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .lintFailed, "\(error)")
        }
        XCTAssertFalse(POSIXFiles.exists(output.path))
        var skipping = options(repository, output)
        skipping.lint = false
        try bundle(skipping)
    }

    // MARK: templates and the description

    func testOneFlowModelIsDescribedWithItsImageInputAndTheServingImage() async throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repository")
        let packable = try PackableModel.read(at: sample("fast_neural_style"), options: ConfigOptions(name: "fast_neural_style"))
        _ = try await Packer(
            PackRequest(repository: ModelRepository(root: repository), version: nil, updateConfig: false, link: false)
        ).pack(packable)
        let output = root.appendingPathComponent("demo.zip")
        try bundle(options(repository, output))

        let description = try JSONDecoder().decode(
            BundleDescription.self, from: try unzipEntry("bundle.json", of: output, scratch: root))
        XCTAssertEqual(description.containerImage, BundleDescription.oneflowImage)
        let model = try XCTUnwrap(description.models.first)
        XCTAssertEqual(model.backend, "oneflow")
        XCTAssertEqual(model.inputs.map(\.name), ["INPUT_0"])
        XCTAssertEqual(model.inputs[0].image, .chw)
        XCTAssertEqual(model.outputs[0].image, .chw)
        XCTAssertEqual(model.signature?.inputs.first?.shape, [1, 3, 256, 256], "the manifest's signature is carried")

        let readme = String(decoding: try unzipEntry("README.md", of: output, scratch: root), as: UTF8.self)
        XCTAssertTrue(readme.contains("| `INPUT_0` | FP32 | [1, 3, 256, 256] | an image file (CHW, pixels 0-255) |"), readme)
        XCTAssertTrue(readme.contains("`OUTPUT_0.png` and `OUTPUT_0.npy`"))
        XCTAssertFalse(readme.contains("@@"), "every placeholder is filled")
        let run = String(decoding: try unzipEntry("run.sh", of: output, scratch: root), as: UTF8.self)
        XCTAssertTrue(run.contains("image=${TRITON_IMAGE:-\(BundleDescription.oneflowImage)}"))
    }

    /// The pipeline's steps read an image tensor as JSON with the tensor's keys and the image's.
    func testImageTensorJSONHasTheTensorsKeysAndTheImagesAndReadsBack() throws {
        let tensor = ImageTensor(name: "INPUT_0", dataType: .typeFp32, shape: [1, 3, 256, 256], layout: .chw, scale: 255)
        let data = try JSONEncoder().encode(tensor)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["name", "data_type", "shape", "layout", "scale"])
        XCTAssertEqual(object["data_type"] as? String, "TYPE_FP32")
        XCTAssertEqual(object["layout"] as? String, "CHW")
        XCTAssertEqual(try JSONDecoder().decode(ImageTensor.self, from: data), tensor)
        let unknownType = Data(#"{"name":"x","data_type":"TYPE_NOPE","shape":[1],"layout":"HWC","scale":1}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(ImageTensor.self, from: unknownType))
    }

    func testImageLayoutDetection() {
        XCTAssertEqual(ImageLayout.detect(dataType: .typeFp32, shape: [1, 3, 256, 256]), .chw)
        XCTAssertEqual(ImageLayout.detect(dataType: .typeUint8, shape: [-1, 224, 224, 3]), .hwc)
        XCTAssertEqual(ImageLayout.detect(dataType: .typeFp32, shape: [1, 1, -1, -1]), .chw)
        XCTAssertNil(ImageLayout.detect(dataType: .typeFp32, shape: [1, 4]))
        XCTAssertNil(ImageLayout.detect(dataType: .typeInt64, shape: [1, 3, 256, 256]))
        XCTAssertNil(ImageLayout.detect(dataType: .typeFp32, shape: [2, 16, 8]), "2 channels is not an image")
        XCTAssertEqual(ImageLayout.detect(dataType: .typeFp32, shape: [1, 3, 4, 3], format: .nhwc), .hwc)
    }

    func testTemplatePlaceholdersAreFilledAndUnknownOnesNamed() throws {
        let renderer = TemplateRenderer(values: ["model": "m"])
        XCTAssertEqual(try renderer.render("a @@model@@ b @@ c @@Model@@ @@", file: "t"), "a m b @@ c @@Model@@ @@")
        XCTAssertThrowsError(try renderer.render("line one\n  x @@modle@@", file: "templates/run.sh")) { error in
            let refusal = error as? TritonPackError
            XCTAssertEqual(refusal?.file, "templates/run.sh")
            XCTAssertEqual(refusal?.line, 2)
            XCTAssertEqual(refusal?.column, 5)
            XCTAssertEqual(refusal?.code, .unknownPlaceholder)
            XCTAssertTrue(refusal?.message.contains("@@modle@@; known: model") ?? false)
        }
    }

    func testAUserTemplateReplacesTheBuiltInOneButNotTheReservedNames() throws {
        let root = try temporaryDirectory(self)
        let repository = try pythonRepository(in: root)
        let template = root.appendingPathComponent("template")
        try write("Models: @@models@@\n", to: template.appendingPathComponent("NOTES.md"))
        try write("#!/bin/sh\necho @@default_model@@\n", to: template.appendingPathComponent("bin/start.sh"))
        chmod(template.appendingPathComponent("bin/start.sh").path, 0o755)
        try write("editor state\n", to: template.appendingPathComponent(".start.sh.swp"))
        var bundleOptions = options(repository, root.appendingPathComponent("custom.zip"))
        bundleOptions.template = try BundleTemplate.load(directory: template)
        try bundle(bundleOptions)
        let listing = try ZipListing.read(bundleOptions.output)
        XCTAssertEqual(
            listing.names.filter { !$0.hasPrefix("model_repository/") }, ["NOTES.md", "bin/", "bin/start.sh", "bundle.json"])
        XCTAssertEqual(listing.entry("bin/start.sh")?.permissions, 0o755)
        XCTAssertEqual(
            String(decoding: try unzipEntry("NOTES.md", of: bundleOptions.output, scratch: root), as: UTF8.self),
            "Models: identity_fp32 invert_image\n")

        bundleOptions.output = root.appendingPathComponent("reserved.zip")
        for reserved in ["bundle.json", "model_repository/identity_fp32/1/extra.py"] {
            let file = template.appendingPathComponent(reserved)
            try write("{}", to: file)
            bundleOptions.template = try BundleTemplate.load(directory: template)
            XCTAssertThrowsError(try bundle(bundleOptions)) { error in
                XCTAssertEqual((error as? TritonPackError)?.file, "\(template.standardizedFileURL.path)/\(reserved)")
                XCTAssertEqual((error as? TritonPackError)?.code, .reservedName, "\(error)")
            }
            try FileManager.default.removeItem(at: file)
        }
        XCTAssertFalse(POSIXFiles.exists(bundleOptions.output.path))
    }

    // MARK: the files the binary carries (compiled in at build time by the EmbedFiles plugin)

    /// The built-in template is templates/default as `--template templates/default` would load it:
    /// the same files, bytes and executable bits.
    func testTheBuiltInTemplateIsTemplatesDefault() throws {
        let folder = packageRoot.appendingPathComponent("templates/default")
        let onDisk = try BundleTemplate.load(directory: folder).files
        XCTAssertEqual(BundleTemplate.builtIn.files.map(\.path), onDisk.map(\.path))
        XCTAssertEqual(BundleTemplate.builtIn.files, onDisk, "the built-in template differs from templates/default")
    }

    /// Each runtime tritonpack writes into its home is its folder under runtime/, byte for byte
    /// (without the READMEs and tests of the folders that carry only their Python modules).
    func testTheRuntimesWrittenIntoTheHomeAreTheirFolders() throws {
        let home = try temporaryDirectory(self)
        let previousHome = ProcessInfo.processInfo.environment["TRITONPACK_HOME"]
        setenv("TRITONPACK_HOME", home.path, 1)
        defer {
            if let previousHome { setenv("TRITONPACK_HOME", previousHome, 1) } else { unsetenv("TRITONPACK_HOME") }
        }
        let pythonModules: (String) -> Bool = { $0.hasSuffix(".py") && !$0.hasPrefix("test_") }
        let runtimes: [(folder: String, files: [(path: String, text: String)], carried: (String) -> Bool)] = [
            ("runtime/oneflow", OneFlowPythonServing.runtimeFiles, { _ in true }),
            ("runtime/environment", EnvironmentPackerFiles.files.map { ($0.path, $0.text) }, { _ in true }),
            ("runtime/onnx", ONNXConverterFiles.files.map { ($0.path, $0.text) }, pythonModules),
            ("runtime/onnxruntime", ONNXRuntimeServingFiles.files.map { ($0.path, $0.text) }, { _ in true }),
            ("runtime/pipeline", ImagePipelineFiles.files.map { ($0.path, $0.text) }, pythonModules),
        ]
        for runtime in runtimes {
            let source = packageRoot.appendingPathComponent(runtime.folder)
            let expected = try POSIXFiles.entries(of: source.path).filter {
                runtime.carried($0) && !$0.hasPrefix(".") && POSIXFiles.isRegularFile(source.appendingPathComponent($0).path)
            }.sorted()
            XCTAssertFalse(expected.isEmpty, runtime.folder)
            let written = try TritonPackHome.materialize(runtime.files, kind: source.lastPathComponent)
            XCTAssertTrue(written.path.hasPrefix(home.path), written.path)
            XCTAssertEqual(try POSIXFiles.entries(of: written.path).sorted(), expected, runtime.folder)
            for path in expected {
                XCTAssertEqual(
                    FileManager.default.contents(atPath: written.appendingPathComponent(path).path),
                    FileManager.default.contents(atPath: source.appendingPathComponent(path).path),
                    "\(runtime.folder)/\(path) is not what tritonpack writes")
            }
        }
    }
}
