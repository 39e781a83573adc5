import Foundation
import TandemEngine

/// Where and how a result was produced: written beside every CSV as JSON so each number can be
/// traced to a machine, a commit and a seed.
public struct RunMetadata: Codable, Sendable {
    public var tool = "tandem"
    public var command: String
    public var machine: String
    public var cpu: String
    public var threads: Int
    public var blasCore: String
    public var commit: String
    public var seed: UInt64
    public var startTime: String
    public var endTime: String
    public var extra: [String: String]

    enum CodingKeys: String, CodingKey {
        case tool, command, machine, cpu, threads, commit, seed, extra
        case blasCore = "blas_core", startTime = "start_time", endTime = "end_time"
    }

    public init(command: String, threads: Int, blasCore: String, seed: UInt64, start: Date,
                extra: [String: String] = [:]) {
        self.command = command
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        machine = "\(field(name.sysname)) \(field(name.release)) \(field(name.machine))"
        cpu = Self.cpuModel()
        self.threads = threads
        self.blasCore = blasCore
        commit = Self.gitCommit()
        self.seed = seed
        startTime = ISO8601DateFormatter().string(from: start)
        endTime = ISO8601DateFormatter().string(from: Date())
        self.extra = extra
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: path)
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    /// HEAD of the git checkout the tool runs in ("unknown" outside one), "+dirty" if modified.
    static func gitCommit() -> String {
        func git(_ arguments: [String]) -> String? { ProcessOutput.run("/usr/bin/env", ["git"] + arguments) }
        guard let head = git(["rev-parse", "HEAD"]) else { return "unknown" }
        let dirty = (git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty ? "" : "+dirty"
        return head + dirty
    }
}
