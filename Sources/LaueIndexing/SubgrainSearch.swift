import CGSL
import Foundation
import LaueCore
import LauePeaks

/// Parameters of the sub-grain search (docs/indexing.md, "Sub-grains").
public struct SubgrainOptions: Sendable, Equatable {
    /// Largest misorientation of a sub-grain from the indexed grain, degrees.
    public var maximumAngle = 2.0
    /// A peak supports a sub-orientation when it lies within this many pixels of where that orientation
    /// puts the reflection.
    public var tolerance = 1.5
    /// Displacements shorter than this (pixels) are not looked for: the sub-spot lies inside the main
    /// spot (its sub-peaks say so).
    public var minimumSeparation = 1.0
    /// The strongest indexed reflections that take part.
    public var maximumReflections = 40
    /// A sub-orientation needs at least this many supporting reflections...
    public var minimumSupport = 3
    /// ... this fraction of the reflections where it predicts a resolved sub-spot...
    public var minimumFraction = 0.4
    /// ... and a chance below this of that support arising from unrelated peaks (binomial tail with the
    /// local peak density).
    public var maximumChance = 1e-4
    /// Sub-orientations looked for, at most.
    public var maximumCount = 6
    /// A sub-orientation whose spots carry less than this fraction of their main spots' intensity (the
    /// median ratio) is minor (a satellite grain): a reflection missing its spot only where that spot would be fainter
    /// than its faintest one found still counts as complete.
    public var minorIntensity = 0.3

    public init() {}
}

/// A sub-grain: an orientation near the indexed grain's that explains peaks beside its reflections.
public struct SubOrientation: Sendable, Equatable {
    /// Rotation from the grain's orientation, degrees, lab frame (rotation vector).
    public var rotation: Vec3
    /// Reflections whose sub-spot was found, and those where one was expected (resolved, on the detector).
    public var support: Int
    public var expected: Int
    /// Intensity of its sub-spots over that of the main spots of the same reflections.
    public var relativeIntensity: Double
    /// Chance of that support from unrelated peaks.
    public var chance: Double

    public var angle: Double { rotation.length }
}

/// The pattern explained as a set of nearby orientations: the grain's sub-orientations and, per indexed
/// reflection, the peaks that belong to it (its main peak first, then one per sub-orientation found).
public struct SubgrainAnalysis: Sendable {
    public var subOrientations: [SubOrientation]
    /// Indexed peak index -> the peak indices of its reflection family, main peak first.
    public var families: [Int: [Int]]
    /// Indexed peaks whose family misses a sub-spot that a sub-orientation puts resolved from the main
    /// spot (too faint to be found, hidden, or off the detector): they show only part of the reflection.
    public var incomplete: Set<Int>

    public init(subOrientations: [SubOrientation] = [], families: [Int: [Int]] = [:], incomplete: Set<Int> = []) {
        self.subOrientations = subOrientations; self.families = families; self.incomplete = incomplete
    }
}

/// Finds the sub-orientations of an indexed grain from every reflection at once: each spot near an
/// indexed reflection i, displaced by d from the reflection's main spot, constrains the sub-grain
/// rotation r to the line M_i r = d (M_i the 2x3 spot Jacobian; rotations about the scattering vector do
/// not move the spot). Pairs of such lines from different reflections propose r; a proposal is kept when
/// enough reflections show a spot where it predicts one, more than unrelated peaks at the local density
/// would give by chance. Found sub-spots are removed and the search repeats. Deterministic.
///
/// Positions are compared both ways a sub-spot shows: by its peaks (maxima; a sub-grain merged with
/// another in one spot is its own maximum) and by its spot's moment centre (a streak's centre is its
/// band's centre, wherever noise puts its maximum).
public enum SubgrainSearch {
    struct Candidate {
        var peak: Int
        var d: (x: Double, y: Double)
        var intensity: Double
    }

    struct Reference {
        var peak: Int
        var intensity: Double
        var predictedX: Double, predictedY: Double
        var m: (dx: Vec3, dy: Vec3)      // pixels per degree
        var null: Vec3                   // rotation axis that leaves the spot in place
        var candidates: [Candidate]
        var density: Double              // other spots per pixel^2 around it
    }

