import Foundation
import LaueCore

// The coarse pass (docs/peaks.md, "Search" step 5): spots tens of pixels wide whose 5x5 means stay in
// the noise. A random-dislocation or GND spread of 0.2-0.5 deg on a detector far from the sample
// (34-ID-E: 0.022 deg per pixel) spreads a reflection over 20-60 px; the first two passes see at most
// fragments of it, which measurement then rejects (their local background lies inside the spot).
extension PeakSearcher {
    /// Broad spots found on cells of `coarseCell` x `coarseCell` pixels: local maxima of the 3x3 mean of
    /// cell means above background + detectionSigma sigmas of that mean (its noise measured over the
    /// frame's cells), grown over cells above regionSigma of it.
    ///
    /// It runs after the measurement of the earlier passes' regions and only adds spots: a coarse region
    /// that comes within `coarseClearance` cells of a region holding a measured spot (`spots`) is that
    /// spot's wing and is dropped; the
    /// other regions inside it (fragments of it that measurement rejected) take their place in
    /// `regions`. `broadStart` follows the regions removed; `coarseStart` is where the coarse regions
    /// begin. Returns whether it found any.
    func detectCoarse(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
                      masked: PixelMask, regions: inout [[Int32]], spots: Set<Int>) -> Bool {
        let f = PeakSearchConstants.coarseCell
        let cw = w / f, ch = h / f
        coarseStart = regions.count
        guard cw >= 8 && ch >= 8 else { return false }
        let z = cellSignal(px, width: w, cell: f, columns: cw, rows: ch, bg: bg, masked: masked)
        // The 3x3 mean of cells, and its noise measured on the frame (median absolute deviation over
        // all cells: spots cover a small part of a frame that needs this pass).
        var smooth = [Float](repeating: .nan, count: cw * ch)
        for cy in 1..<(ch - 1) { for cx in 1..<(cw - 1) {
            var s: Float = 0, n = 0
            for dy in -1...1 { for dx in -1...1 {
                let v = z[(cy + dy) * cw + cx + dx]
                if !v.isNaN { s += v; n += 1 }
            } }
            if n >= PeakSearchConstants.coarseMinimumValidCells { smooth[cy * cw + cx] = s / Float(n) }
        } }
        // (Every `coarseNoiseStride`-th cell: enough for a median.)
        var finite: [Float] = []
        finite.reserveCapacity(smooth.count / PeakSearchConstants.coarseNoiseStride + 1)
        for k in Swift.stride(from: 0, to: smooth.count, by: PeakSearchConstants.coarseNoiseStride) where !smooth[k].isNaN {
            finite.append(smooth[k])
        }
        guard finite.count >= 64 else { return false }
        let centre = BackgroundModel.median(&finite)
        for i in finite.indices { finite[i] = abs(finite[i] - centre) }
        let noise = 1.4826 * BackgroundModel.median(&finite)
        guard noise > 0 else { return false }
        let seedLevel = centre + Float(options.detectionSigma) * noise
        let regionLevel = centre + Float(options.regionSigma) * noise
        // Seeds: local maxima above seedLevel, highest first.
        var seeds: [Int] = []
        for cy in 1..<(ch - 1) { for cx in 1..<(cw - 1) {
            let k = cy * cw + cx, v = smooth[k]
            guard v > seedLevel else { continue }
            var isMax = true
            for dy in -1...1 where isMax { for dx in -1...1 where dx != 0 || dy != 0 {
                let q = (cy + dy) * cw + cx + dx, u = smooth[q]
                if !u.isNaN && (u > v || (u == v && q < k)) { isMax = false; break }
            } }
            if isMax { seeds.append(k) }
        } }
        guard !seeds.isEmpty else { return false }
        seeds.sort { smooth[$0] > smooth[$1] || (smooth[$0] == smooth[$1] && $0 < $1) }
        // The region of the earlier passes over each cell (hot pixels, spikes by now, left out).
        var regionOf = [Int32](repeating: -1, count: cw * ch)
        state.withUnsafeBufferPointer { st in
            for (r, pixels) in regions.enumerated() {
                for i in pixels where st[Int(i)] == 3 {
                    let x = Int(i) % w / f, y = Int(i) / w / f
                    if x < cw && y < ch { regionOf[y * cw + x] = Int32(r) }
                }
            }
        }
        // Cells within `coarseClearance` cells of a measured spot: a coarse region reaching them is that
        // spot's wing (or the faint continuation of its streak).
        var near = [Bool](repeating: false, count: cw * ch)
        let clearance = PeakSearchConstants.coarseClearance
        for k in 0..<(cw * ch) where regionOf[k] >= 0 && spots.contains(Int(regionOf[k])) {
            let cx = k % cw, cy = k / cw
            for yy in max(0, cy - clearance)...min(ch - 1, cy + clearance) {
                for xx in max(0, cx - clearance)...min(cw - 1, cx + clearance) { near[yy * cw + xx] = true }
            }
        }
        var visited = [Bool](repeating: false, count: cw * ch)
        var found: [[Int32]] = []
        var absorbed = Set<Int>()
        for seed in seeds where !visited[seed] {
            guard !near[seed] else { continue }
            var cells = [seed], head = 0, touches = false
            visited[seed] = true
            while head < cells.count {
                let k = cells[head]; head += 1
                let cx = k % cw, cy = k / cw
                for dy in -1...1 { for dx in -1...1 where dx != 0 || dy != 0 {
                    let xx = cx + dx, yy = cy + dy
                    guard xx >= 1, yy >= 1, xx < cw - 1, yy < ch - 1 else { continue }
                    let q = yy * cw + xx
                    if near[q] { touches = true; continue }
                    guard !visited[q], smooth[q] > regionLevel else { continue }
                    visited[q] = true
                    cells.append(q)
                } }
            }
            guard !touches, cells.count >= PeakSearchConstants.coarseMinimumCells else { continue }
            let inside = Set(cells.compactMap { regionOf[$0] >= 0 ? Int(regionOf[$0]) : nil })
            guard inside.isDisjoint(with: absorbed) else { continue }
            // The valid pixels of the cells not in a region, then the regions inside.
            var pixels: [Int32] = []
            state.withUnsafeBufferPointer { st in
                for k in cells {
                    let cx = k % cw, cy = k / cw
                    for y in (cy * f)..<(cy * f + f) { for x in (cx * f)..<(cx * f + f) {
                        let i = y * w + x
                        if st[i] != 4 && st[i] != 3 && !masked(px[i]) { pixels.append(Int32(i)) }
                    } }
                }
            }
            for r in inside.sorted() { pixels += regions[r] }
            guard pixels.count >= PeakSearchConstants.broadMinimumPixels else { continue }
            absorbed.formUnion(inside)
            state.withUnsafeMutableBufferPointer { st in
                for i in pixels where st[Int(i)] != 3 { st[Int(i)] = 3; touched.append(i) }
            }
            found.append(pixels)
        }
        if !absorbed.isEmpty {
            broadStart -= absorbed.filter { $0 < broadStart }.count
            regions = regions.enumerated().filter { !absorbed.contains($0.offset) }.map(\.element)
        }
        coarseStart = regions.count
        regions += found
        return !found.isEmpty
    }

