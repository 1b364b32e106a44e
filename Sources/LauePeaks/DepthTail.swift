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
    /// length of the tails along it: a tail reaches L cos(angle off) in a direction off its own), every
    /// measured spot's tail along it (`oriented`) and the tails counted along it; `reaches[spot][direction]`
    /// in pixels.
    static func find(_ reaches: [[Double]], options: DepthTailOptions) -> (direction: Int, tails: [Double], along: [Double])? {
        guard let n = reaches.first?.count else { return nil }
        let farthest = reaches.map { t in t.indices.max(by: { t[$0] < t[$1] }) ?? 0 }
        var best: (direction: Int, tails: [Double], along: [Double])? = nil, bestScore = 0.0
        for k in 0..<n {
            let tails = oriented(reaches, farthest: farthest, direction: k, options: options)
            guard let along = shared(tails, options: options) else { continue }
            let score = along.reduce(0, +)
            if score > bestScore { best = (k, tails, along); bestScore = score }
        }
        return best
    }

    /// Each spot's tail along direction `k`, or 0 when the direction where that spot reaches farthest
    /// (`farthest`) is more than `directionTolerance` away from it (its tail points elsewhere).
    static func oriented(_ reaches: [[Double]], farthest: [Int], direction k: Int, options: DepthTailOptions) -> [Double] {
        zip(reaches, farthest).map { t, far in
            guard t[k] > 0 else { return t[k] }
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

// The depth-tail test of a frame's measured spots (docs/peaks.md, "Depth tails").
extension PeakSearcher {
    /// The tail shared by the spots (unsaturated, unclipped, `minimumSigma` noise sigmas high), measured on
    /// each spot's own pixels about its core (the main peak's position). When found, each measured main
    /// peak gets its tail and every spot's moments are taken without it (`SpotShape.mirror`); returns the
    /// tail and its unit direction.
    func findDepthTail(shapes: inout [SpotShape], spotPeaks: inout [[Peak]], spotMembers: [[Int]], basins: [Basin],
                       width w: Int, options to: DepthTailOptions) -> (tail: DepthTail, direction: (x: Double, y: Double))? {
        let candidates = shapes.indices.filter { i in
            !shapes[i].saturated && !shapes[i].edge && shapes[i].height >= to.minimumSigma * shapes[i].noise
        }
        let cores = spotPeaks.map { (x: $0[0].x - 1, y: $0[0].y - 1) }
        let directions = DepthTailTest.directions(options: to)
        let reaches = candidates.map { i in oneSidedReaches(spotMembers[i], basins: basins, core: cores[i], directions: directions, width: w) }
        guard let found = DepthTailTest.find(reaches, options: to) else { return nil }
        let d = directions[found.direction]
        for (k, i) in candidates.enumerated() { spotPeaks[i][0].depthTail = found.tails[k] }
        for i in shapes.indices { shapes[i].mirror(centre: cores[i], direction: d) }
        let sorted = found.along.sorted()
        let tail = DepthTail(angle: Double(found.direction) * to.directionStep, length: sorted[sorted.count / 2], spots: candidates.count,
                             along: found.along.count, against: found.tails.filter { $0 <= -to.minimumLength }.count)
        return (tail, d)
    }

    /// How much farther the pixels of the basins `members` reach from `core` along each direction than
    /// against it, px. The farthest pixel along any direction is the first or last of its row: only those
    /// are projected.
    func oneSidedReaches(_ members: [Int], basins: [Basin], core c: (x: Double, y: Double),
                         directions: [(x: Double, y: Double)], width w: Int) -> [Double] {
        var rowEnds: [Int: (first: Int, last: Int)] = [:]
        for b in members {
            for p in basins[b].pixels {
                let x = Int(p) % w, y = Int(p) / w
                if let e = rowEnds[y] { rowEnds[y] = (min(e.first, x), max(e.last, x)) } else { rowEnds[y] = (x, x) }
            }
        }
        var plus = [Double](repeating: 0, count: directions.count), minus = plus
        for (y, e) in rowEnds {
            let ey = Double(y) - c.y
            for x in e.first == e.last ? [e.first] : [e.first, e.last] {
                let ex = Double(x) - c.x
                for (k, d) in directions.enumerated() {
                    let t = ex * d.x + ey * d.y
                    if t > plus[k] { plus[k] = t } else if -t > minus[k] { minus[k] = -t }
                }
            }
        }
        return zip(plus, minus).map { $0 - $1 }
    }
}
