import Foundation
import LaueCore

/// What the measurement learns about one spot (a group of basins) before its peaks are measured.
struct SpotShape {
    var background: Double
    var noise: Double
    /// Highest raw pixel of the spot above the background.
    var height: Double
    var cx: Double
    var cy: Double
    /// Sum of the values that entered the moments.
    var weight: Double
    var covariance: (xx: Double, xy: Double, yy: Double)
    var edge: Bool
    /// The spot touches the frame border (a cut spot: flagged and not fitted; spots with a few dead
    /// pixels are fitted without them).
    var border: Bool
    var saturated: Bool
    /// The pixels of the moments (x, y, value above background), 0-based.
    var kept: [(x: Double, y: Double, d: Double)]

    /// The second moment across the spot's narrow axis (pixels squared).
    var minorVariance: Double { LinearAlgebra.symmetricEigen2(covariance.xx, covariance.xy, covariance.yy).small }

    /// Weighted centre, total weight and second moments of points (x, y, value); nil without weight.
    static func moments(_ points: [(x: Double, y: Double, d: Double)])
        -> (cx: Double, cy: Double, weight: Double, covariance: (xx: Double, xy: Double, yy: Double))? {
        var sw = 0.0, sx = 0.0, sy = 0.0
        for (x, y, v) in points { sw += v; sx += v * x; sy += v * y }
        guard sw > 0 else { return nil }
        let mx = sx / sw, my = sy / sw
        var xx = 0.0, yy = 0.0, xy = 0.0
        for (x, y, v) in points {
            let ex = x - mx, ey = y - my
            xx += v * ex * ex; yy += v * ey * ey; xy += v * ex * ey
        }
        return (mx, my, sw, (xx / sw, xy / sw, yy / sw))
    }

    /// Replaces the moments by those of `kept` with the half of the spot on the side `direction` points
    /// to (from `centre`) replaced by the other half reflected through the centre: a one-sided tail
    /// removed, a streak through the centre kept whatever its direction.
    mutating func mirror(centre c: (x: Double, y: Double), direction d: (x: Double, y: Double)) {
        var points: [(x: Double, y: Double, d: Double)] = []
        points.reserveCapacity(2 * kept.count)
        for p in kept {
            let t = (p.x - c.x) * d.x + (p.y - c.y) * d.y
            guard t <= 0 else { continue }
            points.append(p)
            if t < 0 { points.append((2 * c.x - p.x, 2 * c.y - p.y, p.d)) }
        }
        guard let m = SpotShape.moments(points) else { return }
        cx = m.cx; cy = m.cy; weight = m.weight; covariance = m.covariance
    }
}