    /// Per cell of `cell` x `cell` pixels: the mean of its valid pixels (not dead, not spikes) above the
    /// background, in units of the pixel noise; nan when fewer than half are valid. The sums run over
    /// every pixel in row order (vectorised); the few spikes (all in `touched`) are then taken out, and
    /// cells with a non-finite pixel, or any cell of a frame with dead zeros, are summed pixel by pixel.
    private func cellSignal(_ px: UnsafeBufferPointer<Float>, width w: Int, cell f: Int, columns cw: Int, rows ch: Int,
                            bg: BackgroundModel, masked: PixelMask) -> [Float] {
        var sums = [Float](repeating: 0, count: cw * ch)
        var counts = [Float](repeating: Float(f * f), count: cw * ch)
        var exact = [Bool](repeating: masked.zeros, count: cw * ch)
        sums.withUnsafeMutableBufferPointer { sm in
            for cy in 0..<ch {
                let cells = sm.baseAddress! + cy * cw
                for y in (cy * f)..<(cy * f + f) {
                    let src = px.baseAddress! + y * w
                    for cx in 0..<cw {
                        var s: Float = 0
                        for k in 0..<f { s += src[cx * f + k] }
                        cells[cx] += s
                    }
                }
            }
        }
        for k in sums.indices where !sums[k].isFinite { exact[k] = true }
        state.withUnsafeBufferPointer { st in
            let spikes = Set(touched.lazy.filter { st[Int($0)] == 4 })
            for i in spikes {
                let x = Int(i) % w / f, y = Int(i) / w / f
                guard x < cw, y < ch, !exact[y * cw + x] else { continue }
                sums[y * cw + x] -= px[Int(i)]
                counts[y * cw + x] -= 1
            }
            for k in sums.indices where exact[k] {
                let cx = k % cw, cy = k / cw
                var s: Float = 0, n: Float = 0
                for y in (cy * f)..<(cy * f + f) { for x in (cx * f)..<(cx * f + f) {
                    let v = px[y * w + x]
                    if !masked(v) && st[y * w + x] != 4 { s += v; n += 1 }
                } }
                sums[k] = s; counts[k] = n
            }
        }
        var z = [Float](repeating: .nan, count: cw * ch)
        for cy in 0..<ch {
            let y = cy * f + f / 2
            for cx in 0..<cw where 2 * counts[cy * cw + cx] >= Float(f * f) {
                let x = cx * f + f / 2
                let sigma = bg.sigmaAt(x: x, y: y)
                guard sigma > 0 else { continue }
                z[cy * cw + cx] = (sums[cy * cw + cx] / counts[cy * cw + cx] - bg.levelAt(x: x, y: y)) / sigma
            }
        }
        return z
    }
}
