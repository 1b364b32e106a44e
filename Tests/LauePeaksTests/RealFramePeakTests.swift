import Foundation
import Testing
import LaueCore
import LaueIO
import LauePeaks
import LaueTestSupport

/// Independent measurements on a frame (a few lines each, sharing nothing with LauePeaks): the local
/// background is the median of a ring 10-14 px around a point, the noise the MAD of that ring.
struct FrameRuler {
    let image: LaueImage

    func value(_ x: Int, _ y: Int) -> Double? {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return nil }
        let v = Double(image.pixels[y * image.width + x])
        return v.isFinite ? v : nil
    }

    /// Median and MAD-based sigma of the ring 10-14 px around (x, y) (0-based), zeros left out (dead pixels).
    func ring(_ x: Int, _ y: Int) -> (level: Double, sigma: Double) {
        var v: [Double] = []
        for dy in -14...14 { for dx in -14...14 {
            let r2 = dx * dx + dy * dy
            guard r2 >= 100, r2 <= 196, let p = value(x + dx, y + dy), p != 0 else { continue }
            v.append(p)
        } }
        guard !v.isEmpty else { return (0, 0) }
        v.sort()
        let m = v[v.count / 2]
        let dev = v.map { abs($0 - m) }.sorted()
        return (m, 1.4826 * dev[dev.count / 2])
    }

    /// Background-subtracted frame value at a reported position (3x3 maximum) over the maximum within
    /// 15 px: below 0.2 the position lies between spots.
    func onSpot(x: Double, y: Double) -> Double {
        let cx = Int((x - 1).rounded()), cy = Int((y - 1).rounded())
        let level = ring(cx, cy).level
        var here = -Double.infinity, around = -Double.infinity
        for dy in -15...15 { for dx in -15...15 {
            guard let v = value(cx + dx, cy + dy) else { continue }
            around = max(around, v - level)
            if abs(dx) <= 1 && abs(dy) <= 1 { here = max(here, v - level) }
        } }
        return around > 0 ? here / around : 0
    }

    /// Bilinear value at 0-based (x, y).
    func bilinear(_ x: Double, _ y: Double) -> Double? {
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        guard let a = value(x0, y0), let b = value(x0 + 1, y0), let c = value(x0, y0 + 1), let d = value(x0 + 1, y0 + 1) else { return nil }
        let fx = x - Double(x0), fy = y - Double(y0)
        return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
    }

    /// Full width at half maximum along `angle` (degrees from +x towards +y) through the brightest pixel
    /// within 2 px of (x, y): half-maximum crossings on each side by linear interpolation of bilinear
    /// samples every 0.25 px. Also the height of that pixel above the background and the noise there.
    func widthAtHalfMaximum(x: Double, y: Double, angle: Double) -> (fwhm: Double, height: Double, sigma: Double)? {
        let cx = Int((x - 1).rounded()), cy = Int((y - 1).rounded())
        var bx = cx, by = cy, best = -Double.infinity
        for dy in -2...2 { for dx in -2...2 { if let v = value(cx + dx, cy + dy), v > best { best = v; bx = cx + dx; by = cy + dy } } }
        let (level, sigma) = ring(bx, by)
        let top = best - level, half = top / 2
        guard top > 0 else { return nil }
        let ux = cos(angle * .pi / 180), uy = sin(angle * .pi / 180)
        var sides: [Double] = []
        for sign in [1.0, -1.0] {
            var previous = top, t = 0.0
            while true {
                t += 0.25
                guard t < 40, let v = bilinear(Double(bx) + sign * t * ux, Double(by) + sign * t * uy) else { return nil }
                if v - level <= half {
                    let d = previous - (v - level)
                    sides.append(d > 0 ? t - 0.25 * (half - (v - level)) / d : t)
                    break
                }
                previous = v - level
            }
        }
        return (sides[0] + sides[1], top, sigma)
    }
}

/// The spot layer on real frames (docs/peaks.md, "Real frames"): every reported peak on a spot, widths as
/// a ruler on the frame reads them, major >= minor, LaueTools' peaks found.
@Suite struct RealFramePeakTests {
    static let frames = ["lauetools/Ge_blanc_0000.mccd", "lauetools/img_Ge_sCMOS_0000.tif", "real/nw1_0000.tif",
                         "real/nw1_0001.tif", "real/SS_0171.mccd"]

