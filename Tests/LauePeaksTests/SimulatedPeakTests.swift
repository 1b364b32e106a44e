import Foundation
import Testing
import LaueCore
import LauePeaks
import LaueSimulation

/// Streak-metric accuracy on simulated patterns whose truth is known (realistic noise: flat + hump
/// background, Poisson and read noise, hot pixels).
@Suite struct SimulatedPeakTests {
    let material = try! Material.builtin("LiCoO2")
    var axis: Vec3 { material.lattice.cartesian(direction: Vec3(1, -1, 0)).normalized }

    func simulator(fwhm: Double = 2.5) throws -> PatternSimulator {
        var det = try SimulatedDetector.builtin("aps")
        det.pointSpread = .gaussian(fwhm: fwhm)
        return try PatternSimulator(material: material, detector: det, brightestSpotCounts: 1.5e6)
    }

    func orientation(_ seed: UInt64) -> Mat3 {
        var g = SeededGenerator(seed: seed)
        return Quaternion.random(using: &g).matrix
    }

    /// Predicted spots far from others and from the band edges, with their predicted streak vector
    /// (px) for a rotation of `degrees` about the axis.
    func cases(_ sim: PatternSimulator, _ u: Mat3, degrees: Double, clearance: Double = 45) -> [(LaueSpot, Vec3)] {
        let spots = sim.predictor.spots(orientation: u)
        let c = sim.calibration
        let nLab = u * axis
        return spots.compactMap { s in
            guard s.energy > 5.5, s.energy < 21, c.contains(x: s.x, y: s.y, margin: clearance),
                  !spots.contains(where: { o in o.hkl != s.hkl && hypot(o.x - s.x, o.y - s.y) < clearance }),
                  let m = sim.predictor.jacobian(s.hkl, orientation: u) else { return nil }
            return (s, Vec3(m.dx.dot(nLab), m.dy.dot(nLab), 0) * (degrees * .pi / 180))
        }
    }

    func searcher(_ sim: PatternSimulator) -> PeakSearcher {
        PeakSearcher()
    }

    func nearest(_ peaks: [Peak], _ s: LaueSpot) -> Peak? {
        peaks.min { hypot($0.centroidX - s.x, $0.centroidY - s.y) < hypot($1.centroidX - s.x, $1.centroidY - s.y) }
            .flatMap { hypot($0.centroidX - s.x, $0.centroidY - s.y) < 6 ? $0 : nil }
    }

    @Test func gndStreakLengthAndDirection() throws {
        let sim = try simulator()
        let fwhm = sim.detector.pointSpread.fwhm
        var checked = 0
        for seed in UInt64(101)...110 {
            let u = orientation(seed)
            var g = SeededGenerator(seed: seed)
            let spread = 0.2 + 0.3 * g.uniform()
            let image = sim.simulate(PatternTruth(defect: .gnd(axis: axis, spread: spread, profile: .uniform), orientation: u), seed: seed)
            let result = searcher(sim).search(image)
            for (s, v) in cases(sim, u, degrees: spread) where v.length > 2 * fwhm && v.length < 50 {
                guard let p = nearest(result.peaks, s), p.maximum - p.background > 30 * 12 else { continue }
                checked += 1
                #expect(abs(p.streak.length - v.length) / v.length <= 0.10, "seed \(seed) \(s.hkl): length \(p.streak.length) vs \(v.length)")
                let d = p.streak.direction
                let angle = acos(min(1, abs(d.x * v.x + d.y * v.y) / v.length)) * 180 / .pi
                #expect(angle <= 3, "seed \(seed) \(s.hkl): direction off by \(angle) deg")
                #expect(p.streak.profile.count == 1, "seed \(seed) \(s.hkl): a continuous streak split into \(p.streak.profile.count)")
            }
        }
        #expect(checked >= 15, "only \(checked) measurable streaks")
    }

    /// Every maximum of the frame (peaks and their spots' weaker sub-peaks), LaueTools convention.
    func maxima(_ peaks: [Peak]) -> [Subpeak] {
        var seen = Set<Int>(), out: [Subpeak] = []
        for p in peaks where seen.insert(p.spot).inserted { out += p.subpeaks }
        return out
    }

    /// The maximum nearest (x, y), its distance and height.
    func nearestMaximum(_ all: [Subpeak], _ x: Double, _ y: Double) -> (x: Double, y: Double, distance: Double, height: Double)? {
        all.map { ($0.x, $0.y, hypot($0.x - x, $0.y - y), $0.height) }.min { $0.2 < $1.2 }
    }

