import Foundation
import Testing
import LaueCore
import LaueIO
import LaueTestSupport

private let expected = Fixtures.json("io-expected.json") as? [String: [String: Double]] ?? [:]

private func check(_ image: LaueImage, _ key: String) {
    guard let e = expected[key] else { Issue.record("no expectation for \(key)"); return }
    #expect(image.width == Int(e["width"]!) && image.height == Int(e["height"]!), "\(key) size")
    let st = image.statistics
    #expect(st.minimum == e["min"]!, "\(key) min")
    #expect(st.maximum == e["max"]!, "\(key) max")
    #expect(abs(st.mean - e["mean"]!) <= 1e-9 * max(1, abs(e["mean"]!)), "\(key) mean \(st.mean) vs \(e["mean"]!)")
    var checksum = 0.0
    for i in stride(from: 0, to: image.pixels.count, by: 7) { checksum += Double(image.pixels[i]) }
    #expect(abs(checksum - e["checksum"]!) <= 1e-6 * max(1, abs(e["checksum"]!)), "\(key) checksum")
}

@Suite struct TIFFReaderTests {
    @Test(arguments: ["strips_u8.tif", "strips_u16.tif", "strips_u32.tif", "strips_i16.tif", "strips_f32.tif",
                      "tiles_u16_raw.tif", "tiles_u16_deflate.tif", "tiles_f32_raw.tif", "tiles_f32_deflate.tif",
                      "lzw_u16.tif", "lzw_u8.tif", "deflate_u16.tif", "deflate_u8.tif", "packbits_u16.tif",
                      "packbits_u8.tif", "bigendian_u16.tif"])
    func readsEveryLayoutAsAnIndependentReaderDoes(_ name: String) throws {
        let image = try ImageReader.read(path: Fixtures.path("tiff/" + name))
        check(image, name)
    }

    @Test func pixelTypesAreReported() throws {
        #expect(try TIFFReader.read(path: Fixtures.path("tiff/strips_u32.tif")).pixelType == .uint32)
        #expect(try TIFFReader.read(path: Fixtures.path("tiff/strips_i16.tif")).pixelType == .int16)
        #expect(try TIFFReader.read(path: Fixtures.path("tiff/tiles_f32_raw.tif")).pixelType == .float32)
        #expect(try TIFFReader.read(path: Fixtures.path("tiff/lzw_u8.tif")).metadata["tiff.compression"] == "lzw")
    }

    @Test func multiPage() throws {
        let path = Fixtures.path("tiff/multipage_u16.tif")
        #expect(try ImageReader.frameCount(path: path) == 3)
        for k in 0..<3 { check(try ImageReader.read(path: path, frame: k), "multipage_u16.tif#\(k)") }
        #expect(throws: LaueError.self) { try ImageReader.read(path: path, frame: 3) }
    }

    @Test func realLaueToolsImagesMatchTifffileAndFabio() throws {
        let mccd = try ImageReader.read(path: Fixtures.path("lauetools/Ge_blanc_0000.mccd"))
        check(mccd, "Ge_blanc_0000.mccd")
        #expect(mccd.metadata["format"] == "MarCCD")
        let scmos = try ImageReader.read(path: Fixtures.path("lauetools/img_Ge_sCMOS_0000.tif"))
        check(scmos, "img_Ge_sCMOS_0000.tif")
        #expect(scmos.width == 2016 && scmos.height == 2018)
    }

    @Test func marccdHeader() throws {
        let h = try MarCCDReader.readHeader(path: Fixtures.path("lauetools/Ge_blanc_0000.mccd"))
        #expect(h.width == 2048 && h.height == 2048 && h.bytesPerPixel == 2)
        #expect(h.beamX == 1022.986 && h.beamY == 1022.986)
        #expect(h.pixelSizeX == 0.07918 && h.pixelSizeY == 0.07918)
        #expect(h.wavelength == 0.68499)
        #expect(h.distance == nil)   // not recorded in this file
        #expect(h.filename == "Ge_blanc_16Jul08_0060.mccd")
    }
}

