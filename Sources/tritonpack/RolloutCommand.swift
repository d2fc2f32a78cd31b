import ArgumentParser
import Foundation
import TritonPackKit

/// The options every fleet operation shares: the servers, their metrics, the golden data.
struct FleetOptions: ParsableArguments {
    @Option(
        name: .customLong("server"),
        help: "A running tritonserver in explicit model-control mode (http://host:port); repeat for a fleet, rolled in order.")
    var servers: [String] = []

    @Option(
        name: .customLong("metrics"),
        help: "Each server's metrics endpoint for the memory check, in --server order (default: the server's host, port 8002).")
    var metrics: [String] = []

    @Option(
        help: ArgumentHelp(
            "http or grpc: how the checked requests reach each server.",
            discussion:
                "With grpc, the checked requests (the candidate's and the model's after the switch) go over KServe v2 gRPC to each server's --grpc-server address; loading, unloading, the repository index, metadata and metrics stay on --server (HTTP) and --metrics."
        ))
    var `protocol`: ServingProtocol = .http

    @Option(
        name: .customLong("grpc-server"),
        help:
            "Each server's gRPC endpoint (host:port) for --protocol grpc, in --server order (default: the server's host, port 8001)."
    )
    var grpcServers: [String] = []

    @Option(
        help: "A folder of INPUT_<k>.npy for the check (default: the version's own tritonpack-golden/).", completion: .directory)
    var inputs: String?

    @Option(help: "A folder of expected outputs (OUTPUT_<k>.npy or <name>.npy) for the check.", completion: .directory)
    var expected: String?

    @Option(help: "Relative tolerance of the check (as smoke's).")
    var rtol: Double = 1e-3

    @Option(help: "Absolute tolerance of the check (as smoke's).")
    var atol: Double = 1e-3

    @Flag(help: "Unload before loading, for a server without memory for both: requests fail until the new version is loaded.")
    var oneAtATime = false

    @Option(help: "Seconds each call to a server may take (a load included).")
    var timeout: Double = 300

    /// At parse time, so that a usage error names the command's own usage.
    func validate() throws {
        guard metrics.isEmpty || metrics.count == servers.count else {
            throw ValidationError("give one --metrics per --server (or none)")
        }
        guard grpcServers.isEmpty || grpcServers.count == servers.count else {
            throw ValidationError("give one --grpc-server per --server (or none)")
        }
        if !grpcServers.isEmpty && `protocol` != .grpc {
            throw ValidationError("--grpc-server is for --protocol grpc")
        }
        for address in grpcServers where GRPCAddress.hostAndPort(address) == nil {
            throw ValidationError("--grpc-server '\(address)' is not host:port")
        }
        for server in servers {
            guard let url = URL(string: server), url.scheme == "http", url.host != nil else {
                throw ValidationError("--server '\(server)' is not http://host:port")
            }
        }
    }

    func targets() throws -> [RolloutServer] {
        guard !servers.isEmpty else { throw ValidationError("name at least one --server") }
        return servers.enumerated().map { index, server in
            let host = URL(string: server)?.host ?? "127.0.0.1"
            return RolloutServer(
                url: server, metrics: metrics.isEmpty ? "http://\(host):8002" : metrics[index],
                grpc: `protocol` == .grpc ? (grpcServers.isEmpty ? "\(host):8001" : grpcServers[index]) : nil)
        }
    }

    func options(repository: String, model: String, version: Int64, lockTimeout: Double) throws -> RolloutOptions {
        var options = RolloutOptions(repository: repository, model: model, version: version, servers: try targets())
        options.inputs = inputs.map { URL(fileURLWithPath: $0) }
        options.expected = expected.map { URL(fileURLWithPath: $0) }
        options.rtol = rtol
        options.atol = atol
        options.oneAtATime = oneAtATime
        options.timeout = timeout
        options.lockTimeout = lockTimeout
        options.protocol = `protocol`
        return options
    }
}

struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Roll a version already in the repository onto running explicit-mode servers with no failed request.",
        discussion: """
            For each server in turn: the version is loaded beside the served one as a candidate model that live traffic cannot reach, answers the checked requests (golden data), then the model switches to it in two loads with config overrides (old and new, then new) and the candidate is removed. A failure puts that server back on what it served and leaves the servers after it untouched. After the last server the repository's config serves the version. Rolling out an older version is the rollback.

            Examples:
              tritonpack rollout resnet --repo /models --server http://10.0.0.5:8000 --model-version 3
              tritonpack rollout resnet --repo /models --server http://a:8000 --server http://b:8000 \\
                --model-version 3 --inputs golden --expected golden --format json
              tritonpack rollout resnet --repo /models --server http://a:8000 --protocol grpc --grpc-server a:8001 --model-version 3
            """)

    @Argument(help: "The model's name in the repository.")
    var model: String

    @Option(help: "The repository the servers load from: a folder, or s3://host:port/bucket/prefix.", completion: .directory)
    var repo: String

    @Option(help: "The version to serve.", transform: parseModelVersion)
    var modelVersion: Int64

    @OptionGroup var fleet: FleetOptions

    @OptionGroup var writer: WriterOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if fleet.servers.isEmpty { throw ValidationError("name at least one --server") }
    }

    func run() async throws {
        Interruption.install()
        try await reportingFailures(format: writer.format, command: "rollout") {
            let options = try fleet.options(
                repository: repo, model: model, version: modelVersion, lockTimeout: writer.lockTimeout)
            try await RolloutPrinter(format: writer.format, output: output).run(Rollout(options: options) { output.warning($0) })
        }
    }
}

/// Prints a rollout's report and gives its exit status; shared by `rollout` and `rollback --server`.
struct RolloutPrinter {
    var format: OutputFormat
    var output: OutputOptions

    func run(_ rollout: Rollout) async throws {
        let report = try await rollout.run()
        switch format {
        case .json:
            let errors = report.failure.map { [ReportedProblem(message: $0)] } ?? []
            try printJSON(JSONReport(ok: report.ok, command: "rollout", errors: errors, payload: report))
        case .text:
            for server in report.servers {
                guard server.outcome != .untouched else {
                    print("\(server.server): untouched")
                    continue
                }
                print("\(server.server): \(server.outcome.rawValue), serving \(server.after) (before \(server.before))")
                for step in server.steps {
                    output.detail(
                        "  \(step.name): \(String(format: "%.2f", step.seconds)) s\(step.detail.map { " (\($0))" } ?? "")")
                }
            }
            if report.repositoryServes {
                print("\(report.model): the repository's config serves version \(report.version)")
            }
            if let failure = report.failure { printError("error: \(failure)") }
        }
        if !report.ok {
            // A version that failed its check is refused (1); a server that failed otherwise is an I/O failure (3).
            let refused = report.servers.contains { $0.checks.contains { !$0.problems.isEmpty } }
            throw ReportedFailure(status: refused ? .refused : .io)
        }
    }
}
