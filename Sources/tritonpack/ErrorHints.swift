import TritonPackKit

/// The flag advice the CLI adds to a library error. The library says what is wrong; this table
/// says which option of the command at hand changes the outcome, keyed by the error's code.
enum ErrorHints {
    /// The advice for `code` met by `command` (as the JSON reports name it: `pack`, `promote`),
    /// worded to follow the error's message.
    static func hint(for code: TritonPackError.Code, command: String) -> String? {
        switch (code, command) {
        case (.versionExists, "pack"): "; pass --model-version with a free number"
        case (.versionExists, "promote"): "; pass --as with a free number"
        case (.configUnreadable, "pack"): "; fix it or pass --update-config to replace it"
        case (.signatureChanged, "pack"): ". Pass --update-config to replace the config"
        case (.runtimeChanged, "pack"): ". Pass --update-config to switch the model to this version's runtime"
        case (.badModelName, "pack"), (.badModelName, "config"): "; choose another with --name"
        case (.outputExists, "bundle"): "; pass --force to replace it"
        case (.outputIsFolder, "bundle"): "; --out names the archive file"
        case (.lintFailed, "bundle"): " (--skip-lint to bundle anyway)"
        case (.noGPU, "smoke"): "; pass --cpu to smoke-test a KIND_CPU copy (your repository is not changed)"
        case (.decoupledOverHTTP, _): "; run it with --protocol grpc"
        case (.decoupledUnsupported, "tune"): " (smoke --protocol grpc checks decoupled ones)"
        case (.configChanged, "tune"): "; run tune again before --write"
        default: nil
        }
    }

    /// `error` with the advice for its code appended to its message.
    static func advised(_ error: TritonPackError, command: String) -> TritonPackError {
        guard let code = error.code, let hint = hint(for: code, command: command) else { return error }
        var advised = error
        advised.message += hint
        return advised
    }

    /// Any error as the CLI reports it: tritonpack's own with their advice, others unchanged.
    static func advised(_ error: any Error, command: String) -> any Error {
        (error as? TritonPackError).map { advised($0, command: command) } ?? error
    }
}
