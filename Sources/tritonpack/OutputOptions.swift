import ArgumentParser
import Foundation
import Glibc
import TritonPackKit

/// When to colour: `auto` colours a terminal unless NO_COLOR is set (https://no-color.org).
enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never

    func enabled(environment: [String: String] = ProcessInfo.processInfo.environment, terminal: Bool = isatty(STDOUT_FILENO) == 1)
        -> Bool
    {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
            return terminal && environment["TERM"] != "dumb"
        }
    }
}

/// The flags every command takes about how much it says and how.
struct OutputOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only errors and the result.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print extra detail (notes, staging, timings).")
    var verbose = false

    @Option(help: "Colour text output: auto (a terminal without NO_COLOR), always or never.")
    var color: ColorChoice = .auto

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
    }

    /// Details of a successful run: not with --quiet.
    func detail(_ line: String) {
        if !quiet { print(line) }
    }

    /// Extra detail: only with --verbose.
    func verboseDetail(_ line: String) {
        if verbose { printError(line) }
    }

    /// A warning on stderr: not with --quiet.
    func warning(_ line: String) {
        if !quiet { printError(line) }
    }

    /// Runs `body` with a progress line on stderr for `label`, when stderr is a terminal and the
    /// output is for people (not JSON, not --quiet).
    func withProgress<T>(_ label: String, json: Bool, _ body: () throws -> T) rethrows -> T {
        guard !json, !quiet, isatty(STDERR_FILENO) == 1 else { return try body() }
        let renderer = ProgressRenderer()
        let progress = ByteProgress(label: label) { renderer.draw($0) }
        defer { renderer.finish() }
        return try ByteProgress.$current.withValue(progress) { try body() }
    }

    func withProgress<T>(_ label: String, json: Bool, _ body: () async throws -> T) async rethrows -> T {
        guard !json, !quiet, isatty(STDERR_FILENO) == 1 else { return try await body() }
        let renderer = ProgressRenderer()
        let progress = ByteProgress(label: label) { renderer.draw($0) }
        defer { renderer.finish() }
        return try await ByteProgress.$current.withValue(progress) { try await body() }
    }
}

/// Draws progress on one terminal line, once the work has taken a second, a few times a second.
final class ProgressRenderer: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = -Double.infinity
    private var drawn = false
    /// Seconds before the first draw; TRITONPACK_PROGRESS_DELAY overrides it (the tests use 0).
    private let delay = ProcessInfo.processInfo.environment["TRITONPACK_PROGRESS_DELAY"].flatMap(Double.init) ?? 1

    func draw(_ snapshot: ByteProgress.Snapshot) {
        lock.lock()
        defer { lock.unlock() }
        let done = snapshot.total > 0 && snapshot.completed >= snapshot.total
        guard snapshot.elapsed >= delay, done || snapshot.elapsed - lastDraw >= 0.1 else { return }
        lastDraw = snapshot.elapsed
        drawn = true
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + ProgressLine.render(snapshot)).utf8))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
