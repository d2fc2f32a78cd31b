import Foundation
import Glibc

/// Thin, throwing wrappers over the POSIX calls that durable, atomic writes need.
public enum POSIXFiles {
    public static func errnoMessage(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Flushes a file or directory to disk.
    public static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TritonPackError.io(path, "cannot open to sync: \(errnoMessage())") }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw TritonPackError.io(path, "fsync failed: \(errnoMessage())") }
    }

    public static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw TritonPackError.io(to, "cannot rename \(from) into place: \(errnoMessage())")
        }
    }

    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        guard mkdir(path, mode) == 0 else {
            throw TritonPackError.io(path, "cannot create directory: \(errnoMessage())")
        }
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    public static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// The absolute path with every symbolic link, `.` and `..` resolved (realpath); nil when it does not exist.
    public static func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// What a symbolic link says, unresolved.
    public static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    public static func deviceID(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_dev)
    }

    /// Names in a directory, sorted byte-wise, without `.` and `..`.
    public static func entries(of directory: String) throws -> [String] {
        guard let handle = opendir(directory) else {
            throw TritonPackError.io(directory, "cannot list directory: \(errnoMessage())")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Writes `data` to a temporary file beside `path`, syncs it, and renames it over `path`.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644, stagingIn staging: String? = nil)
        throws
    {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (staging ?? (directory.isEmpty ? "." : directory)) + "/.tritonpack-tmp-\(getpid())-\(UUID().uuidString)"
        try write(data, to: temporary, mode: mode)
        do {
            try rename(temporary, to: path)
            try fsync(path: directory.isEmpty ? "." : directory)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Creates `path` (which must not exist), writes `data` and syncs it.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw TritonPackError.io(path, "cannot create file: \(errnoMessage())") }
        defer { close(fd) }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw TritonPackError.io(path, "write failed: \(errnoMessage())")
                }
                offset += written
            }
        }
        guard Glibc.fsync(fd) == 0 else { throw TritonPackError.io(path, "fsync failed: \(errnoMessage())") }
    }

    /// Removes a file or a directory tree; a missing path is not an error.
    public static func removeTree(_ path: String) {
        guard exists(path) else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
