import Foundation
import LaueCore

/// The orientation-spread tensor of a pattern: the covariance Sigma of the lattice-rotation vector
/// inside the illuminated volume (degrees^2, lab frame), fitted across reflections from
/// C_i = M_i Sigma M_i^T + s I (shared/notes/laue-physics.md 3.7), with s the point-spread variance.
/// Each spot gives three equations; a rotation about a spot's own scattering vector is invisible in
/// it, so at least three spots with non-coplanar scattering vectors are needed.
public struct OrientationSpread: Sendable {
    /// Sigma, degrees^2 (symmetric, projected to positive semi-definite).
    public var tensor: Mat3
    /// Eigenvalues, descending (degrees^2), and unit eigenvectors (lab frame).
    public var eigenvalues: [Double]
    public var axes: [Vec3]
    /// The isotropic variance s (pixels^2): point spread plus what noise adds to every spot's moments.
    public var pointSpreadVariance: Double
    /// Relative misfit: sum w_i |C_i - s I - M_i Sigma M_i^T|_F / sum w_i |C_i - s I|_F.
    public var residual: Double
    /// Spots kept in the fit (after rejecting outliers) and their indices in the input.
    public var spotCount: Int
    public var used: [Int]

    /// Principal rotation axis (lab frame).
    public var axis: Vec3 { axes[0] }
    /// One-axis-ness lambda1 / lambda2 (infinite when lambda2 vanishes).
    public var oneAxisRatio: Double { eigenvalues[1] > 0 ? eigenvalues[0] / eigenvalues[1] : .infinity }
    /// Full width of the uniform spread about the principal axis with the same variance, degrees.
    public var uniformWidth: Double { (12 * max(eigenvalues[0], 0)).squareRoot() }

    /// Weighted least-squares fit over `spots`. With `psfVariance` nil, s is fitted too (seven unknowns).
    /// Each spot's equations are weighted by its share of the intensity over (|C_i| + s)^2 (the
    /// scatter of a second moment grows with its size and falls with the counts); spots whose misfit is
    /// far above the others' are dropped and the fit repeated.
    public static func fit(_ spots: [SpotEvidence], psfVariance: Double?, rejectOutliers: Bool = true) -> OrientationSpread? {
        var active = Array(spots.indices)
        var result: Solution? = nil
        for pass in 0..<3 {
            guard let r = solve(spots, active, psfVariance: psfVariance) else { return result?.spread }
            result = r
            guard rejectOutliers, pass < 2 else { break }
            let misfits = r.misfits
            let sorted = misfits.map(\.1).sorted()
            let median = sorted[sorted.count / 2]
            let limit = max(3 * median, 0.25)
            let keep = misfits.filter { $0.1 <= limit }.map(\.0)
            if keep.count == active.count || keep.count < 4 { break }
            active = keep
        }
        return result?.spread
    }

    struct Solution {
        var spread: OrientationSpread
        /// (spot index, relative misfit) of the active spots.
        var misfits: [(Int, Double)]
    }

