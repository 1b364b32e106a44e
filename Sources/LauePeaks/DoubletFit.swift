import CGSL
import Foundation
import LaueCore

/// Options of the doublet test: spots whose two maxima are closer than the watershed can split (about
/// one point-spread FWHM and less: no dip between them) are told from single spots by fitting one and
/// two point-like components (docs/peaks.md, "Doublets").
public struct DoubletOptions: Sendable, Equatable {
    /// Spots tested: unsaturated, away from the border, at least this many noise sigmas high.
    public var minimumSigma = 20.0
    /// ... and longer than this many point-spread FWHM along their major axis: two point spreads
    /// `minimumSeparation` (0.8) FWHM apart make a spot 1.37 FWHM long, so shorter spots cannot pass.
    public var minimumElongation = 1.3
    /// Two maxima the watershed split, closer than `refitDistance` point-spread FWHM, are fitted jointly
    /// (their positions no longer pulled towards each other by the overlap).
    public var refitDistance = 3.0
    /// A single maximum is a doublet when the two components are at least `minimumSeparation`
    /// point-spread FWHM apart, ...
    public var minimumSeparation = 0.8
    /// ... the weaker at least `minimumRatio` of the stronger (below, a weak component inside one FWHM is
    /// not told from an asymmetric spot), ...
    public var minimumRatio = 0.5
    /// ... each no wider than `componentWidth` point-spread FWHM along the major axis (point-like: a
    /// continuous streak fitted by two components needs wide ones), ...
    public var componentWidth = 1.6
    /// ... and the two components leave at most `residualRatio` of the single component's squared
    /// residual (real single spots, not exactly pseudo-Voigt, leave 0.25-0.87 of it to a pair), or
    /// `residualRatioApart` when they are at least one point-spread FWHM apart.
    public var residualRatio = 0.25
    public var residualRatioApart = 0.3

    public init() {}
}

/// A fitted doublet: two components of one shape, the stronger first (0-based positions).
struct Doublet {
    var first: (x: Double, y: Double, amplitude: Double)
    var second: (x: Double, y: Double, amplitude: Double)

    var separation: Double { hypot(second.x - first.x, second.y - first.y) }
}

/// Pixels handed to the GSL callbacks.
private final class DoubletProblem {
    let values: [Double]
    let weights: [Double]
    let width: Int
    let height: Int
    let eta: Double
    let components: Int

    /// Pixels with a positive weight (indices into the box).
    let active: [Int]
    /// Jacobian rows (parameterCount per active pixel) at `rowsAt`; `scratch` for J^T J and J^T u.
    let rows: UnsafeMutablePointer<Double>
    let rowsAt: UnsafeMutablePointer<Double>
    let scratch: UnsafeMutablePointer<Double>

    init(values: [Double], weights: [Double], width: Int, height: Int, eta: Double, components: Int) {
        self.values = values; self.weights = weights; self.width = width; self.height = height
        self.eta = eta; self.components = components
        active = weights.indices.filter { weights[$0] > 0 }
        let np = 4 + 3 * components
        rows = .allocate(capacity: max(1, active.count * np))
        rowsAt = .allocate(capacity: np)
        rowsAt.initialize(repeating: .nan, count: np)
        scratch = .allocate(capacity: np * np)
    }

    deinit { rows.deallocate(); rowsAt.deallocate(); scratch.deallocate() }

    // Parameters: Pxx, Pxy, Pyy, B, then (A, x, y) per component. Profile as EllipseFitter's with the
    // Lorentzian fraction fixed: S = eta / (1 + Q) + (1 - eta) exp(-ln2 Q), Q = 1 on the half-maximum ellipse.
    var parameterCount: Int { 4 + 3 * components }

    func profile(_ p: UnsafePointer<Double>, _ dx: Double, _ dy: Double) -> (s: Double, dsdq: Double) {
        let q = max(p[0] * dx * dx + 2 * p[1] * dx * dy + p[2] * dy * dy, 0)
        let l = 1 / (1 + q), g = exp(-M_LN2 * q)
        return (eta * l + (1 - eta) * g, -eta * l * l - (1 - eta) * M_LN2 * g)
    }
}

