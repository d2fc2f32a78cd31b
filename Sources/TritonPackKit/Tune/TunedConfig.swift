import Foundation
import TritonPackModels
import TritonPackRepository

extension ServingSettings {
    /// The user's config text with these settings: instance_group, max_batch_size and
    /// dynamic_batching rewritten where they were written, comments and everything else kept;
    /// the whole config printed anew when the text cannot be edited in place.
    public func edited(_ text: String) throws -> String {
        let written = try Inference_ModelConfig.parse(text).message
        let target = applied(to: written)
        var fields = Inference_ModelConfig()
        fields.instanceGroup = target.instanceGroup
        fields.maxBatchSize = target.maxBatchSize
        if target.usesDynamicBatching { fields.dynamicBatching = target.dynamicBatching }
        return ConfigTextEditor.replacing(
            fields: ["instance_group", "max_batch_size", "dynamic_batching"], in: text, with: fields.pbtxt, expecting: target)
            ?? target.pbtxt
    }
}

extension Tuner {
    /// Publishes the report's proposed config as one config change (local or `s3://`), so a
    /// polling server reloads the model once; refused when the config changed since tune read it.
    public static func write(_ report: TuneReport, to location: String) async throws {
        guard let proposed = report.proposedConfig, let best = report.best else {
            throw TritonPackError.refused(
                nil, "tune found no config to write: no trial was stable, correct and within the budget")
        }
        let repository = try ModelRepository.named(location)
        try await RepositoryTransaction.run(in: repository, model: report.model) { transaction in
            let now = String(decoding: transaction.model.configText ?? Data(), as: UTF8.self)
            guard now == report.currentConfig else {
                throw TritonPackError.refused(
                    transaction.model.configPath, "the config changed while tune measured it", code: .configChanged)
            }
            transaction.setConfig(Data(proposed.utf8))
            transaction.record(
                "tune", versions: [],
                detail:
                    "\(best.settings.label), measured \(String(format: "%.1f", best.throughput)) requests/s, p99 \(String(format: "%.2f", best.p99Milliseconds)) ms at concurrency \(best.concurrency)"
            )
        }
    }
}
