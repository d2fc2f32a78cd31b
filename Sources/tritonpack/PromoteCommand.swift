import ArgumentParser
import Foundation
import TritonPackKit

struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Copy one version of a model from one repository to another, behind gates (lint, manifest, signature).",
        discussion: """
            The target's config is kept; a model new to the target gets the source's config. An image pipeline's ensemble (<name>_image from pack --pipeline image, or <name> when that ensemble exists) is promoted as a unit: the same version of the model and its two steps, then the ensemble's config pinning them, in one change.

            Examples:
              tritonpack promote resnet --from staging --to production
              tritonpack promote resnet --from staging --to production --model-version 4 --as 2
              tritonpack promote resnet --from staging --to production --gpus 0 --format json
            """)

    @Argument(help: "The model name.")
    var model: String

    @Option(help: "The source repository (e.g. staging).", completion: .directory, transform: nonEmptyPath)
    var from: String

    @Option(help: "The target repository (e.g. production); it must exist.", completion: .directory, transform: nonEmptyPath)
    var to: String

    @Option(help: "The source's model version (default: the newest the source serves).", transform: parseModelVersion)
    var modelVersion: Int64?

    @Option(name: .customLong("as"), help: "The version number in the target (default: the same).", transform: parseModelVersion)
    var targetVersion: Int64?

    @Flag(help: "Promote even when inputs or outputs change in a way that breaks the target's clients.")
    var allowBreaking = false

    @Option(help: "GPUs of the target server, for the lint gate.")
    var gpus: Int?

    @OptionGroup var writer: WriterOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if model.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("the model name is empty") }
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be >= 0") }
    }

    func run() async throws {
        Interruption.install()
        try await reportingFailures(format: writer.format, command: "promote") {
            let result: PromotionResult
            do {
                result = try await output.withProgress("promoting", json: writer.format == .json) {
                    try await promote()
                }
            } catch let refusal as TritonPackError where writer.format == .text {
                for problem in refusal.problems where problem.code?.hasPrefix("gate ") == true {
                    print("\(problem.code!): failed (\(problem.message))")
                }
                throw refusal
            }
            switch writer.format {
            case .json:
                try printJSON(JSONReport(ok: true, command: "promote", payload: ResultPayload(result: result)))
            case .text:
                for gate in result.gates { output.detail("gate \(gate.name): \(gate.outcome.rawValue) (\(gate.detail))") }
                print(
                    "promoted \(result.model) version \(result.sourceVersion) to \(result.targetDirectory) (sha256:\(result.digest))"
                )
            }
        }
    }
}

extension PromoteCommand {
    /// Promotes between any two repositories, local or in S3.
    func promote() async throws -> PromotionResult {
        let promoter = Promoter(
            name: model, source: try namedRepository(from), target: try namedRepository(to), version: modelVersion,
            targetVersion: targetVersion, allowBreaking: allowBreaking, lintOptions: LintOptions(gpus: gpus),
            lockTimeout: writer.lockTimeout)
        if promoter.source.store.localRoot != nil, try await ImagePipeline.units(named: model, in: promoter.source) != nil {
            let results = try await PipelinePromoter(promoter).promote(onWait: { printError($0) })
            for step in results.dropLast() where writer.format == .text {
                print("promoted \(step.model) version \(step.sourceVersion) to \(step.targetDirectory) (sha256:\(step.digest))")
            }
            return results.last!
        }
        return try await promoter.promote(onWait: { printError($0) })
    }
}
