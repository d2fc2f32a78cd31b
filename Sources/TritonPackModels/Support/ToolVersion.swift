public enum TritonPack {
    public static let version = "0.1.0"
}
