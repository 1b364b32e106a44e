import Dispatch
import Foundation
import LaueCore

/// Parameters of the peak search. The defaults work on MarCCD, sCMOS and simulated frames untuned.
public struct PeakSearchOptions: Sendable, Equatable {
    /// Edge of the background blocks, pixels (nil: about 1/40 of the frame, between 16 and 48).
    public var blockSize: Int? = nil
    /// Seed threshold: a pixel's 3x3 mean must exceed the background by this many standard deviations
    /// of a 3x3 mean, measured on the frame (correlated noise makes it larger than sigma / 3).
    public var detectionSigma: Double = 5
    /// Region threshold: pixels above background + regionSigma * noise sigma join a peak region.
    public var regionSigma: Double = 2
    /// Pixels below background + scanSigma * noise sigma cannot be seeds (a cheap first test).
    public var scanSigma: Double = 2.5
    /// Regions closer than this (pixels between their bounding boxes) form one peak: the sub-peaks of
    /// a split spot and the pieces of a faint streak. 0 keeps every region apart. Set it from the
    /// detector geometry with `setGrouping(angle:calibration:)`.
    public var groupingGap: Int = 8
    /// Smallest region kept, pixels.
    public var minimumPixels = 3
    /// Smallest peak height above the local background, detector units.
    public var minimumAmplitude: Double = 0
    /// Saturation level (nil: the sample type's maximum, e.g. 65535).
    public var saturation: Double? = nil
    /// Treat pixels equal to 0 as dead (nil: automatic, when more than 2 % of the frame is 0 while the
    /// rest sits on a background above 10, as MarCCD corners and module gaps).
    public var maskZeros: Bool? = nil
    /// Peaks lower than this many noise sigmas above the background are not fitted (moments only).
    public var minimumFitSigma: Double = 6
    /// Known point-spread sigma in pixels (nil: estimated from the sharpest peaks of the frame).
    public var psfSigma: Double? = nil
    public var fitGaussian = true
    public var fitLorentzian = false
    /// Largest region measured (pixels); larger ones are reported unfitted.
    public var maxRegionPixels = 40_000
    public var maxPeaks = 5000
    /// Relative prominence a sub-peak needs along the major axis (fraction of the highest sub-peak).
    public var subpeakProminence: Double = 0.10
    /// Also detect broad, faint spots on 5x5 means (seeds above background + detectionSigma sigmas of a
    /// 5x5 mean, regions above regionSigma of them): spots broadened by a lattice-rotation spread that
    /// no single pixel lifts above the noise.
    public var detectBroadSpots = true
    /// The broad-spot pass runs only when the first pass found fewer regions than this (frames with
    /// many sharp spots do not need it, and it costs about a third of a search).
    public var broadSpotPassBelow = 80

    public init() {}

    /// Sets `groupingGap` to the pixel length of `degrees` of scattered-beam angle at the detector
    /// centre (default 0.5 deg: lattice tilts up to about 0.5 deg, in-plane, stay one peak).
    public mutating func setGrouping(degrees: Double = 0.5, calibration c: DetectorCalibration) {
        groupingGap = max(3, Int((c.distance * tan(degrees * .pi / 180) / c.pixelSize).rounded()))
    }
}

/// The peaks of one frame and what was learnt about it.
public struct PeakSearchResult: Sendable {
    public var peaks: [Peak]
    /// Point-spread sigma used to correct streak lengths (pixels; second-moment definition).
    public var psfSigma: Double
    public var psfEstimated: Bool
    public var backgroundMedian: Double
    public var noiseMedian: Double
    public var rejectedHotPixels: Int
}

/// Finds and measures peaks. Holds reusable buffers and GSL workspaces: create one per thread.
public final class PeakSearcher {
    public var options: PeakSearchOptions
    private let fitter = EllipseFitter()
    private var state: [UInt8] = []      // 0 below threshold, 1 region candidate, 2 seed, 3 assigned
    private var touched: [Int32] = []    // pixels marked in `state`
    /// One-pixel spikes (hot pixels, cosmic rays) found by the last scan.
    private var spikeCount = 0
    /// Seconds spent in each phase of the last search (background, detection, measurement, streaks).
    public private(set) var phaseSeconds: [String: Double] = [:]

    private func clock() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    public init(options: PeakSearchOptions = PeakSearchOptions()) {
        self.options = options
    }

