import Foundation
import LaueCore
import LaueTestSupport
import LaueXANES
import Testing

/// MAPS/XRF-Maps and PyXRF files written by h5py (tools/fixtures/make_xanes_fixtures.py).
@Suite struct XRFMapReaderTests {
    static let folder = Fixtures.path("xanes/xrf")
    nonisolated(unsafe) static let expected = Fixtures.json("xanes/xrf/expected.json") as! [String: Any]

    func files(_ prefix: String) -> [String] {
        (0..<6).map { (Self.folder as NSString).appendingPathComponent(String(format: "%@_%02d.h5", prefix, $0)) }
    }

    func expectedValues(_ layout: String) -> [Float] {
        let m = Self.expected[layout] as! [String: [Double]]
        return (0..<6).flatMap { m[String($0)]!.map { Float($0) } }
    }

    @Test func readsMAPSFilesWithAnEnergiesFile() throws {
        let map = try XANESMapReader.readXRFMaps(paths: files("maps"), channel: "Co", energies: Self.folder + "/energies.txt")
        #expect(map.energies == (Self.expected["energies_ev"] as! [Double]))
        #expect(map.values == expectedValues("maps"))
        #expect(map.grid.columns == 6 && map.grid.rows == 5)
        #expect(abs(map.grid.stepX - 0.5) < 1e-9 && abs(map.grid.stepY - 0.25) < 1e-9, "mm axes converted to µm")
        #expect(abs(map.grid.originX - 1000) < 1e-9 && abs(map.grid.originY - 2000) < 1e-9)
        // No energies: MAPS files do not carry one in a standard place.
        #expect(throws: LaueError.self) { try XANESMapReader.readXRFMaps(paths: files("maps"), channel: "Co") }
        #expect(throws: LaueError.self) { try XANESMapReader.readXRFMaps(paths: files("maps"), channel: "Fe", energies: Self.folder + "/energies.txt") }
    }

    @Test func readsPyXRFFilesWithTheirEnergies() throws {
        let map = try XANESMapReader.readXRFMaps(paths: files("pyxrf"), channel: "Co")
        let energies = Self.expected["energies_ev"] as! [Double]
        #expect(zip(map.energies, energies).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(map.values == expectedValues("pyxrf"))
        #expect(abs(map.grid.stepX - 1.0) < 1e-9 && abs(map.grid.stepY - 2.0) < 1e-9)
        #expect(abs(map.grid.originX - 10) < 1e-9 && abs(map.grid.originY + 5) < 1e-9)
    }
}
