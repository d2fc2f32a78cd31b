import ArgumentParser
import Foundation
import TritonPackKit

/// The options of every command that changes a repository: how long to wait for another writer's
/// lock, and how to report.
struct WriterOptions: ParsableArguments {
    @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
    var lockTimeout: Double = 60

    @Option(help: "text or json.")
    var format: OutputFormat = .text
}

/// `--no-sync`, for the commands that publish files (pack, bundle).
struct SyncOptions: ParsableArguments {
    @Flag(
        help:
            "Skip fsync before publishing (faster; for throw-away output: a power loss may then leave what was written with missing data)."
    )
    var noSync = false
}