    /// Searches a frame. Empty, flat, saturated or non-finite frames give an empty list.
    public func search(_ image: LaueImage) -> PeakSearchResult {
        let w = image.width, h = image.height
        let empty = PeakSearchResult(peaks: [], psfSigma: options.psfSigma ?? 1, psfEstimated: false,
                                     backgroundMedian: 0, noiseMedian: 0, rejectedHotPixels: 0)
        guard w >= 8 && h >= 8 else { return empty }
        let saturation = Float(options.saturation ?? image.pixelType.maximum)
        return image.pixels.withUnsafeBufferPointer { px -> PeakSearchResult in
            var t0 = clock()
            let block = options.blockSize ?? max(16, min(48, min(w, h) / 40))
            let bg = BackgroundModel(pixels: px, width: w, height: h, blockSize: block, maskZeros: options.maskZeros,
                                     saturation: saturation)
            let masked = bg.mask
            // Nothing to find in a frame that is mostly dead, non-finite or saturated.
            guard bg.validSamples > w * h / 400, bg.saturatedSamples < bg.validSamples / 2 else { return empty }
            phaseSeconds["background"] = clock() - t0; t0 = clock()
            var regions = detect(px, width: w, height: h, bg: bg, masked: masked)
            phaseSeconds["detection"] = clock() - t0; t0 = clock()
            if regions.isEmpty { return PeakSearchResult(peaks: [], psfSigma: options.psfSigma ?? 1, psfEstimated: false,
                                                         backgroundMedian: Double(median(bg.level)), noiseMedian: Double(median(bg.sigma)),
                                                         rejectedHotPixels: 0) }
            var hot = spikeCount
            var kept: [[Int32]] = [], keptBroad: [Bool] = []
            for (r, pixels) in regions.enumerated() {
                if isHotPixel(px, width: w, height: h, region: pixels, bg: bg) { hot += 1; continue }
                guard pixels.count >= options.minimumPixels else { continue }
                kept.append(pixels)
                keptBroad.append(r >= broadStart)
            }
            regions.removeAll()
            var measured: [(Peak, Double)] = []     // with the local noise sigma
            for group in PeakSearcher.group(kept, width: w, gap: options.groupingGap) {
                let pixels = group.count == 1 ? kept[group[0]] : group.flatMap { kept[$0] }
                if var m = measure(px, width: w, height: h, region: pixels, components: group.count, broad: group.allSatisfy { keptBroad[$0] },
                                   bg: bg, masked: masked,
                                   saturation: saturation) {
                    m.0.components = group.count
                    measured.append(m)
                }
            }
            phaseSeconds["measurement"] = clock() - t0; t0 = clock()
            // Point spread: from the sharpest isolated, unsaturated, strong peaks.
            var psf = options.psfSigma ?? 0
            var estimated = false
            if options.psfSigma == nil {
                let minors = measured.filter { !$0.0.saturated && !$0.0.edge && $0.0.maximum - $0.0.background > 20 * $0.1 }
                    .map { $0.0.streak.lambdaMinor }.sorted()
                if minors.count >= 3 {
                    psf = minors[max(0, minors.count / 4 - 1)...minors.count / 4].reduce(0, +).squareRoot()
                        / Double(minors[max(0, minors.count / 4 - 1)...minors.count / 4].count).squareRoot()
                    estimated = true
                } else if let m = minors.first {
                    psf = m.squareRoot(); estimated = true
                } else {
                    psf = 1
                }
            }
            var peaks: [Peak] = []
            peaks.reserveCapacity(measured.count)
            for (var p, noise) in measured {
                finishStreak(&p, px, width: w, height: h, psf: psf, noise: noise, mask: masked)
                peaks.append(p)
            }
            markOverlaps(&peaks)
            phaseSeconds["streaks"] = clock() - t0
            peaks.sort { $0.intensity > $1.intensity }
            if peaks.count > options.maxPeaks { peaks.removeLast(peaks.count - options.maxPeaks) }
            return PeakSearchResult(peaks: peaks, psfSigma: psf, psfEstimated: estimated,
                                    backgroundMedian: Double(median(bg.level)), noiseMedian: Double(median(bg.sigma)),
                                    rejectedHotPixels: hot)
        }
    }

    func median(_ a: [Float]) -> Float {
        var b = a.filter { !$0.isNaN }
        return b.isEmpty ? 0 : BackgroundModel.median(&b)
    }

    // MARK: detection

