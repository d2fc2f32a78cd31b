import Foundation
import TritonPackKit

/// An archive as Python's `zipfile` reads it: an independent reader for checking what libzip wrote.
public struct ZipListing: Decodable {
    public struct Entry: Decodable {
        public var name: String
        /// 0 stored, 8 deflated.
        public var method: Int
        /// The Unix mode from the external attributes (type and permission bits).
        public var mode: Int
        public var dateTime: [Int]
        public var size: Int64
        public var createSystem: Int
        public var extraBytes: Int

        enum CodingKeys: String, CodingKey {
            case name, method, mode
            case dateTime = "date_time"
            case size
            case createSystem = "create_system"
            case extraBytes = "extra"
        }

        public var permissions: Int { mode & 0o7777 }
    }

    /// The first entry whose CRC or data is wrong (`testzip`), nil when every entry reads back.
    public var firstBadEntry: String?
    public var entries: [Entry]

    enum CodingKeys: String, CodingKey {
        case firstBadEntry = "bad"
        case entries
    }

    public var names: [String] { entries.map(\.name) }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    private static let script = """
        import json, sys, zipfile
        with zipfile.ZipFile(sys.argv[1]) as z:
            entries = [{"name": i.filename, "method": i.compress_type, "mode": i.external_attr >> 16,
                        "date_time": list(i.date_time), "size": i.file_size, "create_system": i.create_system,
                        "extra": len(i.extra)} for i in z.infolist()]
            print(json.dumps({"bad": z.testzip(), "entries": entries}))
        """

    /// Reads `archive` with python3's zipfile, reading back every entry's data and CRC.
    public static func read(_ archive: URL) throws -> ZipListing {
        let (status, output) = try runCapturing(["python3", "-c", script, archive.path], mergingStandardError: false)
        guard status == 0 else {
            throw NSError(
                domain: "ZipListing", code: Int(status),
                userInfo: [NSLocalizedDescriptionKey: "python3 zipfile refused \(archive.path)"])
        }
        return try JSONDecoder().decode(ZipListing.self, from: output)
    }
}

/// Runs `unzip -t -q` on an archive: Info-ZIP's own check of every entry. Returns its exit status and output.
public func unzipTest(_ archive: URL) throws -> (status: Int32, output: String) {
    let (status, output) = try runCapturing(["unzip", "-t", "-q", archive.path])
    return (status, String(decoding: output, as: UTF8.self))
}

/// One entry's bytes, extracted with Info-ZIP's unzip into a new folder under `scratch`.
public func unzipEntry(_ name: String, of archive: URL, scratch: URL) throws -> Data {
    let folder = scratch.appendingPathComponent("extract-\(UUID().uuidString)")
    let (status, output) = try runCapturing(["unzip", "-q", archive.path, name, "-d", folder.path])
    guard status == 0 else {
        throw NSError(
            domain: "unzip", code: Int(status), userInfo: [NSLocalizedDescriptionKey: String(decoding: output, as: UTF8.self)])
    }
    return try Data(contentsOf: folder.appendingPathComponent(name))
}

/// Runs a program found on PATH to completion and returns its exit status and standard output
/// (with standard error, unless asked not to).
func runCapturing(_ arguments: [String], mergingStandardError: Bool = true) throws -> (Int32, Data) {
    let result = try ChildProcess.run(
        URL(fileURLWithPath: "/usr/bin/env"), arguments, mergingErrors: mergingStandardError)
    return (result.status, Data(result.stdout.utf8))
}
