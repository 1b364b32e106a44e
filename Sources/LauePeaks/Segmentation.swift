import Foundation
import LaueCore

/// One intensity maximum of a region and the pixels that drain to it (a watershed basin).
struct Basin {
    var pixels: [Int32]
    /// The pixel of the highest smoothed value, and that value above the background.
    var top: Int32
    var height: Float
    /// Found by the broad-spot pass (or the coarse pass).
    var broad: Bool
    /// Found by the coarse pass: one basin per region, not split.
    var coarse = false
    /// Index of the detection region it comes from.
    var region = -1
    /// Index of the spot (group of basins joined by high saddles) it belongs to.
    var spot = 0
}

/// Splits detection regions into basins at their saddles and groups basins into spots (docs/peaks.md,
/// "Segmentation"). The background is subtracted (broad regions are smoothed by a 5x5 mean, dead pixels
/// and spikes left out); pixels are flooded from the highest down (union-find). Where two basins meet,
/// the lower one stays a basin of its own only when it stands clear of the saddle (noise and relative
/// tests); otherwise it joins the higher one. Basins whose saddle stays above `subpeakSaddle` of the
/// lower one's height form one spot. Holds reusable buffers: one per searcher.
final class Segmenter {
    private var local: [Int32] = []        // per box pixel: index into the region's order, -1 outside
    private var values: [Float] = []       // smoothed, background-subtracted value per region pixel
    private var label: [Int32] = []        // basin of each region pixel (by order index), -1 unflooded
    private var parent: [Int32] = []
    private var height: [Float] = []
    private var top: [Int32] = []

    private func find(_ i: Int32) -> Int32 {
        var i = i
        while parent[Int(i)] != i { parent[Int(i)] = parent[Int(parent[Int(i)])]; i = parent[Int(i)] }
        return i
    }