    /// Finds seeds (pixels above `scanSigma` whose 3x3 mean passes the detection threshold) in one
    /// scan of the frame, then grows 8-connected regions of pixels above the region threshold from them.
    private func detect(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
                        masked: PixelMask) -> [[Int32]] {
        if state.count != w * h { state = [UInt8](repeating: 0, count: w * h) } else {
            // Only the pixels marked by the previous frame need clearing.
            state.withUnsafeMutableBufferPointer { st in for i in touched { st[Int(i)] = 0 } }
        }
        touched.removeAll(keepingCapacity: true)
        let k = Float(options.regionSigma), seedK = Float(options.detectionSigma)
        // The scan only looks at pixels a little above the region threshold: a seed's own value is
        // always well above it, and few noise pixels get this far.
        let scanK = max(k, Float(options.scanSigma))
        let spikeRatio: Float = 8
        var seeds: [Int32] = [], candidates: [Int32] = [], spikes: [Int32] = []
        var candidateSeedThreshold: [Float] = [], candidateLevel: [Float] = []
        // Per-pixel thresholds of the current rows: background interpolated between block centres
        // (bilinear), refreshed every 4 rows, so that the scan is one comparison per pixel.
        let scanThreshold = UnsafeMutableBufferPointer<Float>.allocate(capacity: w)
        let seedThreshold = UnsafeMutableBufferPointer<Float>.allocate(capacity: w)
        let levelRow = UnsafeMutableBufferPointer<Float>.allocate(capacity: w)
        defer { scanThreshold.deallocate(); seedThreshold.deallocate(); levelRow.deallocate() }
        let minimumAmplitude = Float(options.minimumAmplitude)
        let B = bg.blockSize, C = bg.columns
        let blockOf = (0..<w).map { min(C - 1, $0 / B) }
        func refresh(_ y: Int) {
            let fy = (Float(y) + 0.5) / Float(B) - 0.5
            let r0 = max(0, min(bg.rows - 1, Int(fy.rounded(.down)))), r1 = min(bg.rows - 1, r0 + 1)
            let ty = max(0, min(1, fy - Float(r0)))
            let sigmaRow = min(bg.rows - 1, y / B) * C
            // Levels at block centres for this row, then linear between centres.
            var centre = [Float](repeating: 0, count: C)
            for c in 0..<C { centre[c] = bg.level[r0 * C + c] * (1 - ty) + bg.level[r1 * C + c] * ty }
            let half = B / 2
            for c in -1..<C {
                let a = centre[max(c, 0)], b = centre[min(c + 1, C - 1)]
                let x0 = max(0, c * B + half), x1 = min(w, (c + 1) * B + half)
                guard x0 < x1 else { continue }
                let slope = (b - a) / Float(B)
                var level = a + slope * (Float(x0) - Float(c * B + half))
                // Sigma is constant over a block: split the span at block edges.
                var x = x0
                while x < x1 {
                    let block = blockOf[x]
                    let sigmaK = scanK * bg.sigma[sigmaRow + block], seedSigma = seedK * bg.sigmaMean[sigmaRow + block]
                    let xEnd = min(x1, (block + 1) * B)
                    while x < xEnd {
                        levelRow[x] = level
                        scanThreshold[x] = level + sigmaK
                        seedThreshold[x] = level + seedSigma
                        level += slope
                        x += 1
                    }
                }
            }
        }
        for y in 1..<(h - 1) {
            if y == 1 || y % 4 == 0 { refresh(y) }
            let base = y * w
            let row = px.baseAddress! + base, thr = scanThreshold.baseAddress!
            // Scan in chunks with a branch-free (vectorised) test; most chunks hold no candidate.
            var chunk = 1
            while chunk < w - 1 {
                let end = min(w - 1, chunk + 32)
                var hits: UInt32 = 0
                var x = chunk
                while x < end { hits |= row[x] > thr[x] ? 1 : 0; x &+= 1 }
                let start = chunk
                chunk = end
                guard hits != 0 else { continue }
                for x in start..<end where row[x] > thr[x] {
                    let v = row[x]
                    if masked(v) { continue }
                    // A hot pixel (or cosmic ray) is a one-pixel spike: far above all its neighbours,
                    // which no point spread of a pixel or more produces. Marked, never part of a peak.
                    var neighbour: Float = -.infinity
                    for dy in -1...1 { for dx in -1...1 where dx != 0 || dy != 0 {
                        let q = px[base + dy * w + x + dx]
                        if !masked(q) && q > neighbour { neighbour = q }
                    } }
                    let level = levelRow[x]
                    let sigma = (thr[x] - level) / scanK
                    if v - level > 10 * sigma && v - level > spikeRatio * max(neighbour - level, sigma) {
                        spikes.append(Int32(base + x))
                        continue
                    }
                    candidates.append(Int32(base + x))
                    candidateSeedThreshold.append(seedThreshold[x])
                    candidateLevel.append(level)
                }
            }
        }
        state.withUnsafeMutableBufferPointer { st in
            for i in spikes { st[Int(i)] = 4; touched.append(i) }
        }
        spikeCount = spikes.count
        // Seeds: candidates whose 3x3 mean (spikes and dead pixels left out) passes the threshold.
        state.withUnsafeBufferPointer { st in
            for (c, i32) in candidates.enumerated() {
                let i = Int(i32)
                var s: Float = 0, n: Float = 0
                for dy in -1...1 { for dx in -1...1 {
                    let j = i + dy * w + dx
                    let q = px[j]
                    if !masked(q) && st[j] != 4 { s += q; n += 1 }
                } }
                if n >= 6 && s / n > candidateSeedThreshold[c] && px[i] - candidateLevel[c] >= minimumAmplitude {
                    seeds.append(i32)
                }
            }
        }
        // Region growing: 8-connected pixels above background + regionSigma * sigma.
        var regions: [[Int32]] = []
        var queue: [Int32] = []
        state.withUnsafeMutableBufferPointer { st in
            @inline(__always) func above(_ j: Int) -> Bool {
                let v = px[j]
                if masked(v) { return false }
                let x = j % w, y = j / w
                return v > bg.levelAt(x: x, y: y) + k * bg.sigmaAt(x: x, y: y)
            }
            for s in seeds where st[Int(s)] == 0 {
                queue.removeAll(keepingCapacity: true)
                queue.append(s)
                st[Int(s)] = 3
                touched.append(s)
                var head = 0
                while head < queue.count {
                    let i = Int(queue[head]); head += 1
                    let x = i % w, y = i / w
                    for dy in -1...1 {
                        let yy = y + dy
                        guard yy >= 0 && yy < h else { continue }
                        for dx in -1...1 {
                            let xx = x + dx
                            guard xx >= 0 && xx < w else { continue }
                            let j = yy * w + xx
                            guard st[j] == 0 else { continue }
                            // Pixels below the threshold are marked checked too, so each is tested once.
                            if above(j) {
                                st[j] = 3
                                queue.append(Int32(j))
                            } else {
                                st[j] = 1
                            }
                            touched.append(Int32(j))
                        }
                    }
                    if queue.count > options.maxRegionPixels { break }
                }
                regions.append(queue)
                if regions.count > options.maxPeaks * 4 { break }
            }
        }
        broadStart = regions.count
        if options.detectBroadSpots && regions.count < options.broadSpotPassBelow {
            regions += detectBroad(px, width: w, height: h, bg: bg, masked: masked)
        }
        return regions
    }

