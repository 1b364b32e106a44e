import Foundation
import LaueCore

/// The ground truth of one simulated pattern.
public struct PatternTruth: Sendable {
    public var defect: DefectModel
    /// Base orientation matrix (LaueTools UB, a pure rotation here).
    public var orientation: Mat3
    /// Whether the point diffracts (false outside a particle: background only).
    public var diffracting: Bool

    public init(defect: DefectModel, orientation: Mat3, diffracting: Bool = true) {
        self.defect = defect; self.orientation = orientation; self.diffracting = diffracting
    }

    public var defectClass: DefectClass { diffracting ? defect.defectClass : .unindexed }

    /// Rotation axis in the LaueTools lab frame.
    public var axisLab: Vec3? { defect.axis.map { (orientation * $0).normalized } }
}

/// Forward Laue simulator: perfect patterns and defect ensembles rendered on a detector with its point
/// spread, background, noise, gain, saturation, hot pixels and gaps.
///
/// Spot intensity (relative): I = sum over allowed harmonics n h in the band of
/// |F(n h)|^2 S(E_n) lambda_n^4 / sin^2(theta) * P, with P = 1 - (kf . y)^2 for the horizontally
/// polarised beam (optional). The strongest spot of the perfect pattern gets `brightestSpotCounts`
/// integrated detector units. Orientation ensembles (`OrientationEnsemble`) are rendered as the
/// weighted sum of their spots, with enough members that a continuous band is smooth (spacing below
/// 0.3 PSF sigma on the detector).
public struct PatternSimulator: Sendable {
    public let material: Material
    public let detector: SimulatedDetector
    public let predictor: SpotPredictor
    public var spectrum: SourceSpectrum
    public var polarization: Bool
    /// Integrated counts of the strongest spot of the perfect pattern.
    public var brightestSpotCounts: Double
    /// A tail added to every spot along one detector direction (beam penetration into a thick sample, or
    /// a detector artefact): a real-frame confounder that is not a lattice rotation. Nil: none.
    public var tail: SpotTail? = nil
    /// Other crystals in the beam (neighbouring grains, satellites, a substrate), added to every pattern
    /// that diffracts.
    public var others: [OtherCrystal] = []
    /// |F|^2 per reflection and allowed order (parallel to `predictor.reflections`).
    let structureFactors: [[Double]]

    public init(material: Material, detector: SimulatedDetector, energyRange: ClosedRange<Double> = 5...22,
                spectrum: SourceSpectrum = .bendingMagnet(criticalEnergy: 20), polarization: Bool = true,
                brightestSpotCounts: Double = 4e5, maxIndex: Int? = nil) throws {
        self.material = material
        self.detector = detector
        self.spectrum = spectrum
        self.polarization = polarization
        self.brightestSpotCounts = brightestSpotCounts
        predictor = try SpotPredictor(material: material, calibration: detector.calibration, energyRange: energyRange,
                                      maxIndex: maxIndex)
        structureFactors = predictor.reflections.map { r in r.allowedOrders.map { material.intensity($0 * r.hkl) } }
    }

    public var calibration: DetectorCalibration { detector.calibration }

    /// Relative intensity and pixel of reflection `index` for the orientation `u`, or nil when it does
    /// not reach the detector plane or has no allowed harmonic in the band.
    @inline(__always)
    func spot(_ index: Int, orientation u: Mat3) -> (x: Double, y: Double, intensity: Double)? {
        let r = predictor.reflections[index]
        let q1 = u * r.q
        guard let (kf, e1) = LaueScattering.scatter(q: q1) else { return nil }
        let emin = predictor.energyRange.lowerBound, emax = predictor.energyRange.upperBound
        var intensity = 0.0
        let f2 = structureFactors[index]
        for (k, n) in r.allowedOrders.enumerated() {
            let e = Double(n) * e1
            if e < emin { continue }
            if e > emax { break }
            let lambda = LaueScattering.hc / e
            let l2 = lambda * lambda
            intensity += f2[k] * spectrum.value(e) * l2 * l2
        }
        guard intensity > 0 else { return nil }
        let sin2 = max(1e-6, (1 - kf.x) / 2)          // sin^2(theta) from cos(2 theta) = kf.x
        intensity /= sin2
        if polarization { intensity *= max(0, 1 - kf.y * kf.y) }
        guard let p = calibration.pixel(kf: kf) else { return nil }
        return (p.x, p.y, intensity)
    }

