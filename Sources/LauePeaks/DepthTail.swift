import Foundation

/// A tail shared by the spots of a frame along one detector direction: the beam penetrating the sample
/// (spots from deeper volume land displaced along the projection of the beam, the same way for every
/// spot) or a detector artefact. A lattice rotation cannot do that: its streak directions follow M_i n
/// and differ from spot to spot. Found tails are reported and mirrored out of the spot moments and
/// profiles, so that they are never read as a rotation spread (docs/peaks.md, "Depth tails").
public struct DepthTail: Sendable, Equatable {
    /// Direction of the tail on the detector, degrees from +x towards +y, in [0, 360).
    public var angle: Double
    /// Median over the spots sharing it of the tail's length: how much farther the spot's pixels (above
    /// the region threshold) reach from its core on the tail side than on the other, pixels.
    public var length: Double
    /// Spots measured, with a tail along the direction, and against it.
    public var spots: Int
    public var along: Int
    public var against: Int

    /// Unit vector (x, y) of the tail direction.
    public var direction: (x: Double, y: Double) { (cos(angle * .pi / 180), sin(angle * .pi / 180)) }
}

/// Options of the depth-tail test (docs/peaks.md gives their reasons).
public struct DepthTailOptions: Sendable, Equatable {
    /// Spots taken: unsaturated, away from the border, at least this many noise sigmas high.
    public var minimumSigma = 15.0
    /// Directions tried, every this many degrees.
    public var directionStep = 10.0
    /// A spot has a tail along a direction when its pixels (those above the region threshold) reach at
    /// least `minimumLength` px farther from its core on that side than on the other.
    public var minimumLength = 3.0
    /// ... and that side is within `directionTolerance` degrees of the side where the spot reaches
    /// farthest (a lattice rotation's streak, made one-sided by the spectrum, points along M_i n, which
    /// changes from spot to spot; a depth tail points the same way on every spot).
    public var directionTolerance = 30.0
    /// A shared tail: at least `minimumSpots` spots and `minimumFraction` of those measured with a tail
    /// along the direction, at least `dominance` times as many as with a tail against it, and a sign test
    /// that rejects chance: a rotation spreads a spot both ways, so a one-sided tail is along or against a
    /// fixed direction with even odds; the binomial probability of so few against must be <= `signLevel`.
    public var minimumSpots = 5
    public var minimumFraction = 0.15
    public var dominance = 3.0
    public var signLevel = 0.05

    public init() {}
}

enum DepthTailTest {
    /// Unit vectors of the directions tried.
    static func directions(options: DepthTailOptions) -> [(x: Double, y: Double)] {
        let n = max(4, Int((360 / options.directionStep).rounded()))
        return (0..<n).map { k in (cos(Double(k) * options.directionStep * .pi / 180), sin(Double(k) * options.directionStep * .pi / 180)) }
    }

    /// The direction (index into `directions`) that passes `shared` with the longest tails (total
    /// length of the tails along it: a tail reaches L cos(angle off) in a direction off its own);
    /// `tails[spot][direction]` in pixels.
    static func sharedDirection(_ tails: [[Double]], options: DepthTailOptions) -> Int? {
        guard let n = tails.first?.count else { return nil }
        var best: Int? = nil, bestScore = 0.0
        for k in 0..<n {
            guard let along = shared(oriented(tails, direction: k, options: options), options: options) else { continue }
            let score = along.reduce(0, +)
            if score > bestScore { best = k; bestScore = score }
        }
        return best
    }

    /// Each spot's tail along direction `k`, or 0 when that spot reaches farthest more than
    /// `directionTolerance` away from it (its tail points elsewhere).
    static func oriented(_ tails: [[Double]], direction k: Int, options: DepthTailOptions) -> [Double] {
        tails.map { t in
            guard t[k] > 0, let far = t.indices.max(by: { t[$0] < t[$1] }) else { return t[k] }
            let off = abs(Double(far - k)) * options.directionStep
            return min(off, 360 - off) <= options.directionTolerance + 1e-9 ? t[k] : 0
        }
    }

    /// Whether tails (reach along the direction minus reach against it, px) say the direction is shared:
    /// enough spots with a tail along it and few against it. Returns the tails along it.
    static func shared(_ tails: [Double], options: DepthTailOptions) -> [Double]? {
        let along = tails.filter { $0 >= options.minimumLength }
        let against = tails.filter { $0 <= -options.minimumLength }
        guard along.count >= options.minimumSpots, Double(along.count) >= options.minimumFraction * Double(tails.count),
              Double(along.count) >= options.dominance * Double(against.count),
              signProbability(against: against.count, total: along.count + against.count) <= options.signLevel else { return nil }
        return along
    }

    /// P(X <= against) for X ~ Binomial(total, 1/2).
    static func signProbability(against: Int, total: Int) -> Double {
        guard total > 0 else { return 1 }
        var term = pow(0.5, Double(total)), sum = 0.0
        for k in 0...min(against, total) {
            sum += term
            term *= Double(total - k) / Double(k + 1)
        }
        return min(1, sum)
    }
}
