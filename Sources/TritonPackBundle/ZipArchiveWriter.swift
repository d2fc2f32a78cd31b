import CLibzip
import CZipSupport
import Foundation
import Glibc
import TritonPackModels
import TritonPackServing

/// One entry of an archive, with every field that ends up in its headers fixed by the caller.
public struct ZipEntry: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case directory
        case file(path: String, size: Int64)
        case bytes(Data)
    }

    public enum Method: String, Sendable, Codable {
        case stored, deflated
    }

    /// The name inside the archive: relative, `/`-separated, a trailing `/` for directories.
    public var name: String
    public var content: Content
    /// Unix permission bits (for example 0o644).
    public var permissions: UInt16
    public var method: Method

    public init(name: String, content: Content, permissions: UInt16, method: Method) {
        self.name = name
        self.content = content
        self.permissions = permissions
        self.method = method
    }

    public var size: Int64 {
        switch content {
        case .directory: return 0
        case .file(_, let size): return size
        case .bytes(let data): return Int64(data.count)
        }
    }
}

/// An MS-DOS date and time, the only timestamp a ZIP header holds without extra fields.
public struct DOSTimestamp: Sendable, Equatable {
    public var date: UInt16
    public var time: UInt16

    /// 1980-01-01 00:00:00, the earliest time a ZIP header can hold.
    public static let epoch = DOSTimestamp(date: (1 << 5) | 1, time: 0)

    /// The UTC calendar time of `seconds` since 1970, clamped to the range ZIP can hold (1980-2107).
    public init(unixSeconds seconds: Int64) {
        var value = time_t(min(max(seconds, 315_532_800), 4_354_819_198))
        var parts = tm()
        gmtime_r(&value, &parts)
        date = UInt16(((Int(parts.tm_year) - 80) << 9) | ((Int(parts.tm_mon) + 1) << 5) | Int(parts.tm_mday))
        time = UInt16((Int(parts.tm_hour) << 11) | (Int(parts.tm_min) << 5) | (Int(parts.tm_sec) / 2))
    }

    public init(date: UInt16, time: UInt16) {
        self.date = date
        self.time = time
    }
}

