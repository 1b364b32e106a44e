import Foundation

/// Edge positions read from a normalised spectrum.
public enum EdgeMetrics {
    /// First upward crossing of `level` by `norm`, linearly interpolated between grid points (the
    /// oxidation-state metric for maps: Larch's e0 is always a grid point). Searched from index
    /// `from` on; nil when norm never reaches the level or starts above it.
    public static func crossing(_ energy: [Double], _ norm: [Double], level: Double, from start: Int = 0) -> Double? {
        guard let i = (max(start, 0)..<norm.count).first(where: { norm[$0] >= level }), i > 0 else { return nil }
        let e1 = energy[i - 1], e2 = energy[i], y1 = norm[i - 1], y2 = norm[i]
        return e1 + (level - y1) * (e2 - e1) / (y2 - y1)
    }

    /// Energy of the largest `norm` within [from, from + window] (a grid point).
    public static func whiteLine(_ energy: [Double], _ norm: [Double], from e0: Double, window: Double = 30) -> Double? {
        var best: Int? = nil
        for i in energy.indices where energy[i] >= e0 && energy[i] <= e0 + window {
            if best == nil || norm[i] > norm[best!] { best = i }
        }
        return best.map { energy[$0] }
    }

    /// Energy of the largest dmu/dE (central differences), refined by a parabola through the
    /// maximum and its neighbours; searched within `range` when given.
    public static func maximumDerivative(_ energy: [Double], _ mu: [Double], in range: ClosedRange<Double>? = nil) -> Double? {
        let d = LarchMath.derivative(mu, energy)
        var best: Int? = nil
        for i in 1..<(max(energy.count - 1, 1)) where range?.contains(energy[i]) ?? true {
            if d[i].isFinite && (best == nil || d[i] > d[best!]) { best = i }
        }
        guard let i = best else { return nil }
        let y0 = d[i - 1], y1 = d[i], y2 = d[i + 1]
        let denominator = y0 - 2 * y1 + y2
        guard denominator < 0 else { return energy[i] }
        let shift = 0.5 * (y0 - y2) / denominator                   // in grid steps, within (-0.5, 0.5)
        let h = shift >= 0 ? energy[i + 1] - energy[i] : energy[i] - energy[i - 1]
        return energy[i] + shift * h
    }
}

/// Linear-combination fit of a spectrum with two references (weights sum to one), as Larch's
/// `lincombo_fit` with two components; closed form.
public struct TwoReferenceFit: Sendable, Equatable {
    /// Weight of the first reference (the second has 1 - fraction).
    public var fraction: Double
    /// Larch's R-factor: sum (y - fit)^2 / sum y^2.
    public var rFactor: Double

    /// Fits `y` (on the references' grid) over the indices in `range`; `bounded` clamps the
    /// fraction to [0, 1] (Larch's default leaves it free).
    public static func fit(_ y: [Double], first r1: [Double], second r2: [Double], range: Range<Int>? = nil, bounded: Bool = false) -> TwoReferenceFit? {
        let span = range ?? 0..<y.count
        guard span.count >= 2, r1.count == y.count, r2.count == y.count else { return nil }
        var num = 0.0, den = 0.0
        for i in span {
            let d = r1[i] - r2[i]
            num += (y[i] - r2[i]) * d
            den += d * d
        }
        guard den > 0 else { return nil }
        var f = num / den
        if bounded { f = min(1, max(0, f)) }
        var ss = 0.0, yy = 0.0
        for i in span {
            let r = y[i] - (f * r1[i] + (1 - f) * r2[i])
            ss += r * r
            yy += y[i] * y[i]
        }
        return TwoReferenceFit(fraction: f, rFactor: yy > 0 ? ss / yy : .nan)
    }
}

extension NormalizedSpectrum {
    /// `norm` resampled onto other energies (linear; Larch interpolates components cubically).
    public func norm(at energies: [Double]) -> [Double] { LarchMath.interp(energies, energy, norm) }
}
