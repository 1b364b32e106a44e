import Foundation
import Testing
import LaueCore
import LaueIndexing
import LaueIO
import LauePeaks
import LaueTestSupport

func indexImage(_ image: String, calib: DetectorCalibration, material: String, options: IndexingOptions = IndexingOptions()) throws -> IndexingResult {
    let img = try ImageReader.read(path: Fixtures.path(image))
    let peaks = PeakSearcher().search(img).peaks
    return try Indexer(material: Material.builtin(material), calibration: calib, options: options).index(peaks.map(ObservedSpot.init))
}

@Suite struct RealImageIndexingTests {
    /// Ge_blanc_0000.mccd against LaueTools' calibration fit of the same image.
    @Test func marccdGeMatchesLaueToolsFit() throws {
        let calib = try LaueToolsCalibration.readDet(path: Fixtures.path("lauetools/calibGe111.det"))
        let result = try indexImage("lauetools/Ge_blanc_0000.mccd", calib: calib, material: "Ge")
        #expect(result.status == .indexed)
        let grain = try #require(result.grains.first)
        let fit = try LaueToolsFit.read(path: Fixtures.path("lauetools/Ge_blanc_0000_LT_5.fit")).grains[0]
        let ge = try Material.builtin("Ge")
        let angle = ge.misorientation(grain.orientation, fit.ub!)
        #expect(angle <= 0.01, "misorientation to LaueTools' UB: \(angle) deg")
        // LaueTools indexes 70 spots with its default peak search, 95 in its calibration fit.
        #expect(grain.indexedCount >= 95, "\(grain.indexedCount) spots indexed")
        #expect(grain.meanDeviation <= 0.21, "mean deviation \(grain.meanDeviation) px")
        // Same hkl for every spot both index (expressed in LaueTools' choice of equivalent axes).
        let mine = grain.reexpressed(closestTo: fit.ub!, material: ge)
        let xs = fit.column("Xexp")!, ys = fit.column("Yexp")!
        var common = 0, deviation = 0.0
        for (i, hkl) in fit.hkls.enumerated() {
            guard let s = mine.spots.first(where: { hypot($0.x - xs[i], $0.y - ys[i]) < 1 }) else { continue }
            common += 1
            deviation += s.deviation
            #expect(s.hkl == hkl, "spot at \(xs[i]), \(ys[i]): \(s.hkl) vs LaueTools \(hkl)")
        }
        #expect(common >= 90)
        // On the spots LaueTools fitted too, as close as its own fit (0.191 px).
        #expect(deviation / Double(max(common, 1)) <= 0.2, "mean deviation \(deviation / Double(max(common, 1))) px on the common spots")
    }

    /// img_Ge_sCMOS_0000.tif with the calibration of its .cor trailer, against LaueTools' own indexing
    /// of the same image (shared/peers driver, batch preset with boxsize 5): UB of its _g0.fit.
    @Test func sCMOSGeIndexes() throws {
        let calib = try LaueToolsCalibration.read(path: Fixtures.path("lauetools/img_Ge_sCMOS_0000_181peaks.cor"),
                                                  frameSize: (2016, 2018))
        let result = try indexImage("lauetools/img_Ge_sCMOS_0000.tif", calib: calib, material: "Ge")
        let grain = try #require(result.grains.first)
        #expect(grain.indexedCount >= 100, "\(grain.indexedCount) spots")
        #expect(grain.meanDeviation <= 0.25, "mean deviation \(grain.meanDeviation)")
        let laueTools = try LaueToolsFit.read(path: Fixtures.path("lauetools/img_Ge_sCMOS_0000_LT_batch_g0.fit")).grains[0]
        let angle = try Material.builtin("Ge").misorientation(grain.orientation, laueTools.ub!)
        #expect(angle <= 0.01, "misorientation to LaueTools' own result: \(angle) deg")
        #expect(grain.indexedCount >= laueTools.rows.count)
    }

