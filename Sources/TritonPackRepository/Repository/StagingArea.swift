import Foundation
import TritonPackModels

/// Where new versions and models are assembled before one rename puts them into the repository.
///
/// Triton treats every folder in a repository root as a model, hidden ones too, so a staging
/// folder there would be polled as a broken model. The staging area is therefore a sibling of the
/// repository (`<parent>/.tritonpack-staging-<repository>`) on the same filesystem. Only where that is
/// impossible does it fall back to a hidden folder inside the model folder (a version folder that
/// Triton skips with a warning), or for a brand-new model, inside the repository root.
package struct StagingArea: Sendable {
    public static let folderName = ".tritonpack-staging"

    public var root: URL
    /// True when the staging folder lies inside the repository (the fallback).
    public var isInsideRepository: Bool

    public static func choose(for root: URL, model: String) -> StagingArea {
        let sibling = root.deletingLastPathComponent().appendingPathComponent("\(folderName)-\(root.lastPathComponent)")
        if let device = POSIXFiles.deviceID(root.path), prepare(sibling),
            POSIXFiles.deviceID(sibling.path) == device
        {
            return StagingArea(root: sibling, isInsideRepository: false)
        }
        let modelDirectory = root.appendingPathComponent(model, isDirectory: true)
        let inside =
            POSIXFiles.isDirectory(modelDirectory.path)
            ? modelDirectory.appendingPathComponent(folderName)
            : root.appendingPathComponent(folderName)
        _ = prepare(inside)
        return StagingArea(root: inside, isInsideRepository: true)
    }

    private static func prepare(_ directory: URL) -> Bool {
        if POSIXFiles.isDirectory(directory.path) { return access(directory.path, W_OK) == 0 }
        return (try? POSIXFiles.makeDirectory(directory.path)) != nil
    }

    /// A new, empty folder for one transaction on `model`.
    public func makeStage(model: String) throws -> URL {
        let stage = root.appendingPathComponent("\(model).\(getpid()).\(UUID().uuidString)")
        try POSIXFiles.makeDirectory(stage.path)
        return stage
    }

    /// Removes what interrupted runs left behind. Call only while holding the repository lock:
    /// every stage of this repository is then stale.
    public func removeStaleStages() {
        guard let entries = try? POSIXFiles.entries(of: root.path) else { return }
        for entry in entries {
            POSIXFiles.removeTree(root.appendingPathComponent(entry).path)
        }
    }

    /// Removes the staging folder itself once nothing is left in it.
    public func removeIfEmpty() {
        if (try? POSIXFiles.entries(of: root.path))?.isEmpty == true { rmdir(root.path) }
    }
}