// Measurement: the spot's local background, second moments and flags; each peak's core fit, position
// and intensity (docs/peaks.md, "Shape").
extension PeakSearcher {
    /// Background, moments and flags of the spot made of `members` (basin indices). Nil when the spot
    /// does not stand `detectionSigma` above its own local background.
    func measureSpot(_ members: [Int], basins: [Basin], pixels px: UnsafeBufferPointer<Float>, width w: Int, height h: Int,
                     bg: BackgroundModel, mask: PixelMask, saturation: Float) -> SpotShape? {
        var cMin = Int.max, cMax = Int.min, rMin = Int.max, rMax = Int.min
        var top = basins[members[0]].pixels[0]
        for b in members {
            for i in basins[b].pixels {
                let x = Int(i) % w, y = Int(i) / w
                cMin = min(cMin, x); cMax = max(cMax, x); rMin = min(rMin, y); rMax = max(rMax, y)
                if px[Int(i)] > px[Int(top)] { top = i }
            }
        }
        let spotIndex = basins[members[0]].spot
        let maxX = Int(top) % w, maxY = Int(top) / w
        let noise = Double(bg.sigmaAt(x: maxX, y: maxY))
        // Local background: median of a ring outside the spot's box, away from other regions.
        var ring: [Float] = []
        let inner = PeakSearchConstants.ringInner, outer = PeakSearchConstants.ringOuter
        for y in max(0, rMin - outer)...min(h - 1, rMax + outer) {
            for x in max(0, cMin - outer)...min(w - 1, cMax + outer) {
                if x >= cMin - inner && x <= cMax + inner && y >= rMin - inner && y <= rMax + inner { continue }
                let v = px[y * w + x]
                if !mask(v) && state[y * w + x] < 3 { ring.append(v) }
            }
        }
        let background = ring.count >= PeakSearchConstants.ringMinimumPixels ? Double(BackgroundModel.median(&ring))
            : Double(bg.levelAt(x: maxX, y: maxY))
        let height = Double(px[Int(top)]) - background
        guard height >= options.minimumAmplitude, height > 0 else { return nil }
        // Confirm the detection against this local background: the 3x3 mean at the brightest pixel (broad
        // spots: the 5x5 mean at the highest smoothed pixel) must stand detectionSigma sigmas of such a
        // mean above it.
        let broad = basins[members[0]].broad
        let centre = broad ? Int(basins[members[0]].top) : Int(top)
        let cx0 = centre % w, cy0 = centre / w, r = broad ? 2 : 1
        var s = 0.0, n = 0.0
        for dy in -r...r { for dx in -r...r {
            let xx = cx0 + dx, yy = cy0 + dy
            guard xx >= 0, yy >= 0, xx < w, yy < h else { continue }
            let v = px[yy * w + xx]
            if !mask(v) && state[yy * w + xx] != 4 { s += Double(v); n += 1 }
        } }
        let meanSigma = broad ? bg.sigmaWideAt(x: cx0, y: cy0) : bg.sigmaMeanAt(x: cx0, y: cy0)
        // A coarse spot was detected on means of 12x12 pixels against the frame's noise of such means;
        // its 5x5 mean stands in the noise.
        guard n > 0, basins[members[0]].coarse || s / n - background >= options.detectionSigma * Double(meanSigma) else { return nil }

        // Second moments over the spot grown by a margin (not into other spots), pixels above the noise
        // and above `momentFloor` of the spot's height: halos and tails stay out.
        let margin = PeakSearchConstants.momentMargin
        let bx0 = max(0, cMin - margin), bx1 = min(w - 1, cMax + margin)
        let by0 = max(0, rMin - margin), by1 = min(h - 1, rMax + margin)
        let lw = bx1 - bx0 + 1, lh = by1 - by0 + 1
        var near = [Bool](repeating: false, count: lw * lh)
        for b in members { for i in basins[b].pixels { near[(Int(i) / w - by0) * lw + Int(i) % w - bx0] = true } }
        PeakSearcher.dilate(&near, width: lw, height: lh, radius: margin)
        let border = cMin <= 1 || rMin <= 1 || cMax >= w - 2 || rMax >= h - 2
        var edge = border
        var saturated = false
        let floor = max(noise, options.momentFloor * height)
        var kept: [(x: Double, y: Double, d: Double)] = []
        for y in by0...by1 {
            for x in bx0...bx1 where near[(y - by0) * lw + x - bx0] {
                let j = y * w + x
                let o = owner[j]
                if o >= 0 && basins[Int(o)].spot != spotIndex { continue }
                let v = px[j]
                if mask(v) { edge = true; continue }
                if state[j] == 4 { continue }
                if v >= saturation { saturated = true }
                let d = Double(v) - background
                if d > floor { kept.append((Double(x), Double(y), d)) }
            }
        }
        guard let m = SpotShape.moments(kept) else { return nil }
        return SpotShape(background: background, noise: noise, height: height, cx: m.cx, cy: m.cy, weight: m.weight,
                         covariance: m.covariance, edge: edge, border: border, saturated: saturated, kept: kept)
    }