    @Test func fitAndJsonOutputs() throws {
        let calib = try LaueToolsCalibration.readDet(path: Fixtures.path("lauetools/calibGe111.det"))
        let result = try indexImage("lauetools/Ge_blanc_0000.mccd", calib: calib, material: "Ge")
        let ge = try Material.builtin("Ge")
        let path = Fixtures.temporaryFolder("fit") + "/ge.fit"
        try result.laueToolsFit(materials: [ge], calibration: calib).write(to: path)
        let back = try LaueToolsFit.read(path: path)
        #expect(back.grains[0].rows.count == result.grains[0].indexedCount)
        #expect(back.grains[0].ub!.maxAbsDifference(result.grains[0].orientation) < 1e-8)
        let json = result.json()
        let data = try JSONSerialization.data(withJSONObject: json)
        let parsed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(parsed["status"] as? String == "indexed")
        let grains = try #require(parsed["grains"] as? [[String: Any]])
        #expect((grains[0]["orientation_matrix"] as? [[Double]])?.count == 3)
        #expect((grains[0]["spots"] as? [[String: Any]])?.first?["energy_kev"] != nil)
    }

    /// The deviatoric strain of the refined matrix against LaueTools' own strain refinement of the same
    /// frames (its `.fit`, direct crystal frame, printed in 1e-3 to two decimals), in LaueTools' choice of
    /// equivalent axes; the reported tensor is the polar decomposition of the refined matrix.
    @Test(arguments: [("lauetools/Ge_blanc_0000.mccd", "lauetools/calibGe111.det", "lauetools/Ge_blanc_0000_LT_batch_g0.fit"),
                      ("lauetools/img_Ge_sCMOS_0000.tif", "lauetools/img_Ge_sCMOS_0000_181peaks.cor", "lauetools/img_Ge_sCMOS_0000_LT_batch_g0.fit")])
    func strainAgreesWithLaueTools(_ image: String, _ calibName: String, _ fitName: String) throws {
        let calib = calibName.hasSuffix(".det") ? try LaueToolsCalibration.readDet(path: Fixtures.path(calibName))
            : try LaueToolsCalibration.read(path: Fixtures.path(calibName), frameSize: (2016, 2018))
        var options = IndexingOptions()
        options.refineStrain = true
        let ge = try Material.builtin("Ge")
        let result = try indexImage(image, calib: calib, material: "Ge", options: options)
        let laueTools = try LaueToolsFit.read(path: Fixtures.path(fitName)).grains[0]
        let reference = try #require(laueTools.deviatoricStrain) * 1e-3
        let grain = try #require(result.grains.first).reexpressed(closestTo: laueTools.ub!, material: ge)
        let strain = try #require(grain.strain)
        let off = strain.crystal.maxAbsDifference(reference)
        #expect(off <= 2e-4, "\(image): strain \(strain.crystal) vs LaueTools \(reference): \(off)")
        // Traceless, symmetric, and what the refined matrix holds.
        #expect(abs(strain.crystal.trace) < 1e-12 && strain.crystal.maxAbsDifference(strain.crystal.transposed) < 1e-12)
        let json = result.json()
        let g0 = try #require((json["grains"] as? [[String: Any]])?.first)
        let m = Mat3(try #require(g0["orientation_matrix"] as? [[Double]]))
        let reported = DeviatoricStrain.tensor(try #require(g0["strain_deviatoric"] as? [Double]))
        #expect(reported.maxAbsDifference(try #require(DeviatoricStrain(orientation: m)).crystal) < 1e-6)
        // Re-expressing the orientation rotates the tensor with it: the same tensor in the lab frame.
        let original = try #require(result.grains.first?.strain)
        #expect(original.lab.maxAbsDifference(strain.lab) < 1e-9)
        // In LaueTools' sample2 frame (40° tilt): LaueTools' own tensor of the same frame, and its
        // transform of its own crystal-frame tensor by its own UB to the printed digits.
        let sample = try #require(laueTools.deviatoricStrainSample) * 1e-3
        #expect(strain.sample().maxAbsDifference(sample) <= 2e-4, "\(image): sample-frame strain \(strain.sample()) vs LaueTools \(sample)")
        let theirs = try #require(DeviatoricStrain(orientation: laueTools.ub!))
        #expect(theirs.sample().maxAbsDifference(sample) <= 1.5e-5, "LaueTools' UB in the sample frame \(theirs.sample()) vs its .fit \(sample)")
        let reportedSample = DeviatoricStrain.tensor(try #require(g0["strain_deviatoric_sample"] as? [Double]))
        #expect(reportedSample.maxAbsDifference(original.sample()) < 1e-9)
    }
}
