import Foundation
import Glibc
import TritonPackModels
import TritonPackRepository
import TritonPackServing

/// One server of a fleet: its HTTP endpoint (model control), for the memory check its metrics
/// endpoint, and for checked requests over gRPC its gRPC endpoint (`host:port`).
public struct RolloutServer: Sendable, Equatable {
    public var url: String
    public var metrics: String?
    public var grpc: String?

    public init(url: String, metrics: String? = nil, grpc: String? = nil) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.metrics = metrics
        self.grpc = grpc
    }
}

public struct RolloutOptions: Sendable {
    /// The repository the servers load from (a folder on this machine).
    public var repository: String
    public var model: String
    public var version: Int64
    public var servers: [RolloutServer]
    /// Golden data for the check; default: the version's own `tritonpack-golden/` (pack --golden).
    public var inputs: URL?
    public var expected: URL?
    public var rtol = 1e-3
    public var atol = 1e-3
    /// Unload before loading (no second copy in memory; a short gap in which requests fail).
    public var oneAtATime = false
    public var timeout: Double = 300
    public var lockTimeout: Double = 60
    /// How the checked requests reach each server (gRPC: at its `grpc` address); the model
    /// control calls go over HTTP either way.
    public var `protocol`: ServingProtocol = .http

    public init(repository: String, model: String, version: Int64, servers: [RolloutServer]) {
        self.repository = repository
        self.model = model
        self.version = version
        self.servers = servers
    }
}

/// What happened on one server.
public struct ServerRollout: Codable, Equatable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        /// The new version serves; nothing else of the model is loaded.
        case rolledOut = "rolled-out"
        /// A step failed; the server was put back on the versions it served before.
        case restored
        /// A step failed and the server could not be put back (it is named with its state).
        case failed
        /// Not reached: an earlier server failed.
        case untouched
    }

    public struct Step: Codable, Equatable, Sendable {
        public var name: String
        public var seconds: Double
        public var detail: String?
    }

    public var server: String
    public var before: [Int64] = []
    public var after: [Int64] = []
    public var steps: [Step] = []
    public var checks: [OutputCheck] = []
    public var outcome: Outcome = .untouched
    public var error: String?
}

public struct RolloutReport: Codable, Equatable, Sendable {
    public var model: String
    public var version: Int64
    public var servers: [ServerRollout]
    /// Whether the repository's own config now serves the version (after the last server).
    public var repositoryServes: Bool
    public var ok: Bool
    /// Why the rollout stopped: the server, the step, and Triton's words.
    public var failure: String?
}

/// Rolls version V of a model onto running explicit-mode servers, one after the other, so that no
/// request fails and no user request reaches V before it has answered correctly:
///
/// 1. V is loaded beside the served version as a candidate model (`<model>.candidate-<V>`, V's
///    files placed beside the model through the store: hard links in a folder, objects in a
///    bucket; its config naming only V), so that live traffic, which names the model, cannot reach it; before that, the version's weight bytes times its instances are
///    compared with the free memory the server's metrics report.
/// 2. The candidate answers the checked requests (golden data) with smoke's tolerances; then it is
///    unloaded and its folder removed.
/// 3. The model is loaded with a config override serving the old versions and V, then with one
///    serving V alone: Triton swaps versions without unloading the model, so requests with and
///    without a version keep being answered (see docs/user-guide.md, "Rolling out"). The server's
///    model metadata and repository index must then list V alone.
///
/// Any failure puts that server back on what it served (a load with the previous versions), stops,
/// and leaves the servers after it untouched. After the last server, the repository's config
/// serves V (one config change through the repository transaction), so a restarted server comes
/// back on what the fleet serves.
public struct Rollout: Sendable {
    public var options: RolloutOptions
    public var progress: @Sendable (String) -> Void

    public init(options: RolloutOptions, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.options = options
        self.progress = progress
    }

    /// The name the candidate is loaded under.
    public var candidateName: String { "\(options.model).candidate-\(options.version)" }

