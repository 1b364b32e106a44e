import Foundation
import Testing
import LaueCore
import LaueIO
import LaueSimulation
import LaueTestSupport

@Suite struct PerfectPatternTests {
    /// Noise-free Ge pattern with a narrow PSF: spot centroids agree with the prediction and with
    /// LaueTools' Xtheo/Ytheo.
    @Test func centroidsMatchPredictionAndLaueTools() throws {
        let fit = try LaueToolsFit.read(path: Fixtures.path("lauetools/Ge_blanc_0000_LT_5.fit"))
        let g = fit.grains[0]
        var det = try SimulatedDetector.builtin("marccd")
        det.calibration = try #require(fit.calibration)
        det.pointSpread = .gaussian(fwhm: 1.2)
        det.effects = .ideal
        let sim = try PatternSimulator(material: Material.builtin("Ge"), detector: det, energyRange: 5...25)
        let ub = g.ub!
        let pixels = sim.diffractedIntensity(orientation: ub, defect: .noDefect, seed: 1)
        let spots = isolatedSpots(sim, orientation: ub, clearance: 8)
        #expect(spots.count > 60)
        var worst = 0.0
        for s in spots {
            let m = WindowMoments(pixels, width: 2048, height: 2048, x: s.x - 1, y: s.y - 1, half: 5)
            guard m.total > 0 else { continue }
            worst = max(worst, abs(m.cx + 1 - s.x), abs(m.cy + 1 - s.y))
        }
        #expect(worst < 0.05, "worst centroid offset \(worst) px")
        // Against LaueTools' own theoretical positions, spot by spot.
        let xs = g.column("Xtheo")!, ys = g.column("Ytheo")!
        var checked = 0, worstLT = 0.0
        for (i, hkl) in g.hkls.enumerated() where spots.contains(where: { $0.hkl == hkl }) {
            let m = WindowMoments(pixels, width: 2048, height: 2048, x: xs[i] - 1, y: ys[i] - 1, half: 5)
            worstLT = max(worstLT, abs(m.cx + 1 - xs[i]), abs(m.cy + 1 - ys[i]))
            checked += 1
        }
        #expect(checked > 60)
        #expect(worstLT < 0.05, "worst offset to LaueTools Xtheo/Ytheo \(worstLT) px")
    }

    @Test func intensitiesFollowStructureFactorsAndNoiseLooksLikeADetector() throws {
        let det = try SimulatedDetector.builtin("small")
        let sim = try PatternSimulator(material: Material.builtin("LiCoO2"), detector: det)
        var g = SeededGenerator(seed: 3)
        let u = Quaternion.random(using: &g).matrix
        let image = sim.simulate(PatternTruth(defect: .noDefect, orientation: u), seed: 5)
        let st = image.statistics
        #expect(st.maximum <= 65535 && st.minimum >= 0)
        #expect(st.mean > 90 && st.mean < 250)    // flat 100 + fluorescence hump + spots
        // Background pixels far from spots scatter like Poisson(~100-160) plus read noise.
        let spots = sim.predictor.spots(orientation: u)
        var values: [Double] = []
        for r in stride(from: 10, to: 500, by: 7) {
            for c in stride(from: 10, to: 500, by: 7) where !spots.contains(where: { abs($0.x - 1 - Double(c)) < 12 && abs($0.y - 1 - Double(r)) < 12 }) {
                let b = DetectorSimulation.background(det.effects, x: c, y: r, width: 512, height: 512)
                values.append((Double(image[c, r]) - b) / (b + 4).squareRoot())
            }
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(abs(mean) < 0.1 && abs(sd - 1) < 0.1, "normalised background residual mean \(mean) sd \(sd)")
    }
}

@Suite struct DefectRenderingTests {
    let material = try! Material.builtin("LiCoO2")
    // LiCoO2 basal edge GNDs: rotation about <1-100> = [1 -1 0] (three-index direction).
    var axis: Vec3 { material.lattice.cartesian(direction: Vec3(1, -1, 0)).normalized }

    func simulator(fwhm: Double = 2.0) throws -> PatternSimulator {
        var det = try SimulatedDetector.builtin("aps")
        det.pointSpread = .gaussian(fwhm: fwhm)
        det.effects = .ideal
        return try PatternSimulator(material: material, detector: det)
    }

    func orientation(_ seed: UInt64) -> Mat3 {
        var g = SeededGenerator(seed: seed)
        return Quaternion.random(using: &g).matrix
    }

    /// Spots whose predicted streak is long enough to measure and that are far from others.
    func measurable(_ sim: PatternSimulator, _ u: Mat3, minLength: Double, spread: Double) -> [(LaueSpot, Vec3)] {
        let nLab = u * axis
        // Spots near the ends of the energy band are cut by it (part of the ensemble leaves the band).
        return isolatedSpots(sim, orientation: u, clearance: 45).filter { $0.energy > 5.5 && $0.energy < 21 }.compactMap { s in
            guard let m = sim.predictor.jacobian(s.hkl, orientation: u) else { return nil }
            let v = Vec3(m.dx.dot(nLab), m.dy.dot(nLab), 0) * (spread * .pi / 180)
            return v.length >= minLength && v.length < 60 ? (s, v) : nil
        }
    }

