import CTIFF
import Foundation
import LaueCore

/// Writes detector frames as TIFF (one page or many), atomically.
public enum TIFFWriter {
    public struct Options: Sendable {
        /// Sample type written: `.uint16` (default, rounded and clamped), `.uint8`, `.uint32` or `.float32`.
        public var pixelType: PixelType = .uint16
        public var compression: TIFFCompression = .none
        /// Tile edge in pixels (a multiple of 16); nil writes strips.
        public var tileSize: Int? = nil
        public var rowsPerStrip: Int = 64
        public var description: String? = nil

        public init(pixelType: PixelType = .uint16, compression: TIFFCompression = .none, tileSize: Int? = nil,
                    rowsPerStrip: Int = 64, description: String? = nil) {
            self.pixelType = pixelType; self.compression = compression; self.tileSize = tileSize
            self.rowsPerStrip = rowsPerStrip; self.description = description
        }
    }

    public static func write(_ image: LaueImage, to path: String, options: Options = Options()) throws {
        try write([image], to: path, options: options)
    }

    /// Writes several frames as the pages of one file.
    public static func write(_ images: [LaueImage], to path: String, options: Options = Options()) throws {
        guard !images.isEmpty else { throw LaueError(.invalidArgument, file: path, "no image to write") }
        guard [.uint8, .uint16, .uint32, .float32].contains(options.pixelType) else {
            throw LaueError(.unsupported, file: path, "cannot write \(options.pixelType.rawValue) TIFF")
        }
        if let t = options.tileSize, t <= 0 || t % 16 != 0 {
            throw LaueError(.invalidArgument, file: path, "tile size must be a positive multiple of 16, not \(t)")
        }
        ctiff_silence()
        try AtomicFile.write(to: path) { temp in
            guard let tif = TIFFOpen(temp, "w") else {
                throw LaueError(.unreadable, file: path, "cannot create the file" + DiskSpace.noteIfFull(folderOf: path))
            }
            defer { TIFFClose(tif) }
            for (index, image) in images.enumerated() {
                try writePage(image, tif: tif, options: options, page: index, pages: images.count)
                    .get(path: path, page: index)
            }
            // Closing flushes what libtiff still buffers and cannot report a failure: flush first.
            guard TIFFFlush(tif) == 1 else {
                throw LaueError(.unreadable, file: path, "cannot write the file to disk" + DiskSpace.noteIfFull(folderOf: path))
            }
        }
    }

    private struct PageResult {
        var error: String?
        func get(path: String, page: Int) throws {
            if let error { throw LaueError(.unreadable, file: path, item: "page \(page)", error + DiskSpace.noteIfFull(folderOf: path)) }
        }
    }

    private static func writePage(_ image: LaueImage, tif: OpaquePointer, options: Options, page: Int, pages: Int) throws -> PageResult {
        guard image.width > 0 && image.height > 0 else { return PageResult(error: "zero-size image") }
        let (bits, format): (UInt16, Int32)
        switch options.pixelType {
        case .uint8: (bits, format) = (8, SAMPLEFORMAT_UINT)
        case .uint32: (bits, format) = (32, SAMPLEFORMAT_UINT)
        case .float32: (bits, format) = (32, SAMPLEFORMAT_IEEEFP)
        default: (bits, format) = (16, SAMPLEFORMAT_UINT)
        }
        var ok: Int32 = 1
        ok &= ctiff_set_u32(tif, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(image.width))
        ok &= ctiff_set_u32(tif, UInt32(TIFFTAG_IMAGELENGTH), UInt32(image.height))
        ok &= ctiff_set_u16(tif, UInt32(TIFFTAG_BITSPERSAMPLE), bits)
        ok &= ctiff_set_u16(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), 1)
        ok &= ctiff_set_u16(tif, UInt32(TIFFTAG_SAMPLEFORMAT), UInt16(format))
        ok &= ctiff_set_u16(tif, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(PHOTOMETRIC_MINISBLACK))
        ok &= ctiff_set_u16(tif, UInt32(TIFFTAG_PLANARCONFIG), UInt16(PLANARCONFIG_CONTIG))
        ok &= ctiff_set_u16(tif, UInt32(TIFFTAG_COMPRESSION), options.compression.rawValue)
        ok &= ctiff_set_str(tif, UInt32(TIFFTAG_SOFTWARE), "LaueMap")
        if let d = options.description ?? image.metadata["tiff.description"] {
            ok &= ctiff_set_str(tif, UInt32(TIFFTAG_IMAGEDESCRIPTION), d)
        }
        if pages > 1 {
            ok &= ctiff_set_u32(tif, UInt32(TIFFTAG_SUBFILETYPE), UInt32(FILETYPE_PAGE))
            ok &= ctiff_set_u16(tif, UInt32(TIFFTAG_PAGENUMBER), UInt16(page))
        }
        if let t = options.tileSize {
            ok &= ctiff_set_u32(tif, UInt32(TIFFTAG_TILEWIDTH), UInt32(t))
            ok &= ctiff_set_u32(tif, UInt32(TIFFTAG_TILELENGTH), UInt32(t))
        } else {
            ok &= ctiff_set_u32(tif, UInt32(TIFFTAG_ROWSPERSTRIP), UInt32(max(1, options.rowsPerStrip)))
        }
        guard ok == 1 else { return PageResult(error: "cannot set TIFF tags") }

