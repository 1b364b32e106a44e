import CTIFF
import Foundation
import LaueCore

/// Reads TIFF images through libtiff: 8/16/32-bit unsigned, 16/32-bit signed, 32/64-bit float
/// samples; strips or tiles; any compression libtiff decodes (none, LZW, Deflate, PackBits, ...);
/// one page or many.
public enum TIFFReader {
    /// Number of pages (directories) in a TIFF file.
    public static func pageCount(path: String) throws -> Int {
        let tif = try open(path)
        defer { TIFFClose(tif) }
        return Int(TIFFNumberOfDirectories(tif))
    }

    /// Reads page `page` (0-based).
    public static func read(path: String, page: Int = 0) throws -> LaueImage {
        let tif = try open(path)
        defer { TIFFClose(tif) }
        let pages = Int(TIFFNumberOfDirectories(tif))
        guard page >= 0 && page < pages else {
            throw LaueError(.invalidArgument, file: path, "page \(page) does not exist (the file has \(pages))")
        }
        if page > 0, TIFFSetDirectory(tif, UInt32(page)) != 1 {
            throw LaueError(.invalidFormat, file: path, item: "page \(page)", "cannot read the page directory")
        }
        do {
            return try readCurrentDirectory(tif, fileBytes: try InputFile.requireRegular(path))
        } catch let e as LaueError {
            var e = e
            e.file = path
            if pages > 1 && e.item == nil { e.item = "page \(page)" }
            throw e
        }
    }

    /// Reads every page.
    public static func readAll(path: String) throws -> [LaueImage] {
        try (0..<pageCount(path: path)).map { try read(path: path, page: $0) }
    }

    static func open(_ path: String) throws -> OpaquePointer {
        ctiff_silence()
        try InputFile.requireRegular(path)
        guard let tif = TIFFOpen(path, "r") else {
            throw LaueError(.invalidFormat, file: path, "not a readable TIFF file (bad or truncated header)")
        }
        return tif
    }

    /// Largest frame read, bytes of samples.
    public static let maximumFrameBytes = 1 << 30
    /// Largest ratio of a frame's samples to the file's bytes: libtiff's codecs (Deflate at most ~1032:1)
    /// cannot reach it, so a header declaring more pixels than its file can hold is refused before
    /// anything is allocated.
    public static let maximumCompressionRatio = 1100

