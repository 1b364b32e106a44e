import CGSL
import Foundation
import LaueCore
import LaueXANES

/// Options of `Registration.register`.
public struct RegistrationOptions: Sendable {
    /// Rotations searched in the coarse step: -max...+max degrees.
    public var maximumRotation = 12.0
    public var rotationStep = 1.0
    /// A known rotation (e.g. from stage metadata) instead of fitting it.
    public var fixedRotation: Double? = nil
    /// Refuse when the smaller of the two overlaps (each particle inside the other map's field of
    /// view) is below this.
    public var minimumOverlap = 0.2
    /// Refuse when the correlation after refinement is below this.
    public var minimumCorrelation = 0.3
    /// A transform given by hand: no search, quality still reported (and checked).
    public var manual: RigidTransform? = nil
    public init() {}
}

/// How well two maps were aligned.
public struct RegistrationResult: Sendable {
    public var transform: RigidTransform
    /// The coarse transform (FFT cross-correlation over rotations) before refinement.
    public var coarse: RigidTransform
    /// Pearson correlation of the two maps over the overlap after refinement.
    public var correlation: Double
    /// Fraction of the fixed map's particle inside the moving map's field of view, and vice versa.
    public var fixedOverlap: Double
    public var movingOverlap: Double
    public var overlap: Double { min(fixedOverlap, movingOverlap) }
}

/// Rigid registration (rotation + translation, scale known from both grids) of a moving map onto a
/// fixed map in micrometres: coarse FFT cross-correlation over a range of rotations, then
/// refinement of the correlation coefficient (ECC-like) by Nelder-Mead (docs/xanes.md).
public enum Registration {
    public static func register(fixed: GriddedMap, moving: GriddedMap, options: RegistrationOptions = RegistrationOptions()) throws -> RegistrationResult {
        let f = standardised(fixed), m = standardised(moving)
        guard f.values.contains(where: { $0 != 0 }), m.values.contains(where: { $0 != 0 }) else {
            throw LaueError(.invalidArgument, "registration: one of the maps is empty or flat (nothing to align)")
        }
        var coarse: RigidTransform
        var best: RigidTransform
        if let manual = options.manual {
            coarse = manual
            best = manual
        } else {
            coarse = coarseSearch(f, m, options: options)
            best = refine(f, m, start: coarse, fixedRotation: options.fixedRotation)
        }
        let r = correlation(f, m, best).r
        let fixedOverlap = overlapFraction(of: fixed, inside: moving, transform: best, forward: false)
        let movingOverlap = overlapFraction(of: moving, inside: fixed, transform: best, forward: true)
        let result = RegistrationResult(transform: best, coarse: coarse, correlation: r, fixedOverlap: fixedOverlap, movingOverlap: movingOverlap)
        if result.overlap < options.minimumOverlap {
            throw LaueError(.invalidArgument, String(format: "registration refused: the maps overlap too little (%.0f %% of the fixed particle and %.0f %% of the moving particle inside the other map; minimum %.0f %%). Check that both maps show the same particle, or give the transform by hand.",
                                                     100 * fixedOverlap, 100 * movingOverlap, 100 * options.minimumOverlap))
        }
        if !(r >= options.minimumCorrelation) {
            throw LaueError(.invalidArgument, String(format: "registration refused: the aligned maps correlate too weakly (r = %.2f, minimum %.2f). Use channels that share the particle outline, or give the transform by hand.",
                                                     r, options.minimumCorrelation))
        }
        return result
    }

    // MARK: Preparation

    /// Zero mean and unit SD over the finite pixels; pixels without data become 0.
    static func standardised(_ map: GriddedMap) -> GriddedMap {
        let summary = SampleSummary(map.values)
        let mean = summary.mean, sd = summary.standardDeviation
        guard summary.count > 1, sd > 0 else { return GriddedMap(grid: map.grid, values: .init(repeating: 0, count: map.grid.count)) }
        return GriddedMap(grid: map.grid, values: map.values.map { $0.isFinite ? ($0 - mean) / sd : 0 })
    }

