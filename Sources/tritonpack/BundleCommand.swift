import ArgumentParser
import Foundation
import TritonPackKit

extension BundleOptions.Versions: ExpressibleByArgument {}

struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Write a reproducible demo.zip: the model repository, run.sh, a web app, a client and a README.",
        discussion: """
            The same repository and options give a byte-identical archive: entries sorted, every timestamp \
            SOURCE_DATE_EPOCH (or 1980-01-01 00:00 UTC), permissions 0644 (0755 for executables and folders). \
            Text files are deflated, tensor data and other binary files stored; ZIP64 is used beyond 4 GiB. \
            Symbolic links are followed only inside the repository; hidden, editor and __pycache__ files are \
            left out unless --include-private. The archive is written beside --out and renamed into place.

            Examples:
              tritonpack bundle model_repository --out demo.zip
              tritonpack bundle model_repository --out demo.zip --model resnet --versions all --force
              SOURCE_DATE_EPOCH=1700000000 tritonpack bundle model_repository --out demo.zip --format json
            """)

    @Argument(
        help: "The model repository: a folder, or s3://host:port/bucket/prefix (read into a temporary copy).",
        completion: .directory, transform: nonEmptyPath)
    var repository: String

    @Option(help: "The archive to write.", completion: .file(extensions: ["zip"]), transform: nonEmptyPath)
    var out: String

    @Option(
        name: .customLong("model"),
        help: "A model to bundle (repeatable; an ensemble brings the models it calls). Default: every model.")
    var models: [String] = []

    @Option(help: "latest: the versions each model's version policy serves; all: every version folder.")
    var versions: BundleOptions.Versions = .latest

    @Option(
        help: "A template folder to use instead of the built-in one (files rendered with @@placeholders@@).",
        completion: .directory, transform: nonEmptyPath)
    var template: String?

    @Option(
        help:
            "The container image run.sh starts when no local tritonserver is found (default: OneFlow's serving image for oneflow models, NVIDIA's Triton image otherwise)."
    )
    var image: String?

    @Flag(help: "Replace --out if it exists.")
    var force = false

    @Flag(help: "Also bundle hidden files, editor backups and __pycache__ folders.")
    var includePrivate = false

    @Flag(help: "Bundle even when lint finds errors in a model.")
    var skipLint = false

    @OptionGroup var sync: SyncOptions

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    @OptionGroup var output: OutputOptions

    func run() async throws {
        Interruption.install()
        try await reportingFailures(format: format, command: "bundle") {
            let report = try await withReadableFolder(repository, allVersions: versions == .all) { folder, _ in
                var options = BundleOptions(repository: folder, output: URL(fileURLWithPath: out))
                options.models = models
                options.versions = versions
                if let template { options.template = try BundleTemplate.load(directory: URL(fileURLWithPath: template)) }
                options.containerImage = image
                options.force = force
                options.includePrivate = includePrivate
                options.lint = !skipLint
                options.sync = !sync.noSync
                options.timestamp = try sourceDateEpoch()
                return try output.withProgress("bundling", json: format == .json) {
                    try BundleBuilder(options: options).build()
                }
            }
            switch format {
            case .json:
                try printJSON(JSONReport(ok: true, command: "bundle", payload: ResultPayload(result: report)))
            case .text:
                print(
                    "bundled \(report.models.map { "\($0.name) (version \($0.versions.map(String.init).joined(separator: ", ")))" }.joined(separator: ", "))"
                )
                output.detail(
                    "  \(report.output): \(report.entries) entries, \(ByteSize.human(report.archiveBytes)) (\(report.storedFiles) files stored, \(report.deflatedFiles) deflated)"
                )
                if !report.leftOut.isEmpty {
                    output.detail(
                        "  left out as private (--include-private keeps them): \(report.leftOut.joined(separator: ", "))")
                }
            }
        }
    }

    /// SOURCE_DATE_EPOCH (reproducible-builds.org) when set, else the ZIP epoch.
    private func sourceDateEpoch() throws -> DOSTimestamp {
        guard let value = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], !value.isEmpty else { return .epoch }
        guard let seconds = Int64(value), seconds >= 0 else {
            throw TritonPackError.usage("SOURCE_DATE_EPOCH must be a number of seconds since 1970, not '\(value)'")
        }
        return DOSTimestamp(unixSeconds: seconds)
    }
}