    /// Reflections whose spot, for orientation `u`, lies within `margin` pixels of the frame.
    func candidates(orientation u: Mat3, margin: Double) -> [Int] {
        var out: [Int] = []
        for i in predictor.reflections.indices {
            if let s = spot(i, orientation: u), calibration.contains(x: s.x, y: s.y, margin: -margin) { out.append(i) }
        }
        return out
    }

    /// Members needed per continuous band so that neighbouring members are at most 0.3 PSF sigma apart on
    /// the detector (from the spot Jacobians of this orientation).
    func samplesPerBand(defect: DefectModel, orientation u: Mat3, candidates: [Int]) -> Int {
        guard let axis = defect.axis, defect.spread > 0 else { return 2 }
        let nLab = u * axis
        var maxRate = 0.0
        for i in candidates {
            let hkl = predictor.reflections[i].hkl
            guard let m = predictor.jacobian(hkl, orientation: u) else { continue }
            maxRate = max(maxRate, (m.dx.dot(nLab) * m.dx.dot(nLab) + m.dy.dot(nLab) * m.dy.dot(nLab)).squareRoot())
        }
        let lengthPx = maxRate * defect.spread * .pi / 180
        let spacing = 0.3 * detector.pointSpread.sigma
        return min(4000, max(8, Int((lengthPx / spacing).rounded(.up)) + 1))
    }

    /// The diffracted intensity alone (no background or noise), in detector units, row-major.
    public func diffractedIntensity(orientation u: Mat3, defect: DefectModel, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return diffractedIntensity(orientation: u, defect: defect, generator: &g)
    }

    /// Detector units per unit of relative spot intensity for orientation `u`: the perfect pattern's
    /// strongest spot on the frame gets `brightestSpotCounts` (nil: no spot on the frame).
    func countsScale(orientation u: Mat3, candidates given: [Int]? = nil) -> Double? {
        let cands = given ?? candidates(orientation: u, margin: 6 * detector.pointSpread.fwhm + 45)
        var strongest = 0.0
        for i in cands {
            if let s = spot(i, orientation: u), calibration.contains(x: s.x, y: s.y) { strongest = max(strongest, s.intensity) }
        }
        return strongest > 0 ? brightestSpotCounts / strongest : nil
    }