    /// Otsu threshold of the finite values (particle vs background).
    static func otsu(_ values: [Double]) -> Double {
        let v = values.filter(\.isFinite)
        guard let lo = v.min(), let hi = v.max(), hi > lo else { return v.first ?? 0 }
        let bins = 64
        var histogram = [Double](repeating: 0, count: bins)
        for x in v { histogram[min(bins - 1, Int((x - lo) / (hi - lo) * Double(bins)))] += 1 }
        let total = Double(v.count)
        var sumAll = 0.0
        for (i, h) in histogram.enumerated() { sumAll += Double(i) * h }
        var wB = 0.0, sumB = 0.0, bestVar = -1.0, bestBin = 0
        for (i, h) in histogram.enumerated() {
            wB += h
            if wB == 0 || wB == total { continue }
            sumB += Double(i) * h
            let mB = sumB / wB, mF = (sumAll - sumB) / (total - wB)
            let between = wB * (total - wB) * (mB - mF) * (mB - mF)
            if between > bestVar { bestVar = between; bestBin = i }
        }
        return lo + (Double(bestBin) + 1) / Double(bins) * (hi - lo)
    }

    /// Fraction of `map`'s particle pixels (above Otsu) that land inside `other`'s field of view.
    static func overlapFraction(of map: GriddedMap, inside other: GriddedMap, transform: RigidTransform, forward: Bool) -> Double {
        let threshold = otsu(map.values)
        var inside = 0, total = 0
        for j in 0..<map.grid.rows {
            for i in 0..<map.grid.columns {
                let v = map.values[j * map.grid.columns + i]
                guard v.isFinite, v > threshold else { continue }
                total += 1
                let (x, y) = forward ? transform.apply(x: map.grid.x(i), y: map.grid.y(j)) : transform.inverse(x: map.grid.x(i), y: map.grid.y(j))
                if other.contains(x: x, y: y) { inside += 1 }
            }
        }
        return total > 0 ? Double(inside) / Double(total) : 0
    }

    // MARK: Coarse search: FFT cross-correlation for each rotation

    static func coarseSearch(_ f: GriddedMap, _ m: GriddedMap, options: RegistrationOptions) -> RigidTransform {
        let movingSize = hypot(Double(m.grid.columns) * m.grid.stepX, Double(m.grid.rows) * m.grid.stepY)
        let fx0 = f.grid.originX - 0.5 * f.grid.stepX, fy0 = f.grid.originY - 0.5 * f.grid.stepY
        let fw = Double(f.grid.columns) * f.grid.stepX, fh = Double(f.grid.rows) * f.grid.stepY
        // Canvas pixel: the coarser map step, but no more than ~256 canvas pixels a side (the coarse
        // step only has to land within the refinement's reach).
        let s = max(min(f.grid.stepX, f.grid.stepY, max(m.grid.stepX, m.grid.stepY)), max(fw, fh, 1e-9) / 96 + 2 * movingSize / 256)
        let x0 = fx0 - movingSize, y0 = fy0 - movingSize
        let nx = FFT2D.goodSize(Int(((fw + 2 * movingSize) / s).rounded(.up)) + 1)
        let ny = FFT2D.goodSize(Int(((fh + 2 * movingSize) / s).rounded(.up)) + 1)
        var fixedCanvas = [Double](repeating: 0, count: nx * ny)
        for b in 0..<ny { for a in 0..<nx {
            let v = f.value(x: x0 + Double(a) * s, y: y0 + Double(b) * s)
            if v.isFinite { fixedCanvas[b * nx + a] = v }
        } }
        let fft = FFT2D(columns: nx, rows: ny)
        let fixedSpectrum = fft.forward(fixedCanvas)
        let fixedNorm = fixedCanvas.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let angles: [Double] = options.fixedRotation.map { [$0] }
            ?? stride(from: -options.maximumRotation, through: options.maximumRotation + 1e-9, by: options.rotationStep).map { $0 }
        var best = (score: -Double.infinity, transform: RigidTransform())
        for angle in angles {
            let t = angle * .pi / 180
            // The rotated moving map's bounding box origin, in the fixed frame's orientation.
            var qx = Double.infinity, qy = Double.infinity
            for (i, j) in [(0, 0), (m.grid.columns - 1, 0), (0, m.grid.rows - 1), (m.grid.columns - 1, m.grid.rows - 1)] {
                let x = m.grid.x(i), y = m.grid.y(j)
                qx = min(qx, cos(t) * x - sin(t) * y); qy = min(qy, sin(t) * x + cos(t) * y)
            }
            qx -= m.grid.stepX; qy -= m.grid.stepY
            var movingCanvas = [Double](repeating: 0, count: nx * ny)
            let rotation = RigidTransform(rotationDegrees: angle)
            for b in 0..<ny { for a in 0..<nx {
                let (px, py) = rotation.inverse(x: qx + Double(a) * s, y: qy + Double(b) * s)
                let v = m.value(x: px, y: py)
                if v.isFinite { movingCanvas[b * nx + a] = v }
            } }
            let movingNorm = movingCanvas.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard movingNorm > 0, fixedNorm > 0 else { continue }
            let c = fft.crossCorrelation(fixedSpectrum, fft.forward(movingCanvas))
            guard let (peak, da, db) = peakWithSubpixel(c, nx, ny) else { continue }
            let score = peak / (fixedNorm * movingNorm)
            if score > best.score {
                // d wraps around: shifts beyond half the canvas are negative.
                let dx = da > Double(nx) / 2 ? da - Double(nx) : da
                let dy = db > Double(ny) / 2 ? db - Double(ny) : db
                best = (score, RigidTransform(rotationDegrees: angle, translationX: x0 - qx + dx * s, translationY: y0 - qy + dy * s))
            }
        }
        return best.transform
    }

