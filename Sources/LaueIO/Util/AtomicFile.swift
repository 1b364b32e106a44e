import Foundation
import LaueCore

/// Writes files atomically: content goes to a temporary file in the same folder, which is then
/// renamed over the destination, so a reader never sees a half-written file and a killed writer
/// leaves the old file intact.
public enum AtomicFile {
    /// Runs `body` with a temporary path next to `path`, then renames it onto `path`.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir) else {
            throw LaueError(.unreadable, file: path, "folder \(dir) does not exist")
        }
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        do {
            try body(temp)
        } catch var error as LaueError {
            try? FileManager.default.removeItem(atPath: temp)
            if error.file == temp { error.file = path }     // name the file the user asked for
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw LaueError(.unreadable, file: path, "cannot move the written file into place: \(reason)")
        }
    }

    /// Writes `data` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temp in
            do { try data.write(to: URL(fileURLWithPath: temp)) } catch {
                throw LaueError(.unreadable, file: path, "cannot write: " + DiskSpace.reason(for: error, writing: path))
            }
        }
    }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}

/// Largest text input read (calibrations, peak lists, tables), bytes.
public let maximumTextFileBytes: UInt64 = 256 << 20

/// Reads a whole text file with a clear error (a regular file of at most `maximumTextFileBytes`).
public func readTextFile(_ path: String) throws -> String {
    let size = try InputFile.requireRegular(path)
    guard size <= maximumTextFileBytes else {
        throw LaueError(.invalidFormat, file: path, "\(size) bytes: larger than any text input LaueMap reads (\(maximumTextFileBytes >> 20) MiB)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw LaueError(.unreadable, file: path, "cannot read")
    }
    guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
        throw LaueError(.invalidFormat, file: path, "not a text file")
    }
    return text
}
