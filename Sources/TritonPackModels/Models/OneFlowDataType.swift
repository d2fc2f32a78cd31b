/// Facts about OneFlow's DataType enum (oneflow/core/common/data_type.proto).
extension Oneflow_DataType {
    /// Bytes per element as OneFlow stores a variable's `out` file; nil where it has no fixed size.
    public var itemSize: Int? {
        switch self {
        case .kChar, .kInt8, .kUint8, .kBool: 1
        case .kFloat16, .kBfloat16, .kUint16, .kInt16: 2
        case .kFloat, .kInt32, .kUint32, .kComplex32: 4
        case .kDouble, .kInt64, .kUint64, .kComplex64: 8
        case .kUint128, .kInt128, .kComplex128: 16
        case .kInvalidDataType, .kOfrecord, .kTensorBuffer: nil
        }
    }

    /// The Triton type of the same element, where Triton has one.
    public var tritonType: Inference_DataType? {
        switch self {
        case .kFloat: .typeFp32
        case .kDouble: .typeFp64
        case .kInt8: .typeInt8
        case .kInt32: .typeInt32
        case .kInt64: .typeInt64
        case .kUint8: .typeUint8
        case .kFloat16: .typeFp16
        case .kBfloat16: .typeBf16
        case .kBool: .typeBool
        case .kUint16: .typeUint16
        case .kUint32: .typeUint32
        case .kUint64: .typeUint64
        case .kInt16: .typeInt16
        default: nil
        }
    }

    /// The name as `meta` files spell it, e.g. `kFloat`.
    public var metaName: String {
        switch self {
        case .kInvalidDataType: "kInvalidDataType"
        case .kChar: "kChar"
        case .kFloat: "kFloat"
        case .kDouble: "kDouble"
        case .kInt8: "kInt8"
        case .kInt32: "kInt32"
        case .kInt64: "kInt64"
        case .kUint8: "kUInt8"
        case .kOfrecord: "kOFRecord"
        case .kFloat16: "kFloat16"
        case .kTensorBuffer: "kTensorBuffer"
        case .kBfloat16: "kBFloat16"
        case .kBool: "kBool"
        case .kUint16: "kUInt16"
        case .kUint32: "kUInt32"
        case .kUint64: "kUInt64"
        case .kUint128: "kUInt128"
        case .kInt16: "kInt16"
        case .kInt128: "kInt128"
        case .kComplex32: "kComplex32"
        case .kComplex64: "kComplex64"
        case .kComplex128: "kComplex128"
        }
    }
}
