import Foundation
import TritonPackKit
import XCTest

/// The one-node Ceph radosgw of `scripts/radosgw.sh`, started once per test process in its own
/// folder and stopped when the test bundle finishes. Tests skip when Ceph is not installed, unless
/// `CI` is set: then a missing server is a failure (`make test` installs it through scripts/setup.sh).
public final class S3TestServer: @unchecked Sendable {
    public let home: URL
    /// `TRITONPACK_S3_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`.
    public let variables: [String: String]
    public var endpoint: String { variables["TRITONPACK_S3_ENDPOINT"]! }
    /// `host:port` as it appears in an `s3://host:port/bucket` URL.
    public var hostAndPort: String { String(endpoint.dropFirst("http://".count)) }

    /// The process environment with the server's variables (and no credential file).
    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["TRITON_CLOUD_CREDENTIAL_PATH"] = nil
        environment["AWS_SESSION_TOKEN"] = nil
        environment["AWS_ENDPOINT_URL"] = nil
        for (name, value) in variables { environment[name] = value }
        return environment
    }

    private init(home: URL, variables: [String: String]) {
        self.home = home
        self.variables = variables
    }

    private actor Starter {
        var task: Task<S3TestServer, Error>?
        func server() async throws -> S3TestServer {
            if task == nil { task = Task { try await S3TestServer.start() } }
            return try await task!.value
        }
    }
    private static let starter = Starter()

    /// The running server; throws XCTSkip when Ceph is absent outside CI.
    public static func shared() async throws -> S3TestServer {
        try await starter.server()
    }

    private static func start() async throws -> S3TestServer {
        let installed = ["radosgw", "ceph-mon", "ceph-osd"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: "/usr/bin/\($0)")
        }
        if !installed {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                throw TritonPackError.io(
                    nil, "CI is set and Ceph's radosgw is not installed: run scripts/setup-s3.sh (make test does)")
            }
            throw XCTSkip("Ceph's radosgw is not installed (scripts/setup-s3.sh); the S3 tests need a real S3 server")
        }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-radosgw-\(getpid())")
        let script = packageRoot.appendingPathComponent("scripts/radosgw.sh")
        let began = Date()
        var environment = ProcessInfo.processInfo.environment
        environment["TRITONPACK_S3_HOME"] = home.path
        let (status, output) = try await SpawnedProcess.run(script, ["start"], environment: environment)
        guard status == 0 else { throw TritonPackError.io(script.path, "start failed (\(status)):\n\(output)") }
        var variables: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            variables[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        guard variables["TRITONPACK_S3_ENDPOINT"] != nil else {
            throw TritonPackError.io(script.path, "printed no endpoint:\n\(output)")
        }
        print(
            "radosgw: \(variables["TRITONPACK_S3_ENDPOINT"]!) up in \(String(format: "%.1f", Date().timeIntervalSince(began))) s")
        let server = S3TestServer(home: home, variables: variables)
        XCTestObservationCenter.shared.addTestObserver(StopAtEnd(home: home, script: script))
        return server
    }

    @discardableResult
    static func run(_ script: URL, _ arguments: [String], home: URL) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["TRITONPACK_S3_HOME"] = home.path
        // Output through files, not pipes: the daemons it starts outlive it.
        let outcome = try runProcess(script, arguments, environment: environment)
        guard outcome.status == 0 else {
            throw TritonPackError.io(
                script.path, "\(arguments.joined(separator: " ")) failed (\(outcome.status)):\n\(outcome.stdout)\(outcome.stderr)"
            )
        }
        return outcome.stdout
    }

    private final class StopAtEnd: NSObject, XCTestObservation {
        let home: URL
        let script: URL
        init(home: URL, script: URL) {
            self.home = home
            self.script = script
        }
        func testBundleDidFinish(_ testBundle: Bundle) {
            _ = try? S3TestServer.run(script, ["stop"], home: home)
        }
    }

    /// A new, empty bucket with a unique name.
    public func makeBucket(_ stem: String = "test") async throws -> String {
        let name = "\(stem)-\(UUID().uuidString.prefix(8).lowercased())"
        let location = try S3Location(parsing: "s3://\(hostAndPort)/\(name)", environment: environment)
        try await S3Client(location: location, environment: environment).createBucket()
        return name
    }

    /// `s3://host:port/<bucket>/<prefix>`.
    public func url(bucket: String, prefix: String = "") -> String {
        "s3://\(hostAndPort)/\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)")
    }

    public func client(_ url: String) throws -> S3Client {
        let location = try S3Location(parsing: url, environment: environment)
        return try S3Client(location: location, environment: environment)
    }
}
