import Foundation
import LaueCore

/// How a continuous orientation spread is distributed along its axis.
public enum SpreadProfile: String, Sendable, CaseIterable {
    /// Constant lattice curvature through the beam: angles uniform over the full width.
    case uniform
    /// Angles normally distributed; the width is the FWHM.
    case gaussian
}

/// A defect as the distribution of lattice rotations inside the illuminated volume
/// (shared/notes/laue-physics.md sections 4 and 6). Axes are unit vectors in the Cartesian crystal
/// frame of B0; angles are in degrees. Orientations are spread so that their weighted mean is the
/// base orientation.
public enum DefectModel: Sendable, Equatable {
    case noDefect
    /// Geometrically necessary dislocations: continuous rotation about one axis over `spread` degrees.
    case gnd(axis: Vec3, spread: Double, profile: SpreadProfile)
    /// Two orientations `tilt` degrees apart about `axis`, with volume fractions `weight` and 1 - weight.
    case tiltBoundary(axis: Vec3, tilt: Double, weight: Double)
    /// Two sub-grains `tilt` apart, each holding a GND band of width `spread`.
    case tiltBoundaryGND(axis: Vec3, tilt: Double, spread: Double, weight: Double)
    /// N >= 3 orientations in a row about one axis: successive steps `tilts` (N - 1 values), N weights.
    case stackingTiltBoundaries(axis: Vec3, tilts: [Double], weights: [Double])
    /// Statistically stored (random) dislocations: isotropic orientation spread with FWHM `spread`.
    case randomDislocations(spread: Double)

    public var defectClass: DefectClass {
        switch self {
        case .noDefect: return .noDefect
        case .gnd: return .gnd
        case .tiltBoundary: return .tiltBoundary
        case .tiltBoundaryGND: return .tiltBoundaryGND
        case .stackingTiltBoundaries: return .stackingTiltBoundaries
        case .randomDislocations: return .randomDislocations
        }
    }

    /// Rotation axis (crystal Cartesian frame), if the defect has one.
    public var axis: Vec3? {
        switch self {
        case .gnd(let a, _, _), .tiltBoundary(let a, _, _), .tiltBoundaryGND(let a, _, _, _),
             .stackingTiltBoundaries(let a, _, _): return a.normalized
        default: return nil
        }
    }

    /// Continuous spread in degrees (GND band width or random FWHM), 0 if none.
    public var spread: Double {
        switch self {
        case .gnd(_, let s, _), .tiltBoundaryGND(_, _, let s, _), .randomDislocations(let s): return s
        default: return 0
        }
    }

    /// Discrete tilt angles in degrees between neighbouring orientations.
    public var tilts: [Double] {
        switch self {
        case .tiltBoundary(_, let t, _), .tiltBoundaryGND(_, let t, _, _): return [t]
        case .stackingTiltBoundaries(_, let t, _): return t
        default: return []
        }
    }

    /// Number of distinct sub-orientations (1 for continuous spreads).
    public var orientationCount: Int {
        switch self {
        case .tiltBoundary, .tiltBoundaryGND: return 2
        case .stackingTiltBoundaries(_, let t, _): return t.count + 1
        default: return 1
        }
    }

    /// Volume fractions of the sub-orientations.
    public var weights: [Double] {
        switch self {
        case .tiltBoundary(_, _, let w), .tiltBoundaryGND(_, _, _, let w): return [w, 1 - w]
        case .stackingTiltBoundaries(_, _, let w):
            let s = w.reduce(0, +)
            return w.map { $0 / s }
        default: return [1]
        }
    }