    public static func find(grain: Grain, peaks: [Peak], predictor: SpotPredictor,
                            options: SubgrainOptions = SubgrainOptions()) -> SubgrainAnalysis {
        let degree = Double.pi / 180
        // Spots of indexed reflections are not candidates for another reflection's family.
        let indexedSpots = Set(grain.spots.compactMap { $0.peakIndex < peaks.count ? peaks[$0.peakIndex].spot : nil })
        var firstOfSpot: [Int: Int] = [:]
        for (k, p) in peaks.enumerated() where firstOfSpot[p.spot] == nil { firstOfSpot[p.spot] = k }
        let grid = PeakGrid(peaks.map { ObservedSpot(x: $0.x, y: $0.y, intensity: $0.intensity) }, cell: 32)
        var refs: [Reference] = []
        for s in grain.spots.sorted(by: { $0.intensity > $1.intensity }).prefix(options.maximumReflections) where s.peakIndex < peaks.count {
            let main = peaks[s.peakIndex]
            guard let j = predictor.jacobian(s.hkl, orientation: grain.orientation) else { continue }
            let m = (j.dx * degree, j.dy * degree)
            let null = m.0.cross(m.1)
            guard null.length > 1e-9 else { continue }
            // Largest displacement per degree: the larger singular value of M.
            let a = m.0.dot(m.0), b = m.0.dot(m.1), c = m.1.dot(m.1)
            let sMax = LinearAlgebra.symmetricEigen2(a, b, c).large.squareRoot()
            let reach = sMax * options.maximumAngle + options.tolerance
            // Origins: the main peak and, when apart from it, its spot's centre.
            var origins = [(main.x, main.y)]
            if hypot(main.streak.centre.x - main.x, main.streak.centre.y - main.y) > 0.3 { origins.append(main.streak.centre) }
            var cands: [Candidate] = []
            var spotsAround = Set<Int>()
            func add(_ k: Int, _ point: (Double, Double), from o: (Double, Double)) {
                let d = (x: point.0 - o.0, y: point.1 - o.1)
                let r = hypot(d.x, d.y)
                if r >= options.minimumSeparation && r <= reach { cands.append(Candidate(peak: k, d: d, intensity: peaks[k].intensity)) }
            }
            for k in grid.near(main.x, main.y, radius: reach + 2) where k != s.peakIndex {
                let p = peaks[k]
                if p.spot == main.spot {
                    // Sub-peaks of the main spot, from the main peak.
                    add(k, (p.x, p.y), from: origins[0])
                    continue
                }
                guard !indexedSpots.contains(p.spot), hypot(p.x - main.x, p.y - main.y) <= reach else { continue }
                spotsAround.insert(p.spot)
                for o in origins {
                    add(k, (p.x, p.y), from: o)
                    if firstOfSpot[p.spot] == k && hypot(p.streak.centre.x - p.x, p.streak.centre.y - p.y) > 0.3 {
                        add(k, p.streak.centre, from: o)
                    }
                }
            }
            refs.append(Reference(peak: s.peakIndex, intensity: s.intensity, predictedX: s.xPredicted, predictedY: s.yPredicted,
                                  m: m, null: null.normalized, candidates: cands,
                                  density: Double(max(spotsAround.count, 1)) / (Double.pi * reach * reach)))
        }
        var analysis = SubgrainAnalysis()
        for r in refs { analysis.families[r.peak] = [r.peak] }
        guard refs.count >= options.minimumSupport else { return analysis }
        var used = Set<Int>()
        while analysis.subOrientations.count < options.maximumCount {
            guard let (sub, matches) = best(refs, used: used, options: options, calibration: predictor.calibration) else { break }
            analysis.subOrientations.append(sub)
            let found = Set(matches.map(\.ref))
            for (i, c) in matches {
                let k = refs[i].candidates[c].peak
                if !analysis.families[refs[i].peak, default: [refs[i].peak]].contains(k) { analysis.families[refs[i].peak]!.append(k) }
                used.insert(k)
            }
            // A reflection misses this sub-orientation's spot where one would be resolved, unless the
            // sub-orientation is minor (a weak satellite grain: the median ratio of its sub-spots to
            // their main spots under `minorIntensity`) and the missing spot would be fainter (the
            // reflection's intensity times that ratio) than the faintest of its sub-spots that were
            // found: absent as expected, and a small part of the reflection either way.
            let ratios = matches.map { refs[$0.ref].candidates[$0.candidate].intensity / max(refs[$0.ref].intensity, .leastNormalMagnitude) }
            let ratio = Statistics.median(ratios)
            let faintestFound = matches.map { refs[$0.ref].candidates[$0.candidate].intensity }.min() ?? 0
            for i in refs.indices where !found.contains(i) && resolves(refs[i], sub.rotation, options: options)
                && !(ratio < options.minorIntensity && refs[i].intensity * ratio < faintestFound) {
                analysis.incomplete.insert(refs[i].peak)
            }
        }
        return analysis
    }

