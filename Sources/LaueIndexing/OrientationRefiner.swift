import CGSL
import Foundation
import LaueCore

/// What the refinement callbacks need, handed through `void *params`.
private final class RefinementProblem {
    let base: Mat3
    let b0: Mat3
    let hkls: [Vec3]
    let observed: [(Double, Double)]
    /// Each observation's calibration (its detector's).
    let calibrations: [DetectorCalibration]
    let strain: Bool

    init(base: Mat3, b0: Mat3, hkls: [Vec3], observed: [(Double, Double)], calibrations: [DetectorCalibration], strain: Bool) {
        self.base = base; self.b0 = b0; self.hkls = hkls; self.observed = observed
        self.calibrations = calibrations; self.strain = strain
    }

    /// UB for a parameter vector: R(r) * base * (I + D), D symmetric and traceless.
    func orientation(_ p: [Double]) -> Mat3 {
        let r = Rotation.matrix(rotationVector: Vec3(p[0], p[1], p[2]))
        guard strain else { return r * base }
        let d = Mat3(rows: Vec3(p[3], p[6], p[7]), Vec3(p[6], p[4], p[5]), Vec3(p[7], p[5], -p[3] - p[4]))
        return r * base * (Mat3.identity + d)
    }
}

private let refinementResidual: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_vector>?) -> Int32 = { x, params, f in
    let problem = Unmanaged<RefinementProblem>.fromOpaque(params!).takeUnretainedValue()
    let n = Int(x!.pointee.size)
    let p = (0..<n).map { gsl_vector_get(x, $0) }
    let ub = problem.orientation(p) * problem.b0
    for (i, h) in problem.hkls.enumerated() {
        var dx = 100.0, dy = 100.0
        if let (kf, _) = LaueScattering.scatter(q: ub * h), let pix = problem.calibrations[i].pixel(kf: kf) {
            dx = pix.x - problem.observed[i].0
            dy = pix.y - problem.observed[i].1
        }
        gsl_vector_set(f, 2 * i, dx)
        gsl_vector_set(f, 2 * i + 1, dy)
    }
    return Int32(GSL_SUCCESS)
}

/// Least-squares refinement of an orientation (and optionally the five deviatoric strain
/// components) on pixel deviations, each spot on its own detector, with GSL's trust-region solver and
/// a finite-difference Jacobian.
enum OrientationRefiner {
    struct Outcome {
        var orientation: Mat3
        var strain: [Double]?       // D (xx, yy, zz, yz, xz, xy) in the reciprocal metric
    }

    static func refine(_ start: Mat3, hkls: [HKL], observed: [(Double, Double)], material: Material,
                       calibration: DetectorCalibration, strain: Bool) -> Outcome? {
        refine(start, hkls: hkls, observed: observed, detectors: [Int](repeating: 0, count: hkls.count), material: material,
               calibrations: [calibration], strain: strain)
    }

    /// The same with spot i on detector `detectors[i]` of `calibrations`.
    static func refine(_ start: Mat3, hkls: [HKL], observed: [(Double, Double)], detectors: [Int], material: Material,
                       calibrations: [DetectorCalibration], strain: Bool) -> Outcome? {
        let p = strain ? 8 : 3
        let n = 2 * hkls.count
        guard n > p + 2, detectors.count == hkls.count else { return nil }
        let problem = RefinementProblem(base: start, b0: material.B0, hkls: hkls.map(\.vector), observed: observed,
                                        calibrations: detectors.map { calibrations[$0] }, strain: strain)
        let fdf = UnsafeMutablePointer<gsl_multifit_nlinear_fdf>.allocate(capacity: 1)
        fdf.initialize(to: gsl_multifit_nlinear_fdf())
        defer { fdf.deallocate() }
        let unmanaged = Unmanaged.passRetained(problem)
        defer { unmanaged.release() }
        fdf.pointee.f = refinementResidual
        fdf.pointee.df = nil
        fdf.pointee.fvv = nil
        fdf.pointee.n = n
        fdf.pointee.p = p
        fdf.pointee.params = unmanaged.toOpaque()
        var params = gsl_multifit_nlinear_default_parameters()
        params.trs = cgsl_trs_lm()
        params.solver = cgsl_solver_qr()
        params.h_df = 1e-7
        guard let w = gsl_multifit_nlinear_alloc(cgsl_trust(), &params, n, p) else { return nil }
        defer { gsl_multifit_nlinear_free(w) }
        let x = gsl_vector_alloc(p)!
        defer { gsl_vector_free(x) }
        gsl_vector_set_zero(x)
        guard gsl_multifit_nlinear_init(x, fdf, w) == GSL_SUCCESS else { return nil }
        var info: Int32 = 0
        _ = gsl_multifit_nlinear_driver(100, 1e-10, 1e-10, 0, nil, nil, &info, w)
        let pos = gsl_multifit_nlinear_position(w)!
        let values = (0..<p).map { gsl_vector_get(pos, $0) }
        guard values.allSatisfy(\.isFinite) else { return nil }
        let ub = problem.orientation(values)
        let d = strain ? [values[3], values[4], -values[3] - values[4], values[5], values[7], values[6]] : nil
        return Outcome(orientation: ub, strain: d)
    }
}