    /// `countsScale` overrides the normalisation (another grain of the same sample keeps the pattern
    /// grain's, so that its brightness is its volume relative to the grain's).
    func diffractedIntensity(orientation u: Mat3, defect: DefectModel, generator g: inout SeededGenerator,
                             countsScale fixed: Double? = nil) -> [Float] {
        let w = calibration.width, h = calibration.height
        var buffer = [Float](repeating: 0, count: w * h)
        let psf = detector.pointSpread
        let margin = 6 * psf.fwhm + 5
        let cands = candidates(orientation: u, margin: margin + 40)
        guard !cands.isEmpty else { return buffer }
        // Normalise on the perfect pattern's strongest spot on the frame.
        guard let scale = fixed ?? countsScale(orientation: u, candidates: cands) else { return buffer }
        let renderer = SpotRenderer(width: w, height: h, psf: psf)
        // Each deposit at (x, y), and its tail (a one-sided exponential along the tail direction).
        let tailPoints = tail?.points ?? []
        let mainShare = 1 - (tail?.fraction ?? 0)
        // An isotropic random spread is small: each spot moves linearly, d(x, y) = M r, so a Gaussian
        // rotation vector (covariance s^2 I) gives an exactly Gaussian spot of covariance s^2 M M^T,
        // smooth at any spread. Its Lorentzian part (if any) uses sampled members.
        var analyticGaussian = false
        if case .randomDislocations(let fwhm) = defect {
            analyticGaussian = true
            let s = fwhm / 2.354820045 * .pi / 180
            buffer.withUnsafeMutableBufferPointer { buf in
                for i in cands {
                    guard let sp = spot(i, orientation: u),
                          let m = predictor.jacobian(predictor.reflections[i].hkl, orientation: u) else { continue }
                    let cov = (m.dx.dot(m.dx) * s * s, m.dx.dot(m.dy) * s * s, m.dy.dot(m.dy) * s * s)
                    renderer.depositGaussian(into: buf, x: sp.x - 1, y: sp.y - 1, amount: sp.intensity * scale * mainShare, covariance: cov)
                    for t in tailPoints {
                        renderer.depositGaussian(into: buf, x: sp.x - 1 + t.dx, y: sp.y - 1 + t.dy, amount: sp.intensity * scale * t.weight,
                                                 covariance: cov)
                    }
                }
            }
        }
        let ensemble = OrientationEnsemble(defect, samplesPerBand: samplesPerBand(defect: defect, orientation: u, candidates: cands),
                                           randomSamples: 300, generator: &g)
        guard !(analyticGaussian && renderer.gaussianFraction == 1) else { return buffer }
        buffer.withUnsafeMutableBufferPointer { buf in
            var lorentzCells: [Int: Double] = [:]
            for (j, r) in ensemble.rotations.enumerated() {
                let uj = u * Rotation.matrix(rotationVector: r)
                let wj = ensemble.weights[j] * scale
                for i in cands {
                    guard let s = spot(i, orientation: uj) else { continue }
                    // LaueTools pixel convention: the first pixel centre is (1, 1).
                    renderer.deposit(into: buf, x: s.x - 1, y: s.y - 1, amount: s.intensity * wj * mainShare,
                                     includeGaussian: !analyticGaussian, lorentzCells: &lorentzCells)
                    for t in tailPoints {
                        renderer.deposit(into: buf, x: s.x - 1 + t.dx, y: s.y - 1 + t.dy, amount: s.intensity * wj * t.weight,
                                         includeGaussian: !analyticGaussian, lorentzCells: &lorentzCells)
                    }
                }
            }
            renderer.flushLorentzian(into: buf, cells: lorentzCells)
        }
        return buffer
    }

    /// A full simulated frame: diffraction (if `truth.diffracting`), background, noise and detector effects.
    public func simulate(_ truth: PatternTruth, seed: UInt64) -> LaueImage {
        var g = SeededGenerator(seed: seed)
        var pixels = truth.diffracting ? diffractedIntensity(orientation: truth.orientation, defect: truth.defect, generator: &g)
                                       : [Float](repeating: 0, count: calibration.width * calibration.height)
        if truth.diffracting {
            // Grains of the same material keep the pattern grain's normalisation (scale = volume ratio);
            // another material is normalised on its own strongest spot (scale = brightness ratio).
            let own = others.contains { $0.simulator == nil } ? countsScale(orientation: truth.orientation) : nil
            for (k, o) in others.enumerated() {
                var renderer = o.simulator ?? self
                renderer.tail = tail
                renderer.brightestSpotCounts = brightestSpotCounts * o.scale
                var og = SeededGenerator(seed: seed &+ UInt64(k + 1))
                let extra = renderer.diffractedIntensity(orientation: o.orientation, defect: .noDefect, generator: &og,
                                                         countsScale: o.simulator == nil ? own.map { $0 * o.scale } : nil)
                guard extra.count == pixels.count else { continue }
                for i in pixels.indices { pixels[i] += extra[i] }
            }
        }
        DetectorSimulation.apply(detector.effects, to: &pixels, width: calibration.width, height: calibration.height,
                                 generator: &g)
        var image = LaueImage(width: calibration.width, height: calibration.height, pixels: pixels, pixelType: .uint16)
        image.metadata["simulated.class"] = truth.defectClass.rawValue
        return image
    }
}

/// Deposits point intensities through the point-spread function.
struct SpotRenderer {
    let width: Int
    let height: Int
    let sigma: Double
    let gaussianFraction: Double
    let gamma: Double        // 2-D Cauchy scale, FWHM / 1.533
    let gaussRadius: Int
    let lorentzRadius: Int
    let lorentzKernel: [Double]