    /// Regions from this index on in the last `detect` were found by the broad-spot pass.
    private var broadStart = 0
    private var wideSums: [Double] = []
    private var wideCounts: [Int32] = []
    private var wideMark: [UInt8] = []

    /// Broad faint spots: local maxima of the 5x5 mean above background + detectionSigma * sigma of a
    /// 5x5 mean, grown over 5x5 means above regionSigma of it, away from the regions already found.
    private func detectBroad(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
                             masked: PixelMask) -> [[Int32]] {
        guard w >= 12 && h >= 12 else { return [] }
        let n = (w + 1) * (h + 1)
        if wideSums.count != n { wideSums = [Double](repeating: 0, count: n); wideCounts = [Int32](repeating: 0, count: n) }
        if wideMark.count != w * h { wideMark = [UInt8](repeating: 0, count: w * h) } else {
            for i in wideMark.indices where wideMark[i] != 0 { wideMark[i] = 0 }
        }
        // Summed-area tables of valid pixels (spikes left out) and of their count.
        wideSums.withUnsafeMutableBufferPointer { S in
            wideCounts.withUnsafeMutableBufferPointer { N in
                state.withUnsafeBufferPointer { st in
                    for y in 0..<h {
                        var rs = 0.0, rn: Int32 = 0
                        let o = (y + 1) * (w + 1), p = y * (w + 1), b = y * w
                        for x in 0..<w {
                            let v = px[b + x]
                            if !masked(v) && st[b + x] != 4 { rs += Double(v); rn += 1 }
                            S[o + x + 1] = S[p + x + 1] + rs
                            N[o + x + 1] = N[p + x + 1] + rn
                        }
                    }
                }
            }
        }
        let W = w + 1
        @inline(__always) func mean(_ x: Int, _ y: Int) -> Float {
            let x0 = x - 2, x1 = x + 3, y0 = y - 2, y1 = y + 3
            let c = wideCounts[y1 * W + x1] - wideCounts[y0 * W + x1] - wideCounts[y1 * W + x0] + wideCounts[y0 * W + x0]
            guard c >= 15 else { return -.infinity }
            let s = wideSums[y1 * W + x1] - wideSums[y0 * W + x1] - wideSums[y1 * W + x0] + wideSums[y0 * W + x0]
            return Float(s / Double(c))
        }
        let seedK = Float(options.detectionSigma), k = Float(options.regionSigma)
        var regions: [[Int32]] = []
        var queue: [Int32] = []
        let margin = 4
        // Cheap first test per block: the lowest background of the block and its neighbours (a lower
        // bound of the bilinear level inside it) plus the threshold.
        let B = bg.blockSize, C = bg.columns, R = bg.rows
        var lowThreshold = [Double](repeating: 0, count: C * R)
        for r in 0..<R { for c in 0..<C {
            var lo = Float.infinity
            for rr in max(0, r - 1)...min(R - 1, r + 1) { for cc in max(0, c - 1)...min(C - 1, c + 1) { lo = min(lo, bg.level[rr * C + cc]) } }
            lowThreshold[r * C + c] = Double(lo + seedK * bg.sigmaWide[r * C + c]) * 25
        } }
        let blockOf = (0..<w).map { min(C - 1, $0 / B) }
        for y in 3..<(h - 3) {
            let rowBase = min(R - 1, y / B) * C
            let y0 = (y - 2) * W, y1 = (y + 3) * W
            for x in 3..<(w - 3) {
                // Sum of the 5x5 window (masked pixels count as zero here: a lower bound for the test).
                let sum = wideSums[y1 + x + 3] - wideSums[y0 + x + 3] - wideSums[y1 + x - 2] + wideSums[y0 + x - 2]
                guard sum > lowThreshold[rowBase + blockOf[x]] else { continue }
                let i = y * w + x
                guard state[i] == 0, wideMark[i] == 0 else { continue }
                let m = mean(x, y)
                let level = bg.levelAt(x: x, y: y)
                guard m > level + seedK * bg.sigmaWideAt(x: x, y: y) else { continue }
                // A local maximum of the 5x5 means, clear of the regions already found.
                var isMax = true, clear = true
                for dy in -1...1 where isMax { for dx in -1...1 where dx != 0 || dy != 0 { if mean(x + dx, y + dy) > m { isMax = false; break } } }
                guard isMax else { continue }
                for yy in max(0, y - margin)...min(h - 1, y + margin) where clear {
                    for xx in max(0, x - margin)...min(w - 1, x + margin) where state[yy * w + xx] == 3 { clear = false; break }
                }
                guard clear else { continue }
                queue.removeAll(keepingCapacity: true)
                queue.append(Int32(i)); wideMark[i] = 1
                var head = 0, touches = false
                while head < queue.count && queue.count <= options.maxRegionPixels {
                    let j = Int(queue[head]); head += 1
                    let jx = j % w, jy = j / w
                    for dy in -1...1 {
                        let yy = jy + dy
                        guard yy >= 2 && yy < h - 2 else { continue }
                        for dx in -1...1 {
                            let xx = jx + dx
                            guard xx >= 2 && xx < w - 2 else { continue }
                            let q = yy * w + xx
                            if state[q] == 3 { touches = true; continue }
                            guard wideMark[q] == 0, state[q] != 4 else { continue }
                            wideMark[q] = 1
                            if mean(xx, yy) > bg.levelAt(x: xx, y: yy) + k * bg.sigmaWideAt(x: xx, y: yy) { queue.append(Int32(q)) }
                        }
                    }
                }
                // Wings of a peak already found are not a new spot.
                guard !touches, queue.count >= 9 else { continue }
                for q in queue { state[Int(q)] = 3; touched.append(q) }
                regions.append(queue)
            }
        }
        return regions
    }

