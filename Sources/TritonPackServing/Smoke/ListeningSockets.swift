import Foundation
import Glibc
import TritonPackModels

/// The loopback TCP ports a process listens on, read from /proc: the process's socket inodes
/// (`/proc/<pid>/fd/* -> socket:[inode]`) looked up in its network namespace's
/// `/proc/<pid>/net/tcp`. This is how smoke learns the port tritonserver bound when it was
/// given `--http-port 0` (its log prints the port it was asked for, 0).
package enum ListeningSockets {
    /// Ports listening on `address` (an IPv4 loopback address, 127.0.0.1 unless told), whether the
    /// socket is IPv4 (`net/tcp`) or IPv6 with the v4-mapped address (`net/tcp6`: gRPC core binds so).
    package static func loopbackPorts(of pid: pid_t, address: String = "127.0.0.1") -> [Int] {
        let inodes = socketInodes(of: pid)
        guard !inodes.isEmpty else { return [] }
        return ["tcp", "tcp6"].flatMap { table in
            // Read to the end: a /proc table has size 0, and a single read returns only its first
            // page (about 27 sockets), which a busy machine outgrows.
            guard let file = FileHandle(forReadingAtPath: "/proc/\(pid)/net/\(table)"), let data = try? file.readToEnd()
            else { return [Int]() }
            try? file.close()
            return loopbackPorts(inTable: String(decoding: data, as: UTF8.self), inodes: inodes, address: address)
        }
    }

    /// Ports of the rows of a `/proc/net/tcp` table that listen (state 0A) on `address` and
    /// whose inode is one of `inodes`.
    package static func loopbackPorts(inTable table: String, inodes: Set<UInt64>, address: String = "127.0.0.1") -> [Int] {
        // The table writes an IPv4 address as the hex of its 32 bits in host (little-endian) order,
        // and tcp6 a v4-mapped one (::ffff:a.b.c.d) as 64 zero bits, 0000FFFF, then those 32 bits.
        let hex = address.split(separator: ".").reversed().map { String(format: "%02X", Int($0) ?? 0) }.joined()
        let mapped = "0000000000000000FFFF0000" + hex
        return table.split(separator: "\n").dropFirst().compactMap { row in
            let fields = row.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, fields[3] == "0A", let inode = UInt64(fields[9]), inodes.contains(inode) else { return nil }
            let address = fields[1].split(separator: ":")
            guard address.count == 2, address[0] == hex || address[0] == mapped else { return nil }
            return Int(address[1], radix: 16)
        }
    }

    package static func socketInodes(of pid: pid_t) -> Set<UInt64> {
        let directory = "/proc/\(pid)/fd"
        var inodes = Set<UInt64>()
        for entry in (try? POSIXFiles.entries(of: directory)) ?? [] {
            var buffer = [CChar](repeating: 0, count: 64)
            let count = readlink("\(directory)/\(entry)", &buffer, 63)
            guard count > 0 else { continue }
            let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("socket:["), target.hasSuffix("]"), let inode = UInt64(target.dropFirst(8).dropLast()) {
                inodes.insert(inode)
            }
        }
        return inodes
    }
}
