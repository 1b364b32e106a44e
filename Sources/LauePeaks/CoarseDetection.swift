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
    /// spot's wing and is dropped; the other regions inside it (fragments of it that measurement
    /// rejected) take their place in `regions`. `broadStart` follows the regions removed; `coarseStart`
    /// is where the coarse regions begin. Returns whether it found any.
    func detectCoarse(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, bg: BackgroundModel,
                      masked: PixelMask, regions: inout [[Int32]], spots: Set<Int>) -> Bool {
        let f = PeakSearchConstants.coarseCell
        let cw = w / f, ch = h / f
        guard cw >= 8 && ch >= 8 else { return false }
        let z = cellSignal(px, width: w, cell: f, columns: cw, rows: ch, bg: bg, masked: masked)
        let smooth = Self.cellMeans(z, columns: cw, rows: ch)
        guard let (centre, noise) = Self.cellNoise(smooth) else { return false }
        let seeds = Self.localMaxima(smooth, above: centre + Float(options.detectionSigma) * noise, columns: cw, rows: ch)
        guard !seeds.isEmpty else { return false }
        let regionLevel = centre + Float(options.regionSigma) * noise
        let (near, fragments) = clearanceAndFragments(regions, spots: spots, width: w, cell: f, columns: cw, rows: ch)
        var visited = [Bool](repeating: false, count: cw * ch)
        var found: [[Int32]] = []
        var absorbed = Set<Int>()
        for seed in seeds where !visited[seed] && !near[seed] {
            guard let cells = Self.grow(seed, smooth: smooth, above: regionLevel, near: near, visited: &visited, columns: cw, rows: ch),
                  cells.count >= PeakSearchConstants.coarseMinimumCells,
                  standsOut(cells, smooth: smooth, z: z, near: near, columns: cw, rows: ch, noise: noise) else { continue }
            let held = Set(cells.flatMap { fragments[$0] ?? [] })
            guard held.isDisjoint(with: absorbed) else { continue }
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
            for r in held.sorted() { pixels += regions[r] }
            guard pixels.count >= PeakSearchConstants.broadMinimumPixels else { continue }
            absorbed.formUnion(held)
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

    /// The 3x3 means of cell values `z` (nan unless all nine are valid). Cells within `coarseRimCells` of
    /// an invalid cell or of the frame's edge stay out: a detector's rim (MarCCD's circular edge) and its
    /// gaps are often brighter or darker than the background model says.
    static func cellMeans(_ z: [Float], columns cw: Int, rows ch: Int) -> [Float] {
        let rim = PeakSearchConstants.coarseRimCells
        var inside = [Bool](repeating: true, count: cw * ch)
        for cy in 0..<ch { for cx in 0..<cw where z[cy * cw + cx].isNaN || cx < rim || cy < rim || cx >= cw - rim || cy >= ch - rim {
            for yy in max(0, cy - rim)...min(ch - 1, cy + rim) { for xx in max(0, cx - rim)...min(cw - 1, cx + rim) { inside[yy * cw + xx] = false } }
        } }
        var smooth = [Float](repeating: .nan, count: cw * ch)
        // Summed in row order without tests: a nan among the nine gives nan.
        z.withUnsafeBufferPointer { zp in
            for cy in 1..<(ch - 1) {
                let above = zp.baseAddress! + (cy - 1) * cw, row = above + cw, below = row + cw
                for cx in 1..<(cw - 1) where inside[cy * cw + cx] {
                    var s: Float = 0
                    s += above[cx - 1]; s += above[cx]; s += above[cx + 1]
                    s += row[cx - 1]; s += row[cx]; s += row[cx + 1]
                    s += below[cx - 1]; s += below[cx]; s += below[cx + 1]
                    smooth[cy * cw + cx] = s / 9
                }
            }
        }
        return smooth
    }

    /// Median and noise (1.4826 median absolute deviation) of the 3x3 means, over every
    /// `coarseNoiseStride`-th cell (spots cover a small part of a frame that needs this pass); nil with
    /// fewer than 64 such cells or no noise.
    static func cellNoise(_ smooth: [Float]) -> (centre: Float, noise: Float)? {
        var finite: [Float] = []
        finite.reserveCapacity(smooth.count / PeakSearchConstants.coarseNoiseStride + 1)
        for k in Swift.stride(from: 0, to: smooth.count, by: PeakSearchConstants.coarseNoiseStride) where !smooth[k].isNaN {
            finite.append(smooth[k])
        }
        guard finite.count >= 64 else { return nil }
        let centre = BackgroundModel.median(&finite)
        for i in finite.indices { finite[i] = abs(finite[i] - centre) }
        let noise = 1.4826 * BackgroundModel.median(&finite)
        return noise > 0 ? (centre, noise) : nil
    }

    /// Cells that are local maxima above `level` (ties: the lower index wins), highest first.
    static func localMaxima(_ smooth: [Float], above level: Float, columns cw: Int, rows ch: Int) -> [Int] {
        var seeds: [Int] = []
        for cy in 1..<(ch - 1) { for cx in 1..<(cw - 1) {
            let k = cy * cw + cx, v = smooth[k]
            guard v > level else { continue }
            var isMax = true
            for dy in -1...1 where isMax { for dx in -1...1 where dx != 0 || dy != 0 {
                let q = (cy + dy) * cw + cx + dx, u = smooth[q]
                if !u.isNaN && (u > v || (u == v && q < k)) { isMax = false; break }
            } }
            if isMax { seeds.append(k) }
        } }
        return seeds.sorted { smooth[$0] > smooth[$1] || (smooth[$0] == smooth[$1] && $0 < $1) }
    }

    /// Cells within `coarseClearance` cells of a measured spot's pixels (a coarse region reaching them
    /// is that spot's wing, or the faint continuation of its streak), and the other regions of the
    /// earlier passes (fragments measurement rejected; hot pixels, spikes by now, left out) by cell.
    private func clearanceAndFragments(_ regions: [[Int32]], spots: Set<Int>, width w: Int, cell f: Int, columns cw: Int,
                                       rows ch: Int) -> (near: [Bool], fragments: [Int: [Int]]) {
        var near = [Bool](repeating: false, count: cw * ch)
        var fragments: [Int: [Int]] = [:]
        let clearance = PeakSearchConstants.coarseClearance
        state.withUnsafeBufferPointer { st in
            for (r, pixels) in regions.enumerated() {
                let spot = spots.contains(r)
                var cellsOfRegion = Set<Int>()
                for i in pixels where st[Int(i)] == 3 {
                    let x = Int(i) % w / f, y = Int(i) / w / f
                    if x < cw && y < ch { cellsOfRegion.insert(y * cw + x) }
                }
                for k in cellsOfRegion {
                    guard spot else { fragments[k, default: []].append(r); continue }
                    let cx = k % cw, cy = k / cw
                    for yy in max(0, cy - clearance)...min(ch - 1, cy + clearance) {
                        for xx in max(0, cx - clearance)...min(cw - 1, cx + clearance) { near[yy * cw + xx] = true }
                    }
                }
            }
        }
        return (near, fragments)
    }

    /// The 8-connected cells above `level` grown from `seed` (marked in `visited`), or nil when they
    /// reach a cell `near` a measured spot.
    static func grow(_ seed: Int, smooth: [Float], above level: Float, near: [Bool], visited: inout [Bool],
                     columns cw: Int, rows ch: Int) -> [Int]? {
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
                guard !visited[q], smooth[q] > level else { continue }
                visited[q] = true
                cells.append(q)
            } }
        }
        return touches ? nil : cells
    }

    /// Whether a coarse region stands out of its surroundings on every side: its highest 3x3 mean of cells
    /// exceeds by `coarseConfirmSigma` noise sigmas the median cell of each strip of cells beside its
    /// bounding box (left, right, above, below; half the box's size wide, 2-6 cells; cells near measured
    /// spots and invalid cells left out; sides with fewer than 3 cells skipped, at least 2 needed). A
    /// step in the background (a detector's rim, a shadow) is high on one side and fails; a spot does not.
    private func standsOut(_ cells: [Int], smooth: [Float], z: [Float], near: [Bool], columns cw: Int, rows ch: Int,
                           noise: Float) -> Bool {
        var x0 = Int.max, x1 = Int.min, y0 = Int.max, y1 = Int.min, top = -Float.infinity
        for k in cells {
            x0 = min(x0, k % cw); x1 = max(x1, k % cw); y0 = min(y0, k / cw); y1 = max(y1, k / cw)
            top = max(top, smooth[k])
        }
        let m = max(2, min(6, max(x1 - x0 + 1, y1 - y0 + 1) / 2))
        let sides = [(x0 - m...x0 - 1, y0...y1), (x1 + 1...x1 + m, y0...y1), (x0...x1, y0 - m...y0 - 1), (x0...x1, y1 + 1...y1 + m)]
        var counted = 0
        for (xs, ys) in sides {
            var values: [Float] = []
            for y in ys where y >= 0 && y < ch { for x in xs where x >= 0 && x < cw {
                let k = y * cw + x
                if !near[k] && !z[k].isNaN { values.append(z[k]) }
            } }
            guard values.count >= 3 else { continue }
            counted += 1
            if top - BackgroundModel.median(&values) < PeakSearchConstants.coarseConfirmSigma * noise { return false }
        }
        return counted >= 2
    }

    /// Per cell of `cell` x `cell` pixels: the mean of its valid pixels (not dead, not spikes) above the
    /// background, in units of the pixel noise; nan when fewer than `coarseCellValid` of its pixels are
    /// valid. The sums run over every pixel in row order (vectorised); the few spikes (all in `touched`)
    /// are then taken out, and cells with a non-finite or dead pixel are summed pixel by pixel.
    private func cellSignal(_ px: UnsafeBufferPointer<Float>, width w: Int, cell f: Int, columns cw: Int, rows ch: Int,
                            bg: BackgroundModel, masked: PixelMask) -> [Float] {
        var sums = [Float](repeating: 0, count: cw * ch)
        var counts = [Float](repeating: Float(f * f), count: cw * ch)
        var zeros = [Float](repeating: 0, count: cw * ch)
        // Per band of `f` rows: column sums and zero counts (vectorised over the row), then the sums of
        // each cell's `f` columns. Integer pixel values sum exactly in Float (below 2^24).
        let columnSum = UnsafeMutableBufferPointer<Float>.allocate(capacity: w)
        let columnZeros = UnsafeMutableBufferPointer<Float>.allocate(capacity: w)
        defer { columnSum.deallocate(); columnZeros.deallocate() }
        sums.withUnsafeMutableBufferPointer { sm in
            zeros.withUnsafeMutableBufferPointer { zm in
                let cs = columnSum.baseAddress!, cz = columnZeros.baseAddress!
                for cy in 0..<ch {
                    let first = px.baseAddress! + cy * f * w
                    for x in 0..<w { let v = first[x]; cs[x] = v; cz[x] = v == 0 ? 1 : 0 }
                    for k in 1..<f {
                        let src = first + k * w
                        for x in 0..<w { let v = src[x]; cs[x] += v; cz[x] += v == 0 ? 1 : 0 }
                    }
                    let cells = sm.baseAddress! + cy * cw, zc = zm.baseAddress! + cy * cw
                    for cx in 0..<cw {
                        var s: Float = 0, n: Float = 0
                        for k in 0..<f { s += cs[cx * f + k]; n += cz[cx * f + k] }
                        cells[cx] = s
                        zc[cx] = n
                    }
                }
            }
        }
        // Pixel by pixel: cells with a non-finite pixel, or with a zero where zeros are dead pixels.
        let deadZeros = masked.zeros
        let exact = sums.indices.map { !sums[$0].isFinite || (deadZeros && zeros[$0] > 0) }
        state.withUnsafeBufferPointer { st in
            let spikes = Set(touched.lazy.filter { st[Int($0)] == 4 }).sorted()
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
        // Background level and noise at the cell centres.
        let centresX = (0..<cw).map { $0 * f + f / 2 }, centresY = (0..<ch).map { $0 * f + f / 2 }
        let level = bg.levels(columns: centresX, rows: centresY)
        let blockX = centresX.map { min(bg.columns - 1, $0 / bg.blockSize) }
        var z = [Float](repeating: .nan, count: cw * ch)
        let minimumCount = PeakSearchConstants.coarseCellValid * Float(f * f)
        for cy in 0..<ch {
            let sigmaRow = min(bg.rows - 1, centresY[cy] / bg.blockSize) * bg.columns
            for cx in 0..<cw where counts[cy * cw + cx] >= minimumCount {
                let k = cy * cw + cx, sigma = bg.sigma[sigmaRow + blockX[cx]]
                guard sigma > 0 else { continue }
                z[k] = (sums[k] / counts[k] - level[k]) / sigma
            }
        }
        return z
    }
}