    /// A single bright pixel whose neighbours stay near the background cannot come through a point
    /// spread of more than half a pixel: a hot pixel (or a cosmic ray).
    private func isHotPixel(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, region: [Int32],
                            bg: BackgroundModel) -> Bool {
        guard region.count <= 4 else { return false }
        var top = region[0]
        for i in region where px[Int(i)] > px[Int(top)] { top = i }
        let x = Int(top) % w, y = Int(top) / w
        let level = bg.levelAt(x: x, y: y)
        let peak = px[Int(top)] - level
        var neighbour: Float = -.infinity
        for dy in -1...1 { for dx in -1...1 where dx != 0 || dy != 0 {
            let xx = x + dx, yy = y + dy
            guard xx >= 0, yy >= 0, xx < w, yy < h else { continue }
            neighbour = max(neighbour, px[yy * w + xx] - level)
        } }
        return peak > 0 && neighbour < 0.1 * peak
    }

    // MARK: measurement

    /// Groups regions whose bounding boxes come within `gap` pixels of each other (single linkage):
    /// the sub-peaks of a split spot (tilt boundaries, stacking boundaries) and the pieces of a faint
    /// streak become one peak.
    static func group(_ regions: [[Int32]], width w: Int, gap: Int) -> [[Int]] {
        guard gap > 0, regions.count > 1 else { return regions.indices.map { [$0] } }
        let boxes = regions.map { r -> (Int, Int, Int, Int) in
            var c0 = Int.max, c1 = Int.min, r0 = Int.max, r1 = Int.min
            for i in r { let x = Int(i) % w, y = Int(i) / w; c0 = min(c0, x); c1 = max(c1, x); r0 = min(r0, y); r1 = max(r1, y) }
            return (c0, c1, r0, r1)
        }
        var parent = Array(regions.indices)
        func find(_ i: Int) -> Int { var i = i; while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }; return i }
        let cell = max(64, 2 * gap)
        var grid: [Int: [Int]] = [:]
        for (i, b) in boxes.enumerated() {
            for cy in (b.2 / cell)...(b.3 / cell) { for cx in (b.0 / cell)...(b.1 / cell) { grid[cy * 100_003 + cx, default: []].append(i) } }
        }
        for (i, b) in boxes.enumerated() {
            for cy in (max(0, b.2 - gap) / cell)...((b.3 + gap) / cell) {
                for cx in (max(0, b.0 - gap) / cell)...((b.1 + gap) / cell) {
                    for j in grid[cy * 100_003 + cx] ?? [] where j > i {
                        let o = boxes[j]
                        let dx = max(0, max(b.0, o.0) - min(b.1, o.1)), dy = max(0, max(b.2, o.2) - min(b.3, o.3))
                        if max(dx, dy) <= gap { let a = find(i), c = find(j); if a != c { parent[a] = c } }
                    }
                }
            }
        }
        var groups: [Int: [Int]] = [:]
        for i in regions.indices { groups[find(i), default: []].append(i) }
        return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
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

