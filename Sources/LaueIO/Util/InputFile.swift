import Foundation
import LaueCore

/// The checks every reader makes before it opens a file: it exists and is a regular file (a directory,
/// FIFO, socket or device is refused with the reason, never read: `/proc/self/mem` would trap, a FIFO
/// would block forever). Symbolic links are followed.
public enum InputFile {
    /// The size in bytes of the regular file at `path`, or an error naming it and the reason.
    @discardableResult
    public static func requireRegular(_ path: String) throws -> UInt64 {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw LaueError(.unreadable, file: path, reason)
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw LaueError(.unreadable, file: path, "is a directory, not a file")
        case S_IFIFO: throw LaueError(.unreadable, file: path, "is a FIFO (named pipe), not a regular file")
        case S_IFSOCK: throw LaueError(.unreadable, file: path, "is a socket, not a regular file")
        case S_IFCHR, S_IFBLK: throw LaueError(.unreadable, file: path, "is a device, not a regular file")
        default: throw LaueError(.unreadable, file: path, "is not a regular file")
        }
        // A file in /proc or /sys reports size 0 but is not a frame: refuse reading what cannot be sized.
        guard access(path, R_OK) == 0 else { throw LaueError(.unreadable, file: path, "permission denied") }
        return UInt64(max(0, st.st_size))
    }

    /// `v` as an integer when it is finite and within `range` (a file's NaN, inf or 1e308 never reaches
    /// an integer conversion, which would trap).
    public static func integer(_ v: Double, in range: ClosedRange<Int>) -> Int? {
        guard v.isFinite, v >= Double(range.lowerBound), v <= Double(range.upperBound) else { return nil }
        return Int(v.rounded())
    }

    /// Whether a character may stand in a plain name (a channel, a file name made of a detector ID):
    /// an ASCII letter or digit, '_', '-' or '.'.
    public static func isPlainNameScalar(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (CharacterSet.alphanumerics.contains(c) || "_-.".unicodeScalars.contains(c))
    }

    /// `text` with every character that may not stand in a plain name as '_'.
    public static func plainName(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { isPlainNameScalar($0) ? $0 : "_" }))
    }

    /// Largest frame side any reader accepts, pixels.
    public static let maximumFrameSide = 100_000

    /// Up to `count` bytes from the start of the regular file at `path` (an I/O error is thrown, not
    /// trapped).
    public static func head(_ path: String, count: Int) throws -> [UInt8] {
        try requireRegular(path)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw LaueError(.unreadable, file: path, "cannot open") }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.read(upToCount: count) ?? Data())
        } catch {
            throw LaueError(.unreadable, file: path, "cannot read: \(error.localizedDescription)")
        }
    }
}