    /// One peak (basin `b` of a measured spot): maximum, intensity, centroid, core fit and position.
    func measurePeak(_ b: Int, basins: [Basin], spot: SpotShape, pixels px: UnsafeBufferPointer<Float>, width w: Int, height h: Int,
                     mask: PixelMask) -> Peak {
        let basin = basins[b]
        var top = basin.pixels[0]
        for i in basin.pixels where px[Int(i)] > px[Int(top)] { top = i }
        let maxX = Int(top) % w, maxY = Int(top) / w
        let maximum = Double(px[Int(top)]), background = spot.background, noise = spot.noise
        var total = 0.0, sw = 0.0, sx = 0.0, sy = 0.0
        for i in basin.pixels where state[Int(i)] != 4 {
            let d = Double(px[Int(i)]) - background
            total += max(d, 0)
            if d > noise { sw += d; sx += d * Double(Int(i) % w); sy += d * Double(Int(i) / w) }
        }
        let cx = sw > 0 ? sx / sw : Double(maxX), cy = sw > 0 ? sy / sw : Double(maxY)
        // Start position: the centroid of the 3x3 pixels around the maximum (on the peak by construction).
        var s0 = 0.0, s1 = 0.0, s2 = 0.0
        for dy in -1...1 { for dx in -1...1 {
            let xx = maxX + dx, yy = maxY + dy
            guard xx >= 0, yy >= 0, xx < w, yy < h, owner[yy * w + xx] == Int32(b) else { continue }
            let v = max(0, Double(px[yy * w + xx]) - background)
            s0 += v; s1 += v * Double(xx); s2 += v * Double(yy)
        } }
        let tx = s0 > 0 ? s1 / s0 : Double(maxX), ty = s0 > 0 ? s2 / s0 : Double(maxY)
        var fit: EllipseFit? = nil
        // Peaks within a few noise sigmas of the background, and broad faint spots (found on 5x5 means),
        // are not fitted: their shape is not determined and the fit would mostly fail; moments describe them.
        if let model = options.fitModel, !spot.border, !basin.broad, basin.pixels.count <= options.maxRegionPixels,
           maximum - background >= options.minimumFitSigma * noise {
            fit = fitCore(b, basins: basins, model: model, start: (tx, ty), maximum: maximum,
                          background: background, noise: noise, pixels: px, width: w, height: h, mask: mask)
        }
        // The fit's centre when it lies on the peak's own pixels (a streak's centre can be far from its
        // brightest pixel), else the 3x3 centroid around the maximum.
        var x = tx, y = ty
        if let f = fit, f.converged {
            let fx = Int(f.x.rounded()), fy = Int(f.y.rounded())
            if fx >= 0, fy >= 0, fx < w, fy < h, owner[fy * w + fx] == Int32(b) { x = f.x; y = f.y }
        } else if !spot.saturated && !spot.edge && (basin.broad || spot.minorVariance >= PeakSearchConstants.broadCentroidSigma * PeakSearchConstants.broadCentroidSigma) {
            // A broad unfitted peak: its brightest pixel is mostly noise (a spot tens of pixels wide
            // is flat on top), the centroid of its pixels above the noise is where it is, when that lies
            // on its own pixels. (A saturated spot keeps the centre of its plateau's brightest pixels, a spot
            // cut by the frame edge or a masked area the centre of its brightest pixels, its centroid being
            // pulled away from the cut.)
            let ix = Int(cx.rounded()), iy = Int(cy.rounded())
            if ix >= 0, iy >= 0, ix < w, iy < h, owner[iy * w + ix] == Int32(b) { x = cx; y = cy }
        }
        let streak = StreakMetrics(covariance: spot.covariance, lambdaMajor: 0, lambdaMinor: 0, angle: 0, aspectRatio: 1,
                                   length: 0, width: 0,
                                   profile: SubpeakProfile(count: 1, positions: [0], heights: [maximum - background],
                                                           separations: [], dipRatios: [], widths: [], kurtosis: 0))
        var peak = Peak(x: x + 1, y: y + 1, centroidX: cx + 1, centroidY: cy + 1, intensity: total, background: background,
                        maximum: maximum, maximumX: maxX + 1, maximumY: maxY + 1, pixelCount: basin.pixels.count,
                        spot: basin.spot, fit: fit, streak: streak, saturated: spot.saturated, edge: spot.edge, overlapping: false)
        peak.coarse = basin.coarse
        return peak
    }