    /// The largest value and its position refined by a parabola along each axis (circular).
    static func peakWithSubpixel(_ c: [Double], _ nx: Int, _ ny: Int) -> (Double, Double, Double)? {
        guard let k = c.indices.max(by: { c[$0] < c[$1] }) else { return nil }
        let a = k % nx, b = k / nx
        func at(_ i: Int, _ j: Int) -> Double { c[((j + ny) % ny) * nx + (i + nx) % nx] }
        func vertex(_ l: Double, _ m: Double, _ r: Double) -> Double {
            let d = l - 2 * m + r
            return d < 0 ? 0.5 * (l - r) / d : 0
        }
        return (c[k], Double(a) + vertex(at(a - 1, b), at(a, b), at(a + 1, b)), Double(b) + vertex(at(a, b - 1), at(a, b), at(a, b + 1)))
    }

    // MARK: Refinement

    /// Pearson correlation between the fixed map and the moving map sampled through `t`, over the
    /// fixed pixels that fall inside the moving map.
    static func correlation(_ f: GriddedMap, _ m: GriddedMap, _ t: RigidTransform, stride k: Int = 1) -> (r: Double, n: Int) {
        var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0, n = 0
        for j in Swift.stride(from: 0, to: f.grid.rows, by: k) {
            for i in Swift.stride(from: 0, to: f.grid.columns, by: k) {
                let a = f.values[j * f.grid.columns + i]
                let (x, y) = t.inverse(x: f.grid.x(i), y: f.grid.y(j))
                let b = m.value(x: x, y: y)
                guard b.isFinite else { continue }
                sx += a; sy += b; sxx += a * a; syy += b * b; sxy += a * b; n += 1
            }
        }
        guard n >= 10 else { return (.nan, n) }
        let N = Double(n)
        let cov = sxy - sx * sy / N, vx = sxx - sx * sx / N, vy = syy - sy * sy / N
        return (vx > 0 && vy > 0 ? cov / (vx * vy).squareRoot() : .nan, n)
    }

    static func refine(_ f: GriddedMap, _ m: GriddedMap, start: RigidTransform, fixedRotation: Double?) -> RigidTransform {
        // Large maps: the cost uses every k-th fixed pixel (about 10,000 of them).
        let k = max(1, Int((Double(f.grid.count) / 10_000).squareRoot().rounded(.up)))
        let n0 = Double(max(correlation(f, m, start, stride: k).n, 1))
        func cost(_ p: [Double]) -> Double {
            let t = RigidTransform(rotationDegrees: fixedRotation ?? p[2], translationX: p[0], translationY: p[1])
            let (r, n) = correlation(f, m, t, stride: k)
            guard r.isFinite else { return 1 }
            // Keep the overlap near the coarse solution's: a sliver of overlap can correlate well by chance.
            return -r * min(1, Double(n) / n0).squareRoot()
        }
        let step = max(f.grid.stepX, m.grid.stepX)
        var point = [start.translationX, start.translationY]
        var scales = [step, step]
        if fixedRotation == nil { point.append(start.rotationDegrees); scales.append(1.0) }
        let best = NelderMead.minimize(cost, start: point, scales: scales, iterations: 400, tolerance: 1e-7)
        return RigidTransform(rotationDegrees: fixedRotation ?? best[2], translationX: best[0], translationY: best[1])
    }
}

