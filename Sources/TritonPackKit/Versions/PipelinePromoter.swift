import Foundation
import TritonPackLint
import TritonPackModels
import TritonPackRepository

extension ImagePipeline {
    /// The pipeline whose ensemble is `name` (or `<name>_image`) in `repository`: an ensemble whose
    /// three steps are `<model>`, `<model>_preprocess` and `<model>_postprocess`. Nil for any other
    /// model.
    public static func units(named name: String, in repository: ModelRepository) async throws -> (
        ensemble: String, model: String, steps: [String]
    )? {
        for candidate in [name, name + ensembleSuffix] where candidate.hasSuffix(ensembleSuffix) {
            let directory = try await repository.model(candidate)
            guard directory.exists, let config = try? directory.config(), config.platform == "ensemble" else { continue }
            let model = String(candidate.dropLast(ensembleSuffix.count))
            let expected = [model + preprocessSuffix, model, model + postprocessSuffix]
            guard Set(config.ensembleScheduling.step.map(\.modelName)) == Set(expected) else { continue }
            return (candidate, model, [model, model + preprocessSuffix, model + postprocessSuffix])
        }
        return nil
    }
}

/// Promotes one version of an image pipeline as a unit: version V of the model and of its two
/// steps (each through `Promoter`, its gates included, beside the versions the target's ensemble
/// pins now), then the ensemble's version and its config pinning the promoted versions, in one
/// publication. A polling server of the target switches every request at once; a failure before
/// the ensemble leaves the target serving the set it served.
public struct PipelinePromoter: Sendable {
    /// The promotion asked for, naming the ensemble (or the model the pipeline wraps); each step is
    /// promoted with the same settings.
    public var request: Promoter

    public init(_ request: Promoter) { self.request = request }

    public func promote(onWait: @escaping @Sendable (String) -> Void = { _ in }) async throws -> [PromotionResult] {
        let (source, target, lockTimeout) = (request.source, request.target, request.lockTimeout)
        guard source.store.localRoot != nil else {
            throw TritonPackError.usage(
                "promoting a pipeline reads it from a local repository; --from names \(source.store.displayName)")
        }
        guard let unit = try await ImagePipeline.units(named: request.name, in: source) else {
            throw TritonPackError.refused(source.store.displayName, "'\(request.name)' is no image pipeline's ensemble here")
        }
        let ensemble = try await source.model(unit.ensemble)
        let sourceConfig = try ensemble.config()
        guard let version = request.version ?? ensemble.versions.last else {
            throw TritonPackError.refused(ensemble.displayPath, "the ensemble has no version")
        }
        for step in unit.steps {
            let directory = try await source.model(step)
            if !directory.versions.contains(version) {
                throw TritonPackError.refused(
                    directory.displayPath, "has no version \(version): a pipeline version is the same number in its four models")
            }
        }
        let destination = request.targetVersion ?? version
        var results: [PromotionResult] = []
        for step in unit.steps {
            var promoter = request
            promoter.name = step
            promoter.version = version
            promoter.targetVersion = destination
            results.append(try await promoter.promote(onWait: onWait))
        }
        var config = sourceConfig
        for index in config.ensembleScheduling.step.indices { config.ensembleScheduling.step[index].modelVersion = destination }
        let manifest = try? await ensemble.version(version).manifest()
        let name = unit.ensemble
        let result = try await RepositoryTransaction.run(
            in: target, model: name, lock: LockPolicy(timeout: lockTimeout, onWait: onWait)
        ) { transaction in
            let to = transaction.model
            if to.versions.contains(destination) {
                throw TritonPackError.refused(
                    to.version(destination).displayPath,
                    "version \(destination) of '\(name)' already exists in the target", code: .versionExists)
            }
            transaction.setConfig(Data(config.pbtxt.utf8))
            let signature = manifest?.signature ?? Signature(inputs: [], outputs: [])
            let (record, _) = try await transaction.addVersion(destination, files: []) {
                Manifest(
                    model: name, version: destination,
                    source: .init(kind: "promoted", path: ensemble.version(version).displayPath), signature: signature, files: $0)
            }
            transaction.record(
                "promote", versions: [destination], digests: [String(destination): record.digest],
                detail: "pins \(unit.steps.map { "\($0) \(destination)" }.joined(separator: ", "))")
            return PromotionResult(
                model: name, sourceVersion: version, targetVersion: destination,
                targetDirectory: to.version(destination).displayPath, configCopied: true, digest: record.digest, gates: [])
        }
        results.append(result)
        return results
    }
}
