import Foundation
import TritonPackModels

/// The keys tritonpack signs with, found where Triton looks for them: the JSON file named by
/// `TRITON_CLOUD_CREDENTIAL_PATH` when set (its `"s3"` object, the longest key that prefixes the
/// repository URL, `""` matching every one), else `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN` and `AWS_DEFAULT_REGION`.
public struct S3Credentials: Equatable, Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var region: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, region: String = "us-east-1") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
    }

    public static func resolve(
        for location: S3Location, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> S3Credentials {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let path = value("TRITON_CLOUD_CREDENTIAL_PATH") {
            return try fromFile(path, for: location)
        }
        guard let key = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else {
            throw TritonPackError.usage(
                "\(location.url): no credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or TRITON_CLOUD_CREDENTIAL_PATH), as for Triton"
            )
        }
        return S3Credentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"),
            region: value("AWS_DEFAULT_REGION") ?? "us-east-1")
    }

    private struct FileEntry: Decodable {
        var secret_key: String?
        var key_id: String?
        var region: String?
        var session_token: String?
    }

    private struct File: Decodable {
        var s3: [String: FileEntry]?
    }

    package static func fromFile(_ path: String, for location: S3Location) throws -> S3Credentials {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TritonPackError.io(path, "cannot read the credential file named by TRITON_CLOUD_CREDENTIAL_PATH")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw TritonPackError.usage("\(path): not a Triton cloud credential file (TRITON_CLOUD_CREDENTIAL_PATH): \(error)")
        }
        let match = (file.s3 ?? [:]).filter { location.url.hasPrefix($0.key) }.max { $0.key.count < $1.key.count }
        guard let entry = match?.value, let key = entry.key_id, !key.isEmpty, let secret = entry.secret_key, !secret.isEmpty
        else {
            throw TritonPackError.usage("\(path): no \"s3\" credential with key_id and secret_key for \(location.url)")
        }
        return S3Credentials(
            accessKeyID: key, secretAccessKey: secret,
            sessionToken: entry.session_token.flatMap { $0.isEmpty ? nil : $0 },
            region: entry.region.flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1")
    }
}
