import Foundation
import LaueCore

/// Which pixel values are dead: non-finite ones always, zeros when the detector has masked areas.
struct PixelMask {
    let zeros: Bool
    @inline(__always) func callAsFunction(_ v: Float) -> Bool { !v.isFinite || (zeros && v == 0) }
}

/// Background and noise on a coarse grid of blocks: per block, the median and the MAD-based standard
/// deviation of a sub-sample of its valid pixels. A median per block is robust to spots and to streaks
/// covering less than half a block; a 3x3 median over blocks removes the rest, and the grid follows
/// smooth fluorescence gradients. One sparse pass over the frame (a quarter of its rows) also decides
/// whether zeros are dead pixels and finds the saturation and value range.
struct BackgroundModel {
    let blockSize: Int
    let columns: Int
    let rows: Int
    var level: [Float]
    var sigma: [Float]
    /// Standard deviation of a 3x3 mean: detector noise is often spatially correlated (MarCCD taper,
    /// sCMOS), so it is measured (on a subset of blocks) rather than taken as sigma / 3.
    var sigmaMean: [Float]
    /// Standard deviation of a 5x5 mean (broad-spot detection), measured the same way.
    var sigmaWide: [Float]
    /// Over the sampled pixels: how many were valid, how many saturated, and the largest value.
    var validSamples = 0
    var saturatedSamples = 0
    var sampledMaximum: Float = 0
    /// Whether zeros are treated as dead pixels (given, or decided from the samples).
    let mask: PixelMask

    init(pixels: UnsafeBufferPointer<Float>, width: Int, height: Int, blockSize: Int, maskZeros: Bool?,
         saturation: Float) {
        self.blockSize = blockSize
        columns = (width + blockSize - 1) / blockSize
        rows = (height + blockSize - 1) / blockSize
        // A sub-sample is enough for a median: an 8 x 8 grid of samples per block (64 values);
        // the 3x3 median over blocks then steadies the estimates.
        let step = max(1, blockSize / 8)
        let perBlock = ((blockSize + step - 1) / step) * ((blockSize + step - 1) / step)
        let blocks = columns * rows
        let samples = UnsafeMutableBufferPointer<Float>.allocate(capacity: blocks * perBlock)
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: blocks)
        counts.initialize(repeating: 0)
        defer { samples.deallocate(); counts.deallocate() }
        var zeros = 0
        var nonzero: [Float] = []
        var saturatedCount = 0
        var maximum: Float = 0
        nonzero.reserveCapacity(4096)
        let cols = columns, px = pixels.baseAddress!
        var r = step / 2
        while r < height {
            let rowBlock = (r / blockSize) * cols
            let base = px + r * width
            var c = (r / step) % 2 + step / 2
            while c < width {
                let v = base[c]
                if v.isFinite {
                    let b = rowBlock + c / blockSize
                    samples[b * perBlock + counts[b]] = v
                    counts[b] += 1
                    if v == 0 { zeros += 1 } else if nonzero.count < 4096 && (c / step) % 16 == 0 { nonzero.append(v) }
                    if v >= saturation { saturatedCount += 1 }
                    if v > maximum { maximum = v }
                }
                c += step
            }
            r += step
        }
        saturatedSamples = saturatedCount
        sampledMaximum = maximum
        var total = 0
        for b in 0..<blocks { total += counts[b] }
        // Dead zeros: more than 2 % of the samples are exactly 0 while the rest sit above 10.
        let decided = maskZeros ?? (zeros * 50 > total && !nonzero.isEmpty && BackgroundModel.median(&nonzero) > 10)
        mask = PixelMask(zeros: decided)
        validSamples = decided ? total - zeros : total