    static func solve(_ spots: [SpotEvidence], _ active: [Int], psfVariance: Double?) -> Solution? {
        let unknowns = psfVariance == nil ? 7 : 6
        guard active.count * 3 >= unknowns + 2, active.count >= 3 else { return nil }
        let total = active.reduce(0) { $0 + spots[$1].intensity }
        let floor = psfVariance ?? active.map { min(spots[$0].streak.lambdaMinor, spots[$0].streak.lambdaMajor) }.min() ?? 1
        var a: [Double] = [], b: [Double] = [], w: [Double] = []
        var spotWeight: [Double] = []
        for i in active {
            let s = spots[i]
            let (p, q) = s.jacobian
            let c = s.covariance
            let share = min(s.intensity / total * Double(active.count), 4)
            let weight = share / pow(c.norm + floor, 2)
            spotWeight.append(weight)
            let iso: [Double] = psfVariance == nil ? [1] : []
            let none: [Double] = psfVariance == nil ? [0] : []
            a += row(p, p) + iso; b.append(c.xx - (psfVariance ?? 0)); w.append(weight)
            a += row(p, q) + none; b.append(c.xy); w.append(2 * weight)
            a += row(q, q) + iso; b.append(c.yy - (psfVariance ?? 0)); w.append(weight)
        }
        guard let (x, _) = LinearAlgebra.leastSquares(a, rows: b.count, cols: unknowns, b: b, weights: w) else { return nil }
        let s = psfVariance ?? max(x[6], 0)
        let raw = Mat3(rows: Vec3(x[0], x[3], x[4]), Vec3(x[3], x[1], x[5]), Vec3(x[4], x[5], x[2]))
        let (values, vectors) = LinearAlgebra.symmetricEigen(raw)
        let clamped = values.map { max($0, 0) }
        var tensor = Mat3.zero
        for k in 0..<3 { tensor = tensor + outer(vectors[k], vectors[k]) * clamped[k] }
        var misfit = 0.0, size = 0.0
        var misfits: [(Int, Double)] = []
        for (k, i) in active.enumerated() {
            let sp = spots[i]
            let (p, q) = sp.jacobian
            let model = Sym2(p.dot(tensor * p) + s, p.dot(tensor * q), q.dot(tensor * q) + s)
            let m = (sp.covariance - model).norm
            misfits.append((i, m / (sp.covariance.norm + s)))
            misfit += spotWeight[k] * m
            size += spotWeight[k] * (sp.covariance - Sym2(s, 0, s)).norm
        }
        let spread = OrientationSpread(tensor: tensor, eigenvalues: clamped, axes: vectors, pointSpreadVariance: s,
                                       residual: size > 0 ? misfit / size : 0, spotCount: active.count, used: active)
        return Solution(spread: spread, misfits: misfits)
    }

    /// The one-axis model C_i = v (M_i n)(M_i n)^T + s I for a given axis n and variance s: the best
    /// v (degrees^2) and its relative misfit, weighted as the full fit. A one-axis defect fits it
    /// about as well as the full tensor; an isotropic spread does not.
    public static func oneAxis(_ spots: [SpotEvidence], axis n: Vec3, psfVariance s: Double) -> (variance: Double, residual: Double) {
        guard !spots.isEmpty else { return (0, 1) }
        let total = spots.reduce(0) { $0 + $1.intensity }
        let floor = s
        var num = 0.0, den = 0.0
        var items: [(Sym2, Sym2, Double)] = []
        for sp in spots {
            let d = sp.displacement(n)
            let unit = Sym2(d.x * d.x, d.x * d.y, d.y * d.y)
            let excess = sp.covariance - Sym2(s, 0, s)
            let share = min(sp.intensity / total * Double(spots.count), 4)
            let w = share / pow(sp.covariance.norm + floor, 2)
            num += w * (unit.xx * excess.xx + 2 * unit.xy * excess.xy + unit.yy * excess.yy)
            den += w * (unit.xx * unit.xx + 2 * unit.xy * unit.xy + unit.yy * unit.yy)
            items.append((unit, excess, w))
        }
        let v = den > 0 ? max(num / den, 0) : 0
        var misfit = 0.0, size = 0.0
        for (unit, excess, w) in items {
            misfit += w * (excess - Sym2(v * unit.xx, v * unit.xy, v * unit.yy)).norm
            size += w * excess.norm
        }
        return (v, size > 0 ? misfit / size : 0)
    }

    /// Coefficients of (Sxx, Syy, Szz, Sxy, Sxz, Syz) in u^T Sigma v.
    static func row(_ u: Vec3, _ v: Vec3) -> [Double] {
        [u.x * v.x, u.y * v.y, u.z * v.z, u.x * v.y + u.y * v.x, u.x * v.z + u.z * v.x, u.y * v.z + u.z * v.y]
    }

    static func outer(_ u: Vec3, _ v: Vec3) -> Mat3 {
        Mat3(rows: v * u.x, v * u.y, v * u.z)
    }
}
