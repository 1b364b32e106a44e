import CGSL
import Foundation
import LaueCore

/// Data handed to the GSL callbacks through `void *params`.
private struct FitData {
    var values: UnsafePointer<Double>
    var column0: Int
    var row0: Int
    var width: Int
    var height: Int
    var lorentzian: Bool
    /// exp(-Q/2) (or 1/(1+Q)) per pixel from the last residual evaluation, and its parameters: GSL
    /// asks for the Jacobian at the point it just evaluated, so the exponentials are reused.
    var shape: UnsafeMutablePointer<Double>
    var shapeParameters: (Double, Double, Double, Double, Double, Double) = (.nan, .nan, .nan, .nan, .nan, .nan)
}

// Parameters: A, x0, y0, Pxx, Pxy, Pyy, B with Q = Pxx dx^2 + 2 Pxy dx dy + Pyy dy^2 (the inverse
// covariance): Gaussian A exp(-Q/2) + B, Lorentzian A / (1 + Q) + B. This form has no angle to wander
// on round spots, so fits converge in a few iterations; widths and angle come from P afterwards.

private let residualCallback: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_vector>?) -> Int32 = { x, params, f in
    let dp = params!.assumingMemoryBound(to: FitData.self)
    let d = dp.pointee
    let p = UnsafePointer(x!.pointee.data!)
    let A = p[0], x0 = p[1], y0 = p[2], pxx = p[3], pxy = p[4], pyy = p[5], B = p[6]
    let out = f!.pointee.data!, stride = f!.pointee.stride
    let shape = d.shape
    var k = 0
    for j in 0..<d.height {
        let dy = Double(j) - y0
        for i in 0..<d.width {
            let dx = Double(i) - x0
            let q = pxx * dx * dx + 2 * pxy * dx * dy + pyy * dy * dy
            let e = d.lorentzian ? 1 / (1 + q) : exp(-0.5 * q)
            shape[k] = e
            out[k * stride] = A * e + B - d.values[k]
            k += 1
        }
    }
    dp.pointee.shapeParameters = (A, x0, y0, pxx, pxy, pyy)
    return Int32(GSL_SUCCESS)
}