        var lv = [Float](repeating: .nan, count: columns * rows)
        var sg = [Float](repeating: .nan, count: columns * rows)
        for b in 0..<blocks {
            // Compact the valid samples of block b in place, then select.
            let v = samples.baseAddress! + b * perBlock
            var n = 0
            for i in 0..<counts[b] where !(decided && v[i] == 0) { v[n] = v[i]; n += 1 }
            guard n >= 12 else { continue }
            let med = BackgroundModel.median(v, n)
            for i in 0..<n { v[i] = abs(v[i] - med) }
            lv[b] = med
            sg[b] = 1.4826 * BackgroundModel.median(v, n)
        }
        level = lv
        sigma = sg
        sigmaMean = sg
        sigmaWide = sg
        // Noise of a 3x3 (and 5x5) mean relative to a pixel's, measured on every 4th block in each direction.
        var ratios: [Float] = [], wideRatios: [Float] = []
        var means = [Float](); means.reserveCapacity(64)
        var wide = [Float](); wide.reserveCapacity(64)
        let m = mask
        for br in Swift.stride(from: 1, to: rows, by: 4) {
            for bc in Swift.stride(from: 1, to: columns, by: 4) {
                let b = br * columns + bc
                guard !lv[b].isNaN, sg[b] > 0 else { continue }
                means.removeAll(keepingCapacity: true)
                wide.removeAll(keepingCapacity: true)
                let r1 = min(height - 1, (br + 1) * blockSize), c1 = min(width - 1, (bc + 1) * blockSize)
                var mr = br * blockSize + 1
                while mr < r1 {
                    var mc = bc * blockSize + 1
                    while mc < c1 {
                        var sum: Float = 0, ok = true
                        for dy in -1...1 where ok { for dx in -1...1 {
                            let v = pixels[(mr + dy) * width + mc + dx]
                            if m(v) { ok = false; break }
                            sum += v
                        } }
                        if ok { means.append(sum / 9) }
                        if mr >= 2 && mc >= 2 && mr + 2 < height && mc + 2 < width {
                            var sum5: Float = 0, ok5 = true
                            for dy in -2...2 where ok5 { for dx in -2...2 {
                                let v = pixels[(mr + dy) * width + mc + dx]
                                if m(v) { ok5 = false; break }
                                sum5 += v
                            } }
                            if ok5 { wide.append(sum5 / 25) }
                        }
                        mc += 5
                    }
                    mr += 5
                }
                guard means.count >= 12 else { continue }
                let mm = BackgroundModel.median(&means)
                for i in means.indices { means[i] = abs(means[i] - mm) }
                ratios.append(1.4826 * BackgroundModel.median(&means) / sg[b])
                if wide.count >= 12 {
                    let mw = BackgroundModel.median(&wide)
                    for i in wide.indices { wide[i] = abs(wide[i] - mw) }
                    wideRatios.append(1.4826 * BackgroundModel.median(&wide) / sg[b])
                }
            }
        }
        let ratio = ratios.isEmpty ? Float(1) / 3 : max(Float(1) / 3, min(1, BackgroundModel.median(&ratios)))
        let wideRatio = wideRatios.isEmpty ? ratio : max(Float(1) / 5, min(1, BackgroundModel.median(&wideRatios)))
        fillInvalid()
        smooth()
        let noiseFloor = max(0.5, 1e-4 * sampledMaximum)
        for i in sigma.indices {
            sigma[i] = max(sigma[i], noiseFloor, 0.05 * level[i].squareRoot())
            sigmaMean[i] = sigma[i] * ratio
            sigmaWide[i] = sigma[i] * wideRatio
        }
    }

    /// Median by selection (reorders `v`).
    static func median(_ v: inout [Float]) -> Float {
        let n = v.count
        guard n > 0 else { return .nan }
        return v.withUnsafeMutableBufferPointer { median($0.baseAddress!, n) }
    }

    /// Median of `n` values at `v` by Hoare selection (reorders them).
    static func median(_ v: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        guard n > 0 else { return .nan }
        var lo = 0, hi = n - 1
        let k = n / 2
        while lo < hi {
            let pivot = v[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while v[i] < pivot { i += 1 }
                while v[j] > pivot { j -= 1 }
                if i <= j { let t = v[i]; v[i] = v[j]; v[j] = t; i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { break }
        }
        return v[k]
    }

    /// Blocks without enough valid pixels take the mean of their valid neighbours (growing outwards).
    private mutating func fillInvalid() {
        var pending = level.indices.filter { level[$0].isNaN }
        guard pending.count < level.count else { return }
        while !pending.isEmpty {
            var next: [Int] = []
            var updates: [(Int, Float, Float)] = []
            for i in pending {
                let br = i / columns, bc = i % columns
                var sl: Float = 0, ss: Float = 0, n: Float = 0
                for dr in -1...1 { for dc in -1...1 {
                    let r = br + dr, c = bc + dc
                    guard r >= 0, c >= 0, r < rows, c < columns else { continue }
                    let j = r * columns + c
                    if !level[j].isNaN { sl += level[j]; ss += sigma[j]; n += 1 }
                } }
                if n > 0 { updates.append((i, sl / n, ss / n)) } else { next.append(i) }
            }
            if updates.isEmpty { break }
            for (i, l, s) in updates { level[i] = l; sigma[i] = s }
            pending = next
        }
    }

    /// 3x3 median over blocks: a block dominated by a streak or a large spot takes its neighbours' level.
    private mutating func smooth() {
        guard columns >= 3 || rows >= 3 else { return }
        var out = level, outS = sigma
        var window = [Float](); window.reserveCapacity(9)
        var windowS = [Float](); windowS.reserveCapacity(9)
        for br in 0..<rows {
            for bc in 0..<columns {
                window.removeAll(keepingCapacity: true); windowS.removeAll(keepingCapacity: true)
                for dr in -1...1 { for dc in -1...1 {
                    let r = br + dr, c = bc + dc
                    guard r >= 0, c >= 0, r < rows, c < columns else { continue }
                    if !level[r * columns + c].isNaN {
                        window.append(level[r * columns + c]); windowS.append(sigma[r * columns + c])
                    }
                } }
                guard !window.isEmpty else { continue }
                out[br * columns + bc] = BackgroundModel.median(&window)
                outS[br * columns + bc] = BackgroundModel.median(&windowS)
            }
        }
        level = out
        sigma = outS
    }

    /// Background level at a pixel (bilinear between block centres).
    @inline(__always) func levelAt(x: Int, y: Int) -> Float {
        let fx = (Float(x) + 0.5) / Float(blockSize) - 0.5, fy = (Float(y) + 0.5) / Float(blockSize) - 0.5
        let c0 = max(0, min(columns - 1, Int(fx.rounded(.down)))), r0 = max(0, min(rows - 1, Int(fy.rounded(.down))))
        let c1 = min(columns - 1, c0 + 1), r1 = min(rows - 1, r0 + 1)
        let tx = max(0, min(1, fx - Float(c0))), ty = max(0, min(1, fy - Float(r0)))
        let a = level[r0 * columns + c0], b = level[r0 * columns + c1]
        let c = level[r1 * columns + c0], d = level[r1 * columns + c1]
        return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty
    }

    /// `levelAt(x:y:)` at every pixel (x, y) of `xs` x `ys`, row by row (the same arithmetic, so the
    /// same values): the interpolation weights of each column and row are found once.
    func levels(columns xs: [Int], rows ys: [Int]) -> [Float] {
        func weights(_ p: Int, count: Int) -> (Int, Int, Float) {
            let f = (Float(p) + 0.5) / Float(blockSize) - 0.5
            let i0 = max(0, min(count - 1, Int(f.rounded(.down))))
            return (i0, min(count - 1, i0 + 1), max(0, min(1, f - Float(i0))))
        }
        let wx = xs.map { weights($0, count: columns) }
        var out = [Float](); out.reserveCapacity(xs.count * ys.count)
        for y in ys {
            let (r0, r1, ty) = weights(y, count: rows)
            for (c0, c1, tx) in wx {
                let a = level[r0 * columns + c0], b = level[r0 * columns + c1]
                let c = level[r1 * columns + c0], d = level[r1 * columns + c1]
                out.append((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty)
            }
        }
        return out
    }

    @inline(__always) func sigmaMeanAt(x: Int, y: Int) -> Float {
        sigmaMean[min(rows - 1, y / blockSize) * columns + min(columns - 1, x / blockSize)]
    }

    @inline(__always) func sigmaWideAt(x: Int, y: Int) -> Float {
        sigmaWide[min(rows - 1, y / blockSize) * columns + min(columns - 1, x / blockSize)]
    }

    @inline(__always) func sigmaAt(x: Int, y: Int) -> Float {
        sigma[min(rows - 1, y / blockSize) * columns + min(columns - 1, x / blockSize)]
    }
}
