import Foundation

/// Which runtime executed the model, and why.
public struct RuntimeChoice: Codable, Equatable, Sendable {
    public var name: String
    public var reason: String
}

public struct OutputCheck: Codable, Equatable, Sendable {
    public var name: String
    /// For a decoupled model: which response (0, 1, ...) this output came in.
    public var response: Int?
    /// The expected file this output matches when the outputs come back under each other's names.
    public var carries: String?
    public var dataType: String?
    public var shape: [Int64]?
    public var maxAbsoluteError: Double?
    public var maxRelativeError: Double?
    public var mismatches: Int?
    public var nonFinite: Int?
    public var problems: [String]

    /// The output's name, with its response for a decoupled model ("OUTPUT0 (response 1)").
    public var label: String { name + (response.map { " (response \($0))" } ?? "") }
}

public struct LatencyReport: Codable, Equatable, Sendable {
    public var requests: Int
    public var concurrency: Int
    public var p50Milliseconds: Double
    public var p90Milliseconds: Double
    public var p99Milliseconds: Double
    public var throughput: Double
    public var serverInferenceCount: Int?
    public var serverExecutionCount: Int?
    public var serverAverageComputeMicroseconds: Double?
}

public struct SmokeReport: Encodable, Sendable {
    public var model: String
    public var device: String
    public var runtime: RuntimeChoice?
    /// The protocol of the checked and timed requests.
    public var `protocol`: ServingProtocol = .http
    public var notes: [String] = []
    public var loaded = false
    /// For a decoupled model: how many responses the checked request got.
    public var responses: Int?
    public var outputs: [OutputCheck] = []
    public var latency: LatencyReport?
    public var failures: [String] = []
    /// Seconds spent starting the server and loading the model (`load`), checking the answers
    /// (`outputs`) and sending the timed requests (`requests`); for JUnit's times.
    public var seconds: [String: Double] = [:]
    public var passed: Bool { loaded && failures.isEmpty }

    package enum CodingKeys: String, CodingKey {
        case model, device, runtime, `protocol`, notes, loaded, responses, outputs, latency, failures, passed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(device, forKey: .device)
        try container.encodeIfPresent(runtime, forKey: .runtime)
        try container.encode(`protocol`, forKey: .protocol)
        try container.encode(notes, forKey: .notes)
        try container.encode(loaded, forKey: .loaded)
        try container.encodeIfPresent(responses, forKey: .responses)
        try container.encode(outputs, forKey: .outputs)
        try container.encodeIfPresent(latency, forKey: .latency)
        try container.encode(failures, forKey: .failures)
        try container.encode(passed, forKey: .passed)
    }
}