    /// The basins of one region and the saddles between them: (basin a, basin b, saddle value).
    func split(region: [Int32], broad: Bool, coarse: Bool = false, pixels px: UnsafeBufferPointer<Float>, width w: Int, height h: Int,
               state: UnsafeBufferPointer<UInt8>, bg: BackgroundModel, mask: PixelMask,
               options: PeakSearchOptions) -> (basins: [Basin], saddles: [(Int, Int, Float)]) {
        let n = region.count
        if n < 2 {
            let v = n == 1 ? px[Int(region[0])] - bg.levelAt(x: Int(region[0]) % w, y: Int(region[0]) / w) : 0
            return (n == 1 ? [Basin(pixels: region, top: region[0], height: v, broad: broad)] : [], [])
        }
        var c0 = Int.max, c1 = Int.min, r0 = Int.max, r1 = Int.min
        for i in region { let x = Int(i) % w, y = Int(i) / w; c0 = min(c0, x); c1 = max(c1, x); r0 = min(r0, y); r1 = max(r1, y) }
        let bw = c1 - c0 + 1, bh = r1 - r0 + 1
        if local.count < bw * bh { local = [Int32](repeating: -1, count: bw * bh) }
        // Values above the background: the pixels themselves (any smoothing fills the dip between sharp
        // spots a point-spread FWHM apart); broad regions, found on 5x5 means, use 5x5 means.
        values.removeAll(keepingCapacity: true)
        for i in region {
            let x = Int(i) % w, y = Int(i) / w
            var v = px[Int(i)]
            if broad {
                var s: Float = 0, c: Float = 0
                for yy in max(0, y - 2)...min(h - 1, y + 2) {
                    for xx in max(0, x - 2)...min(w - 1, x + 2) {
                        let j = yy * w + xx, q = px[j]
                        if !mask(q) && state[j] != 4 { s += q; c += 1 }
                    }
                }
                v = c > 0 ? s / c : v
            }
            values.append(v - bg.levelAt(x: x, y: y))
        }
        // A coarse region is one spot too faint for its maxima to mean anything: one basin, its top the
        // highest smoothed pixel.
        if coarse {
            var k = 0
            for j in 1..<n where values[j] > values[k] || (values[j] == values[k] && region[j] < region[k]) { k = j }
            var basin = Basin(pixels: region, top: region[k], height: values[k], broad: true)
            basin.coarse = true
            return ([basin], [])
        }
        // Pixels from the highest down (ties: by pixel index, so the result does not depend on the sort).
        var keyed = (0..<n).map { (values[$0], region[$0], Int32($0)) }
        keyed.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        let order = keyed.map { Int($0.2) }
        for (k, i) in region.enumerated() { local[(Int(i) / w - r0) * bw + Int(i) % w - c0] = Int32(k) }
        label = [Int32](repeating: -1, count: n)
        parent.removeAll(keepingCapacity: true); height.removeAll(keepingCapacity: true); top.removeAll(keepingCapacity: true)
        var saddleEvents: [(Int32, Int32, Float)] = []
        let regionTop = values[order[0]]
        // Noise at a maximum of height v above the background level, with the signal's Poisson noise:
        // sigma^2 ~ sigma_bg^2 (1 + v / background).
        func significant(_ b: Int32, saddle: Float) -> Bool {
            let v = height[Int(b)], i = Int(top[Int(b)])
            let x = i % w, y = i / w
            let level = bg.levelAt(x: x, y: y)
            let noise = (broad ? bg.sigmaWideAt(x: x, y: y) : bg.sigmaAt(x: x, y: y)) * (1 + max(v, 0) / max(level, 1)).squareRoot()
            let rise = v - saddle
            return rise >= Float(options.saddleSigma) * noise && rise >= Float(options.saddleFraction) * v
                && v >= Float(options.satelliteFraction) * regionTop
                && v >= Float(options.detectionSigma) * (broad ? bg.sigmaWideAt(x: x, y: y) : bg.sigmaMeanAt(x: x, y: y))
        }
        var roots: [Int32] = []
        roots.reserveCapacity(8)
        local.withUnsafeBufferPointer { loc in
            for k in order {
                let i = Int(region[k]), x = i % w, y = i / w
                roots.removeAll(keepingCapacity: true)
                for yy in max(r0, y - 1)...min(r1, y + 1) {
                    let rowBase = (yy - r0) * bw - c0
                    for xx in max(c0, x - 1)...min(c1, x + 1) where xx != x || yy != y {
                        let m = loc[rowBase + xx]
                        guard m >= 0 else { continue }
                        let l = label[Int(m)]
                        guard l >= 0 else { continue }
                        let root = find(l)
                        if !roots.contains(root) { roots.append(root) }
                    }
                }
                if roots.isEmpty {
                    let b = Int32(parent.count)
                    parent.append(b); height.append(values[k]); top.append(Int32(i))
                    label[k] = b
                    continue
                }
                var hi = roots[0]
                for q in roots.dropFirst() where height[Int(q)] > height[Int(hi)] { hi = q }
                if roots.count > 1 {
                    for q in roots where q != hi {
                        if significant(q, saddle: values[k]) { saddleEvents.append((q, hi, values[k])) } else { parent[Int(q)] = hi }
                    }
                }
                label[k] = hi
            }
        }
        for i in region { local[(Int(i) / w - r0) * bw + Int(i) % w - c0] = -1 }
        // Basins by root, in order of their maxima.
        var index: [Int32: Int] = [:]
        var basins: [Basin] = []
        for k in order {
            let b = find(label[k])
            if let j = index[b] { basins[j].pixels.append(region[k]) } else {
                index[b] = basins.count
                basins.append(Basin(pixels: [region[k]], top: top[Int(b)], height: height[Int(b)], broad: broad))
            }
        }
        var best: [Int: Float] = [:]
        let count = basins.count
        for (a, b, v) in saddleEvents {
            guard let i = index[find(a)], let j = index[find(b)], i != j else { continue }
            let key = min(i, j) * count + max(i, j)
            best[key] = max(best[key] ?? -.infinity, v)
        }
        let saddles = best.map { (key, v) in (key / count, key % count, v) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        return (basins, saddles)
    }

    /// Groups basins into spots: union of neighbours whose saddle is at least `fraction` of the lower
    /// one's height. Returns the spot index of each basin (spots numbered from `first`).
    static func spots(_ basins: [Basin], saddles: [(Int, Int, Float)], fraction: Double, first: Int) -> [Int] {
        var parent = Array(basins.indices)
        func find(_ i: Int) -> Int { var i = i; while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }; return i }
        for (a, b, v) in saddles where v >= Float(fraction) * min(basins[a].height, basins[b].height) {
            let ra = find(a), rb = find(b)
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        var number: [Int: Int] = [:]
        return basins.indices.map { i in
            let r = find(i)
            if let s = number[r] { return s }
            let s = first + number.count
            number[r] = s
            return s
        }
    }
}
