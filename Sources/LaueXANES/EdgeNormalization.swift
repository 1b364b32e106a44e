import Foundation
import LaueCore

/// Ranges of Larch's `pre_edge`, relative to e0 (eV). A nil member takes Larch's default.
public struct PreEdgeRanges: Sendable, Equatable, Codable {
    public var e0: Double?
    public var pre1: Double?
    public var pre2: Double?
    public var norm1: Double?
    public var norm2: Double?
    public var nnorm: Int?

    public init(e0: Double? = nil, pre1: Double? = nil, pre2: Double? = nil, norm1: Double? = nil, norm2: Double? = nil, nnorm: Int? = nil) {
        self.e0 = e0; self.pre1 = pre1; self.pre2 = pre2; self.norm1 = norm1; self.norm2 = norm2; self.nnorm = nnorm
    }
}

/// A spectrum normalised as Larch's `pre_edge` does, with the ranges actually used.
public struct NormalizedSpectrum: Sendable {
    public var energy: [Double]
    public var mu: [Double]
    public var e0: Double
    public var edgeStep: Double
    public var pre1: Double, pre2: Double, norm1: Double, norm2: Double
    public var nnorm: Int
    /// 1 for a pre-edge line, 0 for a constant (too few points in the pre-edge range).
    public var npre: Int
    public var preOffset: Double, preSlope: Double
    /// Post-edge polynomial c0 + c1 E + c2 E^2 ... fitted to mu - pre_edge (absolute E, as Larch).
    public var normCoefficients: [Double]
    public var preEdge: [Double]
    public var postEdge: [Double]
    public var norm: [Double]
    public var flat: [Double]

    /// The ranges used, to normalise other spectra (e.g. every pixel of a map) the same way.
    public var ranges: PreEdgeRanges { PreEdgeRanges(e0: e0, pre1: pre1, pre2: pre2, norm1: norm1, norm2: norm2, nnorm: nnorm) }

    /// First upward crossing of norm = 0.5, linearly interpolated (nil if none).
    public var halfHeightEnergy: Double? { EdgeMetrics.crossing(energy, norm, level: 0.5) }
    /// Energy of the largest norm in [e0, e0 + window] (a grid point).
    public func whiteLineEnergy(window: Double = 30) -> Double? { EdgeMetrics.whiteLine(energy, norm, from: e0, window: window) }

    /// The JSON object of `lauemap xanes normalize --json` and Python's `lauemap.xanes.normalize`, with
    /// Larch's names (docs/xanes.md).
    public func json() -> [String: Any] {
        ["e0": e0, "edge_step": edgeStep, "pre1": pre1, "pre2": pre2, "norm1": norm1, "norm2": norm2, "nnorm": nnorm, "npre": npre,
         "pre_offset": preOffset, "pre_slope": preSlope, "norm_coefs": normCoefficients,
         "half_height_e": halfHeightEnergy ?? NSNull(), "white_line_e": whiteLineEnergy() ?? NSNull(),
         "energy": energy, "norm": norm, "flat": flat, "pre_edge": preEdge, "post_edge": postEdge]
    }
}

/// Larch's XANES normalisation (`larch.xafs.pre_edge`, `find_e0`), ported step for step, quirks
/// included (docs/xanes.md).
public enum EdgeNormalization {
    /// Larch `find_e0`: the energy of the largest derivative among three consecutive "high" points,
    /// first on the raw derivative, then on a Lorentzian-smoothed one around it. Always a grid point.
    public static func findE0(_ energy: [Double], _ mu: [Double]) -> Double {
        let n = energy.count
        let (e1raw, ie0, estep1) = finde0(energy, mu, step: nil, smooth: false)
        var e1 = e1raw
        var istart = max(3, ie0 - 75), istop = min(ie0 + 75, n - 3)
        if Double(ie0) < 0.05 * Double(n) {
            e1 = energy.reduce(0, +) / Double(n)
            istart = max(3, ie0 - 20)
            istop = n - 3
        }
        // Python min(1.0, nan) is 1.0 (the comparison is false): keep that.
        let clippedStep = max(0.01, estep1 < 1.0 ? estep1 : 1.0)
        let estep = 0.5 * (clippedStep + max(0.01, min(1.0, e1 / 25000)))
        guard istop - istart >= 4 else { return energy[min(max(ie0, 0), n - 1)] }
        let (e0, ix, _) = finde0(Array(energy[istart..<istop]), Array(mu[istart..<istop]), step: estep, smooth: true)
        return ix < 1 ? energy[istart + 2] : e0
    }

