import Dispatch
import Foundation
import LaueCore

/// The peaks of one frame and what was learnt about it.
public struct PeakSearchResult: Sendable {
    /// One peak per intensity maximum, strongest first.
    public var peaks: [Peak]
    /// Peak indices of each spot (maxima joined by high saddles), main peak first; `Peak.spot` points here.
    public var spots: [[Int]]
    /// Point-spread sigma used to correct streak lengths (pixels; second-moment definition).
    public var psfSigma: Double
    public var psfEstimated: Bool
    /// Core FWHM of the sharpest peaks (minor axis of their fits, lower quartile), pixels; nil without
    /// enough fitted sharp peaks.
    public var psfFWHM: Double?
    public var backgroundMedian: Double
    public var noiseMedian: Double
    public var rejectedHotPixels: Int
    /// A tail shared by the spots along one detector direction (beam penetration), when found; the spot
    /// moments and profiles are then measured without it.
    public var depthTail: DepthTail?

    public init(peaks: [Peak], spots: [[Int]], psfSigma: Double, psfEstimated: Bool, psfFWHM: Double? = nil,
                backgroundMedian: Double, noiseMedian: Double, rejectedHotPixels: Int, depthTail: DepthTail? = nil) {
        self.peaks = peaks; self.spots = spots; self.psfSigma = psfSigma; self.psfEstimated = psfEstimated
        self.psfFWHM = psfFWHM; self.backgroundMedian = backgroundMedian; self.noiseMedian = noiseMedian
        self.rejectedHotPixels = rejectedHotPixels; self.depthTail = depthTail
    }
}

/// Finds and measures peaks: background, detection, segmentation at saddles, spot moments, core fits,
/// streak metrics (docs/peaks.md). Holds reusable buffers and GSL workspaces: create one per thread.
public final class PeakSearcher {
    public var options: PeakSearchOptions
    let fitter = EllipseFitter()
    let segmenter = Segmenter()
    var state: [UInt8] = []      // 0 untested, 1 tested below threshold, 3 in a region, 4 spike
    var owner: [Int32] = []      // basin of each pixel in a region, -1 elsewhere
    var touched: [Int32] = []    // pixels marked in `state` and `owner`
    /// One-pixel spikes (hot pixels, cosmic rays) and hot-pixel regions found by the last detection.
    var spikeCount = 0
    /// Regions from this index on in the last `detect` were found by the broad-spot pass.
    var broadStart = 0
    /// Regions from this index on were found by the coarse pass (Int.max: it did not run).
    var coarseStart = Int.max
    /// Whether the last `detect` ran the broad-spot pass (a frame poor in spots); the coarse pass
    /// follows it.
    var broadPassRan = false
    var wideMark: [UInt8] = []   // pixels visited by the broad-spot pass
    /// Seconds spent in each phase of the last search (background, detection, segmentation, measurement, streaks).
    public private(set) var phaseSeconds: [String: Double] = [:]

    private func clock() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    public init(options: PeakSearchOptions = PeakSearchOptions()) {
        self.options = options
    }

    /// Searches a frame. Empty, flat, saturated or non-finite frames give an empty list.
    public func search(_ image: LaueImage) -> PeakSearchResult {
        let w = image.width, h = image.height
        let empty = PeakSearchResult(peaks: [], spots: [], psfSigma: options.psfSigma ?? 1, psfEstimated: false,
                                     backgroundMedian: 0, noiseMedian: 0, rejectedHotPixels: 0)
        guard w >= 8 && h >= 8 else { return empty }
        let saturation = Float(options.saturation ?? image.pixelType.maximum)
        return image.pixels.withUnsafeBufferPointer { px -> PeakSearchResult in
            var t0 = clock()
            let block = options.blockSize ?? max(16, min(48, min(w, h) / 40))
            let bg = BackgroundModel(pixels: px, width: w, height: h, blockSize: block, maskZeros: options.maskZeros,
                                     saturation: saturation)
            let mask = bg.mask
            // Nothing to find in a frame that is mostly dead, non-finite or saturated.
            guard bg.validSamples > w * h / 400, bg.saturatedSamples < bg.validSamples / 2 else { return empty }
            phaseSeconds["background"] = clock() - t0; t0 = clock()
            if owner.count != w * h { owner = [Int32](repeating: -1, count: w * h) }
            let regions = detect(px, width: w, height: h, bg: bg, masked: mask)
            phaseSeconds["detection"] = clock() - t0; t0 = clock()
            var result = PeakSearchResult(peaks: [], spots: [], psfSigma: options.psfSigma ?? 1, psfEstimated: false,
                                          backgroundMedian: Double(median(bg.level)), noiseMedian: Double(median(bg.sigma)),
                                          rejectedHotPixels: spikeCount)
            let unmeasured = result
            var (basins, spotCount) = segment(regions, pixels: px, width: w, height: h, bg: bg, mask: mask)
            phaseSeconds["segmentation"] = clock() - t0; t0 = clock()
            let measured = basins.isEmpty ? [] : measure(basins, spotCount: spotCount, into: &result, pixels: px, width: w, height: h,
                                                         bg: bg, mask: mask, saturation: saturation)
            // The coarse pass adds the broad spots nothing was measured on, then all is measured again.
            var all = regions
            t0 = clock()
            guard options.detectCoarseSpots, broadPassRan,
                  detectCoarse(px, width: w, height: h, bg: bg, masked: mask, regions: &all, spots: measured) else { return result }
            phaseSeconds["coarse"] = clock() - t0
            result = unmeasured
            (basins, spotCount) = segment(all, pixels: px, width: w, height: h, bg: bg, mask: mask)
            measure(basins, spotCount: spotCount, into: &result, pixels: px, width: w, height: h, bg: bg, mask: mask,
                    saturation: saturation)
            return result
        }
    }