    public func run() async throws -> RolloutReport {
        guard !options.servers.isEmpty else { throw TritonPackError.usage("name at least one --server") }
        let repository = try ModelRepository.named(options.repository, onProgress: progress)
        let model = try await repository.model(options.model)
        try model.requireModel()
        guard model.versions.contains(options.version) else {
            throw TritonPackError.refused(
                model.version(options.version).displayPath,
                "version \(options.version) is not in the repository (it has \(model.versions.map(String.init).joined(separator: ", "))); pack or promote it first"
            )
        }
        let config = try model.config()
        // The version's files on this machine: the repository itself, or a copy of the version
        // (an object store), from which the candidate is made and the golden data read. The
        // scratch space is beside a local repository, so that the candidate's hard links stay on
        // its filesystem (as staging does).
        let scratch = repository.store.localRoot?.deletingLastPathComponent() ?? FileManager.default.temporaryDirectory
        let work = scratch.appendingPathComponent(".tritonpack-rollout-\(UUID().uuidString)")
        defer { POSIXFiles.removeTree(work.path) }
        let local: URL
        if let root = repository.store.localRoot {
            local = root
        } else {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            progress("copying version \(options.version) of '\(options.model)' from \(repository.store.displayName)")
            try await repository.store.copyModel(
                options.model, versions: .listed([options.version]), configAsServed: false, into: work)
            local = work
        }
        let plan = Plan(
            repository: repository, local: local, work: work, model: model, config: config, version: options.version,
            candidate: candidateName, weightBytes: try await weightBytes(model.version(options.version)),
            check: try checker(root: local))

        var report = RolloutReport(
            model: options.model, version: options.version,
            servers: options.servers.map { ServerRollout(server: $0.url) }, repositoryServes: false, ok: false)
        for (index, server) in options.servers.enumerated() {
            progress("\(server.url): rolling out version \(options.version) of '\(options.model)'")
            let control = try TritonControl(
                url: server.url, metricsURL: server.metrics, grpc: options.protocol == .grpc ? server.grpc : nil,
                timeout: options.timeout)
            var record = report.servers[index]
            let failure: (any Error)?
            do {
                try await roll(plan, on: control, record: &record)
                failure = nil
            } catch {
                failure = error
                await restore(plan, on: control, record: &record, after: error)
            }
            await control.shutdown()
            report.servers[index] = record
            if let failure {
                if failure is CancellationError || (failure as? TritonPackError)?.kind == .interrupted {
                    var interrupted = TritonPackError.interrupted(by: (failure as? TritonPackError)?.signal ?? SIGINT)
                    interrupted.message +=
                        " at \(server.url), step '\(record.steps.last?.name ?? "start")'; every server serves a consistent version set: \(Self.fleetState(report))"
                    throw interrupted
                }
                report.failure =
                    "\(server.url): rollout stopped at step '\(record.steps.last?.name ?? "start")': \(record.error ?? "\(failure)"); \(record.outcome == .restored ? "this server serves \(record.before) again" : "this server could not be put back; it has \(record.after) ready"); the servers after it were not touched"
                return report
            }
        }
        try await publish(plan, repository: repository)
        report.repositoryServes = true
        report.ok = true
        return report
    }

    /// Which versions each server serves now, for a message after an interruption.
    package static func fleetState(_ report: RolloutReport) -> String {
        report.servers.map { "\($0.server) serves \($0.outcome == .untouched ? "what it served (untouched)" : "\($0.after)")" }
            .joined(separator: "; ")
    }

    package struct Plan: Sendable {
        package var repository: ModelRepository
        /// A folder on this machine holding `<model>/<version>`.
        package var local: URL
        /// Scratch space of this run (removed at its end).
        package var work: URL
        package var model: ModelDirectory
        package var config: Inference_ModelConfig
        package var version: Int64
        package var candidate: String
        package var weightBytes: Int64
        package var check: SmokeTest
    }

    /// The version's files as its manifest lists them (or as they are on disk).
    package func weightBytes(_ version: VersionDirectory) async throws -> Int64 {
        if let manifest = try? await version.manifest() { return manifest.files.reduce(0) { $0 + $1.size } }
        return try await version.repository.store.files(ofModel: version.model, version: version.number).values.reduce(0, +)
    }

    /// smoke's inputs and comparison, on the rollout's golden data.
    package func checker(root: URL) throws -> SmokeTest {
        var smoke = SmokeOptions(repository: root, model: options.model)
        let stored = root.appendingPathComponent("\(options.model)/\(options.version)/\(Manifest.goldenFolder)")
        smoke.inputs = options.inputs ?? (POSIXFiles.isDirectory(stored.path) ? stored : nil)
        smoke.expected = options.expected ?? (options.inputs == nil && POSIXFiles.isDirectory(stored.path) ? stored : nil)
        smoke.rtol = options.rtol
        smoke.atol = options.atol
        smoke.timeout = options.timeout
        return SmokeTest(options: smoke)
    }