    /// Fits the core of basin `b`: a box around its pixels above half maximum, grown by a margin of
    /// the core width; pixels of other peaks, dead pixels and spikes are left out (weight 0).
    private func fitCore(_ b: Int, basins: [Basin], model: EllipseFit.Model, start: (Double, Double), maximum: Double,
                         background: Double, noise: Double, pixels px: UnsafeBufferPointer<Float>, width w: Int, height h: Int,
                         mask: PixelMask) -> EllipseFit? {
        let half = Float((maximum + background) / 2)
        var c0 = Int.max, c1 = Int.min, r0 = Int.max, r1 = Int.min, above = 0
        var sxx = 0.0, sxy = 0.0, syy = 0.0
        for i in basins[b].pixels where px[Int(i)] >= half && state[Int(i)] != 4 {
            let x = Int(i) % w, y = Int(i) / w
            c0 = min(c0, x); c1 = max(c1, x); r0 = min(r0, y); r1 = max(r1, y); above += 1
            let ex = Double(x) - start.0, ey = Double(y) - start.1
            sxx += ex * ex; sxy += ex * ey; syy += ey * ey
        }
        // A faint spot with a broad core is noise-shaped: the fit rarely converges and says no more than
        // its moments.
        guard above > 0, above <= PeakSearchConstants.faintBroadCorePixels
                || maximum - background >= PeakSearchConstants.psfMinimumSigma * noise else { return nil }
        // Core FWHM of the equivalent disc of the pixels above half maximum.
        let core = max(1.0, 2 * (Double(above) / .pi).squareRoot())
        let margin = max(PeakSearchConstants.fitMinimumHalfSize, Int((PeakSearchConstants.fitMarginFWHM * core).rounded(.up)))
        var fx0 = max(0, c0 - margin), fx1 = min(w - 1, c1 + margin)
        var fy0 = max(0, r0 - margin), fy1 = min(h - 1, r1 + margin)
        // Too large a box (a long streak): the part around the maximum.
        let limit = Int(Double(PeakSearchConstants.fitMaximumPixels).squareRoot()) / 2
        if (fx1 - fx0 + 1) * (fy1 - fy0 + 1) > PeakSearchConstants.fitMaximumPixels {
            let mx = Int(start.0.rounded()), my = Int(start.1.rounded())
            fx0 = max(fx0, mx - limit); fx1 = min(fx1, mx + limit); fy0 = max(fy0, my - limit); fy1 = min(fy1, my + limit)
        }
        let fw = fx1 - fx0 + 1, fh = fy1 - fy0 + 1
        var values = [Double](repeating: background, count: fw * fh), weights = [Double](repeating: 0, count: fw * fh)
        var k = 0
        for y in fy0...fy1 { for x in fx0...fx1 {
            let j = y * w + x, v = px[j]
            let o = owner[j]
            if !mask(v) && state[j] != 4 && (o < 0 || o == Int32(b)) { values[k] = Double(v); weights[k] = 1 }
            k += 1
        } }
        // Start: widths from the half-maximum area, elongation and angle from its second moments.
        let e = LinearAlgebra.symmetricEigen2(sxx, sxy, syy), angle = e.angle
        let elongation = max(1, min(8, (e.large / max(e.small, 1e-6)).squareRoot()))
        let guess = EllipseFit(model: model, x: start.0, y: start.1, amplitude: maximum - background, background: background,
                               fwhmMajor: core * elongation.squareRoot(), fwhmMinor: core / elongation.squareRoot(),
                               angle: angle, residual: 0, iterations: 0, converged: false, eta: 0.3)
        let r = fitter.fit(model, values: values, weights: weights, column0: fx0, row0: fy0, width: fw, height: fh, guess: guess)
        return r
    }