    /// Splits the detection regions into basins and spots; marks each basin's pixels in `owner`.
    private func segment(_ regions: [[Int32]], pixels px: UnsafeBufferPointer<Float>, width w: Int, height h: Int,
                         bg: BackgroundModel, mask: PixelMask) -> ([Basin], Int) {
        var basins: [Basin] = []
        var spotCount = 0
        state.withUnsafeBufferPointer { st in
            for (r, pixels) in regions.enumerated() {
                guard pixels.count >= options.minimumPixels else { continue }
                var (found, saddles) = segmenter.split(region: pixels, broad: r >= broadStart, coarse: r >= coarseStart, pixels: px, width: w, height: h,
                                                       state: st, bg: bg, mask: mask, options: options)
                for k in found.indices { found[k].region = r }
                let spotOf = Segmenter.spots(found, saddles: saddles, fraction: options.subpeakSaddle, first: spotCount)
                for k in found.indices { found[k].spot = spotOf[k] }
                spotCount = (spotOf.max() ?? spotCount - 1) + 1
                basins += found
            }
        }
        for (k, b) in basins.enumerated() { for i in b.pixels { owner[Int(i)] = Int32(k) } }
        return (basins, spotCount)
    }

    /// Measures every spot and its peaks, estimates the point spread, finishes the streak metrics.
    /// Returns the detection regions whose spots it kept.
    @discardableResult
    private func measure(_ basins: [Basin], spotCount: Int, into result: inout PeakSearchResult, pixels px: UnsafeBufferPointer<Float>,
                         width w: Int, height h: Int, bg: BackgroundModel, mask: PixelMask, saturation: Float) -> Set<Int> {
        var kept = Set<Int>()
        var t0 = clock()
        var members = [[Int]](repeating: [], count: spotCount)
        for (k, b) in basins.enumerated() { members[b.spot].append(k) }
        var shapes: [SpotShape] = []
        var spotIds: [Int] = []
        var spotMembers: [[Int]] = []
        var spotPeaks: [[Peak]] = []
        for m in members where !m.isEmpty {
            // Main basin first (the highest maximum).
            let ordered = m.sorted { basins[$0].height > basins[$1].height }
            guard let shape = measureSpot(ordered, basins: basins, pixels: px, width: w, height: h, bg: bg, mask: mask,
                                          saturation: saturation) else { continue }
            kept.insert(basins[ordered[0]].region)
            shapes.append(shape)
            spotIds.append(basins[ordered[0]].spot)
            spotMembers.append(ordered)
            let measured = ordered.map { measurePeak($0, basins: basins, spot: shape, pixels: px, width: w, height: h, mask: mask) }
            // Weak sub-peaks stay inside the main peak's row.
            var rows = [measured[0]]
            for p in measured.dropFirst() {
                if p.maximum - p.background >= options.subpeakRowFraction * (measured[0].maximum - measured[0].background) {
                    rows.append(p)
                } else {
                    rows[0].intensity += p.intensity
                    rows[0].pixelCount += p.pixelCount
                }
            }
            let subpeaks = measured.map { Subpeak(x: $0.x, y: $0.y, height: $0.maximum - $0.background) }
            for k in rows.indices { rows[k].subpeaks = subpeaks; rows[k].components = subpeaks.count }
            spotPeaks.append(rows)
        }
        phaseSeconds["measurement"] = clock() - t0; t0 = clock()
        // Point spread: from the sharpest single, unsaturated, strong spots.
        var psf = options.psfSigma ?? 1
        if options.psfSigma == nil {
            let sharp = shapes.indices.filter { i in
                spotPeaks[i][0].components == 1 && !shapes[i].saturated && !shapes[i].edge
                    && shapes[i].height > PeakSearchConstants.psfMinimumSigma * shapes[i].noise
            }
            let minors = sharp.map { i -> Double in
                let c = shapes[i].covariance
                return max(LinearAlgebra.symmetricEigen2(c.xx, c.xy, c.yy).small, 1e-6)
            }.sorted()
            if !minors.isEmpty {
                let q = minors.count >= 3 ? Array(minors[max(0, minors.count / 4 - 1)...minors.count / 4]) : [minors[0]]
                psf = (q.reduce(0, +) / Double(q.count)).squareRoot()
                result.psfEstimated = true
            }
            let fwhms = sharp.compactMap { spotPeaks[$0][0].fit.flatMap { $0.converged ? $0.fwhmMinor : nil } }.sorted()
            if !fwhms.isEmpty { result.psfFWHM = fwhms[(fwhms.count - 1) / 4] }
        }
        result.psfSigma = psf
        // Doublets closer than the watershed splits: two point-like components fitted.
        if let dopt = options.doublet {
            let fwhm = result.psfFWHM ?? 2.3548 * psf
            for i in shapes.indices {
                guard let dbl = doublet(spotMembers[i], basins: basins, shape: shapes[i], main: spotPeaks[i][0],
                                        subpeaks: spotPeaks[i][0].subpeaks, psfFWHM: fwhm, options: dopt, pixels: px,
                                        width: w, height: h, mask: mask) else { continue }
                let pair = [dbl.first, dbl.second].map { Subpeak(x: $0.x + 1, y: $0.y + 1, height: $0.amplitude) }
                for k in spotPeaks[i].indices { spotPeaks[i][k].subpeaks = pair; spotPeaks[i][k].components = 2 }
            }
        }
        let spotOfBasin = basins.map { Int32($0.spot) }
        // A tail shared by the spots along one direction: reported, and mirrored out of the moments.
        var mirror: (x: Double, y: Double)? = nil
        if let to = options.depthTail,
           let found = findDepthTail(shapes: &shapes, spotPeaks: &spotPeaks, spotMembers: spotMembers, basins: basins, width: w, options: to) {
            result.depthTail = found.tail
            mirror = found.direction
        }
        // Streak metrics per spot, shared by its peaks.
        var reach: [StreakMetrics] = []
        for i in shapes.indices {
            let (streak, half, tenth) = owner.withUnsafeBufferPointer { ob in
                spotOfBasin.withUnsafeBufferPointer { sb in
                    spotStreak(shapes[i], mainFit: spotPeaks[i][0].fit, psf: psf,
                               others: OtherSpots(owner: ob, spotOfBasin: sb, spot: Int32(spotIds[i])),
                               mirror: mirror.map { (spotPeaks[i][0].x - 1, spotPeaks[i][0].y - 1, $0.x, $0.y) }, pixels: px, width: w,
                               height: h, mask: mask)
                }
            }
            for k in spotPeaks[i].indices {
                spotPeaks[i][k].streak = streak
                spotPeaks[i][k].extentHalf = half
                spotPeaks[i][k].extentTenth = tenth
            }
            reach.append(streak)
        }
        let overlapping = PeakSearcher.overlappingSpots(reach)
        // Peaks strongest first; spots renumbered in the order of their main peaks.
        var flat: [(Peak, Int)] = []
        for (i, ps) in spotPeaks.enumerated() {
            for var p in ps { p.overlapping = overlapping[i]; flat.append((p, i)) }
        }
        flat.sort { $0.0.intensity > $1.0.intensity || ($0.0.intensity == $1.0.intensity && ($0.0.y, $0.0.x) < ($1.0.y, $1.0.x)) }
        if flat.count > options.maxPeaks { flat.removeLast(flat.count - options.maxPeaks) }
        var spotNumber: [Int: Int] = [:]
        var spots: [[Int]] = []
        var peaks: [Peak] = []
        peaks.reserveCapacity(flat.count)
        for (p, i) in flat {
            var q = p
            if let s = spotNumber[i] { q.spot = s; spots[s].append(peaks.count) } else {
                q.spot = spots.count; spotNumber[i] = spots.count; spots.append([peaks.count])
            }
            peaks.append(q)
        }
        // The main peak of a spot (its highest maximum) first.
        for s in spots.indices { spots[s].sort { peaks[$0].maximum > peaks[$1].maximum || (peaks[$0].maximum == peaks[$1].maximum && $0 < $1) } }
        result.peaks = peaks
        result.spots = spots
        phaseSeconds["streaks"] = clock() - t0
        // Leave the owner map clean for the next frame.
        for b in basins { for i in b.pixels { owner[Int(i)] = -1 } }
        return kept
    }

    func median(_ a: [Float]) -> Float {
        var b = a.filter { !$0.isNaN }
        return b.isEmpty ? 0 : BackgroundModel.median(&b)
    }
}

extension Peak {
    /// Adds scattering angles and the angular streak length (degrees between the kf of the streak's two
    /// ends) for a calibration.
    public mutating func addAngles(_ c: DetectorCalibration) {
        let angles = c.angles(x: x, y: y)
        twoTheta = angles.twoTheta
        chi = angles.chi
        let d = streak.direction, half = streak.length / 2
        let a = c.scatteredDirection(x: centroidX + half * d.x, y: centroidY + half * d.y)
        let b = c.scatteredDirection(x: centroidX - half * d.x, y: centroidY - half * d.y)
        streakDegrees = a.angle(to: b) * 180 / .pi
    }
}
