import Foundation

/// Free space of the file system holding a path, for error messages about writes that failed.
public enum DiskSpace {
    /// Free bytes available to this user on the file system holding `path`, or nil.
    public static func availableBytes(at path: String) -> UInt64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let (product, overflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
        return overflow ? UInt64.max : product
    }

    /// Below this many free bytes a failed write is reported as a full disk.
    public static let fullBelowBytes: UInt64 = 1 << 20

    /// "0 bytes", "12 KiB", "3.2 GiB".
    public static func format(bytes: UInt64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + units[unit]
    }

    /// Why a write into the folder of `path` may have failed: "the disk is full (12 KB free)" or
    /// "3.2 GB free: the device failed or the folder is not writable".
    public static func describe(folderOf path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        guard let free = availableBytes(at: folder.isEmpty ? "." : folder) else { return "the folder is not writable" }
        let amount = format(bytes: free)
        return free < fullBelowBytes ? "the disk is full (\(amount) free)"
                                     : "\(amount) free: the device failed or the folder is not writable"
    }

    /// ": the disk is full (12 KiB free)" when the disk holding `path`'s folder is full, else "":
    /// appended to errors of writers whose library does not say why a write failed.
    public static func noteIfFull(folderOf path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        guard let free = availableBytes(at: folder.isEmpty ? "." : folder), free < fullBelowBytes else { return "" }
        return ": " + describe(folderOf: path)
    }

    /// The reason to report for a failed write of `path`: the disk's state when the system said
    /// the device is full, otherwise the system's message.
    public static func reason(for error: Error, writing path: String) -> String {
        let full = (error as? CocoaError)?.code == .fileWriteOutOfSpace || (error as? POSIXError)?.code == .ENOSPC
            || ((error as NSError).domain == NSPOSIXErrorDomain && (error as NSError).code == Int(ENOSPC))
        return full ? describe(folderOf: path) : error.localizedDescription
    }
}
