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
        let seeds = findSeeds(px, width: w, height: h, bg: bg, masked: masked)
        var regions = growRegions(from: seeds, px, width: w, height: h, bg: bg, masked: masked)
        // Hot-pixel regions are rejected here (counted with the spikes): they do not make a frame rich in
        // spots, and are left out of the broad and coarse means like one-pixel spikes.
        state.withUnsafeMutableBufferPointer { st in
            regions.removeAll { r in
                guard isHotPixel(px, width: w, height: h, region: r, bg: bg) else { return false }
                for q in r { st[Int(q)] = 4 }
                spikeCount += 1
                return true
            }
        }
        broadStart = regions.count
        coarseStart = Int.max
        broadPassRan = false
        if options.detectBroadSpots && regions.count < options.broadSpotPassBelow {
            regions += detectBroad(px, width: w, height: h, bg: bg, masked: masked)
            broadPassRan = true
        }
        return regions
    }

    /// Seeds in scan order: pixels above background + `scanSigma` sigmas, not one-pixel spikes (marked
    /// 4 in `state` as the scan meets them), whose 3x3 mean (spikes and dead pixels left out) passes
    /// background + `detectionSigma` sigmas of a 3x3 mean and whose amplitude reaches
    /// `minimumAmplitude`. A row's candidates are judged once the next row is scanned (its spikes are
    /// then known), while the three rows are still in cache.
    func findSeeds(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
                   masked: PixelMask) -> [Int32] {
        let k = Float(options.regionSigma), seedK = Float(options.detectionSigma)
        // The scan only looks at pixels a little above the region threshold: a seed's own value is
        // always well above it, and few noise pixels get this far.
        let scanK = max(k, Float(options.scanSigma))
        var seeds: [Int32] = [], candidates: [Int32] = []
        var candidateSeedThreshold: [Float] = [], candidateLevel: [Float] = []
        var spikes = 0, judged = 0
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
        let minimumValid = Float(PeakSearchConstants.seedMinimumValid)
        var candidateSigma: [Float] = [], rowStarts: [Int] = []
        var spikeChecked = 0
        state.withUnsafeMutableBufferPointer { st in
            // A hot pixel (or cosmic ray) is a one-pixel spike: far above all its neighbours, which no
            // point spread of a pixel or more produces. Marked 4, never part of a peak.
            func checkSpikes(upTo end: Int) {
                while spikeChecked < end {
                    let c = spikeChecked, i = Int(candidates[c])
                    spikeChecked += 1
                    var neighbour: Float = -.infinity
                    for dy in -1...1 { for dx in -1...1 where dx != 0 || dy != 0 {
                        let q = px[i + dy * w + dx]
                        if !masked(q) && q > neighbour { neighbour = q }
                    } }
                    let v = px[i], level = candidateLevel[c], sigma = candidateSigma[c]
                    if v - level > PeakSearchConstants.spikeSigma * sigma && v - level > PeakSearchConstants.spikeRatio * max(neighbour - level, sigma) {
                        st[i] = 4
                        touched.append(Int32(i))
                        spikes += 1
                    }
                }
            }
            // The seed test of the candidates up to (not including) `end`.
            func judge(upTo end: Int) {
                while judged < end {
                    let c = judged, i = Int(candidates[c])
                    judged += 1
                    guard st[i] != 4 else { continue }
                    var s: Float = 0, n: Float = 0
                    for dy in -1...1 { for dx in -1...1 {
                        let j = i + dy * w + dx
                        let q = px[j]
                        if !masked(q) && st[j] != 4 { s += q; n += 1 }
                    } }
                    if n >= minimumValid && s / n > candidateSeedThreshold[c] && px[i] - candidateLevel[c] >= minimumAmplitude {
                        seeds.append(Int32(i))
                    }
                }
            }
            for y in 1..<(h - 1) {
                if y == 1 || y % 4 == 0 { refresh(y) }
                rowStarts.append(candidates.count)
                let base = y * w
                let row = px.baseAddress! + base, thr = scanThreshold.baseAddress!
                forEachAbove(row, thr, in: 1..<(w - 1)) { x in
                    guard !masked(row[x]) else { return }
                    candidates.append(Int32(base + x))
                    candidateSeedThreshold.append(seedThreshold[x])
                    candidateLevel.append(levelRow[x])
                    candidateSigma.append((thr[x] - levelRow[x]) / scanK)
                }
                // Rows trail the scan, so the rows they read are in cache: spikes of row y-1 (rows
                // y-2...y scanned), then the seed test of row y-2 (the spikes of rows y-3...y-1 known).
                checkSpikes(upTo: rowStarts[rowStarts.count - 1])
                if rowStarts.count >= 2 { judge(upTo: rowStarts[rowStarts.count - 2]) }
            }
            checkSpikes(upTo: candidates.count)
            judge(upTo: candidates.count)
        }
        spikeCount = spikes
        return seeds
    }

    /// Region growing from `seeds` (in order, each not yet in a region): 8-connected pixels above
    /// background + `regionSigma` sigmas, at most `maxRegionPixels` per region and `4 x maxPeaks` regions.
    func growRegions(from seeds: [Int32], _ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int,
                     bg: BackgroundModel, masked: PixelMask) -> [[Int32]] {
        let k = Float(options.regionSigma)
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
        return regions
    }


    /// Broad faint spots: local maxima of the 5x5 mean above background + detectionSigma * sigma of a
    /// 5x5 mean, grown over 5x5 means above regionSigma of it, away from the regions already found.
    /// One sequential pass with 5-row column sums (a ring of five rows) of the valid pixels (spikes and
    /// dead pixels left out) tests every pixel against a lower bound; the few that pass are judged on
    /// their exact 5x5 means (`wideMean`).
    func detectBroad(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
                             masked: PixelMask) -> [[Int32]] {
        guard w >= 12 && h >= 12 else { return [] }
        if wideMark.count != w * h { wideMark = [UInt8](repeating: 0, count: w * h) } else {
            wideMark.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        let seedK = Float(options.detectionSigma)
        // Cheap first test per block: the lowest background of the block and its neighbours (a lower
        // bound of the bilinear level inside it) plus the threshold, as a 5x5 sum.
        let B = bg.blockSize, C = bg.columns, R = bg.rows
        var lowThreshold = [Float](repeating: 0, count: C * R)
        for r in 0..<R { for c in 0..<C {
            var lo = Float.infinity
            for rr in max(0, r - 1)...min(R - 1, r + 1) { for cc in max(0, c - 1)...min(C - 1, c + 1) { lo = min(lo, bg.level[rr * C + cc]) } }
            // In Float and a little low: a prefilter that may pass more, never fewer, than the exact test.
            let t = Double(lo + seedK * bg.sigmaWide[r * C + c]) * 25
            lowThreshold[r * C + c] = Float(t - abs(t) * 1e-5)
        } }
        let blockOf = (0..<w).map { min(C - 1, $0 / B) }
        var regions: [[Int32]] = []
        var queue: [Int32] = []
        let margin = PeakSearchConstants.broadClearance
        // Valid pixel values (0 where dead or a spike) of rows y-2...y+2 in a ring of five rows, their
        // column sums, the 5x5 window sums and the row's lower-bound thresholds.
        let ring = UnsafeMutableBufferPointer<Float>.allocate(capacity: 5 * w)
        let columnSums = UnsafeMutableBufferPointer<Float>.allocate(capacity: w)
        let windowSums = UnsafeMutableBufferPointer<Float>.allocate(capacity: w)
        let rowThreshold = UnsafeMutableBufferPointer<Float>.allocate(capacity: w)
        defer { ring.deallocate(); columnSums.deallocate(); windowSums.deallocate(); rowThreshold.deallocate() }
        let zeros = masked.zeros
        state.withUnsafeMutableBufferPointer { st in
            wideMark.withUnsafeMutableBufferPointer { mark in
                @inline(__always) func mean(_ x: Int, _ y: Int) -> Float {
                    wideMean(px, width: w, x: x, y: y, masked: masked, state: UnsafeBufferPointer(st))
                }
                func fill(row r: Int) {
                    let dst = ring.baseAddress! + (r % 5) * w, src = px.baseAddress! + r * w, flags = st.baseAddress! + r * w
                    // Branch-free (vectorised): finite, not a masked zero, not a spike.
                    let zeroIsDead: UInt8 = zeros ? 1 : 0
                    for x in 0..<w {
                        let v = src[x]
                        let finite: UInt8 = v.magnitude < .infinity ? 1 : 0
                        let maskedZero: UInt8 = v == 0 ? zeroIsDead : 0
                        let spike: UInt8 = flags[x] == 4 ? 1 : 0
                        dst[x] = finite & ~maskedZero & ~spike & 1 == 1 ? v : 0
                    }
                }
                for r in 1...4 { fill(row: r) }
                var thresholdRow = -1
                for y in 3..<(h - 3) {
                    fill(row: y + 2)
                    let r0 = ring.baseAddress!, r1 = r0 + w, r2 = r1 + w, r3 = r2 + w, r4 = r3 + w
                    let c = columnSums.baseAddress!, win = windowSums.baseAddress!, thr = rowThreshold.baseAddress!
                    for x in 0..<w { c[x] = r0[x] + r1[x] + r2[x] + r3[x] + r4[x] }
                    for x in 2..<(w - 2) { win[x] = c[x - 2] + c[x - 1] + c[x] + c[x + 1] + c[x + 2] }
                    let blockRow = min(R - 1, y / B)
                    if blockRow != thresholdRow {
                        thresholdRow = blockRow
                        for x in 0..<w { thr[x] = lowThreshold[blockRow * C + blockOf[x]] }
                    }
                    forEachAbove(win, thr, in: 3..<(w - 3)) { x in
                        let i = y * w + x
                        guard st[i] == 0, mark[i] == 0 else { return }
                        let m = mean(x, y)
                        guard m > bg.levelAt(x: x, y: y) + seedK * bg.sigmaWideAt(x: x, y: y) else { return }
                        // A local maximum of the 5x5 means, clear of the regions already found.
                        var isMax = true, clear = true
                        for dy in -1...1 where isMax { for dx in -1...1 where dx != 0 || dy != 0 { if mean(x + dx, y + dy) > m { isMax = false; break } } }
                        guard isMax else { return }
                        for yy in max(0, y - margin)...min(h - 1, y + margin) where clear {
                            for xx in max(0, x - margin)...min(w - 1, x + margin) where st[yy * w + xx] == 3 { clear = false; break }
                        }
                        guard clear, let region = growBroad(from: i, px, width: w, height: h, bg: bg, masked: masked,
                                                            state: st, mark: mark, queue: &queue) else { return }
                        for q in region { st[Int(q)] = 3; touched.append(q) }
                        regions.append(region)
                    }
                }
            }
        }
        return regions
    }

    /// Calls `body(x)` for every x in `range` with `values[x] > thresholds[x]`, in order. Chunks of 32
    /// are tested first without branches (vectorised): most chunks of a frame hold none.
    @inline(__always)
    func forEachAbove<T: Comparable>(_ values: UnsafePointer<T>, _ thresholds: UnsafePointer<T>, in range: Range<Int>,
                                     _ body: (Int) -> Void) {
        var chunk = range.lowerBound
        while chunk < range.upperBound {
            let end = min(range.upperBound, chunk + 32)
            var hits: UInt32 = 0
            var x = chunk
            while x < end { hits |= values[x] > thresholds[x] ? 1 : 0; x &+= 1 }
            let start = chunk
            chunk = end
            guard hits != 0 else { continue }
            for x in start..<end where values[x] > thresholds[x] { body(x) }
        }
    }

    /// A broad spot grown from `seed` over 8-connected pixels whose 5x5 mean is above background +
    /// `regionSigma` sigmas of a 5x5 mean (visited pixels marked in `mark`), or nil when it touches a
    /// region already found (the wings of a peak are not a new spot) or stays under
    /// `broadMinimumPixels` pixels.
    func growBroad(from seed: Int, _ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
                   masked: PixelMask, state st: UnsafeMutableBufferPointer<UInt8>, mark: UnsafeMutableBufferPointer<UInt8>,
                   queue: inout [Int32]) -> [Int32]? {
        let k = Float(options.regionSigma)
        queue.removeAll(keepingCapacity: true)
        queue.append(Int32(seed)); mark[seed] = 1
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
                    if st[q] == 3 { touches = true; continue }
                    guard mark[q] == 0, st[q] != 4 else { continue }
                    mark[q] = 1
                    let m = wideMean(px, width: w, x: xx, y: yy, masked: masked, state: UnsafeBufferPointer(st))
                    if m > bg.levelAt(x: xx, y: yy) + k * bg.sigmaWideAt(x: xx, y: yy) { queue.append(Int32(q)) }
                }
            }
        }
        guard !touches, queue.count >= PeakSearchConstants.broadMinimumPixels else { return nil }
        return queue
    }

    /// Mean of the valid pixels (not dead, not spikes) of the 5x5 window centred on (x, y), or -inf
    /// when fewer than `wideMinimumValid` are valid. The window must lie inside the frame.
    @inline(__always)
    func wideMean(_ px: UnsafeBufferPointer<Float>, width w: Int, x: Int, y: Int, masked: PixelMask,
                  state st: UnsafeBufferPointer<UInt8>) -> Float {
        var s = 0.0
        var c: Int32 = 0
        for yy in (y - 2)...(y + 2) {
            let b = yy * w
            for xx in (x - 2)...(x + 2) {
                let v = px[b + xx]
                if !masked(v) && st[b + xx] != 4 { s += Double(v); c += 1 }
            }
        }
        guard c >= PeakSearchConstants.wideMinimumValid else { return -.infinity }
        return Float(s / Double(c))
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
