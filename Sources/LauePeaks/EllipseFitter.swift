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
}

// Parameters: A, x0, y0, Pxx, Pxy, Pyy, B [, t] with Q = Pxx dx^2 + 2 Pxy dx dy + Pyy dy^2, Q = 1 on the
// half-maximum ellipse. Profile S = eta / (1 + Q) + (1 - eta) exp(-ln2 Q): a Gaussian (eta = 0), a
// Lorentzian (eta = 1) or a pseudo-Voigt between them, all with the same half-maximum ellipse, so the FWHM
// is the same whatever the mix. The mix is fitted freely; a fit that leaves [0, 1] is redone with the mix
// fixed at the bound it crossed. This form has no angle to wander on round spots; widths and angle come
// from P afterwards.

@inline(__always)
private func evaluate(_ p: UnsafePointer<Double>, _ d: FitData, _ dx: Double, _ dy: Double)
    -> (s: Double, dsdq: Double, dsdeta: Double, eta: Double) {
    let q = max(p[3] * dx * dx + 2 * p[4] * dx * dy + p[5] * dy * dy, 0)
    let eta = d.fixedEta ?? p[7]
    let l = 1 / (1 + q), g = exp(-M_LN2 * q)
    let s = eta * l + (1 - eta) * g
    let dsdq = -eta * l * l - (1 - eta) * M_LN2 * g
    return (s, dsdq, l - g, eta)
}

private let residualCallback: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_vector>?) -> Int32 = { x, params, f in
    let d = params!.assumingMemoryBound(to: FitData.self).pointee
    let p = UnsafePointer(x!.pointee.data!)
    let out = f!.pointee.data!, stride = f!.pointee.stride
    var k = 0
    for j in 0..<d.height {
        let dy = Double(j) - p[2]
        for i in 0..<d.width {
            let w = d.weights[k]
            if w > 0 {
                let e = evaluate(p, d, Double(i) - p[1], dy)
                out[k * stride] = w * (p[0] * e.s + p[6] - d.values[k])
            } else {
                out[k * stride] = 0
            }
            k += 1
        }
    }
    return Int32(GSL_SUCCESS)
}

private let jacobianCallback: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_matrix>?) -> Int32 = { x, params, jm in
    let d = params!.assumingMemoryBound(to: FitData.self).pointee
    let p = UnsafePointer(x!.pointee.data!)
    let m = jm!.pointee.data!, tda = jm!.pointee.tda
    let np = d.fixedEta == nil ? 8 : 7
    var k = 0
    for j in 0..<d.height {
        let dy = Double(j) - p[2]
        for i in 0..<d.width {
            let row = m + k * tda
            let w = d.weights[k]
            if w > 0 {
                let dx = Double(i) - p[1]
                let e = evaluate(p, d, dx, dy)
                let a = w * p[0] * e.dsdq
                row[0] = w * e.s
                row[1] = a * -2 * (p[3] * dx + p[4] * dy)
                row[2] = a * -2 * (p[4] * dx + p[5] * dy)
                row[3] = a * dx * dx
                row[4] = a * 2 * dx * dy
                row[5] = a * dy * dy
                row[6] = w
                if np == 8 { row[7] = w * p[0] * e.dsdeta }
            } else {
                for c in 0..<np { row[c] = 0 }
            }
            k += 1
        }
    }
    return Int32(GSL_SUCCESS)
}

/// Fits a rotated anisotropic Gaussian, Lorentzian or pseudo-Voigt (the mix fitted) on a constant
/// background to a small box of pixels, with per-pixel weights (0 leaves a pixel out: another peak's
/// pixels, dead pixels, spikes), by GSL's trust-region Levenberg-Marquardt solver
/// (`gsl_multifit_nlinear`, analytic Jacobian). Keeps one GSL workspace per box size, so a fitter is reused
/// across peaks and patterns; it is not thread-safe: use one per worker.
public final class EllipseFitter {
    private var workspaces: [Int: UnsafeMutablePointer<gsl_multifit_nlinear_workspace>] = [:]
    private let fdf: UnsafeMutablePointer<gsl_multifit_nlinear_fdf>
    private let data: UnsafeMutablePointer<FitData>
    public var maxIterations = 30
    /// Fitted mixes below this are reported as Gaussian, above 1 - this as Lorentzian.
    public static let pureModelMargin = 0.1

    public init() {
        LinearAlgebra.disableGSLAbort()
        fdf = .allocate(capacity: 1)
        fdf.initialize(to: gsl_multifit_nlinear_fdf())
        data = .allocate(capacity: 1)
        data.initialize(to: FitData(values: UnsafePointer(bitPattern: 1)!, weights: UnsafePointer(bitPattern: 1)!,
                                    width: 0, height: 0, fixedEta: 0))
    }