    private func step<T>(_ name: String, _ record: inout ServerRollout, detail: String? = nil, _ body: () async throws -> T)
        async throws -> T
    {
        try Interruption.check()
        try Task.checkCancellation()
        let start = ContinuousClock.now
        record.steps.append(.init(name: name, seconds: 0, detail: detail))
        let result = try await body()
        let elapsed = start.duration(to: .now)
        record.steps[record.steps.count - 1].seconds =
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return result
    }

    package func roll(_ plan: Plan, on control: TritonControl, record: inout ServerRollout) async throws {
        guard try await step("reach", &record, { try await control.live() }) else {
            throw TritonPackError.io(control.url, "the server is not live (/v2/health/live)")
        }
        record.before = try await control.readyVersions(of: plan.model.name)
        record.after = record.before
        try await step("memory", &record) { try await checkMemory(plan, on: control) }
        if options.oneAtATime {
            progress(
                "\(control.url): --one-at-a-time: unloading '\(plan.model.name)' first; requests fail until version \(plan.version) is loaded"
            )
            try await step("unload", &record, detail: "requests fail until the load") {
                try await control.unload(plan.model.name)
            }
            record.after = []
            try await step("load", &record) { try await control.load(plan.model.name, config: serving(plan, [plan.version])) }
            record.after = try await control.readyVersions(of: plan.model.name)
            record.checks = try await step("check", &record) {
                try await check(plan, model: plan.model.name, on: control)
            }
        } else {
            record.checks = try await step("candidate", &record, detail: plan.candidate) {
                try await checkCandidate(plan, on: control)
            }
            let both = Array(Set(record.before).union([plan.version])).sorted()
            try await step("load beside", &record, detail: "serving \(both)") {
                try await control.load(plan.model.name, config: serving(plan, both))
            }
            record.after = try await control.readyVersions(of: plan.model.name)
            try await step("switch", &record, detail: "serving [\(plan.version)]") {
                try await control.load(plan.model.name, config: serving(plan, [plan.version]))
            }
        }
        record.after = try await control.readyVersions(of: plan.model.name)
        let listed = try await step("confirm", &record) { try await control.metadataVersions(of: plan.model.name) }
        guard listed == [plan.version], record.after == [plan.version] else {
            throw TritonPackError.io(
                control.url,
                "after the switch the server lists versions \(listed) and has \(record.after) ready, not [\(plan.version)]")
        }
        record.outcome = .rolledOut
    }

    /// The model's config serving exactly `versions`.
    package func serving(_ plan: Plan, _ versions: [Int64]) -> Inference_ModelConfig {
        var config = plan.config
        config.name = plan.model.name
        config.versionPolicy = Inference_ModelVersionPolicy.with { $0.specific.versions = versions }
        return config
    }

    /// Refuses a load the server's free memory cannot hold: the version's files once per instance.
    package func checkMemory(_ plan: Plan, on control: TritonControl) async throws {
        guard let free = try await control.freeMemory() else {
            progress("\(control.url): no metrics endpoint answered; the memory check is skipped")
            return
        }
        let instances = max(
            1, plan.config.instanceGroup.reduce(0) { $0 + Int64(max(1, $1.count)) * Int64(max(1, $1.gpus.count)) })
        let needed = plan.weightBytes * instances
        let onGPU = plan.config.wantsGPU
        guard let available = onGPU ? free.gpu : free.cpu else { return }
        if needed > available && !options.oneAtATime {
            throw TritonPackError.refused(
                control.url,
                "version \(plan.version) needs about \(ByteSize.human(needed)) (\(ByteSize.human(plan.weightBytes)) of files x \(instances) instance(s)) beside the served version, but the server reports \(ByteSize.human(available)) of free \(onGPU ? "GPU" : "host") memory; nothing was loaded. --one-at-a-time unloads first (a short gap in which requests fail)"
            )
        }
    }

