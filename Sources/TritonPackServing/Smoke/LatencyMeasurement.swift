import Foundation

/// smoke's timed requests and the server's own statistics of them.
package struct LatencyMeasurement: Sendable {
    package var model: String
    package var requests: Int
    package var concurrency: Int
    package var timeout: TimeInterval

    package init(options: SmokeOptions) {
        model = options.model
        requests = options.requests
        concurrency = options.concurrency
        timeout = options.timeout
    }

    /// The timed requests: `concurrency` tasks, each with a keep-alive connection of its own
    /// (opened before the clock starts; one warm-up request), spread over the event loops, over
    /// `endpoint`'s protocol. The checked requests have already compared the answers; here each must
    /// succeed (HTTP 200, gRPC OK; a decoupled model's stream up to its final response).
    package func measure(client: InferenceClient, endpoint: InferenceEndpoint, request: InferenceRequest) async throws
        -> LatencyReport
    {
        let requests = max(requests, 1)
        let session = try await LoadSession.open(
            endpoint, request: request, concurrency: min(concurrency, requests), timeout: timeout)
        var report = try await LoadSession.with(session) { session in
            LatencyReport(try await session.window(requests: requests), concurrency: session.concurrency)
        }
        try? await addServerStatistics(to: &report, client: client)
        return report
    }

    /// The server's counts and average compute time for the model (`v2/models/<model>/stats`).
    private func addServerStatistics(to report: inout LatencyReport, client: InferenceClient) async throws {
        let response = try await client.get("v2/models/\(model)/stats")
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let stats = (object["model_stats"] as? [[String: Any]])?.first
        else { return }
        report.serverInferenceCount = (stats["inference_count"] as? NSNumber)?.intValue
        report.serverExecutionCount = (stats["execution_count"] as? NSNumber)?.intValue
        if let inference = stats["inference_stats"] as? [String: Any],
            let compute = inference["compute_infer"] as? [String: Any],
            let count = (compute["count"] as? NSNumber)?.doubleValue, count > 0,
            let ns = (compute["ns"] as? NSNumber)?.doubleValue
        {
            report.serverAverageComputeMicroseconds = ns / count / 1000
        }
    }
}
