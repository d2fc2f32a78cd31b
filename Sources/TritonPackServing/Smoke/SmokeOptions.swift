import Foundation

public struct SmokeOptions: Sendable {
    public var repository: URL
    public var model: String
    public var version: Int64?
    public var server: String?
    public var inputs: URL?
    public var expected: URL?
    public var rtol: Double = 1e-3
    public var atol: Double = 1e-3
    /// `rtol` and `atol` together.
    package var tolerance: Tolerance { Tolerance(relative: rtol, absolute: atol) }
    public var requests: Int = 100
    public var concurrency: Int = 1
    public var cpu = false
    public var timeout: Double = 120
    public var shapes: [String: [Int64]] = [:]
    public var allowNonFinite = false
    public var seed: UInt64 = 0
    /// How a OneFlow model is executed.
    public var runtime: SmokeRuntime = .auto
    /// The Python with OneFlow for the `oneflow-python` runtime (default: $TRITONPACK_ONEFLOW_PYTHON, the project's).
    public var oneflowPython: String?
    /// Where to keep the server's log (it is otherwise removed with the temporary folder).
    public var serverLog: URL?
    /// The protocol of the checked and timed requests (the server serves both; loading and
    /// statistics go over HTTP). A decoupled model needs gRPC.
    public var `protocol`: ServingProtocol = .http
    /// For a decoupled model: how many responses each request must get (with `expected`, its
    /// response folders say it).
    public var responses: Int?

    public init(repository: URL, model: String) {
        self.repository = repository
        self.model = model
    }
}

/// How smoke executes a OneFlow model.
public enum SmokeRuntime: String, Sendable, CaseIterable {
    /// The server's `oneflow` backend when it has one, else OneFlow's Python runtime.
    case auto
    /// The server's `oneflow` backend (libtriton_oneflow.so), as in the OneFlow Serving image.
    case oneflowBackend = "oneflow-backend"
    /// OneFlow's own runtime through a Python-backend model (`OneFlowPythonServing`).
    case oneflowPython = "oneflow-python"
}
