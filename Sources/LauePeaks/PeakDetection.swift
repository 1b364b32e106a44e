import Foundation
import LaueCore

// Detection: seeds, hot pixels and cosmic rays, region growing, and the broad-spot pass (docs/peaks.md,
// "Search" steps 3-4).
extension PeakSearcher {
    // MARK: detection

    /// Finds seeds (pixels above `scanSigma` whose 3x3 mean passes the detection threshold) in one
    /// scan of the frame, then grows 8-connected regions of pixels above the region threshold from them.
    func detect(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
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
                    if v - level > PeakSearchConstants.spikeSigma * sigma && v - level > PeakSearchConstants.spikeRatio * max(neighbour - level, sigma) {
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
                if n >= Float(PeakSearchConstants.seedMinimumValid) && s / n > candidateSeedThreshold[c] && px[i] - candidateLevel[c] >= minimumAmplitude {
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


    /// Broad faint spots: local maxima of the 5x5 mean above background + detectionSigma * sigma of a
    /// 5x5 mean, grown over 5x5 means above regionSigma of it, away from the regions already found.
    func detectBroad(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
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
            guard c >= PeakSearchConstants.wideMinimumValid else { return -.infinity }
            let s = wideSums[y1 * W + x1] - wideSums[y0 * W + x1] - wideSums[y1 * W + x0] + wideSums[y0 * W + x0]
            return Float(s / Double(c))
        }
        let seedK = Float(options.detectionSigma), k = Float(options.regionSigma)
        var regions: [[Int32]] = []
        var queue: [Int32] = []
        let margin = PeakSearchConstants.broadClearance
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
                guard !touches, queue.count >= PeakSearchConstants.broadMinimumPixels else { continue }
                for q in queue { state[Int(q)] = 3; touched.append(q) }
                regions.append(queue)
            }
        }
        return regions
    }

    /// A single bright pixel whose neighbours stay near the background cannot come through a point
    /// spread of more than half a pixel: a hot pixel (or a cosmic ray).
    func isHotPixel(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, region: [Int32],
                            bg: BackgroundModel) -> Bool {
        guard region.count <= PeakSearchConstants.hotPixelMaximumSize else { return false }
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
        return peak > 0 && neighbour < PeakSearchConstants.hotNeighbourFraction * peak
    }
}