private let doubletResidual: @convention(c) (UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<gsl_vector>?) -> Int32 = { x, params, f in
    let problem = Unmanaged<DoubletProblem>.fromOpaque(params!).takeUnretainedValue()
    let p = UnsafePointer(x!.pointee.data!)
    let out = f!.pointee.data!, stride = f!.pointee.stride
    for (n, k) in problem.active.enumerated() {
        var model = p[3]
        let i = Double(k % problem.width), j = Double(k / problem.width)
        for c in 0..<problem.components {
            let a = p + 4 + 3 * c
            model += a[0] * problem.profile(p, i - a[1], j - a[2]).s
        }
        out[n * stride] = problem.weights[k] * (model - problem.values[k])
    }
    return Int32(GSL_SUCCESS)
}

/// The weighted Jacobian rows (np per active pixel) at parameters `p` into `problem.rows`.
private func doubletRows(_ problem: DoubletProblem, _ p: UnsafePointer<Double>) {
    let np = problem.parameterCount
    for (n, k) in problem.active.enumerated() {
        let row = problem.rows + n * np
        for c in 0..<np { row[c] = 0 }
        let w = problem.weights[k]
        let i = k % problem.width, j = k / problem.width
        row[3] = w
        for c in 0..<problem.components {
            let a = p + 4 + 3 * c
            let dx = Double(i) - a[1], dy = Double(j) - a[2]
            let e = problem.profile(p, dx, dy)
            let g = w * a[0] * e.dsdq
            row[0] += g * dx * dx
            row[1] += g * 2 * dx * dy
            row[2] += g * dy * dy
            row[4 + 3 * c] = w * e.s
            row[5 + 3 * c] = g * -2 * (p[0] * dx + p[1] * dy)
            row[6 + 3 * c] = g * -2 * (p[1] * dx + p[2] * dy)
        }
    }
}

/// GSL multilarge callback: J u, J^T u and J^T J from the rows (computed once per parameter point);
/// rows of pixels left out (weight 0) are zero and skipped.
private let doubletJacobian: @convention(c) (CBLAS_TRANSPOSE_t, UnsafePointer<gsl_vector>?, UnsafePointer<gsl_vector>?, UnsafeMutableRawPointer?,
                                             UnsafeMutablePointer<gsl_vector>?, UnsafeMutablePointer<gsl_matrix>?) -> Int32 = { trans, x, u, params, v, JTJ in
    let problem = Unmanaged<DoubletProblem>.fromOpaque(params!).takeUnretainedValue()
    let p = UnsafePointer(x!.pointee.data!)
    let np = problem.parameterCount
    var same = true
    for a in 0..<np where problem.rowsAt[a] != p[a] { same = false; break }
    if !same {
        doubletRows(problem, p)
        for a in 0..<np { problem.rowsAt[a] = p[a] }
    }
    let rows = problem.rows, active = problem.active
    if let ud = u?.pointee.data, let vd = v?.pointee.data {
        let us = u!.pointee.stride, vs = v!.pointee.stride
        if trans == CblasTrans {
            let t = problem.scratch
            for a in 0..<np { t[a] = 0 }
            for n in 0..<active.count {
                let r = rows + n * np, uk = ud[n * us]
                for a in 0..<np { t[a] += r[a] * uk }
            }
            for a in 0..<np { vd[a * vs] = t[a] }
        } else {
            for n in 0..<active.count {
                let r = rows + n * np
                var t = 0.0
                for a in 0..<np { t += r[a] * ud[a * us] }
                vd[n * vs] = t
            }
        }
    }
    if let m = JTJ {
        let data = m.pointee.data!, tda = m.pointee.tda
        let t = problem.scratch
        for a in 0..<(np * np) { t[a] = 0 }
        for n in 0..<active.count {
            let r = rows + n * np
            for a in 0..<np {
                let ra = r[a], ta = t + a * np
                for b in 0...a { ta[b] += ra * r[b] }
            }
        }
        for a in 0..<np { for b in 0...a { data[a * tda + b] = t[a * np + b]; data[b * tda + a] = t[a * np + b] } }
    }
    return Int32(GSL_SUCCESS)
}