@Suite struct HDF5ReaderTests {
    @Test func apsLayoutStack() throws {
        let path = Fixtures.path("hdf5/aps_stack.h5")
        #expect(try ImageReader.frameCount(path: path) == 4)
        for k in 0..<4 {
            let image = try ImageReader.read(path: path, frame: k)
            check(image, "aps_stack.h5#\(k)")
            #expect(image.pixelType == .uint16)
        }
        let third = try ImageReader.read(path: path, frame: 2)
        #expect(third.metadata["sample.sampleX"] == "11.0")
        #expect(third.metadata["detector.distance"] == "513.0")
        #expect(third.metadata["detector.make"] == "PerkinElmer")
    }

    @Test func anyDatasetByPath() throws {
        let image = try ImageReader.read(path: Fixtures.path("hdf5/aps_stack.h5"), dataset: "/other/image2d")
        check(image, "aps_stack.h5:/other/image2d")
        #expect(image.pixelType == .float32)
    }
}

@Suite struct BadInputTests {
    func expectError(_ substrings: [String], _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error mentioning \(substrings)")
        } catch let e as LaueError {
            for s in substrings { #expect(e.description.contains(s), "\"\(e.description)\" lacks \"\(s)\"") }
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func missingFile() {
        expectError(["/no/such/image.tif", "no such file"]) { _ = try ImageReader.read(path: "/no/such/image.tif") }
    }

    /// Special files given as images or text inputs: refused with the reason, never read (a directory
    /// trapped the reader, a FIFO blocked it forever).
    @Test func specialFilesAreRefused() throws {
        let dir = Fixtures.temporaryFolder("special")
        let folder = dir + "/frame.tif", fifo = dir + "/pipe.mccd"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(mkfifo(fifo, 0o644) == 0)
        for name in ["frame.tif", "pipe.mccd"] {
            let path = dir + "/" + name
            expectError([path, name.hasSuffix(".tif") ? "is a directory" : "FIFO"]) { _ = try ImageReader.read(path: path) }
            expectError([path]) { _ = try LaueToolsCalibration.read(path: path) }
        }
        expectError(["/dev/null", "device"]) { _ = try ImageReader.read(path: "/dev/null") }
        expectError(["/proc/self/mem"]) { _ = try ImageReader.read(path: "/proc/self/mem") }
        expectError(["/proc/self"]) { _ = try ImageReader.read(path: "/proc/self") }
    }

    /// Every field of a .det, a .cor trailer and a .fit set to hostile numbers: an error naming the
    /// file, never a trap (integer conversion of NaN or 1e308) or a calibration that overflows later.
    @Test func hostileCalibrationValues() throws {
        let dir = Fixtures.temporaryFolder("hostile-calib")
        let hostile = ["nan", "inf", "-inf", "1e308", "4.9e-324", "2147483648", "99999999999999999999", "-0", ""]
        let det = try String(contentsOfFile: Fixtures.path("lauetools/calibGe111.det"), encoding: .utf8)
        var lines = det.components(separatedBy: "\n")
        let fields = lines[0].components(separatedBy: ", ")
        var refused = 0
        for k in fields.indices {
            for v in hostile {
                var f = fields
                f[k] = v
                lines[0] = f.joined(separator: ", ")
                let path = dir + "/h_\(k).det"
                try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
                do {
                    let c = try LaueToolsCalibration.read(path: path)
                    try c.validate()
                    // Accepted only when harmless (e.g. -0 as a tilt).
                    #expect(c.distance > 0 && c.pixelSize > 0)
                } catch let e as LaueError {
                    refused += 1
                    #expect(e.description.contains(path), "\(e.description)")
                }
            }
        }
        #expect(refused >= fields.count * (hostile.count - 2))
        // framedim in the comment block, and the .cor trailer.
        for v in ["(nan, 2048)", "(1e308, 2048)", "(2048, 99999999999999999999)", "(-5, 5)"] {
            let path = dir + "/framedim.det"
            try (det + "\n# framedim: \(v)\n").write(toFile: path, atomically: true, encoding: .utf8)
            expectError([path]) { _ = try LaueToolsCalibration.read(path: path) }
        }
        let cor = try String(contentsOfFile: Fixtures.path("lauetools/img_Ge_sCMOS_0000_181peaks.cor"), encoding: .utf8)
        for key in ["dd", "xcen", "pixelsize"] {
            // A beam centre of 4.9e-324 px is harmless; a distance or pixel that small is not.
            for v in key == "xcen" ? ["nan", "1e308"] : ["nan", "1e308", "4.9e-324"] {
                let path = dir + "/h_\(key).cor"
                let mutated = cor.components(separatedBy: "\n").map { $0.hasPrefix("# \(key) ") ? "# \(key)     :   \(v)" : $0 }
                try mutated.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
                expectError([path]) { _ = try LaueToolsCalibration.read(path: path, frameSize: (2016, 2018)) }
            }
        }
        // .fit: frame dimensions, matrices, Miller indices.
        let fit = try String(contentsOfFile: Fixtures.path("lauetools/img_Ge_sCMOS_0000_LT_batch_g0.fit"), encoding: .utf8)
        let fitLines = fit.components(separatedBy: "\n")
        let frameLine = try #require(fitLines.firstIndex { $0.hasPrefix("#Frame dimensions") })
        let ubLine = try #require(fitLines.firstIndex { $0.hasPrefix("#UB matrix") })
        let firstRow = try #require(fitLines.firstIndex { !$0.hasPrefix("#") && !$0.isEmpty })
        for (line, text) in [(frameLine + 1, "#[nan, 2048]"), (frameLine + 1, "#[1e308, 1e308]"), (ubLine + 1, "#[[ nan 0 0]"),
                             (firstRow, "0 1 1e300 2 2 " + fitLines[firstRow].split(separator: " ").dropFirst(5).joined(separator: " "))] {
            var m = fitLines
            m[line] = text
            let path = dir + "/hostile.fit"
            try m.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            expectError([path]) { _ = try LaueToolsFit.read(path: path) }
        }
    }

    /// A little-endian TIFF of one IFD whose tags say `width` x `height` (`tile` px tiles, or strips)
    /// and whose data is 64 bytes: the header lies about the size.
    static func lyingTIFF(width: UInt32, height: UInt32, bits: UInt16 = 16, tile: UInt32? = nil) -> Data {
        var entries: [(UInt16, UInt16, UInt32)] = [(256, 4, width), (257, 4, height), (258, 3, UInt32(bits)), (259, 3, 1), (262, 3, 1)]
        if let tile {
            entries += [(322, 4, tile), (323, 4, tile), (324, 4, 200), (325, 4, 64)]
        } else {
            entries += [(273, 4, 200), (278, 4, height), (279, 4, 64)]
        }
        entries.sort { $0.0 < $1.0 }
        var d = Data([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0])
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        u16(UInt16(entries.count))
        for (tag, type, value) in entries {
            u16(tag); u16(type); u32(1)
            if type == 3 { u16(UInt16(value)); u16(0) } else { u32(value) }
        }
        u32(0)
        while d.count < 200 { d.append(0) }
        d.append(contentsOf: [UInt8](repeating: 7, count: 64))
        return d
    }

    /// Headers and dataspaces that declare more pixels than the file holds or memory allows: refused
    /// with the file named, before any allocation (a 3.4 KB HDF5 file declaring 2^31 x 2^31 pixels made
    /// the reader write past its buffer; a TIFF of 2^32-1 x 1 allocated gigabytes).
    @Test func lyingSizesAreRefused() throws {
        let dir = Fixtures.temporaryFolder("lying")
        let cases: [(String, Data)] = [
            ("wide.tif", Self.lyingTIFF(width: 0xFFFF_FFFF, height: 1)),
            ("huge.tif", Self.lyingTIFF(width: 30000, height: 30000, bits: 8)),
            ("square.tif", Self.lyingTIFF(width: 100_000, height: 100_000)),
            ("tiles.tif", Self.lyingTIFF(width: 65536, height: 65536, bits: 8, tile: 16)),
            ("onepixeltiles.tif", Self.lyingTIFF(width: 4096, height: 4096, bits: 8, tile: 1)),
        ]
        for (name, data) in cases {
            let path = dir + "/" + name
            try data.write(to: URL(fileURLWithPath: path))
            expectError([path]) { _ = try ImageReader.read(path: path) }
        }
        // A real small frame of the same construction reads.
        let ok = dir + "/ok.tif"
        try Self.lyingTIFF(width: 8, height: 4).write(to: URL(fileURLWithPath: ok))
        #expect(try ImageReader.read(path: ok).width == 8)
        let h5 = Fixtures.path("hostile/huge_dims.h5")
        for dataset in ["/entry1/data/data", "/stack"] {
            expectError([h5, dataset]) { _ = try ImageReader.read(path: h5, dataset: dataset) }
        }
        #expect(try ImageReader.frameCount(path: h5, dataset: "/stack") == 3)
        #expect(try HDF5File(path: h5).read("/small", as: Float.self).values.count == 12)
    }

    @Test func truncatedTIFF() throws {
        let dir = Fixtures.temporaryFolder("trunc")
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("lauetools/Ge_blanc_0000.mccd")))
        let cut = dir + "/cut.tif"
        try data.prefix(600_000).write(to: URL(fileURLWithPath: cut))
        expectError(["cut.tif", "truncated"]) { _ = try ImageReader.read(path: cut) }
        let tiny = dir + "/tiny.tif"
        try data.prefix(10).write(to: URL(fileURLWithPath: tiny))
        expectError(["tiny.tif", "TIFF"]) { _ = try ImageReader.read(path: tiny) }
        let empty = dir + "/empty.tif"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        expectError(["empty.tif"]) { _ = try ImageReader.read(path: empty) }
    }

