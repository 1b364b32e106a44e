import Foundation
import Testing
import LaueCore
import LaueIO
import LauePeaks
import LaueTestSupport


/// Semi-real doublets: a real frame plus itself shifted by d px in a random direction (bilinear
/// interpolation) puts a doublet of known separation and direction on every spot.
@Suite struct SemiRealDoubletTests {
    static func shifted(_ image: LaueImage, dx: Double, dy: Double) -> LaueImage {
        let w = image.width, h = image.height
        var out = image
        out.pixelType = .float32
        for y in 0..<h {
            for x in 0..<w {
                // Value of the original at (x - dx, y - dy), bilinear; outside: 0.
                let sx = Double(x) - dx, sy = Double(y) - dy
                let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                var v: Float = 0
                if x0 >= 0, y0 >= 0, x0 + 1 < w, y0 + 1 < h {
                    let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                    let a = image.pixels[y0 * w + x0], b = image.pixels[y0 * w + x0 + 1]
                    let c = image.pixels[(y0 + 1) * w + x0], d = image.pixels[(y0 + 1) * w + x0 + 1]
                    v = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
                }
                out.pixels[y * w + x] = image.pixels[y * w + x] + v
            }
        }
        return out
    }

    @Test(arguments: ["lauetools/Ge_blanc_0000.mccd", "lauetools/img_Ge_sCMOS_0000.tif", "real/nw1_0000.tif"])
    func everyBrightSpotIsReportedAsADoublet(_ name: String) throws {
        let image = try ImageReader.read(path: Fixtures.path(name))
        let searched = PeakSearcher().search(image)
        let original = searched.peaks
        var g = SeededGenerator(seed: 77)
        var report: [String] = []
        var resolved = 0, total = 0
        // Separations from 2 px, or from 1.3 point-spread FWHM where that is more (the sCMOS frame's FWHM is
        // 2.3 px: at 2 px, 0.87 FWHM, no model tells a doublet from an elongated spot; docs/peaks.md).
        let fwhm = try #require(searched.psfFWHM)
        for d in stride(from: max(2, (1.3 * fwhm).rounded(.up)), through: 8.0, by: 1.0) {
            let angle = 2 * Double.pi * g.uniform()
            let (dx, dy) = (d * cos(angle), d * sin(angle))
            let found = PeakSearcher().search(Self.shifted(image, dx: dx, dy: dy)).peaks
            var seen = Set<Int>(), maxima: [Subpeak] = []
            for p in found where seen.insert(p.spot).inserted { maxima += p.subpeaks }
            // Bright, isolated, unsaturated spots of the original, away from the border.
            let bright = original.filter { p in
                !p.saturated && !p.edge && p.maximum - p.background > 50 * 10
                    && p.x > 40 && p.y > 40 && p.x < Double(image.width - 40) && p.y < Double(image.height - 40)
                    && !original.contains { $0 != p && hypot($0.x - p.x, $0.y - p.y) < 2 * d + 20 }
            }.prefix(40)
            var ok = 0
            for p in bright {
                let a = maxima.min { hypot($0.x - p.x, $0.y - p.y) < hypot($1.x - p.x, $1.y - p.y) }!
                let b = maxima.min { hypot($0.x - p.x - dx, $0.y - p.y - dy) < hypot($1.x - p.x - dx, $1.y - p.y - dy) }!
                if a != b && abs(hypot(b.x - a.x, b.y - a.y) - d) <= 0.5 { ok += 1 }
            }
            resolved += ok; total += bright.count
            report.append(String(format: "d %.0f: %d/%d", d, ok, bright.count))
        }
        #expect(total >= 200, "\(name): \(total) spots")
        #expect(Double(resolved) >= 0.95 * Double(total), "\(name): \(resolved) of \(total) doublets resolved (\(report.joined(separator: ", ")))")
    }
}
