/// Which versions a version policy serves among those on disk (Triton's VersionsToLoad).
import TritonPackModels

public enum VersionPolicyEvaluation {
    public static func served(_ policy: Inference_ModelVersionPolicy, available: [Int64]) -> [Int64] {
        let sorted = available.sorted()
        switch policy.policyChoice {
        case .latest(let latest): return Array(sorted.suffix(Int(latest.numVersions)))
        case .all: return sorted
        case .specific(let specific): return sorted.filter { specific.versions.contains($0) }
        case nil: return Array(sorted.suffix(1))
        }
    }

    /// `latest 1`, `all`, `specific 1, 3`.
    public static func describe(_ policy: Inference_ModelVersionPolicy) -> String {
        switch policy.policyChoice {
        case .latest(let latest): "latest \(latest.numVersions)"
        case .all: "all"
        case .specific(let specific): "specific \(specific.versions.map(String.init).joined(separator: ", "))"
        case nil: "latest 1 (Triton's default)"
        }
    }
}
