import Foundation

/// SHA-256 and size of a file, for run metadata (computed by coreutils' `sha256sum`, present
/// on every Debian machine; nil when it or the file is missing).
public enum FileDigest {
    public static func sha256(path: String) -> (bytes: Int, sha256: String)? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let digest = String(data: data, encoding: .utf8)?.split(separator: " ").first, digest.count == 64
        else { return nil }
        return (size, String(digest))
    }
}