/// GSL multilarge callback: v = J u (or J^T u) and, when asked, J^T J, accumulated pixel by pixel
/// without storing the n x 7 Jacobian. The 28 products of the normal matrix are written out so they
/// stay in registers.
private let jacobianCallback: @convention(c) (CBLAS_TRANSPOSE_t, UnsafePointer<gsl_vector>?, UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?,
                                              UnsafeMutablePointer<gsl_vector>?, UnsafeMutablePointer<gsl_matrix>?) -> Int32 = { trans, x, u, params, v, JTJ in
    let d = params!.assumingMemoryBound(to: FitData.self).pointee
    let p = UnsafePointer(x!.pointee.data!)
    let A = p[0], x0 = p[1], y0 = p[2], pxx = p[3], pxy = p[4], pyy = p[5]
    let sp = d.shapeParameters
    let cached = sp.0 == A && sp.1 == x0 && sp.2 == y0 && sp.3 == pxx && sp.4 == pxy && sp.5 == pyy
    let shape = d.shape
    let transposed = trans == CblasTrans
    let wantJTJ = JTJ != nil
    let ud = u?.pointee.data, us = u?.pointee.stride ?? 1
    let vd = v?.pointee.data, vs = v?.pointee.stride ?? 1
    var m00 = 0.0, m10 = 0.0, m11 = 0.0, m20 = 0.0, m21 = 0.0, m22 = 0.0, m30 = 0.0, m31 = 0.0, m32 = 0.0, m33 = 0.0
    var m40 = 0.0, m41 = 0.0, m42 = 0.0, m43 = 0.0, m44 = 0.0, m50 = 0.0, m51 = 0.0, m52 = 0.0, m53 = 0.0, m54 = 0.0, m55 = 0.0
    var m60 = 0.0, m61 = 0.0, m62 = 0.0, m63 = 0.0, m64 = 0.0, m65 = 0.0, m66 = 0.0
    var t0 = 0.0, t1 = 0.0, t2 = 0.0, t3 = 0.0, t4 = 0.0, t5 = 0.0, t6 = 0.0
    let u0 = ud?[0] ?? 0, u1 = ud?[us] ?? 0, u2 = ud?[2 * us] ?? 0, u3 = ud?[3 * us] ?? 0
    let u4 = ud?[4 * us] ?? 0, u5 = ud?[5 * us] ?? 0, u6 = ud?[6 * us] ?? 0
    var k = 0
    for j in 0..<d.height {
        let dy = Double(j) - y0
        for i in 0..<d.width {
            let dx = Double(i) - x0
            let q = pxx * dx * dx + 2 * pxy * dx * dy + pyy * dy * dy
            let r0: Double, dq: Double
            if d.lorentzian {
                let den = cached ? shape[k] : 1 / (1 + q)
                r0 = den; dq = -A * den * den
            } else {
                let e = cached ? shape[k] : exp(-0.5 * q)
                r0 = e; dq = -0.5 * A * e
            }
            let r1 = dq * (-2 * (pxx * dx + pxy * dy)), r2 = dq * (-2 * (pxy * dx + pyy * dy))
            let r3 = dq * dx * dx, r4 = dq * 2 * dx * dy, r5 = dq * dy * dy
            if let ud {
                if transposed {
                    let uk = ud[k * us]
                    t0 += r0 * uk; t1 += r1 * uk; t2 += r2 * uk; t3 += r3 * uk; t4 += r4 * uk; t5 += r5 * uk; t6 += uk
                } else if let vd {
                    vd[k * vs] = r0 * u0 + r1 * u1 + r2 * u2 + r3 * u3 + r4 * u4 + r5 * u5 + u6
                }
            }
            if wantJTJ {
                m00 += r0 * r0
                m10 += r1 * r0; m11 += r1 * r1
                m20 += r2 * r0; m21 += r2 * r1; m22 += r2 * r2
                m30 += r3 * r0; m31 += r3 * r1; m32 += r3 * r2; m33 += r3 * r3
                m40 += r4 * r0; m41 += r4 * r1; m42 += r4 * r2; m43 += r4 * r3; m44 += r4 * r4
                m50 += r5 * r0; m51 += r5 * r1; m52 += r5 * r2; m53 += r5 * r3; m54 += r5 * r4; m55 += r5 * r5
                m60 += r0; m61 += r1; m62 += r2; m63 += r3; m64 += r4; m65 += r5; m66 += 1
            }
            k += 1
        }
    }
    if transposed, let vd {
        vd[0] = t0; vd[vs] = t1; vd[2 * vs] = t2; vd[3 * vs] = t3; vd[4 * vs] = t4; vd[5 * vs] = t5; vd[6 * vs] = t6
    }
    if let m = JTJ {
        let data = m.pointee.data!, tda = m.pointee.tda
        let lower: [Double] = [m00, m10, m11, m20, m21, m22, m30, m31, m32, m33, m40, m41, m42, m43, m44,
                               m50, m51, m52, m53, m54, m55, m60, m61, m62, m63, m64, m65, m66]
        var idx = 0
        for a in 0..<7 { for b in 0...a { data[a * tda + b] = lower[idx]; data[b * tda + a] = lower[idx]; idx += 1 } }
    }
    return Int32(GSL_SUCCESS)
}

