import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import TritonPackModels

/// One object of a listing.
public struct S3Object: Equatable, Sendable {
    public var key: String
    public var size: Int64
    public var etag: String
    public var lastModified: Date
}

/// A multipart upload that was started and neither completed nor aborted.
public struct S3MultipartUpload: Equatable, Sendable {
    public var key: String
    public var uploadID: String
    public var initiated: Date?
}

/// What a conditional PUT found: written (with the new ETag), or the condition did not hold.
public enum S3ConditionalPutResult: Equatable, Sendable {
    case written(etag: String)
    case conditionFailed
}

/// The condition of a conditional PUT.
public enum S3PutCondition: Sendable {
    /// No object has the key (`If-None-Match: *`).
    case absent
    /// The object is still the one with this ETag (`If-Match`).
    case matching(etag: String)
}

/// The S3 requests tritonpack makes, path-style, signed with SigV4, over the project's one HTTP
/// client (AsyncHTTPClient). Every failure is a `TritonPackError` naming the `s3://` URL.
public struct S3Client: Sendable {
    public let location: S3Location
    public let signer: SigV4Signer
    public var requestTimeout: TimeAmount = .seconds(120)
    private let http: HTTPClient

    public init(location: S3Location, credentials: S3Credentials) {
        self.location = location
        signer = SigV4Signer(credentials: credentials)
        http = HTTPClient.shared
    }

    /// A client for `location` with the credentials Triton would use for it.
    public init(location: S3Location, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.init(location: location, credentials: try S3Credentials.resolve(for: location, environment: environment))
    }

    package struct Response {
        package var status: Int
        package var headers: HTTPHeaders
        package var body: Data
    }

    // MARK: bucket

    /// Fails with a clear message when the bucket is missing, the keys are refused or the endpoint
    /// cannot be reached.
    public func checkBucket() async throws {
        // AsyncHTTPClient retries a refused connection until the deadline: the first request of
        // every operation gets a short one, so that an unreachable endpoint is reported soon.
        let response = try await send("HEAD", key: nil, timeout: .seconds(10))
        switch response.status {
        case 200: return
        case 404: throw missingBucket()
        default: throw failure(response, key: nil)
        }
    }

    public func createBucket() async throws {
        let response = try await send("PUT", key: nil)
        guard response.status == 200 || errorCode(response) == "BucketAlreadyOwnedByYou" else {
            throw failure(response, key: nil)
        }
    }

    // MARK: objects