    init(width: Int, height: Int, psf: PointSpread) {
        self.width = width; self.height = height
        sigma = psf.sigma
        switch psf {
        case .gaussian: gaussianFraction = 1
        case .lorentzian: gaussianFraction = 0
        case .pseudoVoigt(_, let eta): gaussianFraction = 1 - min(max(eta, 0), 1)
        }
        gamma = psf.fwhm / 1.5328
        gaussRadius = Int((4 * sigma).rounded(.up)) + 1
        lorentzRadius = gaussianFraction < 1 ? Int((12 * gamma).rounded(.up)) : 0
        var k: [Double] = []
        if gaussianFraction < 1 {
            let r = lorentzRadius, g = gamma
            for dy in -r...r {
                for dx in -r...r {
                    let d2 = Double(dx * dx + dy * dy)
                    k.append(g / (2 * .pi * pow(d2 + g * g, 1.5)))
                }
            }
            let s = k.reduce(0, +)
            k = k.map { $0 / s }          // truncated at 12 gamma and renormalised
        }
        lorentzKernel = k
    }

    /// Adds `amount` centred at 0-based (x, y): the Gaussian part integrated exactly over pixels, the
    /// Lorentzian part split bilinearly onto cells and convolved once at the end.
    func deposit(into buf: UnsafeMutableBufferPointer<Float>, x: Double, y: Double, amount: Double,
                 includeGaussian: Bool = true, lorentzCells: inout [Int: Double]) {
        guard amount > 0, x > -Double(lorentzRadius + gaussRadius + 2), y > -Double(lorentzRadius + gaussRadius + 2),
              x < Double(width + lorentzRadius + gaussRadius + 2), y < Double(height + lorentzRadius + gaussRadius + 2) else { return }
        if gaussianFraction > 0 && includeGaussian { gaussian(into: buf, x: x, y: y, amount: amount * gaussianFraction) }
        if gaussianFraction < 1 {
            let a = amount * (1 - gaussianFraction)
            let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
            let fx = x - Double(x0), fy = y - Double(y0)
            let stride = width + 2 * lorentzRadius + 4
            func key(_ cx: Int, _ cy: Int) -> Int { (cy + lorentzRadius + 2) * stride + (cx + lorentzRadius + 2) }
            lorentzCells[key(x0, y0), default: 0] += a * (1 - fx) * (1 - fy)
            lorentzCells[key(x0 + 1, y0), default: 0] += a * fx * (1 - fy)
            lorentzCells[key(x0, y0 + 1), default: 0] += a * (1 - fx) * fy
            lorentzCells[key(x0 + 1, y0 + 1), default: 0] += a * fx * fy
        }
    }

    /// The Gaussian part of the PSF convolved with a 2-D Gaussian spread of covariance (xx, xy, yy):
    /// point-sampled at pixel centres and normalised to the deposited amount.
    func depositGaussian(into buf: UnsafeMutableBufferPointer<Float>, x: Double, y: Double, amount: Double,
                         covariance c: (Double, Double, Double)) {
        let a = amount * gaussianFraction
        guard a > 0 else { return }
        let sxx = c.0 + sigma * sigma, sxy = c.1, syy = c.2 + sigma * sigma
        let det = sxx * syy - sxy * sxy
        guard det > 0 else { return }
        let (ixx, ixy, iyy) = (syy / det, -sxy / det, sxx / det)
        let r = Int((4 * max(sxx, syy).squareRoot()).rounded(.up)) + 1
        let cx = Int(x.rounded()), cy = Int(y.rounded())
        guard cx + r >= 0, cy + r >= 0, cx - r < width, cy - r < height else { return }
        var weights: [(Int, Double)] = []
        var total = 0.0
        for row in (cy - r)...(cy + r) {
            let dy = Double(row) - y
            for col in (cx - r)...(cx + r) {
                let dx = Double(col) - x
                let v = exp(-0.5 * (ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy))
                total += v
                if row >= 0 && row < height && col >= 0 && col < width { weights.append((row * width + col, v)) }
            }
        }
        guard total > 0 else { return }
        for (i, v) in weights { buf[i] += Float(a * v / total) }
    }