enum DoubletFitter {
    /// Fits `start.count` (1 or 2) components of one shape (half-maximum ellipse from `halfWidths` and
    /// `angle`, degrees) with the Lorentzian fraction `eta` fixed, on a constant background, to the
    /// row-major box `values` (0-based coordinates inside the box). Returns the parameters
    /// (Pxx, Pxy, Pyy, B, A1, x1, y1[, A2, x2, y2]) and the sum of squared residuals.
    static func fit(values: [Double], weights: [Double], width: Int, height: Int, eta: Double,
                    halfWidths: (major: Double, minor: Double), angle: Double, background: Double,
                    start: [(x: Double, y: Double, amplitude: Double)], iterations: Int = 15) -> (parameters: [Double], residual: Double)? {
        let problem = DoubletProblem(values: values, weights: weights, width: width, height: height, eta: eta, components: start.count)
        let n = problem.active.count, np = problem.parameterCount
        guard n > np + 2 else { return nil }
        let unmanaged = Unmanaged.passRetained(problem)
        defer { unmanaged.release() }
        let fdf = UnsafeMutablePointer<gsl_multilarge_nlinear_fdf>.allocate(capacity: 1)
        fdf.initialize(to: gsl_multilarge_nlinear_fdf())
        defer { fdf.deallocate() }
        fdf.pointee.f = doubletResidual
        fdf.pointee.df = doubletJacobian
        fdf.pointee.fvv = nil
        fdf.pointee.n = n
        fdf.pointee.p = np
        fdf.pointee.params = unmanaged.toOpaque()
        var params = gsl_multilarge_nlinear_default_parameters()
        params.trs = cgsl_large_trs_lm()
        params.solver = cgsl_large_solver_cholesky()
        guard let w = gsl_multilarge_nlinear_alloc(cgsl_large_trust(), &params, n, np) else { return nil }
        defer { gsl_multilarge_nlinear_free(w) }
        let x = gsl_vector_alloc(np)!
        defer { gsl_vector_free(x) }
        let shape = EllipseFitter.halfMaximumMatrix(major: halfWidths.major, minor: halfWidths.minor, angle: angle)
        var p0 = [shape.xx, shape.xy, shape.yy, background]
        for comp in start { p0 += [comp.amplitude, comp.x, comp.y] }
        for (i, v) in p0.enumerated() { gsl_vector_set(x, i, v) }
        guard gsl_multilarge_nlinear_init(x, fdf, w) == GSL_SUCCESS else { return nil }
        var info: Int32 = 0
        _ = gsl_multilarge_nlinear_driver(iterations, 1e-5, 1e-6, 0, nil, nil, &info, w)
        let pos = gsl_multilarge_nlinear_position(w)!
        let f = gsl_multilarge_nlinear_residual(w)!
        var chisq = 0.0
        for k in 0..<n { let r = gsl_vector_get(f, k); chisq += r * r }
        let values = (0..<np).map { gsl_vector_get(pos, $0) }
        guard values.allSatisfy(\.isFinite), chisq.isFinite else { return nil }
        return (values, chisq)
    }

    /// FWHM along the major and minor axes of the half-maximum ellipse (Pxx, Pxy, Pyy).
    static func widths(_ p: [Double]) -> (major: Double, minor: Double)? {
        let e = LinearAlgebra.symmetricEigen2(p[0], p[1], p[2])
        guard e.small > 1e-9 else { return nil }
        return (2 / e.small.squareRoot(), 2 / e.large.squareRoot())
    }
}

