import ArgumentParser
import Foundation
import TritonPackKit

/// A path given on the command line; an empty one (an unset variable, typically) is a usage error
/// instead of meaning the current directory.
func nonEmptyPath(_ value: String) throws -> String {
    guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw ValidationError("the path is empty; is the variable meant to hold it unset?")
    }
    return value
}

/// A model version number as the command line gives it: 0 or more.
func parseModelVersion(_ value: String) throws -> Int64 {
    guard let version = Int64(value), version >= 0 else {
        throw ValidationError("'\(value)' is not a version number (0 or more)")
    }
    return version
}