    @Test(arguments: frames)
    func peaksLieOnSpots(_ name: String) throws {
        let image = try ImageReader.read(path: Fixtures.path(name))
        let result = PeakSearcher().search(image)
        let ruler = FrameRuler(image: image)
        let top = result.peaks.sorted { $0.intensity > $1.intensity }.prefix(100)
        #expect(top.count == 100)
        let off = top.filter { ruler.onSpot(x: $0.x, y: $0.y) < 0.2 }
        #expect(off.count <= 2, "\(name): \(off.count) of the 100 brightest peaks between spots: \(off.map { String(format: "(%.1f, %.1f)", $0.x, $0.y) })")
        // The positions indexing uses (index_x, index_y: a streak's moment centre) lie on spots too.
        let offIndexed = top.filter { ruler.onSpot(x: $0.indexingPosition.x, y: $0.indexingPosition.y) < 0.2 }
        #expect(offIndexed.count <= 2, "\(name): \(offIndexed.count) of the 100 brightest peaks indexed between spots")
        // Major >= minor everywhere, in the fit and in the moments.
        #expect(result.peaks.allSatisfy { $0.core.fwhmMajor >= $0.core.fwhmMinor && $0.streak.aspectRatio >= 1 })
    }

    /// On isolated (no other peak within 25 px), unsaturated spots standing at least 20 noise sigmas
    /// above the background (where a ruler reads a width), `fwhm_major` against the width at half
    /// maximum along the major axis.
    @Test(arguments: frames)
    func widthsMatchTheFrame(_ name: String) throws {
        let image = try ImageReader.read(path: Fixtures.path(name))
        let peaks = PeakSearcher().search(image).peaks
        let ruler = FrameRuler(image: image)
        var ratios: [Double] = []
        for p in peaks.sorted(by: { $0.intensity > $1.intensity }).prefix(300) where !p.saturated && !p.edge {
            guard !peaks.contains(where: { $0 != p && hypot($0.x - p.x, $0.y - p.y) < 25 }),
                  p.x > 30, p.y > 30, p.x < Double(image.width - 30), p.y < Double(image.height - 30) else { continue }
            let c = p.core
            guard let m = ruler.widthAtHalfMaximum(x: p.x, y: p.y, angle: c.angle), m.height >= 20 * m.sigma else { continue }
            ratios.append(c.fwhmMajor / m.fwhm)
        }
        ratios.sort()
        #expect(ratios.count >= 40, "\(name): only \(ratios.count) isolated spots")
        guard !ratios.isEmpty else { return }
        let median = ratios[ratios.count / 2], p90 = ratios[Int(0.9 * Double(ratios.count - 1))]
        #expect(median >= 0.8 && median <= 1.25, "\(name): median fwhm_major / ruler \(median)")
        #expect(p90 <= 1.6, "\(name): 90th percentile \(p90)")
    }

    /// Undeformed crystals: Ge spots away from the frame border are not split into sub-peaks.
    @Test(arguments: ["lauetools/Ge_blanc_0000.mccd", "lauetools/img_Ge_sCMOS_0000.tif"])
    func perfectSpotsAreSingle(_ name: String) throws {
        let peaks = PeakSearcher().search(try ImageReader.read(path: Fixtures.path(name))).peaks.filter { !$0.edge }
        let split = peaks.filter { $0.components > 1 }
        #expect(split.count <= peaks.count / 50, "\(name): \(split.count) of \(peaks.count) peaks with sub-peaks")
    }

    /// Depth tails: the GaN/Si frames show a tail on the spots down the detector (+y, the projection of
    /// the beam penetrating the sample; measured by eye on the frame at 5-10 px); the Ge frames and the
    /// dense frame have none.
    @Test(arguments: [("real/nw1_0000.tif", true), ("real/nw1_0001.tif", true), ("lauetools/Ge_blanc_0000.mccd", false),
                      ("lauetools/img_Ge_sCMOS_0000.tif", false), ("real/SS_0171.mccd", false)])
    func depthTails(_ name: String, _ expected: Bool) throws {
        let result = PeakSearcher().search(try ImageReader.read(path: Fixtures.path(name)))
        guard expected else {
            #expect(result.depthTail == nil, "\(name): false depth tail \(String(describing: result.depthTail))")
            return
        }
        let tail = try #require(result.depthTail, "\(name): no depth tail")
        #expect(abs(tail.angle - 90) <= 10, "\(name): tail towards \(tail.angle) deg")
        #expect(tail.length >= 4 && tail.length <= 12, "\(name): tail length \(tail.length) px")
        #expect(tail.along >= 5 * max(1, tail.against) / 2)
    }
}