    private func measure(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, region: [Int32], components: Int, broad: Bool,
                         bg: BackgroundModel, masked: PixelMask, saturation: Float) -> (Peak, Double)? {
        var cMin = Int.max, cMax = Int.min, rMin = Int.max, rMax = Int.min
        var top = region[0]
        for i in region {
            let x = Int(i) % w, y = Int(i) / w
            cMin = min(cMin, x); cMax = max(cMax, x); rMin = min(rMin, y); rMax = max(rMax, y)
            if px[Int(i)] > px[Int(top)] { top = i }
        }
        let maxX = Int(top) % w, maxY = Int(top) / w
        let maximum = Double(px[Int(top)])
        let noise = Double(bg.sigmaAt(x: maxX, y: maxY))
        // Local background: median of a ring 3-5 px outside the region's box, away from other regions.
        var ring: [Float] = []
        let ringInner = 3, ringOuter = 5
        for y in max(0, rMin - ringOuter)...min(h - 1, rMax + ringOuter) {
            for x in max(0, cMin - ringOuter)...min(w - 1, cMax + ringOuter) {
                let inside = x >= cMin - ringInner && x <= cMax + ringInner && y >= rMin - ringInner && y <= rMax + ringInner
                if inside { continue }
                let v = px[y * w + x]
                if !masked(v) && state[y * w + x] < 3 { ring.append(v) }
            }
        }
        let background = ring.count >= 8 ? Double(BackgroundModel.median(&ring)) : Double(bg.levelAt(x: maxX, y: maxY))
        guard maximum - background >= options.minimumAmplitude, maximum - background > 0 else { return nil }
        // Confirm the detection against this local background: the 3x3 mean at the brightest pixel
        // must still stand detectionSigma sigmas (of a 3x3 mean) above it.
        // (Broad spots: the 5x5 mean at the region's intensity-weighted centre, against a 5x5 mean's sigma.)
        var s3 = 0.0, n3 = 0.0
        var cx0 = maxX, cy0 = maxY, r = 1
        if broad {
            var sw = 0.0, sx = 0.0, sy = 0.0
            for i in region { let d = max(0, Double(px[Int(i)]) - background); sw += d; sx += d * Double(Int(i) % w); sy += d * Double(Int(i) / w) }
            if sw > 0 { cx0 = Int((sx / sw).rounded()); cy0 = Int((sy / sw).rounded()) }
            r = 2
        }
        for dy in -r...r { for dx in -r...r {
            let xx = cx0 + dx, yy = cy0 + dy
            guard xx >= 0, yy >= 0, xx < w, yy < h else { continue }
            let v = px[yy * w + xx]
            if !masked(v) && state[yy * w + xx] != 4 { s3 += Double(v); n3 += 1 }
        } }
        let meanSigma = broad ? bg.sigmaWideAt(x: cx0, y: cy0) : bg.sigmaMeanAt(x: maxX, y: maxY)
        guard n3 > 0, s3 / n3 - background >= options.detectionSigma * Double(meanSigma) else { return nil }

        // Moments over the region dilated by 2 px (pixels above background). Only the region's own
        // neighbourhood counts, not its bounding box: noise pixels far from a long diagonal streak
        // would otherwise inflate its width.
        let margin = 2
        let bx0 = max(0, cMin - margin), bx1 = min(w - 1, cMax + margin)
        let by0 = max(0, rMin - margin), by1 = min(h - 1, rMax + margin)
        let lw = bx1 - bx0 + 1, lh = by1 - by0 + 1
        var near = [Bool](repeating: false, count: lw * lh)
        for i in region { near[(Int(i) / w - by0) * lw + Int(i) % w - bx0] = true }
        PeakSearcher.dilate(&near, width: lw, height: lh, radius: margin)
        var edge = cMin <= 1 || rMin <= 1 || cMax >= w - 2 || rMax >= h - 2
        var s = 0.0, sx = 0.0, sy = 0.0, total = 0.0
        var saturated = false
        for y in by0...by1 {
            for x in bx0...bx1 where near[(y - by0) * lw + x - bx0] {
                let v = px[y * w + x]
                if masked(v) { edge = true; continue }
                if state[y * w + x] == 4 { continue }
                if v >= saturation { saturated = true }
                let d = Double(v) - background
                if d > noise { s += d; sx += d * Double(x); sy += d * Double(y) }
                if state[y * w + x] == 3 { total += max(d, 0) }
            }
        }
        guard s > 0 else { return nil }
        let cx = sx / s, cy = sy / s
        var xx = 0.0, yy = 0.0, xy = 0.0
        for y in by0...by1 {
            for x in bx0...bx1 where near[(y - by0) * lw + x - bx0] {
                let v = px[y * w + x]
                if masked(v) || state[y * w + x] == 4 { continue }
                let d = Double(v) - background
                if d > noise {
                    let ex = Double(x) - cx, ey = Double(y) - cy
                    xx += d * ex * ex; yy += d * ey * ey; xy += d * ex * ey
                }
            }
        }
        xx /= s; yy /= s; xy /= s
        let t = (xx + yy) / 2, dd = (((xx - yy) / 2) * ((xx - yy) / 2) + xy * xy).squareRoot()
        let l1 = t + dd, l2 = max(t - dd, 1e-6)
        var angle = 0.5 * atan2(2 * xy, xx - yy) * 180 / .pi
        if angle < 0 { angle += 180 }

        // Fits: a small box around the maximum for compact spots (as LaueTools), the region otherwise.
        var gaussian: EllipseFit? = nil, lorentzian: EllipseFit? = nil
        // Peaks within a few noise sigmas of the background are not fitted: their shape is not
        // determined and the fit would mostly fail; moments and the centroid describe them.
        let fitWorthy = maximum - background >= options.minimumFitSigma * noise
        // A group of separate sub-peaks is not one ellipse: no fit (widths come from the moments).
        if options.fitGaussian || options.fitLorentzian, fitWorthy, components == 1, region.count <= options.maxRegionPixels {
            // Box half-size from the core of the spot (pixels above half maximum; the second moments
            // are inflated by the wings of real spots): 3 px for sharp spots, as LaueTools' batch preset.
            var aboveHalf = 0
            let halfLevel = Float((maximum + background) / 2)
            for i in region where px[Int(i)] >= halfLevel { aboveHalf += 1 }
            let coreSigma = (Double(aboveHalf) / .pi).squareRoot() / 1.1774
            let half = max(3, Int((3 * coreSigma).rounded(.up)))
            let compact = cMax - cMin <= 2 * half && rMax - rMin <= 2 * half
            let fx0 = compact ? max(0, maxX - half) : bx0, fx1 = compact ? min(w - 1, maxX + half) : bx1
            let fy0 = compact ? max(0, maxY - half) : by0, fy1 = compact ? min(h - 1, maxY + half) : by1
            let fw = fx1 - fx0 + 1, fh = fy1 - fy0 + 1
            if fw * fh <= 4096 {
                var values = [Double](repeating: 0, count: fw * fh)
                var k = 0
                for y in fy0...fy1 { for x in fx0...fx1 {
                    let v = px[y * w + x]
                    values[k] = masked(v) || state[y * w + x] == 4 ? background : Double(v); k += 1
                } }
                // Start from the core: its width from the half-maximum area, its elongation and angle
                // from the moments, its centre from the 3x3 centroid around the brightest pixel.
                var gx = cx, gy = cy
                if compact {
                    var s0 = 0.0, s1 = 0.0, s2 = 0.0
                    for dy in -1...1 { for dx in -1...1 {
                        let xx = maxX + dx, yy = maxY + dy
                        guard xx >= 0, yy >= 0, xx < w, yy < h else { continue }
                        let v = max(0, Double(px[yy * w + xx]) - background)
                        s0 += v; s1 += v * Double(xx); s2 += v * Double(yy)
                    } }
                    if s0 > 0 { gx = s1 / s0; gy = s2 / s0 }
                }
                let elongation = max(1, min(8, (l1 / l2).squareRoot()))
                let core = max(0.5, coreSigma) * 2.3548
                let guess = EllipseFit(model: .gaussian, x: gx, y: gy, amplitude: maximum - background, background: background,
                                       fwhmMajor: compact ? core * elongation.squareRoot() : 2.3548 * l1.squareRoot(),
                                       fwhmMinor: compact ? core / elongation.squareRoot() : 2.3548 * l2.squareRoot(),
                                       angle: angle, residual: 0, iterations: 0, converged: false)
                if options.fitGaussian {
                    gaussian = fitter.fit(.gaussian, values: values, column0: fx0, row0: fy0, width: fw, height: fh, guess: guess)
                }
                if options.fitLorentzian {
                    var lg = guess
                    lg.fwhmMajor *= 0.8; lg.fwhmMinor *= 0.8
                    lorentzian = fitter.fit(.lorentzian, values: values, column0: fx0, row0: fy0, width: fw, height: fh, guess: lg)
                }
            }
        }
        // Position: the Gaussian centre when the fit is sound and near the data, else the centroid.
        var x = cx, y = cy
        if let g = gaussian, g.converged, abs(g.x - cx) < 1.5 + l1.squareRoot(), abs(g.y - cy) < 1.5 + l1.squareRoot() {
            x = g.x; y = g.y
        }
        // Direction: a converged fit weighs every pixel by the model and is steadier than the
        // thresholded moments on short, faint streaks (tested on simulated GND streaks); the second
        // moments are then taken along and across that direction.
        var majorVar = l1, minorVar = l2, direction = angle
        if let g = gaussian, g.converged, g.fwhmMajor > 1.05 * g.fwhmMinor {
            let t = g.angle * .pi / 180, c = cos(t), s = sin(t)
            majorVar = c * c * xx + 2 * c * s * xy + s * s * yy
            minorVar = max(s * s * xx - 2 * c * s * xy + c * c * yy, 1e-6)
            direction = g.angle
        }
        let streak = StreakMetrics(covariance: (xx, xy, yy), lambdaMajor: majorVar, lambdaMinor: minorVar, angle: direction,
                                   aspectRatio: (majorVar / minorVar).squareRoot(), length: 0, width: 0,
                                   profile: SubpeakProfile(count: 1, positions: [0], heights: [maximum - background],
                                                           separations: [], dipRatios: [], widths: [], kurtosis: 0))
        let peak = Peak(x: x + 1, y: y + 1, centroidX: cx + 1, centroidY: cy + 1, intensity: total, background: background,
                        maximum: maximum, maximumX: maxX + 1, maximumY: maxY + 1, pixelCount: region.count,
                        gaussian: gaussian, lorentzian: lorentzian, streak: streak, saturated: saturated, edge: edge,
                        overlapping: false)
        return (peak, noise)
    }