    /// Minimum-norm solution of M r = d (3-vector, degrees).
    static func particular(_ m: (dx: Vec3, dy: Vec3), _ d: (x: Double, y: Double)) -> Vec3? {
        let a = m.dx.dot(m.dx), b = m.dx.dot(m.dy), c = m.dy.dot(m.dy)
        let det = a * c - b * b
        guard abs(det) > 1e-12 else { return nil }
        // r = M^T (M M^T)^-1 d
        let u = (c * d.x - b * d.y) / det, v = (-b * d.x + a * d.y) / det
        return m.dx * u + m.dy * v
    }

    /// The best-supported sub-orientation among those proposed by pairs of candidate lines, refined, if
    /// it passes the acceptance tests; with its (reference, candidate) matches.
    static func best(_ refs: [Reference], used: Set<Int>, options: SubgrainOptions,
                     calibration: DetectorCalibration) -> (SubOrientation, [(ref: Int, candidate: Int)])? {
        struct Line { var ref: Int; var candidate: Int; var point: Vec3; var direction: Vec3 }
        var lines: [Line] = []
        for (i, r) in refs.enumerated() {
            for (c, cand) in r.candidates.enumerated() where !used.contains(cand.peak) {
                guard let p = particular(r.m, cand.d) else { continue }
                lines.append(Line(ref: i, candidate: c, point: p, direction: r.null))
            }
        }
        guard lines.count >= 2 else { return nil }
        var bestScore = 0, bestRotation = Vec3.zero
        for a in 0..<lines.count {
            for b in (a + 1)..<lines.count where lines[a].ref != lines[b].ref {
                // Closest points of the two lines.
                let la = lines[a], lb = lines[b]
                let w0 = la.point - lb.point
                let dab = la.direction.dot(lb.direction)
                let den = 1 - dab * dab
                guard den > 1e-6 else { continue }
                let s = (dab * lb.direction.dot(w0) - la.direction.dot(w0)) / den
                let t = (lb.direction.dot(w0) - dab * la.direction.dot(w0)) / den
                let pa = la.point + la.direction * s, pb = lb.point + lb.direction * t
                let r = (pa + pb) * 0.5
                guard r.length <= options.maximumAngle else { continue }
                // Both proposing spots must be explained.
                guard residual(refs[la.ref], r, la.candidate) <= options.tolerance,
                      residual(refs[lb.ref], r, lb.candidate) <= options.tolerance else { continue }
                let score = support(refs, r, used: used, options: options, calibration: calibration).matches.count
                if score > bestScore || (score == bestScore && score > 0 && r.length < bestRotation.length) {
                    bestScore = score; bestRotation = r
                }
            }
        }
        guard bestScore >= options.minimumSupport else { return nil }
        // Refine by least squares on the supporting displacements, then count again.
        var r = bestRotation
        for _ in 0..<2 {
            let s = support(refs, r, used: used, options: options, calibration: calibration)
            var n = Mat3.zero, rhs = Vec3.zero
            for (i, c) in s.matches {
                let ref = refs[i], d = ref.candidates[c].d
                n = n + Mat3.outer(ref.m.dx, ref.m.dx) + Mat3.outer(ref.m.dy, ref.m.dy)
                rhs = rhs + ref.m.dx * d.x + ref.m.dy * d.y
            }
            // Rotations about directions no reflection constrains keep their proposed value (ridge).
            let ridge = 1e-6 * max(n.trace, 1e-12)
            guard let inv = (n + Mat3.identity * ridge).inverse else { break }
            r = inv * (rhs + r * ridge)
        }
        let s = support(refs, r, used: used, options: options, calibration: calibration)
        guard s.matches.count >= options.minimumSupport, s.expected > 0,
              Double(s.matches.count) >= options.minimumFraction * Double(s.expected), r.length <= options.maximumAngle else { return nil }
        // Chance: each expected reflection finds an unrelated spot within the tolerance with probability
        // density * pi * tol^2 (the mean over them); the binomial tail of the support.
        let p0 = min(0.5, s.chanceSum / Double(s.expected))
        let chance = gsl_cdf_binomial_Q(UInt32(s.matches.count - 1), p0, UInt32(s.expected))
        guard chance <= options.maximumChance else { return nil }
        var main = 0.0, sub = 0.0
        for (i, c) in s.matches { main += refs[i].intensity; sub += refs[i].candidates[c].intensity }
        return (SubOrientation(rotation: r, support: s.matches.count, expected: s.expected,
                               relativeIntensity: main > 0 ? sub / main : 0, chance: chance), s.matches)
    }