    /// Tilt-boundary sub-spots (sub-grains at -(1 - w) t and w t about the axis) are found as two maxima
    /// at the true separation whenever it is at least 1.5 PSF FWHM: sub-peaks of one spot when they
    /// touch, separate spots beyond (joined into one reflection after indexing, SubgrainSearch).
    @Test func tiltBoundarySubspotsWhenResolved() throws {
        let sim = try simulator()
        let fwhm = sim.detector.pointSpread.fwhm
        var checked = 0
        for seed in UInt64(201)...210 {
            let u = orientation(seed)
            var g = SeededGenerator(seed: seed)
            let weight = 0.3 + 0.4 * g.uniform(), tilt = 0.1 + 0.3 * g.uniform()
            let image = sim.simulate(PatternTruth(defect: .tiltBoundary(axis: axis, tilt: tilt, weight: weight), orientation: u), seed: seed)
            let all = maxima(searcher(sim).search(image).peaks)
            for (s, v) in cases(sim, u, degrees: tilt) where v.length >= 1.5 * fwhm && v.length < 40 {
                let a = (s.x - (1 - weight) * v.x, s.y - (1 - weight) * v.y), b = (s.x + weight * v.x, s.y + weight * v.y)
                // Bright reflections only: a maximum of at least 30 noise sigmas within the pair's reach.
                guard all.contains(where: { hypot($0.x - s.x, $0.y - s.y) < v.length + 3 && $0.height > 30 * 12 }),
                      let ma = nearestMaximum(all, a.0, a.1), let mb = nearestMaximum(all, b.0, b.1) else { continue }
                checked += 1
                #expect(ma.distance < 0.4 * v.length && mb.distance < 0.4 * v.length && hypot(ma.x - mb.x, ma.y - mb.y) > 0.5,
                        "seed \(seed) \(s.hkl): sub-spots \(v.length) px apart not both found: expected \(a), \(b), nearest \(ma), \(mb)")
                #expect(abs(hypot(ma.x - mb.x, ma.y - mb.y) - v.length) <= max(0.15 * v.length, 0.75),
                        "seed \(seed) \(s.hkl): separation \(hypot(ma.x - mb.x, ma.y - mb.y)) vs \(v.length)")
            }
        }
        #expect(checked >= 15)
    }

    @Test func stackingBoundariesGiveEverySubspot() throws {
        let sim = try simulator()
        let steps = [0.12, 0.14, 0.12], weights = [1, 1.2, 0.9, 1.1]
        let defect = DefectModel.stackingTiltBoundaries(axis: axis, tilts: steps, weights: weights)
        // Angles of the four sub-grains about the axis, relative to the weighted mean (as the simulator).
        var angles = [0.0]
        for t in steps { angles.append(angles.last! + t) }
        let mean = zip(angles, weights).reduce(0) { $0 + $1.0 * $1.1 } / weights.reduce(0, +)
        let fwhm = sim.detector.pointSpread.fwhm
        var checked = 0
        for seed in UInt64(301)...306 {
            let u = orientation(seed)
            let image = sim.simulate(PatternTruth(defect: defect, orientation: u), seed: seed)
            let all = maxima(searcher(sim).search(image).peaks)
            // The smallest step (0.12 of 0.38 deg) must be at least 1.5 FWHM.
            for (s, v) in cases(sim, u, degrees: 1) where v.length * 0.12 >= 1.5 * fwhm && v.length * 0.38 < 60 {
                // Bright reflections only: a maximum of at least 30 noise sigmas within the row's reach.
                guard all.contains(where: { hypot($0.x - s.x, $0.y - s.y) < 0.3 * v.length + 3 && $0.height > 30 * 12 }) else { continue }
                checked += 1
                let distances = angles.map { a in nearestMaximum(all, s.x + (a - mean) * v.x, s.y + (a - mean) * v.y)?.distance ?? .infinity }
                let found = distances.filter { $0 <= max(0.15 * 0.12 * v.length, 0.75) }
                #expect(found.count == 4, "seed \(seed) \(s.hkl): \(found.count) of 4 sub-spots, \(distances) px from the truth, step \(0.12 * v.length) px")
            }
        }
        #expect(checked >= 3)
    }

    /// Rotated anisotropic Gaussian spots drawn directly, with Poisson noise on a background.
    @Test func gaussianFitWidthsOnEllipticalSpots() throws {
        var g = SeededGenerator(seed: 7)
        let w = 256, h = 256
        var truth: [(x: Double, y: Double, major: Double, minor: Double, angle: Double)] = []
        var pixels = [Float](repeating: 0, count: w * h)
        for i in 0..<9 {
            let x = 30.0 + Double(i % 3) * 90 + g.uniform(), y = 30.0 + Double(i / 3) * 90 + g.uniform()
            let major = 3 + 4 * g.uniform(), minor = 2 + 0.8 * g.uniform(), angle = 180 * g.uniform()
            truth.append((x, y, major, minor, angle))
            let sa = major / 2.3548, sb = minor / 2.3548, t = angle * .pi / 180
            for r in 0..<h { for c in 0..<w {
                let dx = Double(c) - x, dy = Double(r) - y
                let u = cos(t) * dx + sin(t) * dy, v = -sin(t) * dx + cos(t) * dy
                pixels[r * w + c] += Float(20000 * exp(-0.5 * (u * u / (sa * sa) + v * v / (sb * sb))))
            } }
        }
        var effects = DetectorEffects()
        effects.hotPixelFraction = 0
        DetectorSimulation.apply(effects, to: &pixels, width: w, height: h, generator: &g)
        let result = PeakSearcher().search(LaueImage(width: w, height: h, pixels: pixels, pixelType: .uint16))
        #expect(result.peaks.count == 9, "\(result.peaks.map { String(format: "(%.1f %.1f %.0f %.0f)", $0.x, $0.y, $0.maximum, $0.background) })")
        for t in truth {
            let p = try #require(result.peaks.min { hypot($0.x - 1 - t.x, $0.y - 1 - t.y) < hypot($1.x - 1 - t.x, $1.y - 1 - t.y) })
            let fit = try #require(p.fit)
            #expect(fit.converged)
            #expect(fit.model == .gaussian && fit.eta < 0.1, "\(fit.model) eta \(fit.eta)")
            #expect(abs(fit.fwhmMajor - t.major) / t.major <= 0.05, "major \(fit.fwhmMajor) vs \(t.major)")
            #expect(abs(fit.fwhmMinor - t.minor) / t.minor <= 0.05, "minor \(fit.fwhmMinor) vs \(t.minor)")
            var dAngle = abs(fit.angle - t.angle).truncatingRemainder(dividingBy: 180)
            dAngle = min(dAngle, 180 - dAngle)
            #expect(dAngle < 3, "angle \(fit.angle) vs \(t.angle)")
            #expect(hypot(p.x - 1 - t.x, p.y - 1 - t.y) < 0.05)
        }
    }

    @Test func hotPixelsAreRejectedAndSaturationFlagged() throws {
        let sim = try simulator()
        let u = orientation(9)
        var image = sim.simulate(PatternTruth(defect: .noDefect, orientation: u), seed: 9)
        // Isolated single hot pixels far from the spots.
        let spots = sim.predictor.spots(orientation: u)
        var hot: [(Int, Int)] = []
        var g = SeededGenerator(seed: 1)
        while hot.count < 20 {
            let x = 20 + Int(g.next() % 2000), y = 20 + Int(g.next() % 2000)
            if spots.allSatisfy({ hypot($0.x - Double(x), $0.y - Double(y)) > 30 }) { hot.append((x, y)); image[x, y] = 60000 }
        }
        let result = PeakSearcher().search(image)
        for (x, y) in hot {
            #expect(!result.peaks.contains { abs($0.x - 1 - Double(x)) < 1.5 && abs($0.y - 1 - Double(y)) < 1.5 }, "hot pixel at \(x), \(y) reported")
        }
        #expect(result.rejectedHotPixels >= 20)
        // A saturated spot is flagged.
        var bright = try PatternSimulator(material: material, detector: sim.detector, brightestSpotCounts: 4e7)
        bright.polarization = true
        let saturatedImage = bright.simulate(PatternTruth(defect: .noDefect, orientation: u), seed: 9)
        #expect(PeakSearcher().search(saturatedImage).peaks.contains { $0.saturated })
    }
}

