import CGSL
import Foundation
import LaueCore

/// Data handed to the GSL callbacks through `void *params`.
private struct FitData {
    var values: UnsafePointer<Double>
    /// Per-pixel weight: 1 for the spot's own pixels, 0 for pixels of other peaks and dead pixels.
    var weights: UnsafePointer<Double>
    var width: Int
    var height: Int
    /// Fixed Lorentzian fraction, or nil when it is fitted (eighth parameter).
    var fixedEta: Double?
    /// Per pixel (S, dS/dQ, dS/deta) from the last residual evaluation, and the parameters it was made
    /// at: GSL asks for the Jacobian at the point it just evaluated, so the exponentials are reused.
    var cache: UnsafeMutablePointer<Double>
    var cachedAt: UnsafeMutablePointer<Double>
    /// The weighted Jacobian (8 values per pixel) at `rowsAt`: J u, J^T u and J^T J at one point share it.
    var rows: UnsafeMutablePointer<Double>
    var rowsAt: UnsafeMutablePointer<Double>
}

// Parameters: A, x0, y0, Pxx, Pxy, Pyy, B [, eta] with Q = Pxx dx^2 + 2 Pxy dx dy + Pyy dy^2, Q = 1 on the
// half-maximum ellipse. Profile S = eta / (1 + Q) + (1 - eta) exp(-ln2 Q): a Gaussian (eta = 0), a
// Lorentzian (eta = 1) or a pseudo-Voigt between them, all with the same half-maximum ellipse, so the FWHM
// is the same whatever the mix. The mix is fitted freely; a fit that leaves [0, 1] is redone with the mix
// fixed at the bound it crossed. This form has no angle to wander on round spots; widths and angle come
// from P afterwards.

@inline(__always)
private func evaluate(_ p: UnsafePointer<Double>, _ eta: Double, _ dx: Double, _ dy: Double)
    -> (s: Double, dsdq: Double, dsdeta: Double) {
    let q = max(p[3] * dx * dx + 2 * p[4] * dx * dy + p[5] * dy * dy, 0)
    let l = 1 / (1 + q), g = exp(-M_LN2 * q)
    return (eta * l + (1 - eta) * g, -eta * l * l - (1 - eta) * M_LN2 * g, l - g)
}

@inline(__always)
private func samePoint(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

private let residualCallback: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_vector>?) -> Int32 = { x, params, f in
    let d = params!.assumingMemoryBound(to: FitData.self).pointee
    let p = UnsafePointer(x!.pointee.data!)
    let out = f!.pointee.data!, stride = f!.pointee.stride
    let eta = d.fixedEta ?? p[7], np = d.fixedEta == nil ? 8 : 7
    var k = 0
    for j in 0..<d.height {
        let dy = Double(j) - p[2]
        for i in 0..<d.width {
            let w = d.weights[k]
            if w > 0 {
                let e = evaluate(p, eta, Double(i) - p[1], dy)
                d.cache[3 * k] = e.s; d.cache[3 * k + 1] = e.dsdq; d.cache[3 * k + 2] = e.dsdeta
                out[k * stride] = w * (p[0] * e.s + p[6] - d.values[k])
            } else {
                out[k * stride] = 0
            }
            k += 1
        }
    }
    for a in 0..<np { d.cachedAt[a] = p[a] }
    return Int32(GSL_SUCCESS)
}

/// The weighted Jacobian at `p` into `d.rows` (from the residual cache when it was made at `p`).
private func fillRows(_ p: UnsafePointer<Double>, _ d: FitData, _ np: Int) {
    let cached = samePoint(p, d.cachedAt, np)
    let eta = d.fixedEta ?? p[7]
    var k = 0
    for j in 0..<d.height {
        let dy = Double(j) - p[2]
        for i in 0..<d.width {
            let r = d.rows + 8 * k
            let w = d.weights[k]
            if w > 0 {
                let dx = Double(i) - p[1]
                let e = cached ? (s: d.cache[3 * k], dsdq: d.cache[3 * k + 1], dsdeta: d.cache[3 * k + 2]) : evaluate(p, eta, dx, dy)
                let a = w * p[0] * e.dsdq
                r[0] = w * e.s
                r[1] = a * -2 * (p[3] * dx + p[4] * dy)
                r[2] = a * -2 * (p[4] * dx + p[5] * dy)
                r[3] = a * dx * dx
                r[4] = a * 2 * dx * dy
                r[5] = a * dy * dy
                r[6] = w
                r[7] = w * p[0] * e.dsdeta
            } else {
                for c in 0..<8 { r[c] = 0 }
            }
            k += 1
        }
    }
    for a in 0..<np { d.rowsAt[a] = p[a] }
}

