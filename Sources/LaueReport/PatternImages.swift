import Foundation
import LaueCore
import LaueRendering
import LaueScan

/// The pictures of one pattern in the report: a thumbnail of the whole frame and crops of its most
/// informative spots (the report draws spots, streaks and predicted positions over them).
public enum PatternImages {
    /// Longer side of a frame thumbnail, pixels (the frame is max-pooled down to it so no spot vanishes).
    public static let thumbnailSize = 256
    /// Side of a spot crop on the frame, pixels.
    public static let cropSize = 41
    /// Spot crops per pattern.
    public static let cropsPerPattern = 3
    /// Grey levels of thumbnails: black at this percentile of the pooled frame (its background), white
    /// at `thumbnailHigh`; square-root stretch between.
    public static let thumbnailLow = 0.90, thumbnailHigh = 0.9995

    /// Pooling factor of the thumbnail of a `width` x `height` frame.
    public static func poolingFactor(width: Int, height: Int) -> Int {
        max(1, Int((Double(max(width, height)) / Double(thumbnailSize)).rounded(.up)))
    }

    /// The frame max-pooled by `poolingFactor` in grey levels.
    public static func thumbnail(_ image: LaueImage) -> RGBImage {
        let f = poolingFactor(width: image.width, height: image.height)
        let w = (image.width + f - 1) / f, h = (image.height + f - 1) / f
        var pooled = [Float](repeating: -.infinity, count: w * h)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let v = image[x, y]
                if v.isFinite { pooled[(y / f) * w + x / f] = max(pooled[(y / f) * w + x / f], v) }
            }
        }
        let sorted = pooled.filter(\.isFinite).sorted()
        var out = RGBImage(width: w, height: h, fill: (0, 0, 0))
        guard !sorted.isEmpty else { return out }
        let low = sorted[Int(thumbnailLow * Double(sorted.count - 1))]
        let high = max(sorted[Int(thumbnailHigh * Double(sorted.count - 1))], low + 1)
        for (i, v) in pooled.enumerated() where v > low {
            let g = UInt8((min(1, Double(v - low) / Double(high - low)).squareRoot() * 255).rounded())
            out.bytes[3 * i] = g; out.bytes[3 * i + 1] = g; out.bytes[3 * i + 2] = g
        }
        return out
    }

    /// The spots worth a closer look: those the classifier read (a label), then the most sub-peaks,
    /// then the longest streaks, then the brightest; at most `cropsPerPattern`, each on a `width` x `height` frame (a row with a
    /// position off the frame or not a number is left out).
    public static func informativeSpots(_ spots: [SpotRecord], width: Int, height: Int) -> [SpotRecord] {
        let onFrame = spots.filter { $0.x.isFinite && $0.y.isFinite && $0.x >= 0.5 && $0.y >= 0.5 && $0.x <= Double(width) + 0.5 && $0.y <= Double(height) + 0.5 }
        return Array(onFrame.sorted { a, b in
            if a.label.isEmpty != b.label.isEmpty { return !a.label.isEmpty }
            if a.subpeakCount != b.subpeakCount { return a.subpeakCount > b.subpeakCount }
            if a.streakLength != b.streakLength { return (a.streakLength.isFinite ? a.streakLength : 0) > (b.streakLength.isFinite ? b.streakLength : 0) }
            return a.intensity > b.intensity
        }.prefix(cropsPerPattern))
    }

    /// A `cropSize` square of the frame around `spot` (LaueTools pixel coordinates, first pixel 1) in
    /// grey levels from the crop's median to its maximum (square-root stretch), and the 0-based frame
    /// pixel of its top-left corner. The report draws the measured streak and the predicted position
    /// over it.
    public static func crop(_ image: LaueImage, spot: SpotRecord) -> (image: RGBImage, x0: Int, y0: Int) {
        let half = cropSize / 2
        // A position off the frame (informativeSpots leaves such rows out) crops the frame's corner.
        func pixel(_ v: Double, _ size: Int) -> Int { v.isFinite ? Int(min(max(v.rounded(), 1), Double(size))) - 1 : 0 }
        let x0 = pixel(spot.x, image.width) - half, y0 = pixel(spot.y, image.height) - half
        var values: [Float] = []
        for y in y0..<(y0 + cropSize) where y >= 0 && y < image.height {
            for x in x0..<(x0 + cropSize) where x >= 0 && x < image.width { values.append(image[x, y]) }
        }
        values.sort()
        let low = values.isEmpty ? 0 : values[values.count / 2]
        let high = max(values.last ?? 1, low + 1)
        return (RGBImage.crop(image, x: x0, y: y0, width: cropSize, height: cropSize, scale: 1, low: low, high: high), x0, y0)
    }
}
