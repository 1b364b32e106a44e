import Foundation
import CZlib

/// Checksums of LaueMap's inputs, recorded in provenance.
public enum Checksum {
    /// CRC-32 (zlib's, as in gzip and PNG) of `text`'s UTF-8 bytes, as 8 hex digits.
    public static func crc32(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var crc: uLong = CZlib.crc32(0, nil, 0)
        var offset = 0
        while offset < bytes.count {       // zlib takes at most 4 GiB at a time
            let n = min(bytes.count - offset, 1 << 30)
            crc = bytes.withUnsafeBufferPointer { CZlib.crc32(crc, $0.baseAddress! + offset, uInt(n)) }
            offset += n
        }
        return String(format: "%08x", UInt32(truncatingIfNeeded: crc))
    }
}