/// GSL multilarge callback: v = J u (or J^T u) and, when asked, J^T J, from the Jacobian rows at x.
private let jacobianCallback: @convention(c) (CBLAS_TRANSPOSE_t, UnsafePointer<gsl_vector>?, UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?,
                                              UnsafeMutablePointer<gsl_vector>?, UnsafeMutablePointer<gsl_matrix>?) -> Int32 = { trans, x, u, params, v, JTJ in
    let d = params!.assumingMemoryBound(to: FitData.self).pointee
    let p = UnsafePointer(x!.pointee.data!)
    let np = d.fixedEta == nil ? 8 : 7
    let n = d.width * d.height
    if !samePoint(p, d.rowsAt, np) { fillRows(p, d, np) }
    if let ud = u?.pointee.data, let vd = v?.pointee.data {
        let us = u!.pointee.stride, vs = v!.pointee.stride
        if trans == CblasTrans {
            var t = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
            for k in 0..<n {
                let r = d.rows + 8 * k, uk = ud[k * us]
                t.0 += r[0] * uk; t.1 += r[1] * uk; t.2 += r[2] * uk; t.3 += r[3] * uk
                t.4 += r[4] * uk; t.5 += r[5] * uk; t.6 += r[6] * uk; t.7 += r[7] * uk
            }
            let out = [t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7]
            for a in 0..<np { vd[a * vs] = out[a] }
        } else {
            let u8 = (0..<8).map { $0 < np ? ud[$0 * us] : 0 }
            for k in 0..<n {
                let r = d.rows + 8 * k
                var s = r[0] * u8[0] + r[1] * u8[1] + r[2] * u8[2] + r[3] * u8[3]
                s += r[4] * u8[4] + r[5] * u8[5] + r[6] * u8[6] + r[7] * u8[7]
                vd[k * vs] = s
            }
        }
    }
    if let m = JTJ {
        // The 36 products of the lower triangle, written out so that they stay in registers.
        var m00 = 0.0, m10 = 0.0, m11 = 0.0, m20 = 0.0, m21 = 0.0, m22 = 0.0, m30 = 0.0, m31 = 0.0, m32 = 0.0, m33 = 0.0
        var m40 = 0.0, m41 = 0.0, m42 = 0.0, m43 = 0.0, m44 = 0.0, m50 = 0.0, m51 = 0.0, m52 = 0.0, m53 = 0.0, m54 = 0.0, m55 = 0.0
        var m60 = 0.0, m61 = 0.0, m62 = 0.0, m63 = 0.0, m64 = 0.0, m65 = 0.0, m66 = 0.0
        var m70 = 0.0, m71 = 0.0, m72 = 0.0, m73 = 0.0, m74 = 0.0, m75 = 0.0, m76 = 0.0, m77 = 0.0
        for k in 0..<n {
            let r = d.rows + 8 * k
            let r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5], r6 = r[6], r7 = r[7]
            m00 += r0 * r0
            m10 += r1 * r0; m11 += r1 * r1
            m20 += r2 * r0; m21 += r2 * r1; m22 += r2 * r2
            m30 += r3 * r0; m31 += r3 * r1; m32 += r3 * r2; m33 += r3 * r3
            m40 += r4 * r0; m41 += r4 * r1; m42 += r4 * r2; m43 += r4 * r3; m44 += r4 * r4
            m50 += r5 * r0; m51 += r5 * r1; m52 += r5 * r2; m53 += r5 * r3; m54 += r5 * r4; m55 += r5 * r5
            m60 += r6 * r0; m61 += r6 * r1; m62 += r6 * r2; m63 += r6 * r3; m64 += r6 * r4; m65 += r6 * r5; m66 += r6 * r6
            m70 += r7 * r0; m71 += r7 * r1; m72 += r7 * r2; m73 += r7 * r3; m74 += r7 * r4; m75 += r7 * r5; m76 += r7 * r6; m77 += r7 * r7
        }
        let lower = [m00, m10, m11, m20, m21, m22, m30, m31, m32, m33, m40, m41, m42, m43, m44, m50, m51, m52, m53, m54, m55,
                     m60, m61, m62, m63, m64, m65, m66, m70, m71, m72, m73, m74, m75, m76, m77]
        let data = m.pointee.data!, tda = m.pointee.tda
        var idx = 0
        for i in 0..<8 {
            for j in 0...i {
                if i < np { data[i * tda + j] = lower[idx]; data[j * tda + i] = lower[idx] }
                idx += 1
            }
        }
    }
    return Int32(GSL_SUCCESS)
}

