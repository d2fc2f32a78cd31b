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

/// A value the library knows how to read (an instance group, a version policy), read while the
/// command line is parsed: a bad one is a usage error naming the option and what is wrong.
func parsed<Value>(_ parse: @escaping @Sendable (String) throws -> Value) -> @Sendable (String) throws -> Value {
    { text in
        do {
            return try parse(text)
        } catch let error as TritonPackError {
            throw ValidationError(error.message)
        }
    }
}

/// `NAME=D,D,...`: the dims an input's -1 dimensions take in synthetic inputs.
struct InputShape {
    var name: String
    var dims: [Int64]

    init(parsing item: String) throws {
        let parts = item.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { throw ValidationError("'\(item)' is not NAME=D,D,...") }
        let dims = parts[1].split(separator: ",").compactMap { Int64($0) }
        guard !dims.isEmpty, dims.allSatisfy({ $0 >= 1 }) else { throw ValidationError("'\(item)': dims must be >= 1") }
        name = String(parts[0])
        self.dims = dims
    }
}
