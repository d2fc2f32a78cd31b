import Crypto
import Foundation
import TritonPackModels

/// AWS Signature Version 4 for requests with headers (not presigned URLs).
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
public struct SigV4Signer: Sendable {
    public static let emptyPayloadHash = SHA256.hash(data: Data()).hexString

    public var credentials: S3Credentials
    public var service: String

    public init(credentials: S3Credentials, service: String = "s3") {
        self.credentials = credentials
        self.service = service
    }

    public struct Request: Sendable {
        public var method: String
        /// The path as sent, already percent-encoded (`/bucket/key`).
        public var path: String
        /// Query parameters, not encoded.
        public var query: [(String, String)]
        /// Every header to sign, `host` included.
        public var headers: [(String, String)]
        public var payloadHash: String

        public init(
            method: String, path: String, query: [(String, String)] = [], headers: [(String, String)], payloadHash: String
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// `x-amz-date` for `date`: `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    public static func canonicalRequest(_ request: Request) -> (text: String, signedHeaders: String) {
        let encoded: [(name: String, value: String)] = request.query.map { (uriEncode($0.0), uriEncode($0.1)) }
        let sorted = encoded.sorted { (a: (name: String, value: String), b: (name: String, value: String)) -> Bool in
            a.name == b.name ? a.value < b.value : a.name < b.name
        }
        let query: String = sorted.map { (pair: (name: String, value: String)) -> String in pair.name + "=" + pair.value }
            .joined(separator: "&")
        var headers: [String: String] = [:]
        for (name, value) in request.headers {
            let key = name.lowercased()
            let words: [Substring] = value.trimmingCharacters(in: .whitespaces).split(
                separator: " ", omittingEmptySubsequences: true)
            let trimmed: String = words.joined(separator: " ")
            if let existing = headers[key] { headers[key] = existing + "," + trimmed } else { headers[key] = trimmed }
        }
        let names = headers.keys.sorted()
        let canonicalHeaders: String = names.map { (name: String) -> String in name + ":" + headers[name]! + "\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let path: String = request.path.isEmpty ? "/" : request.path
        let parts: [String] = [request.method, path, query, canonicalHeaders, signedHeaders, request.payloadHash]
        let text = parts.joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// The `Authorization` header value for `request` made at `date`.
    public func authorization(for request: Request, date: Date) -> String {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(credentials.region)/\(service)/aws4_request"
        let (canonical, signedHeaders) = Self.canonicalRequest(request)
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, SHA256.hash(data: Data(canonical.utf8)).hexString,
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, credentials.region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)).hexString
        return
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// The headers to add to a request to `host` so that it is signed: `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token` when there is a session token, `Authorization`.
    public func signedHeaders(
        method: String, host: String, path: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, date: Date = Date()
    ) -> [(String, String)] {
        var added: [(String, String)] = [("x-amz-date", Self.amzDate(date)), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        let all = headers + added + [("host", host)]
        let authorization = authorization(
            for: Request(method: method, path: path, query: query, headers: all, payloadHash: payloadHash), date: date)
        return added + [("Authorization", authorization)]
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (`/` too unless kept).
    public static func uriEncode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
