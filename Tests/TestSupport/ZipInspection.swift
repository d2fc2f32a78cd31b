import Foundation

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
            case name, method, mode, dateTime = "date_time", size, createSystem = "create_system", extraBytes = "extra"
        }

        public var permissions: Int { mode & 0o7777 }
    }

    /// The first entry whose CRC or data is wrong (`testzip`), nil when every entry reads back.
    public var firstBadEntry: String?
    public var entries: [Entry]

    enum CodingKeys: String, CodingKey { case firstBadEntry = "bad", entries }

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, archive.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "ZipListing", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "python3 zipfile refused \(archive.path)"])
        }
        return try JSONDecoder().decode(ZipListing.self, from: data)
    }
}

/// Runs `unzip -t -q` on an archive: Info-ZIP's own check of every entry. Returns its exit status and output.
public func unzipTest(_ archive: URL) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["unzip", "-t", "-q", archive.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
