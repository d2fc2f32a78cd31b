import Foundation
import TritonPackModels

/// NumPy's .npy format (versions 1-3), for the tensor types Triton has. Strings are read from
/// fixed-width `|S` and `<U` arrays and become BYTES elements.
public enum NPY {
    package static let typeCodes: [String: Inference_DataType] = [
        "f4": .typeFp32, "f8": .typeFp64, "f2": .typeFp16, "i1": .typeInt8, "i2": .typeInt16, "i4": .typeInt32,
        "i8": .typeInt64, "u1": .typeUint8, "u2": .typeUint16, "u4": .typeUint32, "u8": .typeUint64, "b1": .typeBool,
    ]

    public static func read(_ url: URL) throws -> TensorData {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TritonPackError.refused(url.path, "cannot read")
        }
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count > 10, Array(bytes[0..<6]) == magic else {
            throw TritonPackError.refused(url.path, "not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard bytes.count >= headerStart + headerLength else { throw TritonPackError.refused(url.path, "truncated header") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        guard let descr = value(of: "descr", in: header), let shapeText = value(of: "shape", in: header) else {
            throw TritonPackError.refused(url.path, "unreadable header: \(header)")
        }
        if value(of: "fortran_order", in: header)?.hasPrefix("True") == true {
            throw TritonPackError.refused(url.path, "Fortran-ordered arrays are not supported; save with C order")
        }
        let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        let code = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let payload = Data(bytes[(headerStart + headerLength)...])
        let count = shape.reduce(1) { $0 * Int($1) }
        let order = code.first
        let kind = String(code.dropFirst())
        if order == ">" { throw TritonPackError.refused(url.path, "big-endian arrays are not supported") }
        if let type = typeCodes[kind] {
            let needed = count * (type.byteSize ?? 1)
            guard payload.count >= needed else {
                throw TritonPackError.refused(url.path, "holds fewer bytes than its shape needs")
            }
            return TensorData(dataType: type, shape: shape, bytes: payload.prefix(needed))
        }
        if kind.hasPrefix("S") || kind.hasPrefix("U"), let width = Int(kind.dropFirst()) {
            let unit = kind.hasPrefix("U") ? 4 : 1
            var out = Data()
            for index in 0..<count {
                let start = index * width * unit
                let slice = payload[payload.startIndex + start..<payload.startIndex + start + width * unit]
                var element: [UInt8]
                if unit == 1 {
                    element = Array(slice)
                } else {
                    let scalars = stride(from: 0, to: slice.count, by: 4).compactMap { offset -> Unicode.Scalar? in
                        let base = slice.startIndex + offset
                        let value =
                            UInt32(slice[base]) | UInt32(slice[base + 1]) << 8 | UInt32(slice[base + 2]) << 16 | UInt32(
                                slice[base + 3]) << 24
                        return Unicode.Scalar(value)
                    }
                    element = Array(String(String.UnicodeScalarView(scalars)).utf8)
                }
                while element.last == 0 { element.removeLast() }
                withUnsafeBytes(of: UInt32(element.count).littleEndian) { out.append(contentsOf: $0) }
                out.append(contentsOf: element)
            }
            return TensorData(dataType: .typeString, shape: shape, bytes: out)
        }
        throw TritonPackError.refused(url.path, "dtype '\(code)' has no Triton type")
    }

    public static func write(_ tensor: TensorData, to url: URL) throws {
        guard let code = typeCodes.first(where: { $0.value == tensor.dataType })?.key else {
            throw TritonPackError.usage("cannot write \(tensor.dataType.configName) as .npy")
        }
        let order = code.hasSuffix("1") ? "|" : "<"
        let shape =
            tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(\(tensor.shape.map(String.init).joined(separator: ", ")))"
        var header = "{'descr': '\(order)\(code)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(tensor.bytes)
        try data.write(to: url)
    }

    private static func value(of key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        let rest = header[range.upperBound...].trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("(") { return rest.firstIndex(of: ")").map { String(rest[...$0]) } }
        return rest.split(separator: ",", maxSplits: 1).first.map(String.init)
    }
}
