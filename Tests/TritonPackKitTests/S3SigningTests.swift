import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// SigV4 against AWS's published examples.
final class S3SigningTests: XCTestCase {
    /// "get-vanilla" of the AWS Signature Version 4 test suite
    /// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, aws-sig-v4-test-suite/get-vanilla):
    /// `GET /` to example.amazonaws.com at 20150830T123600Z, service "service", us-east-1.
    func testGetVanillaFromTheSigV4TestSuite() {
        let signer = SigV4Signer(
            credentials: S3Credentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1"),
            service: "service")
        let request = SigV4Signer.Request(
            method: "GET", path: "/", headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: SigV4Signer.emptyPayloadHash)
        XCTAssertEqual(
            SigV4Signer.canonicalRequest(request).text,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        XCTAssertEqual(
            signer.authorization(for: request, date: Date(timeIntervalSince1970: 1_440_938_160)),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    }

    /// "Example: GET Object" of Amazon S3's "Authenticating Requests: Using the Authorization Header"
    /// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
    func testGetObjectExampleFromTheS3Documentation() {
        let signer = SigV4Signer(
            credentials: S3Credentials(
                accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                region: "us-east-1"))
        let date = Date(timeIntervalSince1970: 1_369_353_600)
        XCTAssertEqual(SigV4Signer.amzDate(date), "20130524T000000Z")
        let headers = signer.signedHeaders(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", query: [],
            headers: [("Range", "bytes=0-9")],
            payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        let authorization = headers.first { $0.0 == "Authorization" }?.1
        XCTAssertEqual(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    func testQueryIsSortedAndEncoded() {
        let request = SigV4Signer.Request(
            method: "GET", path: "/b", query: [("prefix", "a b/c"), ("list-type", "2"), ("uploads", "")],
            headers: [("host", "h")],
            payloadHash: "x")
        XCTAssertEqual(
            SigV4Signer.canonicalRequest(request).text.split(separator: "\n", omittingEmptySubsequences: false)[2],
            "list-type=2&prefix=a%20b%2Fc&uploads=")
    }
}

final class S3LocationTests: XCTestCase {
    func testHostPortForms() throws {
        let plain = try S3Location(parsing: "s3://127.0.0.1:7480/models/prod/repo/", environment: [:])
        XCTAssertEqual(plain.endpoint.absoluteString, "http://127.0.0.1:7480")
        XCTAssertEqual(plain.bucket, "models")
        XCTAssertEqual(plain.prefix, "prod/repo")
        XCTAssertEqual(plain.url, "s3://127.0.0.1:7480/models/prod/repo")
        XCTAssertEqual(plain.key("m/config.pbtxt"), "prod/repo/m/config.pbtxt")
        XCTAssertEqual(plain.objectURL("prod/repo/m/1/model.py"), "s3://127.0.0.1:7480/models/prod/repo/m/1/model.py")

        let https = try S3Location(parsing: "s3://https://storage.example.com:443/bucket", environment: [:])
        XCTAssertEqual(https.endpoint.absoluteString, "https://storage.example.com:443")
        XCTAssertEqual(https.prefix, "")
        XCTAssertEqual(https.key("m"), "m")

        let http = try S3Location(parsing: "s3://http://localhost:9000/b/p", environment: [:])
        XCTAssertEqual(http.endpoint.absoluteString, "http://localhost:9000")
        XCTAssertEqual(http.bucket, "b")
    }

    func testBucketFormTakesTheEndpointFromTheEnvironment() throws {
        let location = try S3Location(
            parsing: "s3://bucket/repo", environment: ["TRITONPACK_S3_ENDPOINT": "http://127.0.0.1:8000/"])
        XCTAssertEqual(location.endpoint.absoluteString, "http://127.0.0.1:8000")
        XCTAssertEqual(location.bucket, "bucket")
        XCTAssertEqual(location.prefix, "repo")
        let aws = try S3Location(parsing: "s3://bucket", environment: ["AWS_ENDPOINT_URL": "https://s3.example.net"])
        XCTAssertEqual(aws.endpoint.absoluteString, "https://s3.example.net")
        let regional = try S3Location(parsing: "s3://bucket", environment: ["AWS_DEFAULT_REGION": "eu-west-1"])
        XCTAssertEqual(regional.endpoint.absoluteString, "https://s3.eu-west-1.amazonaws.com")
    }

    func testNamesTritonCannotParseAreRefusedQuotingThePattern() {
        for url in [
            "s3://127.0.0.1:7480/b/my model", "s3://127.0.0.1:7480/b/a+b", "s3://127.0.0.1:7480/b/x@y", "s3://127.0.0.1:7480/B",
        ] {
            XCTAssertThrowsError(try S3Location(parsing: url, environment: [:]), url) { error in
                let error = error as? TritonPackError
                XCTAssertEqual(error?.kind, .usage, url)
                XCTAssertEqual(error?.code, .s3InvalidPath, error?.message ?? "")
            }
        }
        XCTAssertThrowsError(try S3Location.validateKeySegment("a b", in: "s3://h:1/b")) { error in
            XCTAssertEqual((error as? TritonPackError)?.code, .s3InvalidPath, "\(error)")
        }
        XCTAssertThrowsError(try S3Location(parsing: "s3://http://host/b", environment: [:]))
        XCTAssertThrowsError(try S3Location(parsing: "s3://", environment: [:]))
    }

    func testCredentialsFromTheEnvironmentAndTritonsCredentialFile() throws {
        let location = try S3Location(parsing: "s3://127.0.0.1:7480/bucket-2/repo", environment: [:])
        let fromEnvironment = try S3Credentials.resolve(
            for: location, environment: ["AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"])
        XCTAssertEqual(
            fromEnvironment, S3Credentials(accessKeyID: "k", secretAccessKey: "s", sessionToken: "t", region: "us-east-1"))
        XCTAssertThrowsError(try S3Credentials.resolve(for: location, environment: [:]))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cred-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(
            #"""
            {"gs": {"": "x"},
             "s3": {"": {"secret_key": "s0", "key_id": "k0", "region": "r0", "session_token": "", "profile": ""},
                    "s3://127.0.0.1:7480/bucket-2": {"secret_key": "s2", "key_id": "k2", "region": "r2", "session_token": "t2", "profile": ""}}}
            """#.utf8
        ).write(to: file)
        let environment = [
            "TRITON_CLOUD_CREDENTIAL_PATH": file.path, "AWS_ACCESS_KEY_ID": "ignored", "AWS_SECRET_ACCESS_KEY": "ignored",
        ]
        XCTAssertEqual(
            try S3Credentials.resolve(for: location, environment: environment),
            S3Credentials(accessKeyID: "k2", secretAccessKey: "s2", sessionToken: "t2", region: "r2"))
        let other = try S3Location(parsing: "s3://127.0.0.1:7480/other", environment: [:])
        XCTAssertEqual(
            try S3Credentials.resolve(for: other, environment: environment),
            S3Credentials(accessKeyID: "k0", secretAccessKey: "s0", sessionToken: nil, region: "r0"))
    }
}