// The doublet test of a measured spot (docs/peaks.md, "Doublets").
extension PeakSearcher {
    /// Whether the spot made of `members` (basins, highest first; `main` its main peak) holds two
    /// point-like components closer than the watershed resolves; their positions 0-based.
    func doublet(_ members: [Int], basins: [Basin], shape: SpotShape, main: Peak, subpeaks: [Subpeak], psfFWHM: Double,
                 options d: DoubletOptions, pixels px: UnsafeBufferPointer<Float>, width w: Int, height h: Int,
                 mask: PixelMask) -> Doublet? {
        guard members.count <= 2, !shape.saturated, !shape.edge, shape.height >= d.minimumSigma * shape.noise,
              let fit = main.fit, fit.converged, psfFWHM > 0 else { return nil }
        if members.count == 1 {
            guard fit.fwhmMajor >= d.minimumElongation * psfFWHM else { return nil }
        } else {
            guard subpeaks.count == 2,
                  hypot(subpeaks[1].x - subpeaks[0].x, subpeaks[1].y - subpeaks[0].y) <= d.refitDistance * psfFWHM else { return nil }
        }
        // The box: the spot's pixels above a fifth of its height, grown by 3/4 of a point-spread FWHM.
        let spot = basins[members[0]].spot
        let level = Float(shape.background + 0.2 * shape.height)
        var c0 = Int.max, c1 = Int.min, r0 = Int.max, r1 = Int.min
        for b in members { for i in basins[b].pixels where px[Int(i)] >= level {
            c0 = min(c0, Int(i) % w); c1 = max(c1, Int(i) % w); r0 = min(r0, Int(i) / w); r1 = max(r1, Int(i) / w)
        } }
        let margin = max(2, Int((0.75 * psfFWHM).rounded(.up)))
        c0 = max(0, c0 - margin); c1 = min(w - 1, c1 + margin); r0 = max(0, r0 - margin); r1 = min(h - 1, r1 + margin)
        let bw = c1 - c0 + 1, bh = r1 - r0 + 1
        guard c0 <= c1, r0 <= r1, bw * bh <= PeakSearchConstants.fitMaximumPixels else { return nil }
        var values = [Double](repeating: shape.background, count: bw * bh), weights = [Double](repeating: 0, count: bw * bh)
        var k = 0
        for y in r0...r1 { for x in c0...c1 {
            let j = y * w + x, v = px[j], o = owner[j]
            if !mask(v) && state[j] != 4 && (o < 0 || basins[Int(o)].spot == spot) { values[k] = Double(v); weights[k] = 1 }
            k += 1
        } }
        let eta = min(max(fit.eta, 0), 1)
        let centre = (x: fit.x - Double(c0), y: fit.y - Double(r0))
        // Two components: at the two maxima, or either side of the centre along the major axis, as far
        // apart as the excess of the major over the minor variance says.
        var start: [(x: Double, y: Double, amplitude: Double)]
        if members.count == 2 {
            start = subpeaks.map { ($0.x - 1 - Double(c0), $0.y - 1 - Double(r0), $0.height) }
        } else {
            let sMajor = fit.fwhmMajor / 2.3548, sMinor = fit.fwhmMinor / 2.3548
            let half = max(0.5, (sMajor * sMajor - sMinor * sMinor).squareRoot())
            let u = (cos(fit.angle * .pi / 180), sin(fit.angle * .pi / 180))
            start = [(centre.x - half * u.0, centre.y - half * u.1, 0.6 * fit.amplitude),
                     (centre.x + half * u.0, centre.y + half * u.1, 0.6 * fit.amplitude)]
        }
        let component = max(fit.fwhmMinor, psfFWHM) / 2
        guard let two = DoubletFitter.fit(values: values, weights: weights, width: bw, height: bh, eta: eta,
                                          halfWidths: (component, fit.fwhmMinor / 2), angle: fit.angle, background: shape.background,
                                          start: start), let size = DoubletFitter.widths(two.parameters) else { return nil }
        let p = two.parameters
        var a = (x: p[5] + Double(c0), y: p[6] + Double(r0), amplitude: p[4])
        var b = (x: p[8] + Double(c0), y: p[9] + Double(r0), amplitude: p[7])
        if b.amplitude > a.amplitude { swap(&a, &b) }
        let inside = { (q: (x: Double, y: Double, amplitude: Double)) in
            q.x >= Double(c0) && q.x <= Double(c1) && q.y >= Double(r0) && q.y <= Double(r1)
        }
        let found = Doublet(first: a, second: b)
        guard b.amplitude > 0, inside(a), inside(b) else { return nil }
        if members.count == 1 {
            guard b.amplitude >= d.minimumRatio * a.amplitude, found.separation >= d.minimumSeparation * psfFWHM,
                  size.major <= d.componentWidth * psfFWHM else { return nil }
            // The pair passes; does it explain the spot better than one component on the same pixels?
            guard let one = DoubletFitter.fit(values: values, weights: weights, width: bw, height: bh, eta: eta,
                                              halfWidths: (fit.fwhmMajor / 2, fit.fwhmMinor / 2), angle: fit.angle,
                                              background: shape.background, start: [(centre.x, centre.y, fit.amplitude)]),
                  two.residual <= (found.separation >= psfFWHM ? d.residualRatioApart : d.residualRatio) * one.residual else { return nil }
        } else {
            // The split pair refitted: kept when each component stays within a point-spread FWHM of
            // its maximum (else the fit wandered: the maxima stand).
            let m = subpeaks.map { (x: $0.x - 1, y: $0.y - 1) }
            let near = hypot(a.x - m[0].x, a.y - m[0].y) <= psfFWHM && hypot(b.x - m[1].x, b.y - m[1].y) <= psfFWHM
                || hypot(a.x - m[1].x, a.y - m[1].y) <= psfFWHM && hypot(b.x - m[0].x, b.y - m[0].y) <= psfFWHM
            guard near, found.separation >= 0.5 * psfFWHM else { return nil }
        }
        return found
    }
}