    /// Checks angles, weights and counts.
    public func validate() throws {
        func fail(_ s: String) -> LaueError { LaueError(.invalidArgument, s) }
        if let a = axis, !(a.length > 0) { throw fail("defect axis must be non-zero") }
        switch self {
        case .gnd(_, let s, _), .randomDislocations(let s):
            guard s > 0 && s < 20 else { throw fail("spread must be in (0, 20) degrees, not \(s)") }
        case .tiltBoundary(_, let t, let w):
            guard t > 0 && t < 20 else { throw fail("tilt must be in (0, 20) degrees, not \(t)") }
            guard w > 0 && w < 1 else { throw fail("weight must be in (0, 1), not \(w)") }
        case .tiltBoundaryGND(_, let t, let s, let w):
            guard t > 0 && t < 20, s > 0 && s < 20 else { throw fail("tilt and spread must be in (0, 20) degrees") }
            guard w > 0 && w < 1 else { throw fail("weight must be in (0, 1), not \(w)") }
        case .stackingTiltBoundaries(_, let t, let w):
            guard t.count >= 2 else { throw fail("stacking tilt boundaries need at least 3 orientations (2 tilts)") }
            guard w.count == t.count + 1 else { throw fail("need \(t.count + 1) weights for \(t.count) tilts, got \(w.count)") }
            guard t.allSatisfy({ $0 > 0 && $0 < 20 }), w.allSatisfy({ $0 > 0 }) else {
                throw fail("tilts must be in (0, 20) degrees and weights positive")
            }
        case .noDefect: break
        }
    }
}

/// A weighted set of lattice rotations: member j turns the base orientation U into U * R(r_j), with
/// r_j a rotation vector (radians) in the crystal Cartesian frame. Weights sum to 1.
public struct OrientationEnsemble: Sendable {
    public var rotations: [Vec3]
    public var weights: [Double]

    /// Builds the ensemble of a defect. Continuous bands get `samplesPerBand` equally weighted members
    /// (uniform) or Gauss-Hermite-like quantiles (Gaussian); random spreads get `randomSamples` members
    /// drawn with `generator`.
    public init(_ defect: DefectModel, samplesPerBand: Int, randomSamples: Int = 400, generator: inout SeededGenerator) {
        let rad = Double.pi / 180
        var rot: [Vec3] = [], w: [Double] = []
        func band(center: Double, width: Double, profile: SpreadProfile, weight: Double, axis: Vec3) {
            let n = max(2, samplesPerBand)
            for i in 0..<n {
                let u = (Double(i) + 0.5) / Double(n)            // mid-point quantiles
                let offset: Double
                switch profile {
                case .uniform: offset = (u - 0.5) * width
                case .gaussian: offset = OrientationEnsemble.normalQuantile(u) * width / 2.354820045
                }
                rot.append(axis * ((center + offset) * rad))
                w.append(weight / Double(n))
            }
        }
        switch defect {
        case .noDefect:
            rot = [.zero]; w = [1]
        case .gnd(let a, let s, let p):
            band(center: 0, width: s, profile: p, weight: 1, axis: a.normalized)
        case .tiltBoundary(let a, let t, let wt):
            // Weighted mean at zero: -(1 - w) t and w t.
            rot = [a.normalized * (-(1 - wt) * t * rad), a.normalized * (wt * t * rad)]
            w = [wt, 1 - wt]
        case .tiltBoundaryGND(let a, let t, let s, let wt):
            band(center: -(1 - wt) * t, width: s, profile: .uniform, weight: wt, axis: a.normalized)
            band(center: wt * t, width: s, profile: .uniform, weight: 1 - wt, axis: a.normalized)
        case .stackingTiltBoundaries(let a, let t, _):
            let ws = defect.weights
            var angles = [0.0]
            for step in t { angles.append(angles.last! + step) }
            let mean = zip(angles, ws).reduce(0) { $0 + $1.0 * $1.1 }
            rot = angles.map { a.normalized * (($0 - mean) * rad) }
            w = ws
        case .randomDislocations(let s):
            let sigma = s / 2.354820045 * rad
            for _ in 0..<max(1, randomSamples) {
                // Isotropic: a Gaussian rotation vector (each component sigma).
                rot.append(Vec3(generator.normal(), generator.normal(), generator.normal()) * sigma)
                w.append(1 / Double(max(1, randomSamples)))
            }
        }
        rotations = rot
        weights = w
    }

    /// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
    static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                 -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                 -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -normalQuantile(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
