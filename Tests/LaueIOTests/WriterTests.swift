import Foundation
import Testing
import LaueCore
import LaueIO
import LaueTestSupport

@Suite struct WriterTests {
    /// RFC 4180: quoted newlines (LF, CRLF, CR), commas, quotes and empty fields round-trip through the
    /// writer and the reader, and the record splitter ends records only outside quoted fields.
    @Test func csvRoundTripsHostileFields() throws {
        let rows = [["a\nb", "c,d", "e\"f", ""], ["cr\r\nlf", "\"\"", " spaced ", "x\ry"], ["plain", "1", "2", "3"]]
        let table = CSVTable(header: ["w", "x", "y", "z"], rows: rows)
        let parsed = try CSVTable.parse(table.text)
        #expect(parsed.header == table.header)
        #expect(parsed.rows == rows)
        // The same text with CRLF record ends.
        let crlf = try CSVTable.parse(table.text.replacingOccurrences(of: "\"\n", with: "\"\r\n"))
        #expect(crlf.rows.count == 3)
        var splitter = CSVRecordSplitter()
        let ends = Array(table.text.utf8).filter { splitter.ends(at: $0) }.count
        #expect(ends == 4)
        // A row with too few fields is refused with its record number.
        #expect(throws: LaueError.self) { try CSVTable.parse("a,b\n1,2\n3\n") }
    }

    func sample(width: Int = 53, height: Int = 41) -> LaueImage {
        var img = LaueImage(width: width, height: height)
        for r in 0..<height { for c in 0..<width { img[c, r] = Float((c * 131 + r * 71) % 60000) } }
        return img
    }

    @Test(arguments: TIFFCompression.allCases)
    func tiffRoundTripStripsAndTiles(_ compression: TIFFCompression) throws {
        let dir = Fixtures.temporaryFolder("tiffw")
        let img = sample()
        for tile in [nil, 16, 32] as [Int?] {
            let path = dir + "/w_\(compression.name)_\(tile ?? 0).tif"
            try TIFFWriter.write(img, to: path, options: .init(compression: compression, tileSize: tile, rowsPerStrip: 7))
            let back = try TIFFReader.read(path: path)
            #expect(back.width == img.width && back.height == img.height)
            #expect(back.pixels == img.pixels)
            #expect(back.pixelType == .uint16)
        }
    }

    @Test func tiffFloatAndClamping() throws {
        let dir = Fixtures.temporaryFolder("tiffw")
        var img = sample()
        img[0, 0] = -5; img[1, 0] = 70000; img[2, 0] = .nan; img[3, 0] = 12.6
        let f = dir + "/f.tif"
        try TIFFWriter.write(img, to: f, options: .init(pixelType: .float32))
        let backF = try TIFFReader.read(path: f)
        #expect(backF.pixels[0] == -5 && backF.pixels[1] == 70000 && backF.pixels[2].isNaN)
        let u = dir + "/u.tif"
        try TIFFWriter.write(img, to: u)
        let backU = try TIFFReader.read(path: u)
        #expect(backU.pixels[0] == 0 && backU.pixels[1] == 65535 && backU.pixels[2] == 0 && backU.pixels[3] == 13)
    }

    @Test func tiffMultiPageWrite() throws {
        let path = Fixtures.temporaryFolder("tiffw") + "/pages.tif"
        let pages = (0..<3).map { k -> LaueImage in var i = sample(); i[0, 0] = Float(k); return i }
        try TIFFWriter.write(pages, to: path)
        #expect(try TIFFReader.pageCount(path: path) == 3)
        for k in 0..<3 { #expect(try TIFFReader.read(path: path, page: k).pixels == pages[k].pixels) }
    }

    @Test func hdf5StackRoundTrip() throws {
        let path = Fixtures.temporaryFolder("h5w") + "/stack.h5"
        let frames = (0..<3).map { k -> LaueImage in var i = sample(); i[5, 5] = Float(1000 + k); return i }
        try HDF5ImageWriter.write(frames, to: path, sampleX: [1, 2, 3], sampleY: [4, 4, 4], detectorFields: ["distance": 510.8])
        #expect(try ImageReader.frameCount(path: path) == 3)
        for k in 0..<3 {
            let back = try ImageReader.read(path: path, frame: k)
            #expect(back.pixels == frames[k].pixels)
            #expect(back.metadata["sample.sampleX"] == String(Double(k + 1)))
        }
        let file = try HDF5File(path: path)
        #expect(try file.read("/entry1/detector/distance", as: Double.self).values == [510.8])
        #expect(file.stringAttribute("units", of: "/entry1/sample/sampleX") == "micrometer")
    }

    @Test func hdf5GenericDatasetsAndAttributes() throws {
        let path = Fixtures.temporaryFolder("h5w") + "/generic.h5"
        let file = try HDF5File(path: path, mode: .create)
        try file.write([1.5, 2.5, 3.5, 4.5, 5.5, 6.5], shape: [2, 3], to: "/a/b/values")
        try file.writeStrings(["gnd", "tilt_boundary", "no_defect"], to: "/a/labels")
        try file.setAttribute("units", "deg", on: "/a/b/values")
        try file.setAttribute("step", [0.5, 0.25], on: "/a")
        #expect(try file.shape(of: "/a/b/values") == [2, 3])
        #expect(try file.read("/a/b/values", as: Float.self).values == [1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
        #expect(try file.readStrings("/a/labels") == ["gnd", "tilt_boundary", "no_defect"])
        #expect(file.stringAttribute("units", of: "/a/b/values") == "deg")
        #expect(file.numericAttribute("step", of: "/a") == [0.5, 0.25])
        #expect(try file.children(of: "/a").sorted() == ["b", "labels"])
    }

    @Test func atomicWriteLeavesNoTemporaryFiles() throws {
        let dir = Fixtures.temporaryFolder("atomic")
        try AtomicFile.write("first", to: dir + "/f.txt")
        try AtomicFile.write("second", to: dir + "/f.txt")
        #expect(try String(contentsOfFile: dir + "/f.txt", encoding: .utf8) == "second")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f.txt"])
        // A failing writer leaves the old file untouched.
        struct Boom: Error {}
        #expect(throws: Boom.self) { try AtomicFile.write(to: dir + "/f.txt") { _ in throw Boom() } }
        #expect(try String(contentsOfFile: dir + "/f.txt", encoding: .utf8) == "second")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f.txt"])
    }
}

/// The CSV number formatter gives Foundation's `String(format: "%.Nf")` text exactly (it replaced it
/// for speed): random magnitudes and signs, ties, zeros, extremes, every digit count used.
@Suite struct FixedPointTests {
    @Test func equalsFoundationsFormat() {
        var g = SeededGenerator(seed: 16)
        var values: [Double] = [0, -0.0, 0.5, 1.5, 2.5, -0.5, 0.125, 0.0005, 1e-300, Double.leastNonzeroMagnitude, 1e300, -1.7976931348623157e308,
                                123456.78949999999, 0.1 + 0.2, 1e15, 1e22]
        for _ in 0..<20_000 {
            let magnitude = pow(10, Double(Int(g.next() % 24)) - 10)
            values.append((Double(g.next() % 2_000_000) / 1_000_000 - 1) * magnitude)
        }
        for v in values {
            for d in 0...9 {
                #expect(fixedPoint(v, digits: d) == String(format: "%.\(d)f", v), "\(v) with \(d) digits")
            }
        }
        #expect(csvNumber(.nan, digits: 3) == "" && csvNumber(.infinity, digits: 2) == "" && csvNumber(nil) == "")
    }
}
