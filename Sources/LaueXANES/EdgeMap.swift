import Foundation
import LaueCore

/// Why a pixel has no edge values.
public enum PixelMask: UInt8, Sendable, CaseIterable {
    case valid = 0
    /// Edge step below `minimumEdgeStep` x the particle's median (background, a hole, too thin).
    case noSignal = 1
    /// Non-finite values in the spectrum.
    case invalidSpectrum = 2
    /// Normalised mu never crosses one half within the edge range.
    case noEdge = 3

    public var reason: String {
        switch self {
        case .valid: return "valid"
        case .noSignal: return "edge step too small (no particle)"
        case .invalidSpectrum: return "non-finite values"
        case .noEdge: return "no half-height crossing"
        }
    }
}

/// Options of a map analysis.
public struct EdgeMapOptions: Sendable {
    /// Ranges for every pixel; members left nil are fixed once from the particle-mean spectrum with
    /// Larch's defaults.
    public var ranges = PreEdgeRanges()
    /// Pixels whose edge step is below this fraction of the particle's median edge step are masked.
    public var minimumEdgeStep = 0.2
    /// White-line search window above e0 (eV).
    public var whiteLineWindow = 30.0
    /// Two reference spectra for the linear-combination fraction (normalised here with the map's
    /// ranges, as standards and unknowns should be), and whether to bound the fraction to [0, 1].
    public var references: (first: Spectrum, second: Spectrum)? = nil
    public var boundedFraction = true
    public init() {}
}

/// Per-pixel edge metrics of a XANES map, normalised with one set of ranges fixed from the
/// particle-mean spectrum (Larch `pre_edge` with those ranges, per pixel).
public struct EdgeMap: Sendable {
    public var grid: MapGrid
    /// Ranges used for every pixel (e0 from the mean spectrum).
    public var ranges: PreEdgeRanges
    /// The particle-mean spectrum, normalised (the ranges come from it).
    public var meanSpectrum: NormalizedSpectrum
    /// Interpolated half-height energy (eV): the oxidation-state metric.
    public var edgeEnergy: [Double]
    /// Energy of the largest derivative, parabola-refined (eV).
    public var derivativeEnergy: [Double]
    public var whiteLineEnergy: [Double]
    public var edgeStep: [Double]
    /// First reference's fraction and the fit's R-factor (NaN without references).
    public var fraction: [Double]
    public var rFactor: [Double]
    public var mask: [PixelMask]

    public var validCount: Int { mask.filter { $0 == .valid }.count }

    /// Edge maps of one particle before and after a reaction, with one set of ranges fixed from the
    /// "before" map and applied relative to each map's own e0 (unless `options` fixes e0), so that
    /// windows placed differently cannot fake a shift.
    public static func analysePair(before: XANESMap, after: XANESMap, options: EdgeMapOptions = EdgeMapOptions()) throws -> (before: EdgeMap, after: EdgeMap) {
        let first = try analyse(before, options: options)
        var o = options
        o.ranges = first.ranges
        o.ranges.e0 = options.ranges.e0
        return (first, try analyse(after, options: o))
    }

    /// Analyses every pixel of `map`.
    public static func analyse(_ map: XANESMap, options: EdgeMapOptions = EdgeMapOptions()) throws -> EdgeMap {
        let n = map.grid.count, ne = map.energies.count
        let energy = map.energies
        // Particle pixels for the mean spectrum: the top of the raw jump (last minus first energies).
        var jump = [Double](repeating: .nan, count: n)
        for p in 0..<n {
            let lo = (0..<min(3, ne)).map { Double(map.values[$0 * n + p]) }.reduce(0, +) / Double(min(3, ne))
            let hi = ((ne - min(3, ne))..<ne).map { Double(map.values[$0 * n + p]) }.reduce(0, +) / Double(min(3, ne))
            jump[p] = hi - lo
        }
        let finiteJumps = jump.filter(\.isFinite).sorted()
        guard let top = finiteJumps.isEmpty ? nil : finiteJumps[Int(0.95 * Double(finiteJumps.count - 1))], top > 0 else {
            throw LaueError(.missingData, file: map.name, "no pixel shows an absorption edge (the jump from the first to the last energies is never positive)")
        }
        let particle = (0..<n).filter { jump[$0] >= 0.3 * top }
        var mean = [Double](repeating: 0, count: ne)
        for e in 0..<ne {
            var s = 0.0
            for p in particle { s += Double(map.values[e * n + p]) }
            mean[e] = s / Double(particle.count)
        }
        let meanSpectrum = try EdgeNormalization.normalize(try Spectrum(energy: energy, mu: mean, name: map.name + " (mean)"), options.ranges)
        let ranges = meanSpectrum.ranges
        let e0 = meanSpectrum.e0
        let ie0 = LarchMath.indexNearest(energy, e0)

        // The same windows as Larch with these ranges (pre_edge with e0 given).
        let plan = try FixedRangeNormalizer(energy: energy, normalized: meanSpectrum, name: map.name)
        let edgeStart = LarchMath.indexOf(energy, e0 + ranges.pre2!)
        let derivativeRange = (e0 + ranges.pre2!)...(e0 + ranges.norm1!)
        var referenceNorms: ([Double], [Double])? = nil
        if let refs = options.references {
            // Standards resampled onto the map's energies and normalised exactly as the pixels.
            referenceNorms = (plan.normalize(refs.first.resampled(to: energy).mu).0, plan.normalize(refs.second.resampled(to: energy).mu).0)
        }
        let fitRange = LarchMath.indexOf(energy, e0 + ranges.pre1!)..<(LarchMath.indexOf(energy, e0 + ranges.norm2!) + 1)

        var result = EdgeMap(grid: map.grid, ranges: ranges, meanSpectrum: meanSpectrum,
                             edgeEnergy: .init(repeating: .nan, count: n), derivativeEnergy: .init(repeating: .nan, count: n),
                             whiteLineEnergy: .init(repeating: .nan, count: n), edgeStep: .init(repeating: .nan, count: n),
                             fraction: .init(repeating: .nan, count: n), rFactor: .init(repeating: .nan, count: n),
                             mask: .init(repeating: .valid, count: n))
        var steps = [Double](repeating: .nan, count: n)
        var norms = [[Double]](repeating: [], count: n)
        var mu = [Double](repeating: 0, count: ne)
        for p in 0..<n {
            for e in 0..<ne { mu[e] = Double(map.values[e * n + p]) }
            guard mu.allSatisfy(\.isFinite) else { result.mask[p] = .invalidSpectrum; continue }
            let (norm, step) = plan.normalize(mu)
            steps[p] = step
            norms[p] = norm
        }
        let particleSteps = particle.map { steps[$0] }.filter(\.isFinite).sorted()
        let median = particleSteps.isEmpty ? 0 : particleSteps[particleSteps.count / 2]
        for p in 0..<n where result.mask[p] == .valid {
            result.edgeStep[p] = steps[p]
            guard steps[p] >= options.minimumEdgeStep * median, median > 0 else { result.mask[p] = .noSignal; continue }
            let norm = norms[p]
            guard let half = EdgeMetrics.crossing(energy, norm, level: 0.5, from: max(edgeStart, 1)), half <= e0 + ranges.norm1! + 1e-9 else {
                result.mask[p] = .noEdge; continue
            }
            result.edgeEnergy[p] = half
            for e in 0..<ne { mu[e] = Double(map.values[e * n + p]) }
            result.derivativeEnergy[p] = EdgeMetrics.maximumDerivative(energy, mu, in: derivativeRange) ?? .nan
            result.whiteLineEnergy[p] = EdgeMetrics.whiteLine(energy, norm, from: energy[ie0], window: options.whiteLineWindow) ?? .nan
            if let (r1, r2) = referenceNorms, let fit = TwoReferenceFit.fit(norm, first: r1, second: r2, range: fitRange, bounded: options.boundedFraction) {
                result.fraction[p] = fit.fraction
                result.rFactor[p] = fit.rFactor
            }
        }
        return result
    }
}