/// Fits a rotated anisotropic Gaussian, Lorentzian or pseudo-Voigt (the mix fitted) on a constant
/// background to a small box of pixels, with per-pixel weights (0 leaves a pixel out: another peak's
/// pixels, dead pixels, spikes), by GSL's trust-region Levenberg-Marquardt solver
/// (`gsl_multilarge_nlinear`, normal equations accumulated pixel by pixel from an analytic Jacobian, no
/// n x p matrix stored). Keeps one GSL workspace per box size, so a fitter is reused
/// across peaks and patterns; it is not thread-safe: use one per worker.
public final class EllipseFitter {
    private var workspaces: [Int: UnsafeMutablePointer<gsl_multilarge_nlinear_workspace>] = [:]
    private let fdf: UnsafeMutablePointer<gsl_multilarge_nlinear_fdf>
    private let data: UnsafeMutablePointer<FitData>
    /// Parameter points of the residual cache and of the Jacobian rows (8 each).
    private let points = UnsafeMutablePointer<Double>.allocate(capacity: 16)
    private var cache = UnsafeMutableBufferPointer<Double>.allocate(capacity: 3 * 1024)
    private var rows = UnsafeMutableBufferPointer<Double>.allocate(capacity: 8 * 1024)
    public var maxIterations = 20
    /// Fitted mixes below this are reported as Gaussian, above 1 - this as Lorentzian.
    public static let pureModelMargin = 0.1

    /// The matrix P (xx, xy, yy) of the half-maximum ellipse Q = 1 with half widths `major`, `minor` (px)
    /// and the major axis at `angle` degrees from +x towards +y.
    static func halfMaximumMatrix(major: Double, minor: Double, angle: Double) -> (xx: Double, xy: Double, yy: Double) {
        let th = angle * .pi / 180, c = cos(th), s = sin(th)
        let ia = 1 / (major * major), ib = 1 / (minor * minor)
        return (ia * c * c + ib * s * s, (ia - ib) * c * s, ia * s * s + ib * c * c)
    }

    public init() {
        LinearAlgebra.disableGSLAbort()
        fdf = .allocate(capacity: 1)
        fdf.initialize(to: gsl_multilarge_nlinear_fdf())
        data = .allocate(capacity: 1)
        points.initialize(repeating: .nan, count: 16)
        data.initialize(to: FitData(values: UnsafePointer(bitPattern: 1)!, weights: UnsafePointer(bitPattern: 1)!,
                                    width: 0, height: 0, fixedEta: 0, cache: cache.baseAddress!, cachedAt: points,
                                    rows: rows.baseAddress!, rowsAt: points + 8))
    }

    deinit {
        for w in workspaces.values { gsl_multilarge_nlinear_free(w) }
        points.deallocate()
        cache.deallocate()
        rows.deallocate()
        fdf.deallocate()
        data.deallocate()
    }

    private func workspace(_ n: Int, _ p: Int) -> UnsafeMutablePointer<gsl_multilarge_nlinear_workspace>? {
        let key = n * 16 + p
        if let w = workspaces[key] { return w }
        var params = gsl_multilarge_nlinear_default_parameters()
        params.trs = cgsl_large_trs_lm()
        params.solver = cgsl_large_solver_cholesky()
        guard let w = gsl_multilarge_nlinear_alloc(cgsl_large_trust(), &params, n, p) else { return nil }
        if workspaces.count > 64 {          // bound the cache
            for v in workspaces.values { gsl_multilarge_nlinear_free(v) }
            workspaces.removeAll()
        }
        workspaces[key] = w
        return w
    }

