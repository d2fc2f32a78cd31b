import Foundation
import TritonPackModels

/// A tensor's bytes as Triton's binary tensor extension carries them: little-endian, C order;
/// TYPE_STRING/BYTES as a 4-byte little-endian length before each element.
public struct TensorData: Equatable, Sendable {
    public var dataType: Inference_DataType
    public var shape: [Int64]
    public var bytes: Data

    public init(dataType: Inference_DataType, shape: [Int64], bytes: Data) {
        self.dataType = dataType
        self.shape = shape
        self.bytes = bytes
    }

    public var elementCount: Int { shape.reduce(1) { $0 * Int($1) } }

    /// KServe v2's datatype name.
    public static func wireName(_ type: Inference_DataType) -> String {
        type == .typeString ? "BYTES" : String(type.configName.dropFirst("TYPE_".count))
    }

    public static func type(wireName: String) -> Inference_DataType? {
        wireName == "BYTES" ? .typeString : Inference_DataType(configName: "TYPE_\(wireName)")
    }

    /// The elements as doubles, for comparison (nil for BYTES).
    public func doubles() -> [Double]? {
        let count = elementCount
        return bytes.withUnsafeBytes { raw -> [Double]? in
            func read<T>(_: T.Type, _ convert: (T) -> Double) -> [Double]? {
                guard raw.count >= count * MemoryLayout<T>.size else { return nil }
                return (0..<count).map { convert(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
            }
            switch dataType {
            case .typeFp32: return read(Float.self) { Double($0) }
            case .typeFp64: return read(Double.self) { $0 }
            case .typeFp16: return read(UInt16.self) { Double(Float16(bitPattern: $0)) }
            case .typeBf16: return read(UInt16.self) { Double(Float(bitPattern: UInt32($0) << 16)) }
            case .typeInt8: return read(Int8.self) { Double($0) }
            case .typeInt16: return read(Int16.self) { Double($0) }
            case .typeInt32: return read(Int32.self) { Double($0) }
            case .typeInt64: return read(Int64.self) { Double($0) }
            case .typeUint8, .typeBool: return read(UInt8.self) { Double($0) }
            case .typeUint16: return read(UInt16.self) { Double($0) }
            case .typeUint32: return read(UInt32.self) { Double($0) }
            case .typeUint64: return read(UInt64.self) { Double($0) }
            default: return nil
            }
        }
    }

    /// Seeded synthetic data of the given type and shape (BYTES: short ASCII strings).
    public static func synthetic(_ type: Inference_DataType, shape: [Int64], seed: UInt64) -> TensorData {
        var generator = SplitMix64(seed: seed)
        let count = shape.reduce(1) { $0 * Int($1) }
        var bytes = Data()
        func append<T>(_ value: T) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        for _ in 0..<count {
            let unit = Double(generator.next() >> 11) / Double(1 << 53)
            switch type {
            case .typeFp32: append(Float(unit * 2 - 1))
            case .typeFp64: append(unit * 2 - 1)
            case .typeFp16: append(Float16(unit * 2 - 1).bitPattern)
            case .typeBf16: append(UInt16(truncatingIfNeeded: Float(unit * 2 - 1).bitPattern >> 16))
            case .typeInt8: append(Int8(truncatingIfNeeded: Int(unit * 200) - 100))
            case .typeInt16: append(Int16(Int(unit * 2000) - 1000))
            case .typeInt32: append(Int32(Int(unit * 2000) - 1000))
            case .typeInt64: append(Int64(Int(unit * 2000) - 1000))
            case .typeUint8: append(UInt8(Int(unit * 255)))
            case .typeUint16: append(UInt16(Int(unit * 1000)))
            case .typeUint32: append(UInt32(Int(unit * 1000)))
            case .typeUint64: append(UInt64(Int(unit * 1000)))
            case .typeBool: append(UInt8(unit < 0.5 ? 0 : 1))
            case .typeString:
                let text = Array("item\(Int(unit * 1000))".utf8)
                append(UInt32(text.count).littleEndian)
                bytes.append(contentsOf: text)
            default: break
            }
        }
        return TensorData(dataType: type, shape: shape, bytes: bytes)
    }
}

/// A small seeded generator, so synthetic inputs are the same on every run.
package struct SplitMix64: RandomNumberGenerator {
    package var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