    /// Loads the candidate (V's files beside the model, a config naming V alone), checks its
    /// answers, and removes it again, whatever happens.
    package func checkCandidate(_ plan: Plan, on control: TritonControl) async throws -> [OutputCheck] {
        let folder = plan.work.appendingPathComponent("candidate/\(plan.candidate)")
        if POSIXFiles.exists(folder.path) { POSIXFiles.removeTree(folder.path) }
        let source = plan.local.appendingPathComponent(plan.model.name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try HardLinkTree.copy(
            source.appendingPathComponent(String(plan.version)), to: folder.appendingPathComponent(String(plan.version)))
        for name in plan.model.modelFiles where POSIXFiles.exists(source.appendingPathComponent(name).path) {
            let file = source.appendingPathComponent(name)
            if Glibc.link(file.path, folder.appendingPathComponent(name).path) != 0 {
                try FileManager.default.copyItem(at: file, to: folder.appendingPathComponent(name))
            }
        }
        var config = serving(plan, [plan.version])
        config.name = plan.candidate
        try POSIXFiles.write(Data(config.pbtxt.utf8), to: folder.appendingPathComponent(ModelRepository.configFileName).path)
        let store = plan.repository.store
        try await store.placeFolder(folder, as: plan.candidate)
        defer { POSIXFiles.removeTree(folder.path) }
        do {
            try await control.load(plan.candidate, config: nil)
        } catch {
            await store.removeFolder(plan.candidate)
            throw error
        }
        do {
            let checks = try await check(plan, model: plan.candidate, on: control)
            try await control.unload(plan.candidate)
            await store.removeFolder(plan.candidate)
            return checks
        } catch {
            try? await control.unload(plan.candidate)
            await store.removeFolder(plan.candidate)
            throw error
        }
    }

    /// smoke's checked request against `model` version V on the server.
    package func check(_ plan: Plan, model: String, on control: TritonControl) async throws -> [OutputCheck] {
        let inputs = try plan.check.buildInputs(plan.config)
        let batch = plan.config.maxBatchSize > 0 ? inputs.first?.1.shape.first : nil
        let answer = try await control.infer(
            model: model, version: plan.version, inputs: inputs, outputs: plan.config.output.map(\.name))
        let checks = try plan.check.check(answer, config: plan.config, batch: batch)
        let problems = checks.flatMap { check in check.problems.map { "\(check.name): \($0)" } }
        guard problems.isEmpty else {
            throw CheckFailed(problems: problems, checks: checks)
        }
        return checks
    }

    package struct CheckFailed: Error, CustomStringConvertible {
        package var problems: [String]
        package var checks: [OutputCheck]
        package var description: String { "the checked request failed: \(problems.joined(separator: "; "))" }
    }

    /// After a failure: the server serves what it served before (the model is never left on V
    /// alone unless the switch finished), and the candidate is gone.
    package func restore(_ plan: Plan, on control: TritonControl, record: inout ServerRollout, after error: any Error) async {
        record.error = (error as? TritonControl.Refusal)?.description ?? (error as? CheckFailed)?.description ?? "\(error)"
        if let failed = error as? CheckFailed { record.checks = failed.checks }
        guard (try? await control.live()) == true else {
            record.outcome = .failed
            record.error = (record.error ?? "") + "; the server does not answer, so nothing could be put back"
            return
        }
        try? await control.unload(plan.candidate)
        await plan.repository.store.removeFolder(plan.candidate)
        let current = (try? await control.readyVersions(of: plan.model.name)) ?? record.after
        if current == record.before {
            record.after = current
            record.outcome = .restored
            return
        }
        do {
            if record.before.isEmpty {
                try await control.unload(plan.model.name)
            } else {
                try await control.load(plan.model.name, config: serving(plan, record.before))
            }
            record.after = try await control.readyVersions(of: plan.model.name)
            record.outcome = record.after == record.before ? .restored : .failed
        } catch {
            record.after = current
            record.outcome = .failed
            record.error = (record.error ?? "") + "; restoring \(record.before) failed too: \(error)"
        }
    }

    /// The repository's config serves V from now on: one config change, recorded in the history.
    package func publish(_ plan: Plan, repository: ModelRepository) async throws {
        try await RepositoryTransaction.run(
            in: repository, model: plan.model.name, lock: LockPolicy(timeout: options.lockTimeout, onWait: progress)
        ) { transaction in
            let text = String(decoding: transaction.model.configText ?? Data(), as: UTF8.self)
            var pin = Inference_ModelConfig()
            pin.versionPolicy.specific.versions = [plan.version]
            let updated = try ConfigTextEditor.replacing(field: "version_policy", in: text, with: pin.pbtxt)
            transaction.setConfig(Data(updated.utf8))
            transaction.record(
                "rollout", versions: [plan.version],
                detail: "onto \(options.servers.map(\.url).joined(separator: ", "))")
        }
    }
}