    /// Whether rotation `r` puts reflection `ref`'s sub-spot resolved from its main spot...
    static func resolves(_ ref: Reference, _ r: Vec3, options: SubgrainOptions) -> Bool {
        hypot(ref.m.dx.dot(r), ref.m.dy.dot(r)) >= options.minimumSeparation + options.tolerance
    }

    /// ... and on the detector.
    static func expects(_ ref: Reference, _ r: Vec3, options: SubgrainOptions, calibration: DetectorCalibration) -> Bool {
        let e = (ref.m.dx.dot(r), ref.m.dy.dot(r))
        return resolves(ref, r, options: options) && calibration.contains(x: ref.predictedX + e.0, y: ref.predictedY + e.1)
    }

    static func residual(_ ref: Reference, _ r: Vec3, _ candidate: Int) -> Double {
        let d = ref.candidates[candidate].d
        return hypot(ref.m.dx.dot(r) - d.x, ref.m.dy.dot(r) - d.y)
    }

    /// Reflections where `r` predicts a resolved sub-spot on the detector, and those with an unused
    /// candidate there (the nearest one).
    static func support(_ refs: [Reference], _ r: Vec3, used: Set<Int>, options: SubgrainOptions,
                        calibration: DetectorCalibration) -> (matches: [(ref: Int, candidate: Int)], expected: Int, chanceSum: Double) {
        var matches: [(ref: Int, candidate: Int)] = []
        var expected = 0, chanceSum = 0.0
        for (i, ref) in refs.enumerated() {
            guard expects(ref, r, options: options, calibration: calibration) else { continue }
            let e = (ref.m.dx.dot(r), ref.m.dy.dot(r))
            expected += 1
            chanceSum += ref.density * .pi * options.tolerance * options.tolerance
            var best = -1, bestDistance = options.tolerance
            for (c, cand) in ref.candidates.enumerated() where !used.contains(cand.peak) {
                let dist = hypot(cand.d.x - e.0, cand.d.y - e.1)
                if dist <= bestDistance { bestDistance = dist; best = c }
            }
            if best >= 0 { matches.append((i, best)) }
        }
        return (matches, expected, chanceSum)
    }
}

/// Peaks on a coarse grid for radius look-ups.
struct PeakGrid {
    let cell: Double
    var buckets: [Int: [Int]] = [:]
    init(_ peaks: [ObservedSpot], cell: Double) {
        self.cell = cell
        for (i, p) in peaks.enumerated() { buckets[key(Int((p.x / cell).rounded(.down)), Int((p.y / cell).rounded(.down))), default: []].append(i) }
    }
    func key(_ cx: Int, _ cy: Int) -> Int { cy * 100_003 + cx }
    func near(_ x: Double, _ y: Double, radius: Double) -> [Int] {
        let x0 = Int(((x - radius) / cell).rounded(.down)), x1 = Int(((x + radius) / cell).rounded(.down))
        let y0 = Int(((y - radius) / cell).rounded(.down)), y1 = Int(((y + radius) / cell).rounded(.down))
        var out: [Int] = []
        for cy in y0...y1 { for cx in x0...x1 { out += buckets[key(cx, cy)] ?? [] } }
        return out.sorted()
    }
}