/// Writes a ZIP archive with libzip. Entries are written in the order they are added, each with the
/// caller's timestamp, permissions and method, so equal input gives equal bytes. libzip switches to
/// ZIP64 headers by itself for entries or archives beyond 4 GiB or 65,535 entries.
package final class ZipArchiveWriter {
    /// Bytes per read of an entry's file and per write of the archive.
    package static let bufferSize = 4 << 20

    private let path: String
    private var descriptor: Int32
    private var archive: OpaquePointer?
    /// Where a file source names the file that failed.
    private let failure: UnsafeMutablePointer<tp_zip_failure>
    /// Told how far `close` has written, in bytes of the entries' data.
    private let progress = ByteProgress.current
    private var addedBytes: Int64 = 0

    /// Creates `path`, which must not exist yet; libzip writes into it through large buffers.
    package static func create(_ path: String) throws -> ZipArchiveWriter {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw TritonPackError.io(path, "cannot create: \(POSIXFiles.errnoMessage())") }
        var error = zip_error_t()
        zip_error_init(&error)
        defer { zip_error_fini(&error) }
        guard let source = tp_zip_output_source(descriptor, bufferSize, &error) else {
            Glibc.close(descriptor)
            throw TritonPackError.io(path, "cannot start the archive: \(String(cString: zip_error_strerror(&error)))")
        }
        guard let archive = zip_open_from_source(source, ZIP_CREATE | ZIP_TRUNCATE, &error) else {
            zip_source_free(source)
            Glibc.close(descriptor)
            throw TritonPackError.io(path, "cannot start the archive: \(String(cString: zip_error_strerror(&error)))")
        }
        return ZipArchiveWriter(path: path, descriptor: descriptor, archive: archive)
    }

    private init(path: String, descriptor: Int32, archive: OpaquePointer) {
        self.path = path
        self.descriptor = descriptor
        self.archive = archive
        failure = .allocate(capacity: 1)
        failure.initialize(to: tp_zip_failure())
    }

    deinit {
        discard()
        failure.deallocate()
    }

    package func add(_ entry: ZipEntry, timestamp: DOSTimestamp) throws {
        guard let archive else { throw TritonPackError.io(path, "archive already closed") }
        let index: Int64
        let fileType: UInt32
        switch entry.content {
        case .directory:
            index = zip_dir_add(archive, entry.name, zip_flags_t(ZIP_FL_ENC_UTF_8))
            fileType = UInt32(S_IFDIR)
        case .file(let source, let size):
            guard let zipSource = tp_zip_file_source(archive, source, zip_uint64_t(size), Self.bufferSize, failure) else {
                throw TritonPackError.io(source, "cannot read: \(lastError())")
            }
            index = addFile(entry.name, zipSource)
            fileType = UInt32(S_IFREG)
            addedBytes += Int64(size)
        case .bytes(let data):
            let buffer = malloc(max(data.count, 1))!
            data.copyBytes(to: buffer.assumingMemoryBound(to: UInt8.self), count: data.count)
            guard let zipSource = zip_source_buffer(archive, buffer, zip_uint64_t(data.count), 1) else {
                free(buffer)
                throw TritonPackError.io(path, "cannot add \(entry.name): \(lastError())")
            }
            index = addFile(entry.name, zipSource)
            fileType = UInt32(S_IFREG)
        }
        guard index >= 0 else { throw TritonPackError.io(path, "cannot add \(entry.name): \(lastError())") }
        let position = zip_uint64_t(index)
        let method = entry.method == .deflated && entry.content != .directory ? ZIP_CM_DEFLATE : ZIP_CM_STORE
        let attributes = (fileType | UInt32(entry.permissions & 0o7777)) << 16
        guard zip_set_file_compression(archive, position, method, 6) == 0,
            zip_file_set_dostime(archive, position, timestamp.time, timestamp.date, 0) == 0,
            zip_file_set_external_attributes(archive, position, 0, UInt8(ZIP_OPSYS_UNIX), attributes) == 0
        else { throw TritonPackError.io(path, "cannot set attributes of \(entry.name): \(lastError())") }
    }

    /// Writes every entry's data, the central directory and the end records.
    package func close() throws {
        guard let archive else { return }
        if let progress { ZipProgress(progress: progress, total: addedBytes).register(on: archive) }
        guard zip_close(archive) == 0 else {
            let message = lastError()
            discard()
            let file = withUnsafeBytes(of: failure.pointee.path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if failure.pointee.changed != 0 {
                throw TritonPackError.io(
                    file, "changed size while being bundled; bundle again once nothing writes to the repository",
                    code: .changedWhileReading)
            }
            throw TritonPackError.io(
                file.isEmpty ? path : file, file.isEmpty ? "cannot write archive: \(message)" : "cannot read: \(message)")
        }
        self.archive = nil
        closeDescriptor()
    }

    /// Abandons the archive; the caller removes the file.
    package func discard() {
        if let archive { zip_discard(archive) }
        archive = nil
        closeDescriptor()
    }

    private func closeDescriptor() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    private func addFile(_ name: String, _ source: OpaquePointer) -> Int64 {
        let index = zip_file_add(archive!, name, source, zip_flags_t(ZIP_FL_ENC_UTF_8))
        if index < 0 { zip_source_free(source) }
        return index
    }

    private func lastError() -> String {
        guard let archive else { return "archive closed" }
        return String(cString: zip_strerror(archive))
    }
}

/// Hands libzip's fraction written to a `ByteProgress`, as bytes of the entries' data.
private final class ZipProgress {
    let progress: ByteProgress
    let total: Int64

    init(progress: ByteProgress, total: Int64) {
        self.progress = progress
        self.total = total
    }

    func register(on archive: OpaquePointer) {
        progress.expect(total)
        let state = Unmanaged.passRetained(self).toOpaque()
        let registered = zip_register_progress_callback_with_state(
            archive, 0.001,
            { _, fraction, state in
                guard let state else { return }
                let box = Unmanaged<ZipProgress>.fromOpaque(state).takeUnretainedValue()
                box.progress.set(completed: Int64(fraction * Double(box.total)))
            },
            { state in
                if let state { Unmanaged<ZipProgress>.fromOpaque(state).release() }
            },
            state)
        if registered != 0 { Unmanaged<ZipProgress>.fromOpaque(state).release() }
    }
}