    /// Fits `model` (`.pseudoVoigt`: the mix is fitted too) to the row-major box `values` (width x height)
    /// whose top-left pixel is (column0, row0), 0-based, with `weights` (nil: all 1); `guess` gives the
    /// starting point. Returns nil when GSL fails outright.
    public func fit(_ model: EllipseFit.Model, values: [Double], weights: [Double]? = nil, column0: Int, row0: Int,
                    width: Int, height: Int, guess: EllipseFit) -> EllipseFit? {
        let fixed: Double? = model == .gaussian ? 0 : model == .lorentzian ? 1 : nil
        guard let first = fitOnce(fixed, values: values, weights: weights, column0: column0, row0: row0, width: width,
                                  height: height, guess: guess) else { return nil }
        guard fixed == nil, first.eta < 0 || first.eta > 1 else { return first }
        // Redone at the bound, from where the free fit ended (a few iterations) when that was sane.
        let start = first.fwhmMajor.isFinite && first.fwhmMinor > 0 && first.amplitude > 0 ? first : guess
        return fitOnce(first.eta < 0 ? 0 : 1, values: values, weights: weights, column0: column0, row0: row0, width: width,
                       height: height, guess: start)
    }

    private func fitOnce(_ fixedEta: Double?, values: [Double], weights: [Double]?, column0: Int, row0: Int,
                         width: Int, height: Int, guess: EllipseFit) -> EllipseFit? {
        let n = width * height
        let np = fixedEta == nil ? 8 : 7
        let w8 = weights ?? [Double](repeating: 1, count: n)
        let used = w8.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        guard n >= np, used > np + 2, values.count == n, w8.count == n, let w = workspace(n, np) else { return nil }
        return values.withUnsafeBufferPointer { buf -> EllipseFit? in
            w8.withUnsafeBufferPointer { wbuf -> EllipseFit? in
                if cache.count < 3 * n {
                    cache.deallocate(); cache = .allocate(capacity: 3 * n)
                    rows.deallocate(); rows = .allocate(capacity: 8 * n)
                }
                for a in 0..<16 { points[a] = .nan }
                data.pointee = FitData(values: buf.baseAddress!, weights: wbuf.baseAddress!, width: width, height: height,
                                       fixedEta: fixedEta, cache: cache.baseAddress!, cachedAt: points,
                                       rows: rows.baseAddress!, rowsAt: points + 8)
                fdf.pointee.f = residualCallback
                fdf.pointee.df = jacobianCallback
                fdf.pointee.fvv = nil
                fdf.pointee.n = n
                fdf.pointee.p = np
                fdf.pointee.params = UnsafeMutableRawPointer(data)
                // Start: P from the guessed half widths and angle.
                let p0 = EllipseFitter.halfMaximumMatrix(major: max(0.3, guess.fwhmMajor / 2), minor: max(0.3, guess.fwhmMinor / 2),
                                                         angle: guess.angle)
                let eta0 = min(max(guess.eta, 0), 1)
                var start = [guess.amplitude, guess.x - Double(column0), guess.y - Double(row0), p0.xx, p0.xy, p0.yy, guess.background]
                if np == 8 { start.append(eta0) }
                let x = gsl_vector_alloc(np)!
                defer { gsl_vector_free(x) }
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
                let eta = fixedEta ?? gsl_vector_get(p, 7)
                // Half widths from the eigenvalues of P (the smaller eigenvalue is the major axis).
                let e = LinearAlgebra.symmetricEigen2(pxx, pxy, pyy)
                let positive = e.small > 1e-9 && e.large.isFinite
                let a = positive ? 1 / e.small.squareRoot() : .nan, b = positive ? 1 / e.large.squareRoot() : .nan
                // The major axis is perpendicular to P's larger eigenvector (from the raw angle, so that the
                // fitted angle stays the same to the last bit).
                var theta = (0.5 * atan2(2 * pxy, pxx - pyy) * 180 / .pi + 90).truncatingRemainder(dividingBy: 180)
                if theta < 0 { theta += 180 }
                let sane = positive && A > 0 && b > 0.05 && a < Double(max(width, height)) * 3 &&
                    x0 >= Double(column0) - 0.5 && x0 <= Double(column0 + width) - 0.5 &&
                    y0 >= Double(row0) - 0.5 && y0 <= Double(row0 + height) - 0.5
                let chosen: EllipseFit.Model = eta < EllipseFitter.pureModelMargin ? .gaussian : eta > 1 - EllipseFitter.pureModelMargin ? .lorentzian : .pseudoVoigt
                return EllipseFit(model: chosen, x: x0, y: y0, amplitude: A, background: gsl_vector_get(p, 6),
                                  fwhmMajor: 2 * a, fwhmMinor: 2 * b, angle: theta,
                                  residual: (chisq / Double(max(used, 1))).squareRoot() / max(abs(A), 1e-12),
                                  iterations: Int(gsl_multilarge_nlinear_niter(w)), converged: status == GSL_SUCCESS && sane,
                                  eta: eta)
            }
        }
    }
}