    deinit {
        for w in workspaces.values { gsl_multifit_nlinear_free(w) }
        fdf.deallocate()
        data.deallocate()
    }

    private func workspace(_ n: Int, _ p: Int) -> UnsafeMutablePointer<gsl_multifit_nlinear_workspace>? {
        let key = n * 16 + p
        if let w = workspaces[key] { return w }
        var params = gsl_multifit_nlinear_default_parameters()
        params.trs = cgsl_trs_lm()
        params.solver = cgsl_solver_cholesky()
        guard let w = gsl_multifit_nlinear_alloc(cgsl_trust(), &params, n, p) else { return nil }
        if workspaces.count > 64 {          // bound the cache
            for v in workspaces.values { gsl_multifit_nlinear_free(v) }
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
        return fitOnce(first.eta < 0 ? 0 : 1, values: values, weights: weights, column0: column0, row0: row0, width: width,
                       height: height, guess: guess)
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
                data.pointee = FitData(values: buf.baseAddress!, weights: wbuf.baseAddress!, width: width, height: height,
                                       fixedEta: fixedEta)
                fdf.pointee.f = residualCallback
                fdf.pointee.df = jacobianCallback
                fdf.pointee.fvv = nil
                fdf.pointee.n = n
                fdf.pointee.p = np
                fdf.pointee.params = UnsafeMutableRawPointer(data)
                // Start: P from the guessed half widths and angle.
                let sa = max(0.3, guess.fwhmMajor / 2), sb = max(0.3, guess.fwhmMinor / 2)
                let th = guess.angle * .pi / 180, c = cos(th), s = sin(th)
                let ia = 1 / (sa * sa), ib = 1 / (sb * sb)
                let eta0 = min(max(guess.eta, 0), 1)
                var start = [guess.amplitude, guess.x - Double(column0), guess.y - Double(row0), ia * c * c + ib * s * s,
                             (ia - ib) * c * s, ia * s * s + ib * c * c, guess.background]
                if np == 8 { start.append(eta0) }
                let x = gsl_vector_alloc(np)!
                defer { gsl_vector_free(x) }
                for (i, v) in start.enumerated() { gsl_vector_set(x, i, v) }
                guard gsl_multifit_nlinear_init(x, fdf, w) == GSL_SUCCESS else { return nil }
                var info: Int32 = 0
                let status = gsl_multifit_nlinear_driver(maxIterations, 1e-5, 1e-6, 0, nil, nil, &info, w)
                let p = gsl_multifit_nlinear_position(w)!
                let f = gsl_multifit_nlinear_residual(w)!
                var chisq = 0.0
                for k in 0..<n { let r = gsl_vector_get(f, k); chisq += r * r }
                let A = gsl_vector_get(p, 0)
                let x0 = gsl_vector_get(p, 1) + Double(column0), y0 = gsl_vector_get(p, 2) + Double(row0)
                let pxx = gsl_vector_get(p, 3), pxy = gsl_vector_get(p, 4), pyy = gsl_vector_get(p, 5)
                let eta = fixedEta ?? gsl_vector_get(p, 7)
                // Half widths from the eigenvalues of P (the smaller eigenvalue is the major axis).
                let t = (pxx + pyy) / 2, dd = (((pxx - pyy) / 2) * ((pxx - pyy) / 2) + pxy * pxy).squareRoot()
                let small = t - dd, large = t + dd
                let positive = small > 1e-9 && large.isFinite
                let a = positive ? 1 / small.squareRoot() : .nan, b = positive ? 1 / large.squareRoot() : .nan
                var theta = 0.5 * atan2(2 * pxy, pxx - pyy) * 180 / .pi + 90
                theta = theta.truncatingRemainder(dividingBy: 180)
                if theta < 0 { theta += 180 }
                let sane = positive && A > 0 && b > 0.05 && a < Double(max(width, height)) * 3 &&
                    x0 >= Double(column0) - 0.5 && x0 <= Double(column0 + width) - 0.5 &&
                    y0 >= Double(row0) - 0.5 && y0 <= Double(row0 + height) - 0.5
                let chosen: EllipseFit.Model = eta < EllipseFitter.pureModelMargin ? .gaussian : eta > 1 - EllipseFitter.pureModelMargin ? .lorentzian : .pseudoVoigt
                return EllipseFit(model: chosen, x: x0, y: y0, amplitude: A, background: gsl_vector_get(p, 6),
                                  fwhmMajor: 2 * a, fwhmMinor: 2 * b, angle: theta,
                                  residual: (chisq / Double(max(used, 1))).squareRoot() / max(abs(A), 1e-12),
                                  iterations: Int(gsl_multifit_nlinear_niter(w)), converged: status == GSL_SUCCESS && sane,
                                  eta: eta)
            }
        }
    }
}