    static func readCurrentDirectory(_ tif: OpaquePointer, fileBytes: UInt64 = .max) throws -> LaueImage {
        var w: UInt32 = 0, h: UInt32 = 0
        guard ctiff_get_u32(tif, UInt32(TIFFTAG_IMAGEWIDTH), &w) == 1,
              ctiff_get_u32(tif, UInt32(TIFFTAG_IMAGELENGTH), &h) == 1 else {
            throw LaueError(.invalidFormat, "missing image width or height")
        }
        guard w > 0 && h > 0 else { throw LaueError(.invalidFormat, "zero-size image (\(w)x\(h))") }
        var bits: UInt16 = 0, spp: UInt16 = 0, format: UInt16 = 0, planar: UInt16 = 0
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_BITSPERSAMPLE), &bits)
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), &spp)
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_SAMPLEFORMAT), &format)
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_PLANARCONFIG), &planar)
        guard spp == 1 else {
            throw LaueError(.unsupported, "\(spp) samples per pixel (colour images are not detector frames)")
        }
        let type: PixelType
        switch (Int32(format), bits) {
        case (SAMPLEFORMAT_UINT, 8): type = .uint8
        case (SAMPLEFORMAT_UINT, 16): type = .uint16
        case (SAMPLEFORMAT_UINT, 32): type = .uint32
        case (SAMPLEFORMAT_INT, 16): type = .int16
        case (SAMPLEFORMAT_INT, 32): type = .int32
        case (SAMPLEFORMAT_IEEEFP, 32): type = .float32
        case (SAMPLEFORMAT_IEEEFP, 64): type = .float64
        default:
            let name = [1: "unsigned", 2: "signed", 3: "float", 4: "void", 5: "complex int", 6: "complex float"][Int(format)] ?? "format \(format)"
            throw LaueError(.unsupported, "unsupported sample format: \(bits)-bit \(name)")
        }
        let width = Int(w), height = Int(h)
        let bytesPerSample = Int(bits) / 8
        // Sizes come from the header: checked against the limits and the file before any allocation.
        guard width <= InputFile.maximumFrameSide, height <= InputFile.maximumFrameSide else {
            throw LaueError(.invalidFormat, "declares \(width) x \(height) pixels: larger than any detector frame (side <= \(InputFile.maximumFrameSide))")
        }
        let frameBytes = width * height * bytesPerSample
        guard frameBytes <= maximumFrameBytes else {
            throw LaueError(.invalidFormat, "declares \(width) x \(height) pixels of \(bits) bits: more than the \(maximumFrameBytes >> 20) MiB LaueMap reads")
        }
        let (bound, overflow) = fileBytes.multipliedReportingOverflow(by: UInt64(maximumCompressionRatio))
        guard overflow || UInt64(frameBytes) <= bound + (1 << 20) else {
            throw LaueError(.invalidFormat, "declares \(width) x \(height) pixels, more than its \(fileBytes) bytes can hold")
        }
        var raw = [UInt8](repeating: 0, count: width * height * bytesPerSample)
        if TIFFIsTiled(tif) != 0 {
            try readTiles(tif, into: &raw, width: width, height: height, bytesPerSample: bytesPerSample)
        } else {
            try readStrips(tif, into: &raw, expected: raw.count)
        }
        var image = LaueImage(width: width, height: height, pixels: convert(raw, type: type, count: width * height),
                              pixelType: type)
        var text: UnsafePointer<CChar>? = nil
        if ctiff_get_str(tif, UInt32(TIFFTAG_IMAGEDESCRIPTION), &text) == 1, let t = text {
            image.metadata["tiff.description"] = String(cString: t)
        }
        if ctiff_get_str(tif, UInt32(TIFFTAG_SOFTWARE), &text) == 1, let t = text {
            image.metadata["tiff.software"] = String(cString: t)
        }
        if ctiff_get_str(tif, UInt32(TIFFTAG_DATETIME), &text) == 1, let t = text {
            image.metadata["tiff.datetime"] = String(cString: t)
        }
        var compression: UInt16 = 0
        _ = ctiff_get_u16_defaulted(tif, UInt32(TIFFTAG_COMPRESSION), &compression)
        image.metadata["tiff.compression"] = TIFFCompression(rawValue: compression)?.name ?? "code \(compression)"
        return image
    }

    static func readStrips(_ tif: OpaquePointer, into raw: inout [UInt8], expected: Int) throws {
        let strips = TIFFNumberOfStrips(tif)
        var offset = 0
        try raw.withUnsafeMutableBytes { buf in
            for s in 0..<strips {
                guard offset < expected else { break }
                let n = TIFFReadEncodedStrip(tif, s, buf.baseAddress! + offset, tmsize_t(expected - offset))
                if n < 0 { throw LaueError(.invalidFormat, "truncated or corrupt data in strip \(s) of \(strips)") }
                offset += Int(n)
            }
        }
        guard offset == expected else {
            throw LaueError(.invalidFormat, "truncated image data: \(offset) of \(expected) bytes")
        }
    }

    static func readTiles(_ tif: OpaquePointer, into raw: inout [UInt8], width: Int, height: Int, bytesPerSample: Int) throws {
        var tw: UInt32 = 0, th: UInt32 = 0
        _ = ctiff_get_u32(tif, UInt32(TIFFTAG_TILEWIDTH), &tw)
        _ = ctiff_get_u32(tif, UInt32(TIFFTAG_TILELENGTH), &th)
        guard tw > 0 && th > 0 else { throw LaueError(.invalidFormat, "tiled image without tile size") }
        // The TIFF specification makes tile sides multiples of 16; no tile is larger than the frame limit.
        guard tw % 16 == 0, th % 16 == 0, tw <= 65536, th <= 65536 else {
            throw LaueError(.invalidFormat, "tile size \(tw) x \(th) (sides must be multiples of 16, at most 65536)")
        }
        let tileBytes = Int(TIFFTileSize(tif))
        guard tileBytes > 0, tileBytes <= maximumFrameBytes else { throw LaueError(.invalidFormat, "tile of \(tileBytes) bytes") }
        var tile = [UInt8](repeating: 0, count: tileBytes)
        let tileW = Int(tw), tileH = Int(th)
        for ty in stride(from: 0, to: height, by: tileH) {
            for tx in stride(from: 0, to: width, by: tileW) {
                let index = TIFFComputeTile(tif, UInt32(tx), UInt32(ty), 0, 0)
                let n = tile.withUnsafeMutableBytes { TIFFReadEncodedTile(tif, index, $0.baseAddress!, tmsize_t(tileBytes)) }
                if n < 0 { throw LaueError(.invalidFormat, "truncated or corrupt data in tile at (\(tx), \(ty))") }
                let rows = min(tileH, height - ty), cols = min(tileW, width - tx)
                for r in 0..<rows {
                    let src = r * tileW * bytesPerSample
                    let dst = ((ty + r) * width + tx) * bytesPerSample
                    raw.replaceSubrange(dst..<(dst + cols * bytesPerSample), with: tile[src..<(src + cols * bytesPerSample)])
                }
            }
        }
    }

    /// Native-endian samples (libtiff swaps on decode) to Float.
    static func convert(_ raw: [UInt8], type: PixelType, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            raw.withUnsafeBytes { src in
                switch type {
                case .uint8:
                    let p = src.bindMemory(to: UInt8.self); for i in 0..<count { out[i] = Float(p[i]) }
                case .uint16:
                    let p = src.bindMemory(to: UInt16.self); for i in 0..<count { out[i] = Float(p[i]) }
                case .uint32:
                    let p = src.bindMemory(to: UInt32.self); for i in 0..<count { out[i] = Float(p[i]) }
                case .int16:
                    let p = src.bindMemory(to: Int16.self); for i in 0..<count { out[i] = Float(p[i]) }
                case .int32:
                    let p = src.bindMemory(to: Int32.self); for i in 0..<count { out[i] = Float(p[i]) }
                case .float32:
                    let p = src.bindMemory(to: Float.self); for i in 0..<count { out[i] = p[i] }
                case .float64:
                    let p = src.bindMemory(to: Double.self); for i in 0..<count { out[i] = Float(p[i]) }
                }
            }
            initialized = count
        }
    }
}

/// TIFF compression schemes LaueMap writes (libtiff reads many more).
public enum TIFFCompression: UInt16, Sendable, CaseIterable {
    case none = 1
    case lzw = 5
    case deflate = 8
    case packBits = 32773

    public var name: String {
        switch self {
        case .none: return "none"
        case .lzw: return "lzw"
        case .deflate: return "deflate"
        case .packBits: return "packbits"
        }
    }
}