    /// Every object whose key starts with `prefix`, all pages.
    public func list(prefix: String, pageSize: Int = 1000) async throws -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(pageSize))]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", key: nil, query: query)
            guard response.status == 200 else { throw failure(response, key: nil) }
            guard let root = S3XMLElement.parse(response.body) else { throw malformed("ListObjectsV2") }
            for item in root.all("Contents") {
                guard let key = item.string("Key") else { continue }
                objects.append(
                    S3Object(
                        key: key, size: Int64(item.string("Size") ?? "") ?? 0,
                        etag: (item.string("ETag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")),
                        lastModified: HTTPDates.parseISO8601(item.string("LastModified") ?? "") ?? .distantPast))
            }
            token = root.string("IsTruncated") == "true" ? root.string("NextContinuationToken") : nil
        } while token != nil
        return objects
    }

    /// The object's size, ETag and `Last-Modified` (whole seconds, as Triton sees it); nil when missing.
    public func head(_ key: String) async throws -> S3Object? {
        let response = try await send("HEAD", key: key)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw failure(response, key: key) }
        return S3Object(
            key: key, size: Int64(response.headers.first(name: "content-length") ?? "") ?? 0,
            etag: (response.headers.first(name: "etag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")),
            lastModified: HTTPDates.parseRFC1123(response.headers.first(name: "last-modified") ?? "") ?? .distantPast)
    }

    /// A small object's bytes; nil when missing.
    public func get(_ key: String, maxBytes: Int = 64 << 20) async throws -> Data? {
        try await getWithETag(key, maxBytes: maxBytes)?.data
    }

    /// A small object's bytes and ETag; nil when missing.
    public func getWithETag(_ key: String, maxBytes: Int = 64 << 20) async throws -> (data: Data, etag: String)? {
        let response = try await send("GET", key: key, maxResponseBytes: maxBytes)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw failure(response, key: key) }
        return (response.body, etag(response))
    }

    /// Streams an object into a new file at `path` (or only through the hash when `path` is nil),
    /// returning its size and SHA-256.
    public func download(_ key: String, to path: String?) async throws -> (size: Int64, sha256: String) {
        let request = try makeRequest(
            "GET", key: key, query: [], headers: [], body: nil, payloadHash: SigV4Signer.emptyPayloadHash)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: requestTimeout)
        } catch {
            throw unreachable(error)
        }
        guard response.status.code == 200 else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
            throw failure(Response(status: Int(response.status.code), headers: response.headers, body: body), key: key)
        }
        var output: FileHandle?
        if let path {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw TritonPackError.io(path, "cannot create the file to download \(location.display(key)) into")
            }
            output = handle
        }
        defer { try? output?.close() }
        var hash = SHA256()
        var size: Int64 = 0
        for try await buffer in response.body {
            let chunk = Data(buffer: buffer)
            hash.update(data: chunk)
            size += Int64(chunk.count)
            do { try output?.write(contentsOf: chunk) } catch { throw TritonPackError.io(path, "cannot write: \(error)") }
        }
        return (size, hash.finalize().hexString)
    }

    /// PUT with the bytes' SHA-256 as `x-amz-content-sha256`, which the server checks.
    @discardableResult
    public func put(_ key: String, data: Data, contentType: String = "application/octet-stream") async throws -> String {
        let response = try await send(
            "PUT", key: key, headers: [("Content-Type", contentType)], body: data)
        guard response.status == 200 else { throw failure(response, key: key) }
        return etag(response)
    }

    /// PUT only if `condition` holds (412 when it does not): the one atomic step a lock needs.
    public func put(_ key: String, data: Data, if condition: S3PutCondition) async throws -> S3ConditionalPutResult {
        let header =
            switch condition {
            case .absent: ("If-None-Match", "*")
            // Unquoted: radosgw compares the header with the stored ETag byte for byte.
            case .matching(let etag): ("If-Match", etag)
            }
        let response = try await send("PUT", key: key, headers: [header], body: data)
        switch response.status {
        case 200: return .written(etag: etag(response))
        case 412, 409, 404: return .conditionFailed
        default: throw failure(response, key: key)
        }
    }

    public func delete(_ key: String) async throws {
        let response = try await send("DELETE", key: key)
        guard response.status == 204 || response.status == 200 || response.status == 404 else {
            throw failure(response, key: key)
        }
    }

    // MARK: multipart

    public func createMultipartUpload(_ key: String) async throws -> String {
        let response = try await send("POST", key: key, query: [("uploads", "")], body: Data())
        guard response.status == 200 else { throw failure(response, key: key) }
        guard let id = S3XMLElement.parse(response.body)?.string("UploadId") else { throw malformed("CreateMultipartUpload") }
        return id
    }

    public func uploadPart(_ key: String, uploadID: String, number: Int, data: Data) async throws -> String {
        let body = ByteBuffer(data: data)
        return try await uploadPart(key, uploadID: uploadID, number: number, body: body, sha256: SHA256.hash(body).hexString)
    }

    /// Sends `body` as it is (no copy) with `sha256`, its bytes' SHA-256, which the server checks.
    public func uploadPart(_ key: String, uploadID: String, number: Int, body: ByteBuffer, sha256: String) async throws
        -> String
    {
        let response = try await send(
            "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: body, payloadHash: sha256)
        guard response.status == 200 else { throw failure(response, key: key) }
        return etag(response)
    }

    /// PUT of `body` as it is (no copy) with `sha256`, its bytes' SHA-256, which the server checks.
    public func put(_ key: String, body: ByteBuffer, sha256: String) async throws -> String {
        let response = try await send(
            "PUT", key: key, headers: [("Content-Type", "application/octet-stream")], body: body, payloadHash: sha256)
        guard response.status == 200 else { throw failure(response, key: key) }
        return etag(response)
    }

    public func completeMultipartUpload(_ key: String, uploadID: String, parts: [(number: Int, etag: String)]) async throws {
        let response = try await send(
            "POST", key: key, query: [("uploadId", uploadID)], headers: [("Content-Type", "application/xml")],
            body: S3XMLWriter.completeMultipartUpload(parts))
        // S3 can answer 200 with an error document when completion fails late.
        guard response.status == 200, S3XMLElement.parse(response.body)?.name != "Error" else {
            throw failure(response, key: key)
        }
    }

    public func abortMultipartUpload(_ key: String, uploadID: String) async throws {
        let response = try await send("DELETE", key: key, query: [("uploadId", uploadID)])
        guard [200, 204, 404].contains(response.status) else { throw failure(response, key: key) }
    }

    public func listMultipartUploads(prefix: String) async throws -> [S3MultipartUpload] {
        var uploads: [S3MultipartUpload] = []
        var keyMarker: String?
        var uploadMarker: String?
        repeat {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadMarker { query.append(("upload-id-marker", uploadMarker)) }
            let response = try await send("GET", key: nil, query: query)
            guard response.status == 200 else { throw failure(response, key: nil) }
            guard let root = S3XMLElement.parse(response.body) else { throw malformed("ListMultipartUploads") }
            for item in root.all("Upload") {
                guard let key = item.string("Key"), let id = item.string("UploadId") else { continue }
                uploads.append(
                    S3MultipartUpload(key: key, uploadID: id, initiated: item.string("Initiated").flatMap(HTTPDates.parseISO8601))
                )
            }
            if root.string("IsTruncated") == "true" {
                keyMarker = root.string("NextKeyMarker")
                uploadMarker = root.string("NextUploadIdMarker")
            } else {
                keyMarker = nil
            }
        } while keyMarker != nil
        return uploads
    }

    // MARK: transport

    package func send(
        _ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [], body: Data? = nil,
        maxResponseBytes: Int = 16 << 20, timeout: TimeAmount? = nil
    ) async throws -> Response {
        let buffer = body.map { ByteBuffer(data: $0) }
        return try await send(
            method, key: key, query: query, headers: headers, body: buffer,
            payloadHash: buffer.map { SHA256.hash($0).hexString } ?? SigV4Signer.emptyPayloadHash,
            maxResponseBytes: maxResponseBytes, timeout: timeout)
    }

    private func send(
        _ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [], body: ByteBuffer?,
        payloadHash: String, maxResponseBytes: Int = 16 << 20, timeout: TimeAmount? = nil
    ) async throws -> Response {
        let request = try makeRequest(method, key: key, query: query, headers: headers, body: body, payloadHash: payloadHash)
        do {
            let response = try await http.execute(request, timeout: timeout ?? requestTimeout)
            let collected = Data(buffer: try await response.body.collect(upTo: maxResponseBytes))
            return Response(status: Int(response.status.code), headers: response.headers, body: collected)
        } catch let error as TritonPackError {
            throw error
        } catch {
            throw unreachable(error)
        }
    }

    private func makeRequest(
        _ method: String, key: String?, query: [(String, String)], headers: [(String, String)], body: ByteBuffer?,
        payloadHash: String
    ) throws -> HTTPClientRequest {
        let basePath = location.endpoint.path.hasSuffix("/") ? String(location.endpoint.path.dropLast()) : location.endpoint.path
        var path = basePath + "/" + SigV4Signer.uriEncode(location.bucket)
        if let key { path += "/" + SigV4Signer.uriEncode(key, keepSlash: true) }
        let queryString = query.map {
            $0.1.isEmpty && ["uploads"].contains($0.0)
                ? SigV4Signer.uriEncode($0.0) : "\(SigV4Signer.uriEncode($0.0))=\(SigV4Signer.uriEncode($0.1))"
        }
        .joined(separator: "&")
        var hostHeader = location.endpoint.host ?? ""
        if let port = location.endpoint.port { hostHeader += ":\(port)" }
        let signed = signer.signedHeaders(
            method: method, host: hostHeader, path: path, query: query, headers: headers, payloadHash: payloadHash)
        var origin = "\(location.endpoint.scheme ?? "http")://\(hostHeader)"
        origin += path
        if !queryString.isEmpty { origin += "?" + queryString }
        var request = HTTPClientRequest(url: origin)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
        request.headers.replaceOrAdd(name: "Host", value: hostHeader)
        if let body {
            request.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
            request.body = .bytes(body)
        }
        return request
    }

    // MARK: errors

    private func etag(_ response: Response) -> String {
        (response.headers.first(name: "etag") ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    private func errorCode(_ response: Response) -> String? {
        S3XMLElement.parse(response.body)?.string("Code")
    }

    package func missingBucket() -> TritonPackError {
        TritonPackError.refused(
            location.url, "bucket '\(location.bucket)' does not exist at \(location.endpoint.absoluteString); create it first",
            code: .s3BucketMissing)
    }

    private func malformed(_ operation: String) -> TritonPackError {
        TritonPackError.io(location.url, "the server's answer to \(operation) is not the XML S3 answers with")
    }

    package func unreachable(_ error: Error) -> TritonPackError {
        TritonPackError.io(
            location.url, "cannot reach the S3 endpoint \(location.endpoint.absoluteString): \(error)", code: .s3Unreachable)
    }

    package func failure(_ response: Response, key: String?) -> TritonPackError {
        let document = S3XMLElement.parse(response.body)
        let code = document?.string("Code")
        let message = document?.string("Message").flatMap { $0.isEmpty ? nil : $0 }
        let target = key.map(location.objectURL) ?? location.url
        switch (response.status, code) {
        case (404, "NoSuchBucket"):
            return missingBucket()
        case (404, nil) where key == nil:
            return missingBucket()
        case (403, "InvalidAccessKeyId"), (403, "SignatureDoesNotMatch"), (403, "AccessDenied"), (403, nil):
            return TritonPackError.io(
                location.url,
                "the S3 server refused the credentials of access key '\(signer.credentials.accessKeyID)' (\(code ?? "403 Forbidden")); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or TRITON_CLOUD_CREDENTIAL_PATH)",
                code: .s3CredentialsRefused)
        default:
            let detail = [code, message].compactMap { $0 }.joined(separator: ": ")
            return TritonPackError.io(target, "S3 answered HTTP \(response.status)\(detail.isEmpty ? "" : " (\(detail))")")
        }
    }
}

extension SHA256 {
    /// The digest of a buffer's readable bytes, read in place.
    package static func hash(_ buffer: ByteBuffer) -> SHA256.Digest {
        var hasher = SHA256()
        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize()
    }
}

package enum HTTPDates {
    package static func parseRFC1123(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    package static func parseISO8601(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