    @Test(arguments: [UInt64(11), 12, 13])
    func gndStreakLengthAndDirection(_ seed: UInt64) throws {
        let sim = try simulator()
        let u = orientation(seed)
        let spread = 0.6
        let pixels = sim.diffractedIntensity(orientation: u, defect: .gnd(axis: axis, spread: spread, profile: .uniform), seed: seed)
        let sigma = sim.detector.pointSpread.sigma
        let cases = measurable(sim, u, minLength: 2 * sim.detector.pointSpread.fwhm, spread: spread)
        #expect(cases.count >= 3, "only \(cases.count) measurable spots")
        for (s, v) in cases {
            let m = WindowMoments(pixels, width: 2048, height: 2048, x: s.x - 1, y: s.y - 1, half: Int(v.length / 2 + 4 * sigma + 3))
            let p = m.principal
            let length = (12 * max(p.l1 - sigma * sigma, 0)).squareRoot()
            #expect(abs(length - v.length) / v.length < 0.10, "\(s.hkl): length \(length) vs \(v.length) at \(s.x), \(s.y) E \(s.energy)")
            let cosAngle = abs(p.direction.0 * v.x + p.direction.1 * v.y) / v.length
            #expect(acos(min(1, cosAngle)) * 180 / .pi < 3, "\(s.hkl): direction off")
        }
    }

    @Test func tiltBoundaryGivesTwoMaximaAtThePredictedSeparation() throws {
        let sim = try simulator()
        let u = orientation(21)
        let tilt = 0.5
        let pixels = sim.diffractedIntensity(orientation: u, defect: .tiltBoundary(axis: axis, tilt: tilt, weight: 0.45), seed: 1)
        let fwhm = sim.detector.pointSpread.fwhm
        let cases = measurable(sim, u, minLength: 2.5 * fwhm, spread: tilt)
        #expect(cases.count >= 3)
        for (s, v) in cases {
            let half = Int(v.length / 2 + 8)
            let prof = projectedProfile(pixels, width: 2048, height: 2048, x: s.x - 1, y: s.y - 1, direction: v, half: half)
            let peaks = countPeaks(prof)
            #expect(peaks.count == 2, "\(s.hkl): \(peaks.count) maxima")
            if peaks.count == 2 {
                let separation = Double(peaks[1] - peaks[0])
                #expect(abs(separation - v.length) <= max(1.0, 0.1 * v.length), "\(s.hkl): separation \(separation) vs \(v.length)")
            }
        }
    }

    @Test func stackingBoundariesGiveNMaxima() throws {
        let sim = try simulator()
        let defect = DefectModel.stackingTiltBoundaries(axis: axis, tilts: [0.12, 0.14, 0.12], weights: [1, 1.2, 0.9, 1.1])
        let fwhm = sim.detector.pointSpread.fwhm
        var checked = 0
        for seed in UInt64(31)...36 {
            let u = orientation(seed)
            let pixels = sim.diffractedIntensity(orientation: u, defect: defect, seed: 1)
            // Every step (at least 0.12 of 0.38 deg) resolved: at least 2 PSF FWHM on the detector.
            for (s, v) in measurable(sim, u, minLength: 2 * fwhm * 0.38 / 0.12, spread: 0.38) {
                let prof = projectedProfile(pixels, width: 2048, height: 2048, x: s.x - 1, y: s.y - 1, direction: v,
                                            half: Int(v.length / 2 + 8))
                #expect(countPeaks(prof).count == 4, "\(s.hkl): \(countPeaks(prof).count) maxima at \(s.x),\(s.y) E=\(s.energy) len \(v.length) prof \(prof.map { Int($0) })")
                checked += 1
            }
        }
        #expect(checked >= 4)
    }

    @Test func randomDislocationsGiveNearIsotropicSpots() throws {
        let sim = try simulator()
        let u = orientation(41)
        let pixels = sim.diffractedIntensity(orientation: u, defect: .randomDislocations(spread: 0.3), seed: 2)
        let spots = isolatedSpots(sim, orientation: u, clearance: 30)
        #expect(spots.count >= 5)
        var ratios: [Double] = []
        for s in spots {
            let m = WindowMoments(pixels, width: 2048, height: 2048, x: s.x - 1, y: s.y - 1, half: 20)
            let p = m.principal
            ratios.append((p.l1 / p.l2).squareRoot())
            // Broader than the perfect spot.
            #expect(p.l1 > 2 * sim.detector.pointSpread.sigma * sim.detector.pointSpread.sigma)
        }
        ratios.sort()
        // An isotropic spread still elongates some spots (the out-of-plane 2 sin(theta) factor);
        // the median spot stays nearly round.
        #expect(ratios[ratios.count / 2] < 1.6, "median aspect ratio \(ratios[ratios.count / 2])")
    }
}