@Suite struct BadImageTests {
    @Test func emptyFlatSaturatedAndNaNImages() {
        let searcher = PeakSearcher()
        #expect(searcher.search(LaueImage(width: 0, height: 0, pixels: [])).peaks.isEmpty)
        #expect(searcher.search(LaueImage(width: 3, height: 2, value: 5)).peaks.isEmpty)
        #expect(searcher.search(LaueImage(width: 512, height: 512, value: 100)).peaks.isEmpty)
        #expect(searcher.search(LaueImage(width: 512, height: 512, value: 65535, pixelType: .uint16)).peaks.isEmpty)
        #expect(searcher.search(LaueImage(width: 512, height: 512, value: .nan)).peaks.isEmpty)
        #expect(searcher.search(LaueImage(width: 512, height: 512, value: 0)).peaks.isEmpty)
        // NaN pixels inside a normal frame are ignored, the spot is still found.
        var g = SeededGenerator(seed: 3)
        var image = LaueImage(width: 128, height: 128, value: 0)
        for i in image.pixels.indices { image.pixels[i] = Float(100 + 10 * g.normal()) }
        for r in 0..<128 { for c in 0..<128 {
            image[c, r] += Float(5000 * exp(-0.5 * (pow(Double(c) - 64.3, 2) + pow(Double(r) - 40.7, 2)) / 1.5))
        } }
        for i in stride(from: 0, to: image.pixels.count, by: 37) { image.pixels[i] = .nan }
        let peaks = searcher.search(image).peaks
        #expect(peaks.count == 1)
        #expect(abs(peaks[0].x - 65.3) < 0.1 && abs(peaks[0].y - 41.7) < 0.1, "\(peaks[0])")
    }
}