/// Larch's `pre_edge` with fixed ranges, prepared once for a whole map: the pre-edge line and the
/// post-edge polynomial are linear in mu, so their least-squares operators are computed once (GSL)
/// and applied to every pixel.
struct FixedRangeNormalizer {
    let energy: [Double]
    let ie0: Int
    let pre: Range<Int>
    let npre: Int
    let post: Range<Int>
    let nnorm: Int
    /// Rows: pre-edge offset and slope (or the mean) as weights on mu[pre].
    let preOperator: [[Double]]
    /// Post-edge polynomial value at E[ie0] as weights on (mu - pre_edge)[post].
    let stepWeights: [Double]

    init(energy: [Double], normalized m: NormalizedSpectrum, name: String) throws {
        self.energy = energy
        ie0 = LarchMath.indexNearest(energy, m.e0)
        npre = m.npre
        guard let w = EdgeNormalization.windows(energy, e0: m.e0, pre1: m.pre1, pre2: m.pre2, norm1: m.norm1, norm2: m.norm2,
                                                npre: m.npre, nnorm: m.nnorm) else {
            throw LaueError(.numerical, file: name, "empty pre-edge or post-edge range for these energies")
        }
        pre = w.pre
        post = w.post
        nnorm = w.nnorm
        if npre == 0 {
            preOperator = [[Double](repeating: 1 / Double(pre.count), count: pre.count)]
        } else {
            preOperator = try FixedRangeNormalizer.pseudoInverse(Array(energy[pre]), degree: 1, name: name)
        }
        // Weights w such that poly(E[ie0]) = w . y for the least-squares polynomial through (E[post], y).
        let inverse = try FixedRangeNormalizer.pseudoInverse(Array(energy[w.post]), degree: w.nnorm, name: name)
        let eAtEdge = energy[ie0]
        stepWeights = (0..<w.post.count).map { k in inverse.enumerated().reduce(0.0) { $0 + $1.element[k] * pow(eAtEdge, Double($1.offset)) } }
    }

    /// Rows r_j of the (degree+1) x m pseudo-inverse: coefficient j of the least-squares polynomial
    /// in absolute x is r_j . y (computed by solving for each unit vector with GSL).
    static func pseudoInverse(_ x: [Double], degree: Int, name: String) throws -> [[Double]] {
        var rows = [[Double]](repeating: [Double](repeating: 0, count: x.count), count: degree + 1)
        for k in 0..<x.count {
            var unit = [Double](repeating: 0, count: x.count)
            unit[k] = 1
            let c = try EdgeNormalization.polynomialFit(x, unit, degree: degree, name: name, what: "map normalisation")
            for j in 0...degree { rows[j][k] = c[j] }
        }
        return rows
    }

    /// norm and edge step of one pixel's mu.
    func normalize(_ mu: [Double]) -> ([Double], Double) {
        let offset = zip(preOperator[0], mu[pre]).reduce(0) { $0 + $1.0 * $1.1 }
        let slope = npre == 0 ? 0 : zip(preOperator[1], mu[pre]).reduce(0) { $0 + $1.0 * $1.1 }
        var value = 0.0
        for (k, i) in post.enumerated() { value += stepWeights[k] * (mu[i] - (offset + slope * energy[i])) }
        let step = max(1e-12, abs(value))
        return (energy.indices.map { (mu[$0] - (offset + slope * energy[$0])) / step }, step)
    }
}