    static func finde0(_ energyIn: [Double], _ muIn: [Double], step: Double?, smooth: Bool) -> (Double, Int, Double) {
        let en = Array(energyIn.dropLast()), mu = Array(muIn.dropLast())   // Larch's ordering test drops the last point
        let n = en.count
        let estep = step ?? LarchMath.energyStep(en)
        let nmin = max(3, Int(Double(n) * 0.02))
        var dmu = LarchMath.derivative(mu, en)
        if smooth { dmu = LarchMath.lorentzianSmooth(en, dmu, sigma: estep, step: estep) }
        for i in dmu.indices where !dmu[i].isFinite { dmu[i] = -1 }
        guard n > 2 * nmin else { return (en.first ?? .nan, 0, estep) }
        let core = dmu[nmin..<(n - nmin)]
        let low = core.min()!, ptp = max(1e-10, core.max()! - low)
        dmu = dmu.map { ($0 - low) / ptp }
        var high = n > 20 ? 0.60 : 0.30
        var points = dmu.indices.filter { dmu[$0] > high }
        if points.count < 3 {
            for _ in 0..<2 {
                if points.count > 3 { break }
                high *= 0.5
                points = dmu.indices.filter { dmu[$0] > high }
            }
        }
        if points.count < 3 { points = dmu.indices.filter { dmu[$0].isFinite } }
        let set = Set(points)
        var imax = 0, dmax = 0.0
        for i in points {
            if i < nmin || i > n - nmin { continue }
            if dmu[i] > dmax && set.contains(i + 1) && set.contains(i - 1) { imax = i; dmax = dmu[i] }
        }
        return (en[imax], imax, estep)
    }

    /// Larch `pre_edge(energy, mu, e0, pre1, pre2, norm1, norm2, nnorm)` with nvict 0 and make_flat.
    public static func normalize(_ spectrum: Spectrum, _ ranges: PreEdgeRanges = PreEdgeRanges()) throws -> NormalizedSpectrum {
        let energy = spectrum.energy, mu = spectrum.mu
        let n = energy.count
        guard n >= 5 else { throw LaueError(.missingData, file: spectrum.name, "\(n) points: too few to normalise") }
        var e0 = ranges.e0 ?? .nan
        if ranges.e0 == nil || e0 < energy[1] || e0 > energy[n - 2] { e0 = findE0(energy, mu) }
        let ie0 = LarchMath.indexNearest(energy, e0)
        let emin = energy.min()!, emax = energy.max()!

        var pre1 = ranges.pre1 ?? (ie0 > 20 ? 5 * LarchMath.pythonRound((energy[1] - e0) / 5) : 2 * LarchMath.pythonRound((energy[1] - e0) / 2))
        pre1 = max(pre1, emin - e0)
        var pre2 = ranges.pre2 ?? 0.5 * pre1
        if pre1 > pre2 { swap(&pre1, &pre2) }
        let relative = energy.map { $0 - e0 }
        var npre = 1
        if LarchMath.indexOf(relative, pre2) - LarchMath.indexOf(relative, pre1) < 3 { npre = 0 }

        var norm2 = ranges.norm2 ?? 5 * LarchMath.pythonRound((emax - e0) / 5)
        if norm2 < 0 { norm2 = emax - e0 - norm2 }
        norm2 = min(norm2, emax - e0)
        var norm1 = ranges.norm1 ?? min(25, 5 * LarchMath.pythonRound(norm2 / 15))
        if norm1 > norm2 { swap(&norm1, &norm2) }
        norm1 = min(norm1, norm2 - 2)
        var nnorm: Int
        if let given = ranges.nnorm { nnorm = given } else {
            nnorm = 2
            if norm2 - norm1 < 300 { nnorm = 1 }
            if norm2 - norm1 < 30 { nnorm = 0 }
        }
        nnorm = max(min(nnorm, 5), 0)

        // Pre-edge: a line on [p1, p2) (end exclusive), or the mean with too few points.
        guard let w = windows(energy, e0: e0, pre1: pre1, pre2: pre2, norm1: norm1, norm2: norm2, npre: npre, nnorm: nnorm) else {
            throw LaueError(.numerical, file: spectrum.name, "empty pre-edge [\(pre1), \(pre2)] or post-edge [\(norm1), \(norm2)] range (eV)")
        }
        nnorm = w.nnorm
        let (p1, p2) = (w.pre.lowerBound, w.pre.upperBound)
        let preOffset: Double, preSlope: Double
        if npre == 0 {
            preOffset = mu[p1..<p2].reduce(0, +) / Double(p2 - p1)
            preSlope = 0
        } else {
            let c = try polynomialFit(Array(energy[p1..<p2]), Array(mu[p1..<p2]), degree: 1, name: spectrum.name, what: "pre-edge line")
            preOffset = c[0]; preSlope = c[1]
        }
        let preEdge = energy.map { preOffset + $0 * preSlope }

        // Post-edge polynomial on [q1, q2).
        let (q1, q2) = (w.post.lowerBound, w.post.upperBound)
        let residual = (q1..<q2).map { mu[$0] - preEdge[$0] }
        let coefficients = try polynomialFit(Array(energy[q1..<q2]), residual, degree: nnorm, name: spectrum.name, what: "post-edge polynomial")
        var postEdge = preEdge
        for (k, c) in coefficients.enumerated() { for i in 0..<n { postEdge[i] += c * pow(energy[i], Double(k)) } }
        let step = max(1e-12, abs(postEdge[ie0] - preEdge[ie0]))
        let norm = (0..<n).map { (mu[$0] - preEdge[$0]) / step }
        var flat = norm
        let residueAtE0 = (postEdge[ie0] - preEdge[ie0]) / step
        for i in ie0..<n { flat[i] = norm[i] - (postEdge[i] - preEdge[i]) / step + residueAtE0 }

        return NormalizedSpectrum(energy: energy, mu: mu, e0: e0, edgeStep: step, pre1: pre1, pre2: pre2, norm1: norm1, norm2: norm2,
                                  nnorm: nnorm, npre: npre, preOffset: preOffset, preSlope: preSlope, normCoefficients: coefficients,
                                  preEdge: preEdge, postEdge: postEdge, norm: norm, flat: flat)
    }

