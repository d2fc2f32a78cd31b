import Foundation
import TritonPackModels

/// A repository named by an `s3://` URL, in the forms Triton 2.51 accepts:
/// `s3://host:port/bucket/prefix`, `s3://http://host:port/...`, `s3://https://host:port/...`, and
/// `s3://bucket/prefix` with the endpoint from `TRITONPACK_S3_ENDPOINT` or `AWS_ENDPOINT_URL`
/// (else AWS's regional endpoint).
public struct S3Location: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Triton's pattern for a host:port repository (core `src/filesystem/implementations/s3.h`):
    /// `s3://(http://|https://|)([0-9a-zA-Z\-.]+):([0-9]+)/([0-9a-z.\-]+)(((/[0-9a-zA-Z.\-_]+)*)?)`.
    /// A key segment with another character makes Triton take `host:port` as the bucket.
    public static let keySegmentPattern = "[0-9a-zA-Z.\\-_]"
    public static let bucketPattern = "[0-9a-z.\\-]"

    /// `http://host:port` or `https://host[:port]`, no trailing slash.
    public var endpoint: URL
    public var bucket: String
    /// Key prefix of the repository root, without leading or trailing slash; empty for the bucket's root.
    public var prefix: String
    /// The URL as the user wrote it (normalized: no trailing slash), used in every message.
    public var url: String

    public var description: String { url }

    public static func isS3(_ text: String) -> Bool { text.hasPrefix("s3://") }

    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isS3(text) else { throw TritonPackError.usage("'\(text)' is not an s3:// URL") }
        var rest = String(text.dropFirst("s3://".count))
        while rest.hasSuffix("/") { rest.removeLast() }
        url = "s3://" + rest
        var scheme = "http"
        var explicitScheme = false
        for candidate in ["http", "https"] where rest.hasPrefix(candidate + "://") {
            scheme = candidate
            explicitScheme = true
            rest = String(rest.dropFirst(candidate.count + 3))
        }
        var segments = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let first = segments.first, !first.isEmpty else {
            throw TritonPackError.usage("\(url): no bucket; expected s3://host:port/bucket/prefix or s3://bucket/prefix")
        }
        if let hostPort = Self.hostAndPort(first) {
            segments.removeFirst()
            guard let url = URL(string: "\(scheme)://\(hostPort.host):\(hostPort.port)") else {
                throw TritonPackError.usage("\(self.url): '\(first)' is not a host:port")
            }
            endpoint = url
        } else if explicitScheme {
            throw TritonPackError.usage(
                "\(url): '\(first)' is not host:port; Triton needs a port after an http:// or https:// endpoint")
        } else {
            endpoint = try Self.endpointFromEnvironment(environment, url: url)
        }
        guard let bucket = segments.first, !bucket.isEmpty else {
            throw TritonPackError.usage("\(url): no bucket after the endpoint")
        }
        guard Self.matches(bucket, Self.bucketPattern) else {
            throw TritonPackError.usage(
                "\(url): bucket '\(bucket)' is outside Triton's pattern \(Self.bucketPattern)+ (lowercase letters, digits, '.', '-')",
                code: .s3InvalidPath)
        }
        self.bucket = bucket
        let keySegments = Array(segments.dropFirst())
        for segment in keySegments {
            try Self.validateKeySegment(segment, in: url)
        }
        prefix = keySegments.joined(separator: "/")
    }

    /// A model's URL (`s3://.../<repository>/<model>`) as the repository and the model name.
    public func splittingModel() throws -> (repository: S3Location, model: String) {
        guard let slash = prefix.lastIndex(of: "/") ?? (prefix.isEmpty ? nil : prefix.startIndex) else {
            throw TritonPackError.usage("\(url): name a model (s3://.../bucket/[prefix/]model)")
        }
        var repository = self
        let model: String
        if prefix[slash] == "/" {
            model = String(prefix[prefix.index(after: slash)...])
            repository.prefix = String(prefix[..<slash])
        } else {
            model = prefix
            repository.prefix = ""
        }
        repository.url = String(url.dropLast(model.count + 1))
        return (repository, model)
    }

    /// Refuses a name Triton's S3 path parser cannot take (a model, a file, a folder).
    public static func validateKeySegment(_ segment: String, in url: String) throws {
        guard !segment.isEmpty else { throw TritonPackError.usage("\(url): empty path segment ('//')") }
        guard matches(segment, keySegmentPattern) else {
            throw TritonPackError.usage(
                "\(url): '\(segment)' has characters outside \(keySegmentPattern), the only ones Triton 2.51 reads in an s3:// path (it would take host:port as the bucket)",
                code: .s3InvalidPath)
        }
    }

    /// The key of `relative` (slash-separated, under the repository root).
    public func key(_ relative: String) -> String {
        prefix.isEmpty ? relative : prefix + "/" + relative
    }

    /// The `s3://` URL of an object named by its full key, for messages.
    public func objectURL(_ key: String) -> String {
        let bucketURL = prefix.isEmpty ? url : String(url.dropLast(prefix.count + 1))
        return bucketURL + "/" + key
    }

    /// The `s3://` URL of `relative` under the repository root, for messages.
    public func display(_ relative: String) -> String {
        relative.isEmpty ? url : url + "/" + relative
    }

    private static func matches(_ text: String, _ characterClass: String) -> Bool {
        text.range(of: "^\(characterClass)+$", options: .regularExpression) != nil
    }

    private static func hostAndPort(_ segment: String) -> (host: String, port: Int)? {
        guard let colon = segment.lastIndex(of: ":") else { return nil }
        let host = String(segment[..<colon])
        let portText = String(segment[segment.index(after: colon)...])
        guard !host.isEmpty, matches(host, "[0-9a-zA-Z\\-.]"), let port = Int(portText), (1...65535).contains(port) else {
            return nil
        }
        return (host, port)
    }

    private static func endpointFromEnvironment(_ environment: [String: String], url: String) throws -> URL {
        let configured = [environment["TRITONPACK_S3_ENDPOINT"], environment["AWS_ENDPOINT_URL"]].compactMap { $0 }.first {
            !$0.isEmpty
        }
        if let configured {
            var text = configured
            while text.hasSuffix("/") { text.removeLast() }
            guard let endpoint = URL(string: text), let scheme = endpoint.scheme, ["http", "https"].contains(scheme),
                endpoint.host != nil
            else {
                throw TritonPackError.usage(
                    "\(url): the endpoint '\(configured)' (TRITONPACK_S3_ENDPOINT or AWS_ENDPOINT_URL) is not an http(s) URL")
            }
            return endpoint
        }
        let region = environment["AWS_DEFAULT_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        return URL(string: "https://s3.\(region).amazonaws.com")!
    }
}
