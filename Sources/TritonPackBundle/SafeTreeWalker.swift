import Foundation
import Glibc
import TritonPackModels

/// A file or folder found under a tree, named as it will be inside the archive.
package struct FoundEntry: Equatable {
    /// `/`-separated, relative; folders end with `/`.
    package var archiveName: String
    /// What to read: the file itself, or the target of a symbolic link inside the boundary.
    package var path: String
    package var size: Int64
    package var isDirectory: Bool
    package var executable: Bool
}

/// Walks a folder for a bundle without ever leaving `boundary`: a symbolic link is followed only
/// when its target resolves inside the boundary, names that could escape an extraction folder
/// (`..`, `\`, control characters) are refused, and private files are left out unless asked for.
package struct SafeTreeWalker {
    /// The resolved (realpath) folder that links may point into.
    package let boundary: String
    package let includePrivate: Bool
    /// Paths left out as private: the walked folder's path followed by the relative path.
    package private(set) var leftOut: [String] = []

    package init(boundary: String, includePrivate: Bool) throws {
        guard let resolved = POSIXFiles.resolvedPath(boundary) else {
            throw TritonPackError.refused(boundary, "cannot resolve: \(POSIXFiles.errnoMessage())")
        }
        self.boundary = resolved
        self.includePrivate = includePrivate
    }

    /// Every entry under `directory` (not the folder itself), named `prefix` + relative path, sorted.
    /// `includeTopLevel` filters the names directly inside `directory`.
    package mutating func walk(
        _ directory: String, prefix: String, includeTopLevel: (String) -> Bool = { _ in true }
    ) throws -> [FoundEntry] {
        var found: [FoundEntry] = []
        let start = try resolvedInsideBoundary(directory, shownAs: directory)
        try walk(
            directory: start, shownAs: directory, prefix: prefix, ancestors: [start], depth: 0,
            includeTopLevel: includeTopLevel, into: &found)
        return found
    }

    private mutating func walk(
        directory: String, shownAs shown: String, prefix: String, ancestors: Set<String>, depth: Int,
        includeTopLevel: (String) -> Bool, into found: inout [FoundEntry]
    ) throws {
        for name in try POSIXFiles.entries(of: directory) {
            let shownPath = "\(shown)/\(name)"
            if depth == 0 && !includeTopLevel(name) { continue }
            if !includePrivate && PrivateFiles.isPrivate(name) {
                leftOut.append(shownPath)
                continue
            }
            try Self.checkArchivable(name: name, path: shownPath)
            var path = "\(directory)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0 else {
                throw TritonPackError.io(shownPath, "cannot read: \(POSIXFiles.errnoMessage())")
            }
            if (info.st_mode & S_IFMT) == S_IFLNK {
                path = try resolvedInsideBoundary(path, shownAs: shownPath)
                guard stat(path, &info) == 0 else {
                    throw TritonPackError.io(shownPath, "cannot read link target: \(POSIXFiles.errnoMessage())")
                }
            }
            let archiveName = prefix + name
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard !ancestors.contains(path) else {
                    throw TritonPackError.refused(
                        shownPath, "symbolic link loop: it leads back to a folder that contains it", code: .linkLoop)
                }
                found.append(
                    FoundEntry(archiveName: archiveName + "/", path: path, size: 0, isDirectory: true, executable: true))
                try walk(
                    directory: path, shownAs: shownPath, prefix: archiveName + "/", ancestors: ancestors.union([path]),
                    depth: depth + 1, includeTopLevel: includeTopLevel, into: &found)
            case S_IFREG:
                found.append(
                    FoundEntry(
                        archiveName: archiveName, path: path, size: Int64(info.st_size), isDirectory: false,
                        executable: info.st_mode & 0o111 != 0))
            default:
                throw TritonPackError.refused(
                    shownPath, "not a regular file or folder (a device, pipe or socket cannot be bundled)")
            }
        }
    }

    /// The real path of `path`, refused when it lies outside the boundary or does not exist.
    private func resolvedInsideBoundary(_ path: String, shownAs shown: String) throws -> String {
        guard let real = POSIXFiles.resolvedPath(path) else {
            if POSIXFiles.isSymbolicLink(path) {
                throw TritonPackError.refused(
                    shown, "symbolic link to a missing target (\(POSIXFiles.linkTarget(path) ?? "?"))", code: .linkTargetMissing)
            }
            throw TritonPackError.refused(shown, "cannot resolve: \(POSIXFiles.errnoMessage())")
        }
        guard real == boundary || real.hasPrefix(boundary.hasSuffix("/") ? boundary : boundary + "/") else {
            throw TritonPackError.refused(
                shown, "symbolic link to \(real), outside \(boundary); bundle never follows links out of the folder it packs",
                code: .linkOutsideFolder)
        }
        return real
    }

    /// Refuses names an extracting tool could turn into a path outside its folder, or misread.
    package static func checkArchivable(name: String, path: String) throws {
        if name == "." || name == ".." || name.isEmpty {
            throw TritonPackError.refused(path, "'\(name)' cannot be an archive entry name")
        }
        if name.contains("\\") {
            throw TritonPackError.refused(path, "the name contains '\\', a path separator for Windows extractors")
        }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw TritonPackError.refused(path, "the name contains a control character")
        }
        if name.contains("\u{FFFD}") {
            throw TritonPackError.refused(path, "the name is not valid UTF-8")
        }
    }
}