/// Nelder-Mead simplex minimisation (derivative-free; the correlation is piecewise smooth).
enum NelderMead {
    static func minimize(_ f: ([Double]) -> Double, start: [Double], scales: [Double], iterations: Int, tolerance: Double) -> [Double] {
        let n = start.count
        var simplex = [start] + (0..<n).map { k in var p = start; p[k] += scales[k]; return p }
        var values = simplex.map(f)
        for _ in 0..<iterations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }; values = order.map { values[$0] }
            if abs(values[n] - values[0]) < tolerance { break }
            let centroid = (0..<n).map { k in simplex[0..<n].reduce(0) { $0 + $1[k] } / Double(n) }
            func along(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
            let reflected = along(-1), fr = f(reflected)
            if fr < values[0] {
                let expanded = along(-2), fe = f(expanded)
                if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
            } else if fr < values[n - 1] {
                simplex[n] = reflected; values[n] = fr
            } else {
                let contracted = fr < values[n] ? along(-0.5) : along(0.5)
                let fc = f(contracted)
                if fc < min(fr, values[n]) {
                    simplex[n] = contracted; values[n] = fc
                } else {
                    for k in 1...n {
                        simplex[k] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[k][$0] - simplex[0][$0]) }
                        values[k] = f(simplex[k])
                    }
                }
            }
        }
        return simplex[values.indices.min { values[$0] < values[$1] }!]
    }
}

/// 2-D complex FFT of real images through GSL's mixed-radix transforms (rows, then columns).
struct FFT2D {
    let columns: Int
    let rows: Int

    /// The smallest size >= n whose prime factors are 2, 3 and 5 (fast for GSL's mixed radix).
    static func goodSize(_ n: Int) -> Int {
        var m = max(n, 2)
        while true {
            var k = m
            for p in [2, 3, 5] { while k % p == 0 { k /= p } }
            if k == 1 { return m }
            m += 1
        }
    }

    /// Interleaved complex spectrum of a real image (row-major).
    func forward(_ image: [Double]) -> [Double] {
        var data = [Double](repeating: 0, count: 2 * columns * rows)
        for i in 0..<(columns * rows) { data[2 * i] = image[i] }
        transform(&data, inverse: false)
        return data
    }

    /// Circular cross-correlation c[d] = sum_a f[a] m[a - d] from the two spectra.
    func crossCorrelation(_ F: [Double], _ M: [Double]) -> [Double] {
        var product = [Double](repeating: 0, count: F.count)
        for k in 0..<(columns * rows) {
            let fr = F[2 * k], fi = F[2 * k + 1], mr = M[2 * k], mi = -M[2 * k + 1]
            product[2 * k] = fr * mr - fi * mi
            product[2 * k + 1] = fr * mi + fi * mr
        }
        transform(&product, inverse: true)
        return (0..<(columns * rows)).map { product[2 * $0] }
    }

    func transform(_ data: inout [Double], inverse: Bool) {
        let rowTable = gsl_fft_complex_wavetable_alloc(columns)!, rowWork = gsl_fft_complex_workspace_alloc(columns)!
        let columnTable = gsl_fft_complex_wavetable_alloc(rows)!, columnWork = gsl_fft_complex_workspace_alloc(rows)!
        defer {
            gsl_fft_complex_wavetable_free(rowTable); gsl_fft_complex_workspace_free(rowWork)
            gsl_fft_complex_wavetable_free(columnTable); gsl_fft_complex_workspace_free(columnWork)
        }
        data.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for j in 0..<rows {
                let row = base + 2 * j * columns
                if inverse { gsl_fft_complex_inverse(row, 1, columns, rowTable, rowWork) } else { gsl_fft_complex_forward(row, 1, columns, rowTable, rowWork) }
            }
            for i in 0..<columns {
                let column = base + 2 * i
                if inverse { gsl_fft_complex_inverse(column, columns, rows, columnTable, columnWork) } else { gsl_fft_complex_forward(column, columns, rows, columnTable, columnWork) }
            }
        }
    }
}