    /// Larch's fit windows for given ranges (end exclusive): the pre-edge [index_of(e0 + pre1),
    /// index_nearest(e0 + pre2)) widened to 1 (constant) or 2 (line) points, the post-edge
    /// [index_of(e0 + norm1), index_nearest(e0 + norm2)) with its start capped at n - 3, and the
    /// post-edge degree those points allow. Nil when a window is empty.
    static func windows(_ energy: [Double], e0: Double, pre1: Double, pre2: Double, norm1: Double, norm2: Double,
                        npre: Int, nnorm: Int) -> (pre: Range<Int>, post: Range<Int>, nnorm: Int)? {
        let n = energy.count
        let p1 = LarchMath.indexOf(energy, pre1 + e0)
        var p2 = LarchMath.indexNearest(energy, pre2 + e0)
        if npre == 0 { if p2 == p1 { p2 += 1 } } else if p2 - p1 < 2 { p2 = min(n, p1 + 2) }
        var q1 = LarchMath.indexOf(energy, norm1 + e0)
        let q2 = LarchMath.indexNearest(energy, norm2 + e0)
        var degree = nnorm
        if q1 > n - 3 { q1 = n - 3 }
        if q2 - q1 < 2 { q1 -= 2; degree = 0 } else if q2 - q1 < 5 { degree = min(1, degree) }
        guard p2 > p1, p1 >= 0, p2 <= n, q1 >= 0, q2 > q1 else { return nil }
        return (p1..<p2, q1..<q2, degree)
    }

    /// Least-squares polynomial c0 + c1 x + ... in absolute x, solved on centred and scaled x (GSL)
    /// for conditioning, then expanded back.
    static func polynomialFit(_ x: [Double], _ y: [Double], degree: Int, name: String, what: String) throws -> [Double] {
        guard x.count > degree else {
            throw LaueError(.numerical, file: name, "\(what): \(x.count) points for degree \(degree)")
        }
        let mean = x.reduce(0, +) / Double(x.count)
        let scale = max(x.map { abs($0 - mean) }.max() ?? 1, 1e-12)
        let cols = degree + 1
        var a = [Double](repeating: 0, count: x.count * cols)
        for (i, xi) in x.enumerated() {
            let t = (xi - mean) / scale
            var p = 1.0
            for j in 0..<cols { a[i * cols + j] = p; p *= t }
        }
        guard let fit = LinearAlgebra.leastSquares(a, rows: x.count, cols: cols, b: y) else {
            throw LaueError(.numerical, file: name, "\(what): least squares failed")
        }
        // Expand sum_j b_j ((x - m)/s)^j into powers of x.
        var c = [Double](repeating: 0, count: cols)
        for j in 0..<cols {
            let bj = fit.x[j] / pow(scale, Double(j))
            for k in 0...j {
                c[k] += bj * binomial(j, k) * pow(-mean, Double(j - k))
            }
        }
        return c
    }

    static func binomial(_ n: Int, _ k: Int) -> Double {
        var r = 1.0
        if k == 0 { return 1 }
        for i in 1...k { r = r * Double(n - k + i) / Double(i) }
        return r
    }
}
