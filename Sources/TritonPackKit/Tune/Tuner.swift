import Foundation
import TritonPackLint
import TritonPackModels
import TritonPackRepository
import TritonPackServing

/// Finds the serving settings that do best for one model: one tritonserver for the whole search
/// (explicit model control), each candidate config linted, then loaded through the repository API
/// with the candidate as a config override, its answer checked, and timed in windows until stable.
public struct Tuner: Sendable {
    public var options: TuneOptions

    public init(options: TuneOptions) { self.options = options }

    /// Tunes the model of the local repository `options.serving.repository`. On cancellation
    /// (Ctrl-C) the search stops and the report of what was measured is returned.
    public func run(
        progress: @escaping @Sendable (String) -> Void = { _ in },
        onServerStarted: @Sendable (TritonServer) -> Void = { _ in }
    ) async throws -> TuneReport {
        let started = ContinuousClock.now
        var smokeOptions = options.serving
        smokeOptions.cpu = true
        let smoke = SmokeTest(options: smokeOptions)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-tune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let plan = try await smoke.plan(work: work)
        let model = options.serving.model
        let served = try plan.servedConfig(model: model)
        if served.modelTransactionPolicy.decoupled {
            throw TritonPackError.refused(
                nil,
                "'\(model)' is decoupled: tune measures models that answer each request once", code: .decoupledUnsupported)
        }
        let inputs = try smoke.buildInputs(served)
        let clientBatch = served.maxBatchSize > 0 ? Int(inputs.first?.1.shape.first ?? 1) : 1
        let space = try options.space(
            config: plan.config, batchLimit: try batchLimit(plan.config), clientBatch: clientBatch, gpus: plan.gpus)
        var report = TuneReport(
            model: model, device: plan.device, objective: options.objective, search: options.search,
            latencyBudgetMilliseconds: options.latencyBudgetMilliseconds, spaceSize: space.allPoints.count,
            currentConfig: String(
                decoding: try ModelDirectory.local(model, in: options.serving.repository).configText ?? Data(), as: UTF8.self))
        report.notes = plan.notes.filter { !$0.contains("--cpu") }
        if plan.config.wantsGPU && plan.gpus.isEmpty {
            report.notes.append("the config asks for KIND_GPU but this machine has no GPU: only KIND_CPU instances were measured")
        }
        // A server that exits during a trial (a crashed Python stub takes it down) is started
        // again, up to twice; the trials measured so far are kept and not measured again.
        var restarts = 0
        while true {
            let server = try TritonServer(
                executable: plan.executable, repository: plan.repository, log: work.appendingPathComponent("server.log"),
                arguments: ["--model-control-mode=explicit", "--log-verbose=0", "--exit-timeout-secs=5"] + plan.serverArguments,
                grpc: options.serving.protocol == .grpc)
            onServerStarted(server)
            let session = TuneSession(
                options: options, smoke: smoke, server: server, userConfig: plan.config, servedConfig: served, inputs: inputs,
                gpus: plan.gpus.count, progress: progress)
            let outcome: Result<Void, any Error>
            do {
                outcome = .success(try await session.search(space, into: &report))
            } catch {
                outcome = .failure(error)
            }
            await server.stop()
            switch outcome {
            case .success: break
            case .failure(let error) where error is CancellationError || Task.isCancelled: report.interrupted = true
            case .failure(let exited as TuneSession.ServerExited) where restarts < 2:
                restarts += 1
                report.notes.append(
                    "tritonserver exited during trial \(report.trials.count) (\(exited.log.joined(separator: "; "))); started again, the trials before it kept"
                )
                progress(report.notes.last!)
                continue
            case .failure(let exited as TuneSession.ServerExited):
                throw TritonPackError.io(
                    nil, "tritonserver exited during the search three times; the last time: \(exited.log.joined(separator: "; "))"
                )
            case .failure(let error): throw error
            }
            break
        }
        report.seconds = Self.seconds(since: started)
        return report
    }

    /// The largest batch the model takes: its config's max_batch_size, or for an ONNX model whose
    /// inputs and outputs all have a free first dimension, Model Analyzer's limit.
    package func batchLimit(_ config: Inference_ModelConfig) throws -> Int {
        var limit = Int(config.maxBatchSize)
        guard limit > 0, config.platform == "onnxruntime_onnx" || config.backend == "onnxruntime" else { return limit }
        let versions = try ModelDirectory.local(options.serving.model, in: options.serving.repository)
        guard let version = try versions.served().last else { return limit }
        let file = versions.directory.appendingPathComponent(
            "\(version)/\(config.defaultModelFilename.isEmpty ? "model.onnx" : config.defaultModelFilename)")
        if (try? ModelDescription.read(at: file).batching) == .dynamicFirstDimension {
            limit = max(limit, TuneOptions.dynamicBatchLimit)
        }
        return limit
    }

    package static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }
}