        let bytes = samples(image.pixels, type: options.pixelType)
        let bps = Int(bits) / 8
        let w = image.width, h = image.height
        var failure: String? = nil
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            if let t = options.tileSize {
                var tile = [UInt8](repeating: 0, count: t * t * bps)
                for ty in stride(from: 0, to: h, by: t) {
                    for tx in stride(from: 0, to: w, by: t) {
                        for i in tile.indices { tile[i] = 0 }
                        let rows = min(t, h - ty), cols = min(t, w - tx)
                        for r in 0..<rows {
                            let src = base + ((ty + r) * w + tx) * bps
                            tile.withUnsafeMutableBytes { dst in
                                (dst.baseAddress! + r * t * bps).copyMemory(from: src, byteCount: cols * bps)
                            }
                        }
                        let idx = TIFFComputeTile(tif, UInt32(tx), UInt32(ty), 0, 0)
                        let n = tile.withUnsafeMutableBytes { TIFFWriteEncodedTile(tif, idx, $0.baseAddress!, tmsize_t(t * t * bps)) }
                        if n < 0 { failure = "cannot write tile (\(tx), \(ty))"; return }
                    }
                }
            } else {
                let rps = max(1, options.rowsPerStrip)
                let strips = (h + rps - 1) / rps
                for s in 0..<strips {
                    let rows = min(rps, h - s * rps)
                    // libtiff may modify the buffer (byte swapping); it is a private copy.
                    let p = UnsafeMutableRawPointer(mutating: base + s * rps * w * bps)
                    if TIFFWriteEncodedStrip(tif, UInt32(s), p, tmsize_t(rows * w * bps)) < 0 {
                        failure = "cannot write strip \(s)"; return
                    }
                }
            }
        }
        if let failure { return PageResult(error: failure) }
        guard TIFFWriteDirectory(tif) == 1 else { return PageResult(error: "cannot write the page directory") }
        return PageResult(error: nil)
    }

    /// Converts pixels to the output sample type (integers rounded and clamped, NaN as 0).
    static func samples(_ pixels: [Float], type: PixelType) -> [UInt8] {
        func clamp(_ v: Float, _ hi: Float) -> Float { v.isNaN ? 0 : min(max(v.rounded(), 0), hi) }
        switch type {
        case .uint8:
            return pixels.map { UInt8(clamp($0, 255)) }
        case .uint32:
            let a = pixels.map { $0.isNaN ? UInt32(0) : UInt32(min(max(Double($0).rounded(), 0), 4_294_967_295)) }
            return a.withUnsafeBytes { Array($0) }
        case .float32:
            return pixels.withUnsafeBytes { Array($0) }
        default:
            let a = pixels.map { UInt16(clamp($0, 65535)) }
            return a.withUnsafeBytes { Array($0) }
        }
    }
}