    private func gaussian(into buf: UnsafeMutableBufferPointer<Float>, x: Double, y: Double, amount: Double) {
        let r = gaussRadius
        let cx = Int(x.rounded()), cy = Int(y.rounded())
        let s = sigma * 2.0.squareRoot()
        var wx = [Double](repeating: 0, count: 2 * r + 1), wy = wx
        for i in 0...(2 * r) {
            let px = Double(cx - r + i), py = Double(cy - r + i)
            wx[i] = 0.5 * (erf((px + 0.5 - x) / s) - erf((px - 0.5 - x) / s))
            wy[i] = 0.5 * (erf((py + 0.5 - y) / s) - erf((py - 0.5 - y) / s))
        }
        for j in 0...(2 * r) {
            let row = cy - r + j
            guard row >= 0 && row < height else { continue }
            let ay = amount * wy[j]
            let base = row * width
            for i in 0...(2 * r) {
                let col = cx - r + i
                guard col >= 0 && col < width else { continue }
                buf[base + col] += Float(ay * wx[i])
            }
        }
    }

    func flushLorentzian(into buf: UnsafeMutableBufferPointer<Float>, cells: [Int: Double]) {
        guard !cells.isEmpty else { return }
        let r = lorentzRadius, n = 2 * r + 1
        let stride = width + 2 * r + 4
        for (key, a) in cells {
            let cx = key % stride - r - 2, cy = key / stride - r - 2
            for dy in -r...r {
                let row = cy + dy
                guard row >= 0 && row < height else { continue }
                let kbase = (dy + r) * n + r
                for dx in -r...r {
                    let col = cx + dx
                    guard col >= 0 && col < width else { continue }
                    buf[row * width + col] += Float(a * lorentzKernel[kbase + dx])
                }
            }
        }
    }
}

/// Background, noise and the detector's own defects.
public enum DetectorSimulation {
    public static func background(_ e: DetectorEffects, x: Int, y: Int, width: Int, height: Int) -> Double {
        guard e.smoothBackground != 0 else { return e.flatBackground }
        let cx = Double(width) / 2, cy = Double(height) / 2
        let diag = (Double(width * width + height * height)).squareRoot()
        let s = e.smoothBackgroundWidth * diag
        let d2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
        return e.flatBackground + e.smoothBackground * exp(-d2 / (2 * s * s))
    }

    public static func apply(_ e: DetectorEffects, to pixels: inout [Float], width: Int, height: Int,
                             generator g: inout SeededGenerator) {
        let saturation = Float(e.saturation ?? 65535)
        let gain = max(e.gain, 1e-12)
        // The smooth background is separable in x and y: precompute its two factors.
        let cx = Double(width) / 2, cy = Double(height) / 2
        let diag = (Double(width * width + height * height)).squareRoot()
        let s = max(e.smoothBackgroundWidth * diag, 1e-9)
        let bx = (0..<width).map { exp(-(Double($0) - cx) * (Double($0) - cx) / (2 * s * s)) }
        let by = (0..<height).map { exp(-(Double($0) - cy) * (Double($0) - cy) / (2 * s * s)) }
        pixels.withUnsafeMutableBufferPointer { p in
            for row in 0..<height {
                let base = row * width
                let rowBackground = e.smoothBackground * by[row]
                for col in 0..<width {
                    var v = Double(p[base + col]) + e.flatBackground + rowBackground * bx[col]
                    if e.poissonNoise { v = g.detectorReading(mean: v, gain: gain, readNoise: e.readNoise) }
                    else if e.readNoise > 0 { v += e.readNoise * g.normal() }
                    p[base + col] = min(max(Float(v), 0), saturation)
                }
            }
            if e.hotPixelFraction > 0 {
                // Hot pixels belong to the detector: the same pixels in every frame.
                var hot = SeededGenerator(seed: UInt64(width) &* 1_000_003 &+ UInt64(height))
                let count = Int((Double(width * height) * e.hotPixelFraction).rounded())
                for _ in 0..<count {
                    let i = Int(hot.next() % UInt64(width * height))
                    p[i] = saturation
                }
            }
            for cols in e.gapColumns { for row in 0..<height { for c in cols where c < width { p[row * width + c] = 0 } } }
            for rows in e.gapRows { for r in rows where r < height { for c in 0..<width { p[r * width + c] = 0 } } }
        }
    }
}