/// Fits rotated anisotropic Gaussians and Lorentzians to small regions with GSL's trust-region
/// Levenberg-Marquardt solver (`gsl_multilarge_nlinear`, normal equations built from an analytic
/// Jacobian pixel by pixel). Keeps one GSL workspace per region size, so a fitter is reused across
/// peaks and patterns; it is not thread-safe: use one per worker.
public final class EllipseFitter {
    private var workspaces: [Int: UnsafeMutablePointer<gsl_multilarge_nlinear_workspace>] = [:]
    private let fdf: UnsafeMutablePointer<gsl_multilarge_nlinear_fdf>
    private let data: UnsafeMutablePointer<FitData>
    private let x: UnsafeMutablePointer<gsl_vector>
    private var shape = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1024)
    public var maxIterations = 25

    public init() {
        LinearAlgebra.disableGSLAbort()
        fdf = .allocate(capacity: 1)
        fdf.initialize(to: gsl_multilarge_nlinear_fdf())
        data = .allocate(capacity: 1)
        data.initialize(to: FitData(values: UnsafePointer(bitPattern: 1)!, column0: 0, row0: 0, width: 0, height: 0,
                                    lorentzian: false, shape: shape.baseAddress!))
        x = gsl_vector_alloc(7)
    }

    deinit {
        for w in workspaces.values { gsl_multilarge_nlinear_free(w) }
        gsl_vector_free(x)
        shape.deallocate()
        fdf.deallocate()
        data.deallocate()
    }

    private func workspace(_ n: Int) -> UnsafeMutablePointer<gsl_multilarge_nlinear_workspace>? {
        if let w = workspaces[n] { return w }
        var params = gsl_multilarge_nlinear_default_parameters()
        params.trs = cgsl_large_trs_lm()
        params.solver = cgsl_large_solver_cholesky()
        guard let w = gsl_multilarge_nlinear_alloc(cgsl_large_trust(), &params, n, 7) else { return nil }
        if workspaces.count > 64 {          // bound the cache
            for v in workspaces.values { gsl_multilarge_nlinear_free(v) }
            workspaces.removeAll()
        }
        workspaces[n] = w
        return w
    }

    /// Fits `model` to the row-major region `values` (width x height) whose top-left pixel is
    /// (column0, row0), 0-based; `guess` gives the starting point. Returns nil when GSL fails outright.
    public func fit(_ model: EllipseFit.Model, values: [Double], column0: Int, row0: Int, width: Int, height: Int,
                    guess: EllipseFit) -> EllipseFit? {
        let n = width * height
        guard n > 7, values.count == n, let w = workspace(n) else { return nil }
        if shape.count < n {
            shape.deallocate()
            shape = .allocate(capacity: n)
        }
        return values.withUnsafeBufferPointer { buf -> EllipseFit? in
            data.pointee = FitData(values: buf.baseAddress!, column0: column0, row0: row0, width: width, height: height,
                                   lorentzian: model == .lorentzian, shape: shape.baseAddress!)
            fdf.pointee.f = residualCallback
            fdf.pointee.df = jacobianCallback
            fdf.pointee.fvv = nil
            fdf.pointee.n = n
            fdf.pointee.p = 7
            fdf.pointee.params = UnsafeMutableRawPointer(data)
            // Start: P = C^-1 from the guessed widths and angle (C in sigma^2 for a Gaussian, in
            // half-width^2 for a Lorentzian).
            let toParam = model == .gaussian ? 1 / 2.354820045 : 0.5
            let sa = max(0.3, guess.fwhmMajor * toParam), sb = max(0.3, guess.fwhmMinor * toParam)
            let th = guess.angle * .pi / 180, c = cos(th), s = sin(th)
            let ia = 1 / (sa * sa), ib = 1 / (sb * sb)
            let start = [guess.amplitude, guess.x - Double(column0), guess.y - Double(row0), ia * c * c + ib * s * s, (ia - ib) * c * s,
                         ia * s * s + ib * c * c, guess.background]
            for (i, v) in start.enumerated() { gsl_vector_set(x, i, v) }
            guard gsl_multilarge_nlinear_init(x, fdf, w) == GSL_SUCCESS else { return nil }
            var info: Int32 = 0
            let status = gsl_multilarge_nlinear_driver(maxIterations, 1e-4, 1e-5, 0, nil, nil, &info, w)
            let p = gsl_multilarge_nlinear_position(w)!
            let f = gsl_multilarge_nlinear_residual(w)!
            var chisq = 0.0
            for k in 0..<n { let r = gsl_vector_get(f, k); chisq += r * r }
            let A = gsl_vector_get(p, 0)
            let x0 = gsl_vector_get(p, 1) + Double(column0), y0 = gsl_vector_get(p, 2) + Double(row0)
            let pxx = gsl_vector_get(p, 3), pxy = gsl_vector_get(p, 4), pyy = gsl_vector_get(p, 5)
            // Widths from the eigenvalues of P (the smaller eigenvalue is the major axis).
            let t = (pxx + pyy) / 2, dd = (((pxx - pyy) / 2) * ((pxx - pyy) / 2) + pxy * pxy).squareRoot()
            let small = t - dd, large = t + dd
            let positive = small > 1e-9 && large.isFinite
            let a = positive ? 1 / small.squareRoot() : .nan, b = positive ? 1 / large.squareRoot() : .nan
            // Major axis: eigenvector of the smaller eigenvalue.
            var theta = 0.5 * atan2(2 * pxy, pxx - pyy) * 180 / .pi + 90
            theta = theta.truncatingRemainder(dividingBy: 180)
            if theta < 0 { theta += 180 }
            let fromParam = model == .gaussian ? 2.354820045 : 2.0
            let sane = positive && A > 0 && b > 0.05 && a < Double(max(width, height)) * 3 &&
                x0 >= Double(column0) - 0.5 && x0 <= Double(column0 + width) - 0.5 &&
                y0 >= Double(row0) - 0.5 && y0 <= Double(row0 + height) - 0.5
            return EllipseFit(model: model, x: x0, y: y0, amplitude: A, background: gsl_vector_get(p, 6),
                              fwhmMajor: a * fromParam, fwhmMinor: b * fromParam, angle: theta,
                              residual: (chisq / Double(n)).squareRoot() / max(abs(A), 1e-12),
                              iterations: Int(gsl_multilarge_nlinear_niter(w)), converged: status == GSL_SUCCESS && sane)
        }
    }
}
