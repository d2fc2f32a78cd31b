import Foundation
import TritonPackModels

extension SmokeReport {
    /// JUnit XML for CI test views: a case for the load, one per output, and one for the requests.
    public var junit: String {
        // The answers of all outputs are checked together: each output's case gets an equal share.
        let perOutput = outputs.isEmpty ? 0 : (seconds["outputs"] ?? 0) / Double(outputs.count)
        var cases: [(String, [String], Double?)] = [("load", loaded ? [] : failures, seconds["load"])]
        for output in outputs { cases.append(("output \(output.label)", output.problems, perOutput)) }
        let other = failures.filter { failure in !outputs.contains { failure.hasPrefix("\($0.label): ") } }
        if loaded { cases.append(("requests", other, seconds["requests"])) }
        let properties = runtime.map { [("runtime", $0.name), ("runtime_reason", $0.reason)] } ?? []
        return JUnitSuite(
            name: "tritonpack smoke \(model)", seconds: seconds.values.reduce(0, +), properties: properties,
            cases: cases.map { name, problems, seconds in
                JUnitSuite.Case(
                    classname: model, name: name, seconds: seconds ?? 0,
                    failure: problems.first.map {
                        JUnitSuite.Failure(message: $0, text: problems.joined(separator: "\n"))
                    })
            }
        ).xml
    }

    /// The JUnit XML of a run that failed before it could report (unknown model, no server...).
    public static func junitOfFailedSetup(model: String, message: String) -> String {
        JUnitSuite(
            name: "tritonpack smoke \(model)", seconds: nil,
            cases: [
                JUnitSuite.Case(
                    classname: model, name: "setup", seconds: nil, failure: JUnitSuite.Failure(message: message, text: message))
            ]
        ).xml
    }
}
