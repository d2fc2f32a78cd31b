/// One `instance_group` entry as given on the command line: `gpu:1:0`, `gpu:2:0,1`, `cpu:2`.
public struct InstanceGroupSpec: Equatable, Sendable {
    public var kind: Inference_ModelInstanceGroup.Kind
    public var count: Int32
    public var gpus: [Int32]

    public init(kind: Inference_ModelInstanceGroup.Kind, count: Int32, gpus: [Int32] = []) {
        self.kind = kind
        self.count = count
        self.gpus = gpus
    }

    /// The OneFlow deployment guide's group: one instance on GPU 0.
    public static let guideDefault = InstanceGroupSpec(kind: .gpu, count: 1, gpus: [0])

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let usage = "instance group '\(text)' is not KIND[:COUNT[:GPU,...]] (e.g. gpu:1:0, gpu:2:0,1, cpu:2)"
        guard (1...3).contains(parts.count) else { throw TritonPackError.usage(usage) }
        switch parts[0].lowercased() {
        case "gpu": kind = .gpu
        case "cpu": kind = .cpu
        case "model": kind = .model
        case "auto": kind = .auto
        default: throw TritonPackError.usage(usage)
        }
        count = 1
        if parts.count >= 2 {
            guard let value = Int32(parts[1]), value >= 1 else {
                throw TritonPackError.usage("instance group '\(text)': count must be an integer >= 1")
            }
            count = value
        }
        gpus = []
        if parts.count == 3 {
            for item in parts[2].split(separator: ",", omittingEmptySubsequences: false) {
                guard let gpu = Int32(item), gpu >= 0 else {
                    throw TritonPackError.usage("instance group '\(text)': GPU ids must be integers >= 0")
                }
                gpus.append(gpu)
            }
            guard kind == .gpu || kind == .auto else {
                throw TritonPackError.usage("instance group '\(text)': only gpu groups list GPU ids")
            }
        }
    }

    package var message: Inference_ModelInstanceGroup {
        var group = Inference_ModelInstanceGroup()
        group.count = count
        group.kind = kind
        group.gpus = gpus
        return group
    }
}

/// `latest:N`, `all` or `specific:V,V,...`.
public enum VersionPolicySpec: Equatable, Sendable {
    case latest(UInt32)
    case all
    case specific([Int64])

    public init(parsing text: String) throws {
        let usage = "version policy '\(text)' is not latest:N, all or specific:V[,V...]"
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first?.lowercased() {
        case "all" where parts.count == 1:
            self = .all
        case "latest" where parts.count == 2:
            guard let count = UInt32(parts[1]), count >= 1 else {
                throw TritonPackError.usage("version policy '\(text)': latest needs N >= 1 (latest:0 serves nothing)")
            }
            self = .latest(count)
        case "specific" where parts.count == 2:
            let versions = parts[1].split(separator: ",").compactMap { Int64($0) }
            guard !versions.isEmpty, versions.count == parts[1].split(separator: ",").count,
                versions.allSatisfy({ $0 >= 0 })
            else { throw TritonPackError.usage(usage) }
            self = .specific(versions)
        default:
            throw TritonPackError.usage(usage)
        }
    }

    public var message: Inference_ModelVersionPolicy {
        var policy = Inference_ModelVersionPolicy()
        switch self {
        case .latest(let count): policy.latest.numVersions = count
        case .all: policy.all = .init()
        case .specific(let versions): policy.specific.versions = versions
        }
        return policy
    }
}

/// What the user chose about the generated config; nil means "derive from the model".
public struct ConfigOptions: Equatable, Sendable {
    public var name: String
    public var maxBatchSize: Int32?
    public var instanceGroups: [InstanceGroupSpec]
    public var dynamicBatching: Bool
    public var preferredBatchSizes: [Int32]
    public var maxQueueDelayMicroseconds: UInt64?
    public var xrt: String?
    public var versionPolicy: VersionPolicySpec?
    /// How a saved OneFlow graph is served; nil: the oneflow backend (and for ONNX files, their own).
    public var runtime: OneFlowServingRuntime?
    /// The Python with OneFlow that packs, converts and checks (`--oneflow-python`); nil: located.
    public var oneflowPython: String?
    /// For `oneflow-python`: a path on the servers to use as the execution environment instead of
    /// an archive packed into the model folder.
    public var executionEnvironmentPath: String?
    /// For `oneflow-python`: the execution environment the config names (resolved by `PackableModel.read`).
    public var environment: ExecutionEnvironment?
    /// For `onnx`: how the graph is converted and verified.
    public var conversion = ONNXConversionOptions()

    public init(
        name: String, maxBatchSize: Int32? = nil, instanceGroups: [InstanceGroupSpec] = [],
        dynamicBatching: Bool = false, preferredBatchSizes: [Int32] = [],
        maxQueueDelayMicroseconds: UInt64? = nil, xrt: String? = nil, versionPolicy: VersionPolicySpec? = nil,
        runtime: OneFlowServingRuntime? = nil, oneflowPython: String? = nil, executionEnvironmentPath: String? = nil
    ) {
        self.runtime = runtime
        self.oneflowPython = oneflowPython
        self.executionEnvironmentPath = executionEnvironmentPath
        self.name = name
        self.maxBatchSize = maxBatchSize
        self.instanceGroups = instanceGroups
        self.dynamicBatching = dynamicBatching
        self.preferredBatchSizes = preferredBatchSizes
        self.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds
        self.xrt = xrt
        self.versionPolicy = versionPolicy
    }
}
