import Foundation

/// SHA-256 and size of a file, for run metadata (computed by coreutils' `sha256sum`, present
/// on every Debian machine; nil when it or the file is missing).
public enum FileDigest {
    public static func sha256(path: String) -> (bytes: Int, sha256: String)? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int,
              let output = ProcessOutput.run("/usr/bin/sha256sum", [path]),
              let digest = output.split(separator: " ").first, digest.count == 64 else { return nil }
        return (size, String(digest))
    }
}

/// Runs a program and returns its standard output, trimmed (nil if it cannot start or fails).
enum ProcessOutput {
    static func run(_ executable: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
