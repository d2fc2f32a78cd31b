import Foundation

/// How an image is laid out in a tensor, when a tensor looks like one.
public enum ImageLayout: String, Codable, Sendable {
    /// channels, height, width (OneFlow's and PyTorch's order)
    case chw = "CHW"
    /// height, width, channels
    case hwc = "HWC"

    /// The layout of a tensor shaped like a 1- or 3-channel image of FP32 or UINT8 pixels, after
    /// leading dimensions of 1 (or -1, a batch) are set aside; nil for anything else.
    /// The config's `format` decides when it names one.
    public static func detect(dataType: Inference_DataType, shape: [Int64], format: Inference_ModelInput.Format = .none)
        -> ImageLayout?
    {
        guard dataType == .typeFp32 || dataType == .typeUint8 else { return nil }
        var dims = shape[...]
        while dims.count > 3, let first = dims.first, first == 1 || first == -1 { dims = dims.dropFirst() }
        guard dims.count == 3 else { return nil }
        let d = Array(dims)
        func isChannels(_ value: Int64) -> Bool { value == 1 || value == 3 }
        func isSide(_ value: Int64) -> Bool { value == -1 || value >= 8 }
        switch format {
        case .nchw: return isChannels(d[0]) ? .chw : nil
        case .nhwc: return isChannels(d[2]) ? .hwc : nil
        default: break
        }
        if isChannels(d[0]) && isSide(d[1]) && isSide(d[2]) { return .chw }
        if isChannels(d[2]) && isSide(d[0]) && isSide(d[1]) { return .hwc }
        return nil
    }
}