    /// PSF-corrected length and width, and the sub-peaks of the major-axis profile.
    private func finishStreak(_ p: inout Peak, _ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, psf: Double,
                              noise: Double, mask: PixelMask) {
        var s = p.streak
        let psf2 = psf * psf
        s.length = (12 * max(s.lambdaMajor - psf2, 0)).squareRoot()
        s.width = (12 * max(s.lambdaMinor - psf2, 0)).squareRoot()
        let halfLength = (3 * s.lambdaMajor).squareRoot() + 3 * max(psf, 0.7) + 1
        let (t, v) = state.withUnsafeBufferPointer { st in
            StreakAnalysis.profile(px, state: st, mask: mask, width: w, height: h, cx: p.centroidX - 1, cy: p.centroidY - 1,
                                            direction: s.direction, halfLength: halfLength, background: p.background,
                                            smoothing: 0.5 * max(psf, 0.5))
        }
        // Prominence: a fraction of the highest point, and at least 3 noise sigmas of a profile sample
        // (Poisson-like noise grows with the signal: sigma^2 ~ sigma_bg^2 (1 + signal / background)).
        let top = v.max() ?? 0
        let poisson = p.background > 1 ? (1 + max(top, 0) / p.background).squareRoot() : 1
        let sampleNoise = noise * poisson / 7.0.squareRoot()
        s.profile = StreakAnalysis.subpeaks(t: t, v: v, minimumProminence: max(options.subpeakProminence * top, 3 * sampleNoise))
        // Width across the axis through the highest sub-peak, measured the same way: the point-spread
        // reference for the sub-peak widths of one-axis defects.
        if let k = s.profile.heights.indices.max(by: { s.profile.heights[$0] < s.profile.heights[$1] }) {
            let d = s.direction, at = s.profile.positions[k]
            let cross = state.withUnsafeBufferPointer { st in
                StreakAnalysis.profile(px, state: st, mask: mask, width: w, height: h, cx: p.centroidX - 1 + at * d.x,
                                       cy: p.centroidY - 1 + at * d.y, direction: (-d.y, d.x),
                                       halfLength: 3 * s.lambdaMinor.squareRoot() + 3 * max(psf, 0.7) + 1,
                                       background: p.background, smoothing: 0.5 * max(psf, 0.5))
            }
            s.profile.crossWidth = StreakAnalysis.centralWidth(t: cross.t, v: cross.v)
        }
        p.streak = s
    }

    /// Peaks whose regions (grown by 2 px) meet are flagged as overlapping.
    private func markOverlaps(_ peaks: inout [Peak]) {
        // Bucket by a coarse grid of the maxima.
        var buckets: [Int: [Int]] = [:]
        let cell = 64
        for (i, p) in peaks.enumerated() { buckets[(p.maximumY / cell) * 100_000 + p.maximumX / cell, default: []].append(i) }
        for (i, p) in peaks.enumerated() {
            let r = (p.streak.lambdaMajor.squareRoot() * 2 + 3)
            let bx = p.maximumX / cell, by = p.maximumY / cell
            outer: for dy in -1...1 { for dx in -1...1 {
                for j in buckets[(by + dy) * 100_000 + bx + dx] ?? [] where j != i {
                    let q = peaks[j]
                    let rq = (q.streak.lambdaMajor.squareRoot() * 2 + 3)
                    let d = ((p.centroidX - q.centroidX) * (p.centroidX - q.centroidX) + (p.centroidY - q.centroidY) * (p.centroidY - q.centroidY)).squareRoot()
                    if d < r + rq { peaks[i].overlapping = true; break outer }
                }
            } }
        }
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
