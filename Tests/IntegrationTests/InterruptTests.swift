import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// SIGINT and SIGTERM during pack, promote and bundle of a large model: whatever the moment, the
/// process exits 130 or 143 with one line, leaves nothing behind and changes nothing.
final class InterruptTests: XCTestCase {
    /// 1 GiB, as the issue asks: each operation then runs for seconds on a 2-core machine
    /// (TRITONPACK_INTERRUPT_MIB overrides it).
    static let megabytes = Int(ProcessInfo.processInfo.environment["TRITONPACK_INTERRUPT_MIB"] ?? "") ?? 1024

    func testInterruptedWritesLeaveEverythingAsBefore() throws {
        let root = try temporaryDirectory(self)
        let graph = root.appendingPathComponent("source/big")
        let made = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", packageRoot.appendingPathComponent("scripts/make_synthetic_graph.py").path, graph.path,
                String(Self.megabytes << 20), "16",
            ])
        XCTAssertEqual(made.status, 0, made.stderr)
        let work = root.appendingPathComponent("work")
        let staging = work.appendingPathComponent("staging")
        let production = work.appendingPathComponent("production")
        let out = work.appendingPathComponent("out")
        for folder in [production, out] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        for _ in 0..<2 { XCTAssertEqual(try tritonpack("pack", graph.path, "--repo", staging.path).status, 0) }
        XCTAssertEqual(
            try tritonpack("promote", "big", "--from", staging.path, "--to", production.path, "--model-version", "1").status, 0)
        let archive = out.appendingPathComponent("demo.zip")
        try Data("the archive of yesterday".utf8).write(to: archive)

        let operations: [(name: String, arguments: [String], undo: URL)] = [
            ("pack", ["pack", graph.path, "--repo", staging.path], staging.appendingPathComponent("big/3")),
            (
                "promote", ["promote", "big", "--from", staging.path, "--to", production.path, "--model-version", "2"],
                production.appendingPathComponent("big/2")
            ),
            (
                "bundle", ["bundle", staging.path, "--out", out.appendingPathComponent("timing.zip").path],
                out.appendingPathComponent("timing.zip")
            ),
        ]
        for operation in operations {
            // One uninterrupted run, timed for the report; its output is then removed.
            let start = Date()
            XCTAssertEqual(try runProcess(tritonpackExecutable, operation.arguments).status, 0, operation.name)
            let duration = Date().timeIntervalSince(start)
            try FileManager.default.removeItem(at: operation.undo)
            print("interrupt test: \(operation.name) of \(Self.megabytes) MiB takes \(String(format: "%.2f", duration)) s")

            var arguments = operation.arguments
            if operation.name == "bundle" { arguments = ["bundle", staging.path, "--out", archive.path, "--force"] }
            let before = listing(work)
            let size = Int64(Self.megabytes) << 20
            // Early (reading and checking), a quarter written, three quarters written.
            let moments: [Moment] = [.after(0.2), .written(size / 4), .written(size * 3 / 4)]
            for signal in [SIGINT, SIGTERM] {
                for moment in moments {
                    let context = "\(operation.name), \(signal == SIGINT ? "SIGINT" : "SIGTERM") \(moment)"
                    let (status, stderr) = try interrupt(arguments, at: moment, watching: work, with: signal)
                    XCTAssertEqual(status, 128 + signal, "\(context): \(stderr)")
                    let lines = stderr.split(separator: "\n")
                    XCTAssertEqual(lines.count, 1, "\(context): one line: \(stderr)")
                    XCTAssertTrue(
                        stderr.contains("interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM")"), "\(context): \(stderr)")
                    XCTAssertEqual(listing(work), before, "\(context): nothing left behind, nothing changed")
                }
            }
        }
        XCTAssertEqual(try String(contentsOf: archive, encoding: .utf8), "the archive of yesterday")
        try assertVersionsVerify(staging.appendingPathComponent("big"))
        try assertVersionsVerify(production.appendingPathComponent("big"))
    }

    /// SIGTERM while smoke serves the model: the server is stopped, and the report (JSON here) says
    /// the run was interrupted instead of saying nothing.
    func testInterruptedSmokeStopsItsServerAndSaysSo() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: packageRoot.appendingPathComponent("samples/python/identity_fp32"),
            to: repository.appendingPathComponent("identity_fp32"))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("smoke-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = try SpawnedProcess(
            tritonpackExecutable,
            ["smoke", repository.path, "--model", "identity_fp32", "--requests", "1000000", "--format", "json"],
            environment: ProcessInfo.processInfo.environment, output: output, errors: URL(fileURLWithPath: "/dev/null"))
        // The server is started from one of tritonpack's threads: look at the children of each.
        let tasks = "/proc/\(process.pid)/task"
        var server: Int32?
        let start = Date()
        while server == nil && process.isRunning && Date().timeIntervalSince(start) < 60 {
            let children = ((try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []).flatMap { task in
                ((try? String(contentsOfFile: "\(tasks)/\(task)/children", encoding: .utf8)) ?? "").split(separator: " ")
            }
            server = children.first.flatMap { Int32($0) }
            usleep(20_000)
        }
        let started = try XCTUnwrap(server, "smoke started no server")
        usleep(500_000)
        kill(process.pid, SIGTERM)
        XCTAssertEqual(process.terminationBlocking(), .exit(143))
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any]
        XCTAssertEqual(document?["ok"] as? Bool, false)
        let message = (document?["errors"] as? [[String: Any]])?.first?["message"] as? String
        XCTAssertTrue(message?.contains("interrupted by SIGTERM") ?? false, String(describing: document))
        usleep(200_000)
        let state = (try? String(contentsOfFile: "/proc/\(started)/stat", encoding: .utf8))?
            .split(separator: ")").last?.split(separator: " ").first
        XCTAssertTrue(state == nil || state == "Z", "the server was stopped (state \(String(describing: state)))")
    }

    enum Moment: CustomStringConvertible {
        /// Seconds after the start, once tritonpack catches SIGINT and SIGTERM.
        case after(Double)
        /// Once this many bytes more than at the start lie under the watched folder.
        case written(Int64)

        var description: String {
            switch self {
            case .after(let seconds): return "after \(seconds) s"
            case .written(let bytes): return "after \(bytes >> 20) MiB written"
            }
        }
    }

    /// Runs tritonpack, sends `signal` at `moment`, and returns its exit status and stderr. A run
    /// that ends before the moment comes returns its own status (and fails the caller's check).
    private func interrupt(_ arguments: [String], at moment: Moment, watching folder: URL, with signal: Int32) throws -> (
        Int32, String
    ) {
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("interrupt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: errors) }
        let baseline = bytes(under: folder)
        let start = Date()
        let process = try SpawnedProcess(
            tritonpackExecutable, arguments, environment: ProcessInfo.processInfo.environment,
            output: URL(fileURLWithPath: "/dev/null"), errors: errors)
        while process.isRunning && Date().timeIntervalSince(start) < 120 {
            let due: Bool
            switch moment {
            // Not before tritonpack catches the signals: until then the signal's default action
            // ends the process before it has written anything (a slow start took over 0.2 s in CI).
            case .after(let seconds):
                due = Date().timeIntervalSince(start) >= seconds && catchesSignals(process.pid)
            case .written(let count): due = bytes(under: folder) - baseline >= count
            }
            if due {
                kill(process.pid, signal)
                break
            }
            usleep(5_000)
        }
        let status: Int32 =
            switch process.terminationBlocking() {
            case .exit(let code): code
            case .signal(let number): -number
            }
        return (status, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }

    /// Whether the process has handlers for SIGINT and SIGTERM (SigCgt in /proc/<pid>/status).
    private func catchesSignals(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
            let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        let wanted = (UInt64(1) << (SIGINT - 1)) | (UInt64(1) << (SIGTERM - 1))
        return mask & wanted == wanted
    }

    private func bytes(under root: URL) -> Int64 {
        var total: Int64 = 0
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return 0 }
        for case let relative as String in enumerator {
            var info = stat()
            if lstat(root.appendingPathComponent(relative).path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG {
                total += Int64(info.st_size)
            }
        }
        return total
    }

    /// Every path under `root` with, for files, size, modification time and inode: a file rewritten
    /// or replaced, and anything added or left behind, shows.
    private func listing(_ root: URL) -> [String: String] {
        var result: [String: String] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return result }
        for case let relative as String in enumerator {
            var info = stat()
            guard lstat(root.appendingPathComponent(relative).path, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                result[relative] = "dir"
            } else {
                result[relative] = "\(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
            }
        }
        return result
    }
}
