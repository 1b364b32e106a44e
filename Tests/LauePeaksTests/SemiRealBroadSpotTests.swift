import Foundation
import Testing
import LaueCore
import LaueIO
import LauePeaks
import LaueTestSupport

/// Semi-real broad spots: faint Gaussian blobs tens of pixels wide (a reflection spread by random
/// dislocations on a distant detector) added to a real frame at known places, where no 5x5 mean lifts them
/// out of the real noise. The coarse pass must find each near its true centre and change nothing else.
@Suite struct SemiRealBroadSpotTests {
    /// The central 768 x 768 px of a real frame (fewer than 80 spots, so the broad and coarse passes run, as
    /// on the sparse frames they are for).
    static func centre(_ image: LaueImage) -> LaueImage {
        let w = 768, h = 768, x0 = (image.width - w) / 2, y0 = (image.height - h) / 2
        var pixels = [Float](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w { pixels[y * w + x] = image.pixels[(y + y0) * image.width + x + x0] } }
        return LaueImage(width: w, height: h, pixels: pixels, pixelType: image.pixelType)
    }

    @Test(arguments: ["lauetools/Ge_blanc_0000.mccd", "lauetools/img_Ge_sCMOS_0000.tif", "real/nw1_0000.tif"])
    func faintBroadSpotsAreFoundWhereTheyAre(_ name: String) throws {
        let frame = Self.centre(try ImageReader.read(path: Fixtures.path(name)))
        let plain = PeakSearcher().search(frame)
        #expect(plain.peaks.count < 80, "\(name): \(plain.peaks.count) peaks in the quadrant")
        // Blobs of sigma 8-12 px whose peak is 2-2.5 pixel noise sigmas. The noise of these detectors is
        // correlated: a 5x5 mean has about 0.4 pixel sigmas of it, a 12x12 mean 0.2 (not 0.2 and 0.08), so
        // a 5x5 mean holds the blobs at about 4-5 of its sigmas and a 12x12 mean at about 10. Placed 80 px
        // or more from every peak and the edge.
        var g = SeededGenerator(seed: 4242)
        var blobs: [(x: Double, y: Double, sigma: Double)] = []
        var image = frame
        image.pixelType = .float32
        var tries = 0
        while blobs.count < 5 && tries < 2000 {
            tries += 1
            let x = 80 + g.uniform() * Double(frame.width - 160), y = 80 + g.uniform() * Double(frame.height - 160)
            guard !plain.peaks.contains(where: { hypot($0.x - 1 - x, $0.y - 1 - y) < 80 }),
                  !blobs.contains(where: { hypot($0.x - x, $0.y - y) < 100 }) else { continue }
            let sigma = 8 + 4 * g.uniform(), amplitude = (2 + 0.5 * g.uniform()) * plain.noiseMedian
            for yy in Int(y - 4 * sigma)...Int(y + 4 * sigma) {
                for xx in Int(x - 4 * sigma)...Int(x + 4 * sigma) {
                    let r2 = ((Double(xx) - x) * (Double(xx) - x) + (Double(yy) - y) * (Double(yy) - y)) / (sigma * sigma)
                    image.pixels[yy * frame.width + xx] += Float(amplitude * exp(-r2 / 2))
                }
            }
            blobs.append((x, y, sigma))
        }
        #expect(blobs.count == 5)
        let found = PeakSearcher().search(image).peaks
        // Each blob: one peak, within 4 px of its centre (about 0.4 of its sigma: an indexing tolerance on
        // a 34-ID-E detector is 3.6 px).
        for b in blobs {
            let d = found.map { hypot($0.x - 1 - b.x, $0.y - 1 - b.y) }.min() ?? .infinity
            #expect(d <= 4, "\(name): blob at (\(Int(b.x)), \(Int(b.y))): nearest peak \(d) px")
            let inside = found.filter { hypot($0.x - 1 - b.x, $0.y - 1 - b.y) < 2 * b.sigma }.count
            #expect(inside == 1, "\(name): blob at (\(Int(b.x)), \(Int(b.y))): \(inside) peaks within 2 sigma")
        }
        // Without the coarse pass they are missed or misplaced.
        var options = PeakSearchOptions()
        options.detectCoarseSpots = false
        let without = PeakSearcher(options: options).search(image).peaks
        let placedWithout = blobs.filter { b in without.contains { hypot($0.x - 1 - b.x, $0.y - 1 - b.y) <= 4 } }.count
        #expect(placedWithout < 5, "\(name): all 5 blobs found within 4 px without the coarse pass")
        // Every peak of the real frame is still there, where it was.
        for p in plain.peaks {
            let same = found.contains { abs($0.x - p.x) < 1e-9 && abs($0.y - p.y) < 1e-9 && $0.intensity == p.intensity }
            #expect(same, "\(name): peak at (\(p.x), \(p.y)) changed")
        }
        // Nothing else appears (a blob's wing changes the background estimate of its blocks, which may let
        // one marginal peak of the real frame through).
        let elsewhere = found.filter { p in
            !plain.peaks.contains { $0.x == p.x && $0.y == p.y } && !blobs.contains { hypot(p.x - 1 - $0.x, p.y - 1 - $0.y) < 2 * $0.sigma }
        }
        #expect(elsewhere.count <= 1, "\(name): new peaks away from the blobs at \(elsewhere.map { "(\(Int($0.x)), \(Int($0.y)))" })")
    }
    /// The broad and coarse passes forced to run on whole real frames (`broadSpotPassBelow` unlimited; they
    /// normally run on frames with fewer than 80 regions): the coarse pass reports nothing on the detector's
    /// rim (MarCCD's circular edge is brighter than the background model says) or at the frame's edge,
    /// and few spots at all (one remains on a step in the background of `nw1_0001.tif` near (664, 1919)).
    @Test(arguments: ["lauetools/Ge_blanc_0000.mccd", "lauetools/img_Ge_sCMOS_0000.tif", "real/nw1_0000.tif", "real/nw1_0001.tif"])
    func noCoarseSpotsOnRimsOrEdges(_ name: String) throws {
        let frame = try ImageReader.read(path: Fixtures.path(name))
        let w = frame.width, h = frame.height
        var options = PeakSearchOptions()
        options.broadSpotPassBelow = .max
        let found = PeakSearcher(options: options).search(frame).peaks
        let coarse = found.filter(\.coarse)
        print("\(name): coarse spots at \(coarse.map { "(\(Int($0.x)), \(Int($0.y)))" })")
        for p in coarse {
            let x = Int(p.x) - 1, y = Int(p.y) - 1
            #expect(x >= 12 && y >= 12 && x < w - 12 && y < h - 12, "\(name): coarse spot at the frame's edge, (\(x), \(y))")
            var dead = false
            for yy in max(0, y - 12)...min(h - 1, y + 12) { for xx in max(0, x - 12)...min(w - 1, x + 12) where frame.pixels[yy * w + xx] == 0 { dead = true } }
            #expect(!dead, "\(name): coarse spot at (\(x), \(y)) next to dead pixels")
        }
        #expect(coarse.count <= 6, "\(name): \(coarse.count) coarse spots")
    }
}
