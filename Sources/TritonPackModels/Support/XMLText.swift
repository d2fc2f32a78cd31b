/// Text made safe for XML and HTML, in content and in double-quoted attributes: the one escaper
/// of the JUnit reports, S3's request bodies and tune's HTML report.
public enum XMLText {
    public static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
