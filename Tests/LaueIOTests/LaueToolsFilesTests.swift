import Foundation
import Testing
import LaueCore
import LaueIO
import LaueTestSupport

@Suite struct LaueToolsFilesTests {
    @Test func detFile() throws {
        let c = try LaueToolsCalibration.readDet(path: Fixtures.path("lauetools/calibGe111.det"))
        #expect(c.distance == 70.775 && c.xcen == 941.74 && c.ycen == 1082.56 && c.xbet == 0.63 && c.xgam == -0.682)
        #expect(c.pixelSize == 0.079142 && c.width == 2048 && c.height == 2048 && c.detectorLabel == "MARCCD165")
        let out = Fixtures.temporaryFolder("det") + "/out.det"
        try LaueToolsCalibration.writeDet(c, material: "Ge", to: out)
        #expect(try LaueToolsCalibration.readDet(path: out) == c)
    }

    @Test func corCalibrationTrailer() throws {
        let c = try LaueToolsCalibration.read(path: Fixtures.path("lauetools/img_Ge_sCMOS_0000_181peaks.cor"),
                                              frameSize: (2016, 2018))
        #expect(c.distance == 76.30541896689752 && c.xcen == 1026.6550911317042 && c.ycen == 1128.3350674380447)
        #expect(c.xbet == 0.3456285811359702 && c.xgam == 0.36074874124984074 && c.pixelSize == 0.0734)
        #expect(c.width == 2016 && c.height == 2018)
        #expect(throws: LaueError.self) {
            try LaueToolsCalibration.read(path: Fixtures.path("lauetools/img_Ge_sCMOS_0000_181peaks.cor"))
        }
    }

    @Test func peakLists() throws {
        let dat = try LaueToolsPeakList.read(path: Fixtures.path("lauetools/Ge_blanc_0000_LT_5.dat"))
        #expect(dat.rows.count == 97 && dat.columns.first == "peak_X" && dat.columns.count == 11)
        #expect(dat.column("peak_X")?.first == 623.12)
        let old = try LaueToolsPeakList.read(path: Fixtures.path("lauetools/Ge_blanc_0000.dat"))
        #expect(old.rows.count == 93 && old.columns.first == "peak_X")
        let cor = try LaueToolsPeakList.read(path: Fixtures.path("lauetools/img_Ge_sCMOS_0000_181peaks.cor"))
        #expect(cor.rows.count == 181 && cor.columns.prefix(4) == ["2theta", "chi", "X", "Y"])
        #expect(cor.trailer["dd"] == "76.30541896689752")
        let out = Fixtures.temporaryFolder("dat") + "/out.dat"
        try dat.write(to: out, comments: ["written by a test"])
        let back = try LaueToolsPeakList.read(path: out)
        #expect(back.columns == dat.columns && back.rows == dat.rows)
    }

    @Test func fitFileRead() throws {
        let fit = try LaueToolsFit.read(path: Fixtures.path("lauetools/Ge_blanc_0000_LT_5.fit"))
        #expect(fit.grains.count == 1)
        let g = fit.grains[0]
        #expect(g.material == "Ge" && g.rows.count == 95 && g.meanDeviation == 0.191)
        #expect(g.ub!.maxAbsDifference(Mat3([[-0.071476709, -0.99582593, -0.056760883], [0.720618491, -0.012210383, -0.693224276],
                                              [0.689637637, -0.090452332, 0.718483337]])) == 0)
        #expect(fit.detectorParameters == [70.775, 941.736, 1082.562, 0.63, -0.682])
        #expect(fit.pixelSize == 0.079142 && fit.frameDimensions == [2048, 2048] && fit.detectorLabel == "MARCCD165")
        #expect(g.hkls.first == HKL(4, 2, 2))
    }

    /// The foundation's acceptance test: predicted spots reproduce LaueTools' Xtheo/Ytheo, 2theta/chi and
    /// energies for all 95 indexed spots of the shipped calibration fit.
    @Test func predictionReproducesLaueToolsFit() throws {
        let fit = try LaueToolsFit.read(path: Fixtures.path("lauetools/Ge_blanc_0000_LT_5.fit"))
        let g = fit.grains[0]
        let calib = try #require(fit.calibration)     // the .fit's own (rounded) detector parameters
        let predictor = try SpotPredictor(material: Material.builtin("Ge"), calibration: calib)
        let xs = g.column("Xtheo")!, ys = g.column("Ytheo")!, tth = g.column("2theta_theo")!
        let chi = g.column("chi_theo")!, energy = g.column("Energy")!
        var worstXY = 0.0, worstAngle = 0.0, worstE = 0.0
        for (i, hkl) in g.hkls.enumerated() {
            let s = try #require(predictor.spot(hkl, orientation: g.ub!))
            worstXY = max(worstXY, abs(s.x - xs[i]), abs(s.y - ys[i]))
            worstAngle = max(worstAngle, abs(s.twoTheta - tth[i]), abs(s.chi - chi[i]))
            worstE = max(worstE, abs(s.energy - energy[i]))
        }
        #expect(g.hkls.count == 95)
        #expect(worstXY <= 0.05, "max |dX|,|dY| = \(worstXY) px")
        #expect(worstAngle <= 0.01, "max angle difference \(worstAngle) deg")
        #expect(worstE <= 0.01, "max energy difference \(worstE) keV")
        // And every one of them is in the full prediction list, at the same hkl (lowest allowed harmonic).
        let all = Set(predictor.spots(orientation: g.ub!).map(\.hkl))
        #expect(g.hkls.allSatisfy { all.contains($0) })
    }

    @Test func fitFileRoundTrip() throws {
        let ub = Mat3([[0.1, -0.99, 0.05], [0.7, 0.01, -0.7], [0.69, -0.09, 0.71]])
        let grain = try LaueToolsFit.Grain(material: "Ge", meanDeviation: 0.123,
                                       columns: ["spot_index", "Intensity", "h", "k", "l", "pixDev", "energy(keV)", "Xexp", "Yexp"],
                                       rows: [[0, 100, 1, 1, 1, 0.1, 8.5, 100.5, 200.25], [1, 50, 2, 2, 0, 0.2, 9.5, 300, 400]],
                                       ub: ub, b0: Material.builtin("Ge").B0, deviatoricStrain: Mat3.identity * 0.5,
                                       eulerAngles: [1, 2, 3])
        let fit = LaueToolsFit(grains: [grain], detectorParameters: [70.775, 941.74, 1082.56, 0.63, -0.682],
                               pixelSize: 0.079142, frameDimensions: [2048, 2048], detectorLabel: "MARCCD165")
        let path = Fixtures.temporaryFolder("fit") + "/out.fit"
        try fit.write(to: path, peakListName: "test.cor")
        let back = try LaueToolsFit.read(path: path)
        #expect(back.grains.count == 1)
        #expect(back.grains[0].ub!.maxAbsDifference(ub) < 1e-9)
        #expect(back.grains[0].rows == grain.rows && back.grains[0].columns == grain.columns)
        #expect(back.grains[0].material == "Ge" && back.grains[0].meanDeviation == 0.123)
        #expect(back.calibration == fit.calibration)
    }
}
