import Foundation

/// The GPUs of this machine.
public enum GPUs {
    /// GPUs by name (`nvidia-smi -L`), empty without one.
    public static func names() -> [String] {
        guard FileManager.default.fileExists(atPath: "/dev/nvidia0") || FileManager.default.fileExists(atPath: "/dev/nvidiactl")
        else {
            return []
        }
        guard let result = try? ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["nvidia-smi", "-L"]) else {
            return []
        }
        return result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("GPU ") }
    }
}
