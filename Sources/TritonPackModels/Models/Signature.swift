/// One named, typed, shaped tensor of a model's interface.
public struct TensorSpec: Equatable, Hashable, Sendable, Codable {
    public var name: String
    public var dataType: Inference_DataType
    /// The full shape; -1 marks a dimension of unknown size.
    public var shape: [Int64]

    public init(name: String, dataType: Inference_DataType, shape: [Int64]) {
        self.name = name
        self.dataType = dataType
        self.shape = shape
    }

    package enum CodingKeys: String, CodingKey {
        case name
        case dataType = "data_type"
        case shape
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        let typeName = try container.decode(String.self, forKey: .dataType)
        guard let type = Inference_DataType(configName: typeName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .dataType, in: container, debugDescription: "unknown data type \(typeName)")
        }
        dataType = type
        shape = try container.decode([Int64].self, forKey: .shape)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(dataType.configName, forKey: .dataType)
        try container.encode(shape, forKey: .shape)
    }

    /// `INPUT_0 TYPE_FP32 [1,3,256,256]`
    public var summary: String {
        "\(name) \(dataType.configName) [\(shape.map(String.init).joined(separator: ","))]"
    }
}

/// What a model takes and returns, in the order the model's framework numbers them.
/// Every source format is read into this one type.
public struct Signature: Equatable, Hashable, Sendable, Codable {
    public var inputs: [TensorSpec]
    public var outputs: [TensorSpec]

    public init(inputs: [TensorSpec], outputs: [TensorSpec]) {
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The batch dimension every input and output shares as its first dimension, if any.
    public var sharedLeadingDimension: Int64? {
        let all = inputs + outputs
        guard let first = all.first?.shape.first, first > 0 else { return nil }
        return all.allSatisfy { $0.shape.count >= 1 && $0.shape[0] == first } ? first : nil
    }

    /// The shared first dimension when every tensor keeps at least one dimension besides it: the
    /// batch a OneFlow graph was saved with, which its backend reads as max_batch_size.
    public var savedBatch: Int64? {
        guard let shared = sharedLeadingDimension, (inputs + outputs).allSatisfy({ $0.shape.count >= 2 }) else { return nil }
        return shared
    }
}

extension Inference_DataType {
    /// The enum value's name as config.pbtxt spells it, e.g. `TYPE_FP32`.
    public var configName: String {
        switch self {
        case .typeInvalid: "TYPE_INVALID"
        case .typeBool: "TYPE_BOOL"
        case .typeUint8: "TYPE_UINT8"
        case .typeUint16: "TYPE_UINT16"
        case .typeUint32: "TYPE_UINT32"
        case .typeUint64: "TYPE_UINT64"
        case .typeInt8: "TYPE_INT8"
        case .typeInt16: "TYPE_INT16"
        case .typeInt32: "TYPE_INT32"
        case .typeInt64: "TYPE_INT64"
        case .typeFp16: "TYPE_FP16"
        case .typeFp32: "TYPE_FP32"
        case .typeFp64: "TYPE_FP64"
        case .typeString: "TYPE_STRING"
        case .typeBf16: "TYPE_BF16"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    public init?(configName: String) {
        guard let match = Inference_DataType.allCases.first(where: { $0.configName == configName }) else {
            return nil
        }
        self = match
    }

    /// Bytes per element; nil for variable-size (STRING) and invalid types.
    public var byteSize: Int? {
        switch self {
        case .typeBool, .typeUint8, .typeInt8: 1
        case .typeUint16, .typeInt16, .typeFp16, .typeBf16: 2
        case .typeUint32, .typeInt32, .typeFp32: 4
        case .typeUint64, .typeInt64, .typeFp64: 8
        case .typeString, .typeInvalid, .UNRECOGNIZED: nil
        }
    }
}
