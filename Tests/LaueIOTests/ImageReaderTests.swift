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
        FileManager.default.createFile(atPath: empty, contents: Data())
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