    /// Streak metrics of a spot from its moments (the direction of the core fit of its main peak when
    /// that fit is elongated and agrees with the moments), PSF-corrected length and width, and the
    /// sub-peaks of its major-axis profile.
    func spotStreak(_ shape: SpotShape, mainFit: EllipseFit?, psf: Double, others: OtherSpots,
                    mirror: (x: Double, y: Double, dx: Double, dy: Double)?,
                    pixels px: UnsafeBufferPointer<Float>, width w: Int, height h: Int,
                    mask: PixelMask) -> (StreakMetrics, extentHalf: Double, extentTenth: Double) {
        let (xx, xy, yy) = shape.covariance
        let e = LinearAlgebra.symmetricEigen2(xx, xy, yy)
        var majorVar = e.large, minorVar = max(e.small, 1e-6), angle = e.angle
        // A converged, elongated fit weighs every pixel by the model and is steadier than thresholded
        // moments on short faint streaks; it is used only where the moments agree (major >= minor).
        if let f = mainFit, f.converged, f.fwhmMajor > 1.05 * f.fwhmMinor {
            let a = f.angle * .pi / 180, c = cos(a), s = sin(a)
            let along = c * c * xx + 2 * c * s * xy + s * s * yy
            let across = s * s * xx - 2 * c * s * xy + c * c * yy
            if along >= across { majorVar = along; minorVar = max(across, 1e-6); angle = f.angle }
        }
        let psf2 = psf * psf
        var s = StreakMetrics(covariance: shape.covariance, lambdaMajor: majorVar, lambdaMinor: minorVar, angle: angle,
                              aspectRatio: (majorVar / minorVar).squareRoot(),
                              length: (12 * max(majorVar - psf2, 0)).squareRoot(), width: (12 * max(minorVar - psf2, 0)).squareRoot(),
                              profile: SubpeakProfile(count: 1, positions: [0], heights: [shape.height], separations: [],
                                                      dipRatios: [], widths: [], kurtosis: 0),
                              centre: (shape.cx + 1, shape.cy + 1), weight: shape.weight)
        let halfLength = (3 * majorVar).squareRoot() + 3 * max(psf, 0.7) + 1
        let smoothing = 0.5 * max(psf, 0.5)
        // Profiles see this spot only: other spots' pixels count as the background.
        let (tt, v) = state.withUnsafeBufferPointer { st in
            StreakAnalysis.profile(px, state: st, mask: mask, width: w, height: h, cx: shape.cx, cy: shape.cy,
                                   direction: s.direction, halfLength: halfLength, background: shape.background, smoothing: smoothing,
                                   others: others, mirror: mirror)
        }
        // Prominence: a fraction of the highest point, and at least 3 noise sigmas of a profile sample
        // (Poisson-like noise grows with the signal: sigma^2 ~ sigma_bg^2 (1 + signal / background)).
        let topValue = v.max() ?? 0
        let poisson = shape.background > 1 ? (1 + max(topValue, 0) / shape.background).squareRoot() : 1
        let band = Double(2 * Int(2 * PeakSearchConstants.profileHalfBand) + 1)
        let sampleNoise = shape.noise * poisson / band.squareRoot()
        s.profile = StreakAnalysis.subpeaks(t: tt, v: v, minimumProminence: max(options.subpeakProminence * topValue, 3 * sampleNoise))
        // Width across the axis through the highest sub-peak, measured the same way: the point-spread
        // reference for the sub-peak widths of one-axis defects.
        if let k = s.profile.heights.indices.max(by: { s.profile.heights[$0] < s.profile.heights[$1] }) {
            let d = s.direction, at = s.profile.positions[k]
            let cross = state.withUnsafeBufferPointer { st in
                StreakAnalysis.profile(px, state: st, mask: mask, width: w, height: h, cx: shape.cx + at * d.x,
                                       cy: shape.cy + at * d.y, direction: (-d.y, d.x),
                                       halfLength: 3 * minorVar.squareRoot() + 3 * max(psf, 0.7) + 1,
                                       background: shape.background, smoothing: smoothing, others: others, mirror: mirror)
            }
            s.profile.crossWidth = StreakAnalysis.centralWidth(t: cross.t, v: cross.v)
        }
        return (s, StreakAnalysis.extent(t: tt, v: v, level: 0.5), StreakAnalysis.extent(t: tt, v: v, level: 0.1))
    }

    /// Spots that meet another spot (`StreakMetrics.overlap`: closer than the sum of their reaches along
    /// the line joining them) are flagged overlapping.
    static func overlappingSpots(_ spots: [StreakMetrics]) -> [Bool] {
        var buckets: [Int: [Int]] = [:]
        let cell = 64.0
        func key(_ x: Double, _ y: Double) -> Int { Int((y / cell).rounded(.down)) * 100_003 + Int((x / cell).rounded(.down)) }
        for (i, c) in spots.enumerated() { buckets[key(c.centre.x, c.centre.y), default: []].append(i) }
        let farthest = spots.map(\.maximumReach).max() ?? 0
        var out = [Bool](repeating: false, count: spots.count)
        for (i, c) in spots.enumerated() {
            let bx = Int((c.centre.x / cell).rounded(.down)), by = Int((c.centre.y / cell).rounded(.down))
            let span = Int(((c.maximumReach + farthest) / cell).rounded(.up))
            outer: for dy in -span...span { for dx in -span...span {
                for j in buckets[(by + dy) * 100_003 + bx + dx] ?? [] where j != i && StreakMetrics.overlap(c, spots[j]) {
                    out[i] = true; break outer
                }
            } }
        }
        return out
    }

    /// Square dilation of a boolean mask by `radius` (separable running maximum).
    static func dilate(_ m: inout [Bool], width w: Int, height h: Int, radius r: Int) {
        guard r > 0 else { return }
        var tmp = m
        for y in 0..<h {
            for x in 0..<w where m[y * w + x] {
                for xx in max(0, x - r)...min(w - 1, x + r) { tmp[y * w + xx] = true }
            }
        }
        m = tmp
        for y in 0..<h {
            for x in 0..<w where tmp[y * w + x] {
                for yy in max(0, y - r)...min(h - 1, y + r) { m[yy * w + x] = true }
            }
        }
    }
}
