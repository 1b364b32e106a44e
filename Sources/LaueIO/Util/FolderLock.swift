import Foundation
import LaueCore

/// An exclusive lock on an output folder, held while a run or a merge writes into it: `flock` on
/// `FOLDER/.lock`, so the kernel releases it when the process ends, even by SIGKILL (a killed run can
/// be resumed at once). A second writer is refused with the holder's description, never left to mix
/// its files with the first's.
public final class FolderLock {
    public let path: String
    private var descriptor: Int32

    /// Takes the lock or throws (naming the folder and the holder) when another process holds it.
    /// `purpose` is written into the lock file for the error message of the next one.
    public init(folder: String, purpose: String) throws {
        path = (folder as NSString).appendingPathComponent(".lock")
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LaueError(.unreadable, file: path, "cannot create the folder's lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            descriptor = -1
            throw LaueError(.invalidArgument, file: folder,
                            "is in use by another LaueMap process\(holder.isEmpty ? "" : " (\(holder))"); wait for it to end or choose another output folder")
        }
        let text = "\(purpose), process \(getpid()), since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
    }

    /// Releases the lock (also done when the object goes away or the process ends).
    public func release() {
        guard descriptor >= 0 else { return }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
