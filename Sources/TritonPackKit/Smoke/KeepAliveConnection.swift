import Foundation
import Glibc

/// A request that could not be completed on the connection (the server may be gone).
struct ConnectionFailure: Error, CustomStringConvertible {
    var description: String
}

/// One persistent HTTP/1.1 connection to a loopback server, with blocking calls: the timed loop
/// of `smoke` runs one per worker thread (never shared), so each request costs one write and one read.
final class KeepAliveConnection: @unchecked Sendable {
    private let fd: Int32
    private let host: String
    private var buffer = [UInt8]()

    init(port: Int, timeout: TimeInterval) throws {
        host = "127.0.0.1:\(port)"
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TritonPackError.io(nil, "socket: \(POSIXFiles.errnoMessage())") }
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TritonPackError.io(nil, "cannot connect to \(host): \(POSIXFiles.errnoMessage())")
        }
    }

    deinit { close(fd) }

    /// POSTs `body` and returns the status, the response headers (lower-cased names) and the body.
    func post(_ path: String, headers: [String: String], body: Data) throws -> (Int, [String: String], Data) {
        var request = "POST /\(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try send(Data(request.utf8) + body)
        let head = try readHead()
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(fields["content-length"] ?? "") ?? 0
        return (status, fields, try read(length))
    }

    private func send(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 {
                    if errno == EINTR { continue }
                    throw ConnectionFailure(description: "send to \(host): \(POSIXFiles.errnoMessage())")
                }
                offset += sent
            }
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 && errno == EINTR { return }
        guard count > 0 else { throw ConnectionFailure(description: "connection to \(host) closed or timed out") }
        buffer.append(contentsOf: chunk[0..<count])
    }

    private func readHead() throws -> String {
        let separator: [UInt8] = [13, 10, 13, 10]
        while true {
            if buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == separator }) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                return head
            }
            try fill()
        }
    }

    private func read(_ length: Int) throws -> Data {
        while buffer.count < length { try fill() }
        let body = Data(buffer[0..<length])
        buffer.removeFirst(length)
        return body
    }
}
