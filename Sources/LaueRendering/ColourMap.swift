import Foundation

/// Colour maps for scalar maps (matplotlib's viridis, sampled at 9 stops and interpolated linearly)
/// and a qualitative palette for classes.
public enum ColourMap {
    static let viridisStops: [UInt32] = [0x440154, 0x472D7B, 0x3B528B, 0x2C728E, 0x21918C, 0x28AE80, 0x5EC962, 0xADDC30, 0xFDE725]

    /// Viridis at t in 0...1.
    public static func viridis(_ t: Double) -> Colour {
        let u = max(0, min(1, t.isFinite ? t : 0)) * Double(viridisStops.count - 1)
        let i = min(Int(u), viridisStops.count - 2), f = u - Double(i)
        let a = Colour(hex: viridisStops[i]), b = Colour(hex: viridisStops[i + 1])
        return Colour(a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f)
    }

    /// Okabe-Ito-like qualitative palette (colour-blind safe), then greys.
    public static let categorical: [Colour] = [0x0072B2, 0xE69F00, 0x009E73, 0xCC79A7, 0xD55E00, 0x56B4E9, 0xF0E442, 0x999999, 0x000000].map { Colour(hex: $0) }
}