    @Test func zeroSizeImage() throws {
        // A hand-made little-endian TIFF whose only directory says width 0.
        var b: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0]
        func entry(_ tag: UInt16, _ type: UInt16, _ value: UInt32) -> [UInt8] {
            [UInt8(tag & 0xff), UInt8(tag >> 8), UInt8(type & 0xff), UInt8(type >> 8), 1, 0, 0, 0,
             UInt8(value & 0xff), UInt8((value >> 8) & 0xff), UInt8((value >> 16) & 0xff), UInt8(value >> 24)]
        }
        b += [6, 0]
        b += entry(256, 4, 0) + entry(257, 4, 0) + entry(258, 3, 16) + entry(262, 3, 1) + entry(273, 4, 90) + entry(279, 4, 0)
        b += [0, 0, 0, 0]
        let path = Fixtures.temporaryFolder("zero") + "/zero.tif"
        try Data(b).write(to: URL(fileURLWithPath: path))
        expectError(["zero.tif"]) { _ = try ImageReader.read(path: path) }
    }

    @Test func unsupportedSampleFormats() {
        expectError(["bad_complex64.tif", "unsupported sample format"]) {
            _ = try ImageReader.read(path: Fixtures.path("tiff/bad_complex64.tif"))
        }
        expectError(["bad_rgb_u8.tif", "3 samples per pixel"]) {
            _ = try ImageReader.read(path: Fixtures.path("tiff/bad_rgb_u8.tif"))
        }
    }

    @Test func missingHDF5Dataset() {
        expectError(["aps_stack.h5", "/entry1/nope", "not found"]) {
            _ = try ImageReader.read(path: Fixtures.path("hdf5/aps_stack.h5"), dataset: "/entry1/nope")
        }
        expectError(["aps_stack.h5", "frame 9"]) {
            _ = try ImageReader.read(path: Fixtures.path("hdf5/aps_stack.h5"), frame: 9)
        }
    }

    @Test func malformedDet() throws {
        let path = Fixtures.temporaryFolder("det") + "/bad.det"
        try "hello, world\nnot a calibration\n".write(toFile: path, atomically: true, encoding: .utf8)
        expectError(["bad.det", "line 1", "dd, xcen"]) { _ = try LaueToolsCalibration.readDet(path: path) }
        let neg = Fixtures.temporaryFolder("det") + "/neg.det"
        try "-70, 900, 1000, 0.5, 0.2, 0.08, 2048, 2048\n".write(toFile: neg, atomically: true, encoding: .utf8)
        expectError(["neg.det", "positive"]) { _ = try LaueToolsCalibration.readDet(path: neg) }
    }

    @Test func unknownMaterial() {
        expectError(["Unobtainium", "unknown material"]) { _ = try Material.load("Unobtainium") }
        expectError(["/tmp/none.json", "no such material file"]) { _ = try Material.load("/tmp/none.json") }
    }
}
