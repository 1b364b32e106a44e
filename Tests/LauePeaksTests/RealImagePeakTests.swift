import Foundation
import Testing
import LaueCore
import LaueIO
import LauePeaks
import LaueTestSupport

/// Fraction of reference peaks found within `radius` px and the median distance of those found.
func agreement(_ peaks: [Peak], _ reference: [(Double, Double)], radius: Double = 0.5) -> (fraction: Double, median: Double) {
    var found: [Double] = []
    for (x, y) in reference {
        let d = peaks.map { (($0.x - x) * ($0.x - x) + ($0.y - y) * ($0.y - y)).squareRoot() }.min() ?? .infinity
        if d <= radius { found.append(d) }
    }
    found.sort()
    return (Double(found.count) / Double(reference.count), found.isEmpty ? .infinity : found[found.count / 2])
}

@Suite struct RealImagePeakTests {
    @Test func marccdGeAgreesWithLaueTools() throws {
        let image = try ImageReader.read(path: Fixtures.path("lauetools/Ge_blanc_0000.mccd"))
        let result = PeakSearcher().search(image)
        let lt = try LaueToolsPeakList.read(path: Fixtures.path("lauetools/Ge_blanc_0000_LT_5.dat"))
        let reference = Array(zip(lt.column("peak_X")!, lt.column("peak_Y")!))
        let (fraction, median) = agreement(result.peaks, reference)
        #expect(fraction >= 0.95, "found \(fraction * 100) % of LaueTools' \(reference.count) peaks")
        #expect(median <= 0.1, "median distance \(median) px")
        // Dead corners of the MarCCD are masked, not reported.
        #expect(result.peaks.count < 300)
        #expect(result.peaks.allSatisfy { !$0.saturated })
    }

    @Test func sCMOSGeAgreesWithLaueTools() throws {
        let image = try ImageReader.read(path: Fixtures.path("lauetools/img_Ge_sCMOS_0000.tif"))
        let result = PeakSearcher().search(image)
        let lt = try LaueToolsPeakList.read(path: Fixtures.path("lauetools/img_Ge_sCMOS_0000_181peaks.cor"))
        let reference = Array(zip(lt.column("X")!, lt.column("Y")!))
        let (fraction, median) = agreement(result.peaks, reference)
        #expect(fraction >= 0.95, "found \(fraction * 100) % of LaueTools' \(reference.count) peaks")
        #expect(median <= 0.1, "median distance \(median) px")
    }

    @Test func laueToolsDatExportReadsBack() throws {
        let image = try ImageReader.read(path: Fixtures.path("lauetools/Ge_blanc_0000.mccd"))
        let result = PeakSearcher().search(image)
        let path = Fixtures.temporaryFolder("dat") + "/peaks.dat"
        try result.laueToolsPeakList.write(to: path)
        let back = try LaueToolsPeakList.read(path: path)
        #expect(back.rows.count == result.peaks.count)
        #expect(back.columns == ["peak_X", "peak_Y", "peak_Itot", "peak_Isub", "peak_fwaxmaj", "peak_fwaxmin",
                                 "peak_inclination", "Xdev", "Ydev", "peak_bkg", "Ipixmax"])
        // LaueTools' widths are sigmas: the sharp Ge spots are about 1 px.
        let sigmas = back.column("peak_fwaxmin")!.sorted()
        #expect(sigmas[sigmas.count / 2] > 0.5 && sigmas[sigmas.count / 2] < 1.5)
    }

    @Test func anglesFromACalibration() throws {
        let image = try ImageReader.read(path: Fixtures.path("lauetools/Ge_blanc_0000.mccd"))
        var result = PeakSearcher().search(image)
        let calib = try LaueToolsCalibration.readDet(path: Fixtures.path("lauetools/calibGe111.det"))
        for i in result.peaks.indices { result.peaks[i].addAngles(calib) }
        // The strongest spot is Ge 4 2 2 at 2theta 58.43, chi 20.13 (Ge_blanc_0000_LT_5.fit).
        let top = try #require(result.peaks.min { abs($0.x - 623.12) + abs($0.y - 1657.73) < abs($1.x - 623.12) + abs($1.y - 1657.73) })
        #expect(abs(top.twoTheta! - 58.4286) < 0.02 && abs(top.chi! - 20.131) < 0.02)
        let csv = result.csvTable(withAngles: true)
        #expect(csv.header.suffix(3) == ["two_theta", "chi", "streak_deg"])
    }
}
