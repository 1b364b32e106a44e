import Foundation

/// A uniform band of angular width `a` seen through a Gaussian point spread: converts measured
/// sub-peak widths into band widths.
enum BandProfile {
    /// FWHM of a box of width `a` convolved with a Gaussian of standard deviation `sigma`.
    static func fwhm(band a: Double, sigma: Double) -> Double {
        guard sigma > 0 else { return a }
        guard a > 1e-9 else { return 2.354820045 * sigma }
        // f(x) = Phi((x + a/2)/sigma) - Phi((x - a/2)/sigma), maximal at 0.
        func f(_ x: Double) -> Double { 0.5 * (erf((x + a / 2) / (sigma * 2.0.squareRoot())) - erf((x - a / 2) / (sigma * 2.0.squareRoot()))) }
        let half = f(0) / 2
        var lo = 0.0, hi = a / 2 + 6 * sigma
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if f(mid) > half { lo = mid } else { hi = mid }
        }
        return lo + hi
    }

    /// The band width whose profile, seen through a point spread of FWHM `reference`, has FWHM
    /// `measured` (0 when the measured width is not wider than the reference).
    static func band(measured: Double, reference: Double) -> Double {
        guard measured > reference, reference > 0 else { return 0 }
        let sigma = reference / 2.354820045
        var lo = 0.0, hi = 2 * measured
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if fwhm(band: mid, sigma: sigma) < measured { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }
}
