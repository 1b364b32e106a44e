import CGSL
import Foundation
import LaueCore

/// Parameters of indexing. Defaults index the shared Ge images and simulated Ge, LiCoO2 and GaN
/// patterns untuned; each is documented in docs/indexing.md.
public struct IndexingOptions: Sendable {
    /// Energy band of the predicted spots, keV.
    public var energyRange: ClosedRange<Double> = 5...22
    /// The strongest observed spots whose pairwise angles propose orientations.
    public var seedSpots = 12
    /// When no grain is accepted from `seedSpots`, the search is tried once more from this many (0: no
    /// second try). A split or streaked crystal spreads its intensity over sub-spots and its
    /// strongest spots over sub-grains (a stacking boundary of 3-4 sub-grains on a far detector leaves
    /// each 2-4 of the 12 strongest, and pairs across sub-grains miss the angle table): 20 give each
    /// sub-grain its pairs. Patterns indexed from `seedSpots` are unchanged (docs/indexing.md).
    public var retrySeedSpots = 20
    /// Reciprocal-lattice directions in the angle table.
    public var tableSize = 400
    /// Tolerance on a pair's angle when looking it up, degrees.
    public var angleTolerance = 0.15
    /// Orientation clusters (by votes) scored against all spots, then refined (the best few).
    public var candidates = 12
    public var refinedCandidates = 3
    /// Matching tolerances (angle between observed and predicted scattered beams, degrees) of the
    /// successive refine-and-rematch passes.
    public var matchTolerances: [Double] = [0.5, 0.25, 0.12]
    /// Honest failure: fewer peaks than this, or a solution with fewer indexed spots, is unindexed.
    public var minimumPeaks = 6
    public var minimumIndexed = 6
    /// A grain with fewer indexed spots than this must index more spots than each of its
    /// lattice twins and pseudo-symmetric mates (`PseudoSymmetry`: LiCoO2's obverse/reverse twin, 60°
    /// about c, and its nearly cubic mates) refined on the same spots, and than every other refined
    /// candidate (`rivalDegrees` away); a tie is refused as ambiguous (intensities alone do not decide
    /// so few spots).
    public var unambiguousIndexed = 8
    /// A solution must explain at least this fraction of the spots it was searched among (0: no such
    /// rule; peaks of other grains, phases and sub-grains do not count against a grain).
    public var minimumFraction = 0.0
    /// Acceptance by statistics: the chance that `k` of the `n` predicted reflections land within
    /// `chanceRadius` of an observed peak by accident (binomial, with the frame's peak density) must be
    /// at most this. Small, because the search tries many orientations before it keeps one.
    public var maximumChance = 1e-9
    /// Broadened (streaked, split) spots of deformed crystals deviate more than sharp ones. The limit
    /// is the larger of `maximumMeanDeviation` px and `maximumMeanDeviationDegrees` of scattered-beam
    /// angle at the detector normal (`Indexer.deviationLimit`): the same misorientation spread moves spots
    /// by more pixels on a far detector (510 mm: 0.08° = 3.6 px; 70-150 mm: 1.0-1.3 px, so 1.5 px applies).
    /// 0.1° let LiCoO2 fit a Si substrate's spots on the far detector (docs/indexing.md).
    public var maximumMeanDeviation = 1.5
    public var maximumMeanDeviationDegrees = 0.08
    /// Refine the five deviatoric strain components too.
    public var refineStrain = false
    /// Grains to look for (each next one among the spots the previous left).
    public var maxGrains = 1
    /// Only the strongest peaks take part.
    public var maxPeaks = 400
    /// Scan-guided indexing (`index(_:near:)`): a pattern refined from the orientations of its
    /// neighbours tests a few hypotheses, not thousands, so fewer matched spots and a larger chance
    /// suffice, and the mean deviation may reach `maximumSeededMeanDeviation` px (streaked spots' maxima
    /// lie off the mean orientation's predictions; the chance test, which widens its radius with the
    /// deviation, still guards). The refined orientation must stay within `maximumSeedRotation`
    /// degrees of the seed it started from (docs/indexing.md).
    public var seededMinimumIndexed = 3
    /// Matching tolerances (degrees) of a seeded refinement: wider first passes than a scratch
    /// candidate's, as a seed may be off by a neighbour's misorientation (a rotation by t moves a
    /// scattered beam by up to 2t).
    public var seededMatchTolerances: [Double] = [2.0, 1.0, 0.5, 0.25, 0.12]
    public var maximumSeededChance = 1e-6
    public var maximumSeededMeanDeviation = 4.0
    /// The seeded mean-deviation limit in degrees of scattered-beam angle at the detector normal, when
    /// that is more pixels (`seededDeviationLimit`): a GND band's maxima lie off the mean orientation's
    /// predictions by a share of its width in degrees, whatever the pixel size (on an APS-like detector
    /// at 510 mm, 4 px are 0.09 deg and refused 0.6-0.85 deg bands under a substrate; docs/indexing.md).
    public var maximumSeededMeanDeviationDegrees = 0.25
    public var maximumSeedRotation = 2.0

    public init() {}
}

/// Indexes Laue patterns of one material on one detector, or jointly on several detectors recording
/// the same point (34-ID-E's top and side detectors, each with its own calibration): candidate
/// orientations from pairs of strong spots matched in an angle table, voted and clustered, scored by
/// how many observed spots they predict, refined by least squares with re-matching, then judged
/// honestly. Deterministic. Not thread-safe (holds no C resources but caches): use one per thread.
public final class Indexer {
    public let material: Material
    /// The detectors' calibrations; an `ObservedSpot.detector` indexes this list. The first is the
    /// main detector (`calibration`): its pixel tolerances and deviation limit are the indexer's.
    public let calibrations: [DetectorCalibration]
    public var calibration: DetectorCalibration { calibrations[0] }
    public var options: IndexingOptions
    /// One predictor per detector; `predictor` is the main detector's.
    public let predictors: [SpotPredictor]
    public var predictor: SpotPredictor { predictors[0] }
    public let table: AngleTable

    public convenience init(material: Material, calibration: DetectorCalibration, options: IndexingOptions = IndexingOptions()) throws {
        try self.init(material: material, calibrations: [calibration], options: options)
    }

    /// An indexer of spots on several detectors (`calibrations`, the main one first; at least one).
    public init(material: Material, calibrations: [DetectorCalibration], options: IndexingOptions = IndexingOptions()) throws {
        guard !calibrations.isEmpty else { throw LaueError(.invalidArgument, "indexing needs at least one detector calibration") }
        self.material = material
        self.calibrations = calibrations
        self.options = options
        predictors = try calibrations.map { try SpotPredictor(material: material, calibration: $0, energyRange: options.energyRange) }
        table = AngleTableCache.shared.table(for: material, count: options.tableSize)
    }

    // MARK: observed spots

    struct Observation {
        var x: Double, y: Double, intensity: Double
        var kf: Vec3       // unit scattered direction
        var q: Vec3        // unit scattering vector
        var detector = 0
    }

    /// Observed spots on a coarse pixel grid per detector for nearest-neighbour look-ups.
    struct SpotGrid {
        let cell: Double
        var buckets: [Int: [Int]] = [:]
        init(_ obs: [Observation], cell: Double) {
            self.cell = cell
            for (i, o) in obs.enumerated() { buckets[key(o.detector, o.x, o.y), default: []].append(i) }
        }
        /// Detector, row and column of cells in one key (frames of at most 100,000 px a side).
        func key(_ detector: Int, _ x: Double, _ y: Double) -> Int {
            detector &* 10_000_000_000 &+ Int((y / cell).rounded(.down)) &* 100_003 &+ Int((x / cell).rounded(.down))
        }
        func near(_ detector: Int, _ x: Double, _ y: Double) -> [Int] {
            let centre = key(detector, x, y)
            var out: [Int] = []
            for dy in -1...1 { for dx in -1...1 { out += buckets[centre &+ dy &* 100_003 &+ dx] ?? [] } }
            return out
        }
    }

    // MARK: indexing

    /// The strongest `maxPeaks` spots, strongest first, with their input positions. Spots on a detector
    /// the indexer does not have are left out.
    func observations(_ spots: [ObservedSpot]) -> [(Int, Observation)] {
        let ranked = spots.enumerated().filter { calibrations.indices.contains($0.element.detector) }
            .sorted { $0.element.intensity > $1.element.intensity }.prefix(options.maxPeaks)
        return ranked.map { (i, s) in
            let kf = calibrations[s.detector].scatteredDirection(x: s.x, y: s.y)
            return (i, Observation(x: s.x, y: s.y, intensity: s.intensity, kf: kf, q: LaueScattering.qDirection(kf: kf), detector: s.detector))
        }
    }

    /// Indexes a pattern from scratch (no prior orientation).
    public func index(_ spots: [ObservedSpot]) -> IndexingResult {
        Indexer.grains(in: observations(spots), peakCount: spots.count, options: options, find: findGrain)
    }

    /// Grain after grain among the spots the grains before left, each found by `find`, until
    /// `options.maxGrains`, too few peaks, or a failure (whose reason the result keeps).
    static func grains(in start: [(Int, Observation)], peakCount: Int, options: IndexingOptions,
                       find: ([(Int, Observation)]) -> GrainOutcome) -> IndexingResult {
        var pool = start
        var grains: [Grain] = []
        var reason: String? = nil
        while grains.count < options.maxGrains {
            guard pool.count >= options.minimumPeaks else {
                reason = grains.isEmpty ? "too few peaks: \(pool.count) (at least \(options.minimumPeaks) needed)"
                                        : "too few peaks left for another grain (\(pool.count))"
                break
            }
            switch find(pool) {
            case .success(let grain):
                grains.append(grain)
                let used = Set(grain.spots.map(\.peakIndex))
                pool.removeAll { used.contains($0.0) }
            case .failure(let why):
                reason = grains.isEmpty ? why : "no further grain: \(why)"
            }
            if reason != nil { break }
        }
        return IndexingResult(status: grains.isEmpty ? .unindexed : .indexed, grains: grains,
                              reason: grains.isEmpty ? reason : (grains.count < options.maxGrains ? reason : nil),
                              peakCount: peakCount)
    }

    /// Scan-guided indexing: refines each of `seeds` (orientations of neighbouring points of a scan,
    /// or of its orientation clusters; the most trusted first) against the spots, keeps the refined
    /// orientation that indexes the most spots (then the lowest deviation, then the earlier seed), and
    /// accepts it by the statistical test with the seeded limits (`seededMinimumIndexed`,
    /// `maximumSeededChance`, `maximumSeedRotation`, `seededDeviationLimit`). One grain; deterministic.
    /// Peaks in `excluding` (indices into `spots`: those another phase's grains explain) are left out.
    public func index(_ spots: [ObservedSpot], near seeds: [Mat3], excluding: Set<Int> = []) -> IndexingResult {
        let pool = excluding.isEmpty ? observations(spots) : observations(spots).filter { !excluding.contains($0.0) }
        func failure(_ reason: String) -> IndexingResult {
            IndexingResult(status: .unindexed, grains: [], reason: reason, peakCount: spots.count)
        }
        guard pool.count >= options.seededMinimumIndexed else {
            return failure("too few peaks: \(pool.count) (at least \(options.seededMinimumIndexed) needed with a neighbour's orientation)")
        }
        guard !seeds.isEmpty else { return failure("no neighbouring orientation to start from") }
        let obs = pool.map(\.1), ids = pool.map(\.0)
        let tolerances = options.seededMatchTolerances.isEmpty ? options.matchTolerances : options.seededMatchTolerances
        let grid = SpotGrid(obs, cell: gridCell(tolerances.max()!))
        // Every seed's refinement is judged; the accepted one indexing the most spots (then the lowest
        // deviation, then the earlier seed) wins. A seed that matched more spots only at a wide tolerance
        // (a neighbour's orientation across a boundary) and is refused does not hide an accepted one.
        var best: (grain: Grain, chance: Double)? = nil
        var refused: (grain: Grain, reason: String)? = nil
        func better(_ g: Grain, than b: Grain?) -> Bool {
            b.map { (g.indexedCount, -g.meanDeviation) > ($0.indexedCount, -$0.meanDeviation) } ?? true
        }
        for seed in seeds {
            guard let g = refineAndMatch(seed, obs, ids: ids, grid: grid, tolerances: tolerances, minimumMatches: options.seededMinimumIndexed,
                                         keepingLastMatched: true),
                  Misorientation.angle(g.orientation, seed, symmetry: []) <= options.maximumSeedRotation else { continue }
            let mate = bestMate(of: g, obs, ids: ids, grid: grid, tolerances: tolerances)
            switch seededVerdict(mate, obs) {
            case .success(let chance): if better(mate, than: best?.grain) { best = (mate, chance) }
            case .failure(let reason): if better(mate, than: refused?.grain) { refused = (mate, reason) }
            }
        }
        guard let (grain, chance) = best else {
            return failure(refused?.reason ?? "no neighbouring orientation refines onto the spots (\(seeds.count) tried)")
        }
        var accepted = canonical(grain)
        accepted.chance = chance
        return IndexingResult(status: .indexed, grains: [accepted], reason: nil, peakCount: spots.count)
    }

    /// The seeded limits' verdict on a refined grain: its chance of unrelated matches, or why it is refused.
    func seededVerdict(_ grain: Grain, _ obs: [Observation]) -> Verdict {
        if grain.indexedCount < options.seededMinimumIndexed {
            return .failure("a neighbour's orientation indexes only \(grain.indexedCount) spots (at least \(options.seededMinimumIndexed) needed)")
        }
        let chance = chanceOfMatches(grain, observed: obs)
        if chance > options.maximumSeededChance {
            return .failure(String(format: "a neighbour's orientation matches %d of %d predicted spots, which unrelated peaks would give with probability %.1e (at most %.0e accepted)",
                                   grain.indexedCount, grain.predictedCount, chance, options.maximumSeededChance))
        }
        let limit = seededDeviationLimit
        if grain.meanDeviation > limit {
            return .failure(String(format: "a neighbour's orientation deviates by %.2f px on average (at most %.2f px)", grain.meanDeviation, limit))
        }
        return .success(chance)
    }

    /// A seeded grain's verdict: accepted with its chance of unrelated matches, or refused with a reason.
    enum Verdict { case success(Double), failure(String) }

    /// The mean deviation accepted with a neighbour's orientation, px: `maximumSeededMeanDeviation`, or
    /// `maximumSeededMeanDeviationDegrees` at the detector normal when that is more pixels.
    public var seededDeviationLimit: Double {
        max(options.maximumSeededMeanDeviation, options.maximumSeededMeanDeviationDegrees * .pi / 180 * calibration.distance / calibration.pixelSize)
    }

    /// `grain` or one of its pseudo-symmetric mates (`PseudoSymmetry`), refined on the same spots:
    /// the one whose observed intensities agree best with the structure factors (with the indexed
    /// count, as the scratch search ranks candidates). A neighbour's orientation may itself be a mate
    /// chosen from scratch on a crowded pattern; the mates predict the same places, the intensities do not.
    func bestMate(of grain: Grain, _ obs: [Observation], ids: [Int], grid: SpotGrid, tolerances: [Double]) -> Grain {
        let factors = PseudoSymmetry.mateFactors(of: material)
        guard !factors.isEmpty else { return grain }
        func score(_ g: Grain) -> Double { Double(g.indexedCount) + 2 * intensityAgreement(g, obs: obs, ids: ids) }
        var best = (grain: grain, score: score(grain))
        for t in factors {
            guard let g = refineAndMatch(grain.orientation * t, obs, ids: ids, grid: grid, tolerances: tolerances,
                                         minimumMatches: options.seededMinimumIndexed) else { continue }
            let s = score(g)
            if s > best.score + Indexer.mateMargin { best = (g, s) }
        }
        return best.grain
    }

    /// Below `unambiguousIndexed` spots, another refined candidate farther than this (degrees, up to
    /// the crystal's symmetry) that indexes as many spots makes the pattern ambiguous.
    static let rivalDegrees = 1.0

    /// Why `grain` is ambiguous, or nil: below `unambiguousIndexed` spots, another `refined` candidate
    /// more than `rivalDegrees` away, or a lattice twin or pseudo-symmetric mate of `grain` refined on
    /// the same spots, that indexes at least as many spots.
    func ambiguity(of grain: Grain, refined: [Grain], _ obs: [Observation], ids: [Int], grid: SpotGrid) -> String? {
        let n = grain.indexedCount
        guard n < options.unambiguousIndexed else { return nil }
        func tie(_ g: Grain, _ what: String) -> String {
            "ambiguous: \(n) spots indexed, and \(what) "
                + String(format: "%.1f° away indexes %d (at least %d spots decide)",
                         material.misorientation(g.orientation, grain.orientation), g.indexedCount, options.unambiguousIndexed)
        }
        for g in refined where g.indexedCount >= n && material.misorientation(g.orientation, grain.orientation) > Indexer.rivalDegrees {
            return tie(g, "another orientation")
        }
        for t in PseudoSymmetry.twinFactors(of: material) + PseudoSymmetry.mateFactors(of: material) {
            if let g = refineAndMatch(grain.orientation * t, obs, ids: ids, grid: grid, minimumMatches: n), g.indexedCount >= n {
                return tie(g, "a twin or pseudo-symmetric mate")
            }
        }
        return nil
    }

    /// A mate replaces the refined orientation only when it scores this much better (one more spot, or
    /// an intensity rank correlation better by 0.5): near ties keep the neighbours' orientation.
    static let mateMargin = 1.0

    enum GrainOutcome { case success(Grain), failure(String) }

    func findGrain(_ pool: [(Int, Observation)]) -> GrainOutcome {
        let first = findGrain(pool, seedSpots: options.seedSpots)
        guard case .failure = first, options.retrySeedSpots > options.seedSpots, pool.count > options.seedSpots else { return first }
        if case .success(let g) = findGrain(pool, seedSpots: options.retrySeedSpots) { return .success(g) }
        return first
    }

    /// The best accepted grain among the orientations that pairs of the `seedSpots` strongest spots propose.
    func findGrain(_ pool: [(Int, Observation)], seedSpots: Int) -> GrainOutcome {
        let obs = pool.map(\.1)
        let ids = pool.map(\.0)
        let clusters = candidateOrientations(obs, seedSpots: seedSpots)
        guard let topVotes = clusters.first?.votes, topVotes >= 2 else {
            return .failure("no orientation is proposed by two spot pairs (the spots do not fit \(material.name))")
        }
        // Score the best-voted clusters on all spots, refine the best few, keep the best refined.
        let grid = SpotGrid(obs, cell: gridCell(options.matchTolerances[0]))
        var scored: [(Mat3, Int)] = []
        for c in clusters.prefix(options.candidates) {
            let m = match(c.orientation, obs, grid: grid, tolerance: options.matchTolerances[0])
            scored.append((c.orientation, m.count))
        }
        scored.sort { $0.1 > $1.1 }
        var best: (grain: Grain, score: Double)? = nil
        var refined: [Grain] = []
        for (u, _) in scored.prefix(options.refinedCandidates) {
            guard var g = refineAndMatch(u, obs, ids: ids, grid: grid) else { continue }
            refined.append(g)
            // Prefer more indexed spots; between near ties, the better agreement of intensities with
            // the structure factors (twins and pseudo-symmetric mates of LiCoO2 predict the same places).
            let score = Double(g.indexedCount) + 2 * intensityAgreement(g, obs: obs, ids: ids)
            if best == nil || score > best!.score {
                g = canonical(g)
                best = (g, score)
            }
        }
        guard let grain = best?.grain else { return .failure("no candidate orientation could be refined") }
        if grain.indexedCount < options.minimumIndexed {
            return .failure("best orientation indexes only \(grain.indexedCount) spots (at least \(options.minimumIndexed) needed)")
        }
        let chance = chanceOfMatches(grain, observed: obs)
        if chance > options.maximumChance {
            return .failure(String(format: "%d of %d predicted spots matched, which unrelated peaks would give with probability %.1e (at most %.0e accepted)",
                                   grain.indexedCount, grain.predictedCount, chance, options.maximumChance))
        }
        if Double(grain.indexedCount) < options.minimumFraction * Double(obs.count) {
            return .failure(String(format: "best orientation explains only %d of %d spots (%.0f %%, at least %.0f %% needed)",
                                   grain.indexedCount, obs.count, 100 * Double(grain.indexedCount) / Double(obs.count),
                                   100 * options.minimumFraction))
        }
        if grain.meanDeviation > deviationLimit {
            return .failure(String(format: "mean pixel deviation %.2f px exceeds %.2f px", grain.meanDeviation, deviationLimit))
        }
        if let ambiguity = ambiguity(of: grain, refined: refined, obs, ids: ids, grid: grid) { return .failure(ambiguity) }
        var accepted = grain
        accepted.chance = chance
        return .success(accepted)
    }

    /// The mean deviation accepted from scratch, px: `maximumMeanDeviation`, or
    /// `maximumMeanDeviationDegrees` at the detector normal when that is more pixels.
    public var deviationLimit: Double {
        max(options.maximumMeanDeviation, options.maximumMeanDeviationDegrees * .pi / 180 * calibration.distance / calibration.pixelSize)
    }

    /// Chance that at least `grain.indexedCount` of its `predictedCount` reflections each find one of
    /// the `observed` peaks spread evenly over their detector within r px: binomial tail with
    /// p = density * pi * r^2, r = max(1 px, 2.5 x the grain's mean deviation). On several detectors p
    /// is the mean of the detectors' p weighted by the reflections predicted on each (a binomial of the
    /// same mean has the wider tail, so the test stays conservative).
    func chanceOfMatches(_ grain: Grain, observed: [Observation]) -> Double {
        let k = grain.indexedCount, n = max(grain.predictedCount, k)
        guard k > 0 else { return 1 }
        let r = max(1.0, 2.5 * grain.meanDeviation)
        func p(_ d: Int, count: Int) -> Double {
            let c = calibrations[d]
            return min(1, Double(count) / Double(max(c.width * c.height, 1)) * .pi * r * r)
        }
        var probability: Double
        if calibrations.count == 1 {
            probability = p(0, count: observed.count)
        } else {
            var counts = [Int](repeating: 0, count: calibrations.count)
            for o in observed { counts[o.detector] += 1 }
            let weights = grain.predictedByDetector.count == counts.count ? grain.predictedByDetector.map(Double.init)
                                                                         : [Double](repeating: 1, count: counts.count)
            let total = max(weights.reduce(0, +), 1)
            probability = counts.indices.map { weights[$0] * p($0, count: counts[$0]) }.reduce(0, +) / total
        }
        return gsl_cdf_binomial_Q(UInt32(k - 1), probability, UInt32(n))
    }

    /// The orientation with the identity-closest symmetry equivalent (a deterministic choice).
    private func canonical(_ g: Grain) -> Grain {
        g.reexpressed(closestTo: .identity, material: material)
    }

    // MARK: candidates

    struct Cluster { var orientation: Mat3; var votes: Int; var quaternion: Quaternion }

    /// Orientations proposed by pairs of the strongest spots, reduced by symmetry and voted into
    /// 4-D quaternion bins of about 1 deg; a bin's score counts its neighbours' votes too (no splits
    /// at bin edges), and the best bins are taken greedily, away from bins already taken.
    func candidateOrientations(_ obs: [Observation], seedSpots: Int) -> [Cluster] {
        let seeds = Array(obs.prefix(seedSpots))
        let ops = material.symmetryRotations
        let scale = 100.0                        // bin width 0.01 in quaternion components (~1.15 deg)
        struct Bin { var votes: Int; var orientation: Mat3; var quaternion: Quaternion }
        func pack(_ w: Int, _ x: Int, _ y: Int, _ z: Int) -> Int64 {
            // Four signed 16-bit fields in one integer key.
            (Int64(w & 0xFFFF) << 48) | (Int64(x & 0xFFFF) << 32) | (Int64(y & 0xFFFF) << 16) | Int64(z & 0xFFFF)
        }
        var bins: [Int64: Bin] = [:]
        var keys: [Int64: (Int, Int, Int, Int)] = [:]
        for i in 0..<seeds.count {
            for j in (i + 1)..<seeds.count {
                let angle = acos(max(-1, min(1, seeds[i].q.dot(seeds[j].q)))) * 180 / .pi
                for e in table.entries(near: angle, tolerance: options.angleTolerance) {
                    let a = table.directions[e.first].unit, b = table.directions[e.second].unit
                    for (qa, qb) in [(seeds[i].q, seeds[j].q), (seeds[j].q, seeds[i].q)] {
                        guard let u = Indexer.align(crystal: (a, b), lab: (qa, qb)) else { continue }
                        // Symmetry reduction: the equivalent with the largest trace (smallest rotation);
                        // trace(U S) needs only the nine products.
                        var best = 0, bestTrace = -Double.infinity
                        for (k, m) in ops.enumerated() {
                            let t = u.r0.x * m.r0.x + u.r0.y * m.r1.x + u.r0.z * m.r2.x
                                + u.r1.x * m.r0.y + u.r1.y * m.r1.y + u.r1.z * m.r2.y
                                + u.r2.x * m.r0.z + u.r2.y * m.r1.z + u.r2.z * m.r2.z
                            if t > bestTrace { bestTrace = t; best = k }
                        }
                        let bestU = ops.isEmpty ? u : u * ops[best]
                        let q = Quaternion(matrix: bestU)
                        let c = (Int((q.w * scale).rounded()), Int((q.x * scale).rounded()), Int((q.y * scale).rounded()), Int((q.z * scale).rounded()))
                        let key = pack(c.0, c.1, c.2, c.3)
                        if bins[key] != nil { bins[key]!.votes += 1 } else {
                            bins[key] = Bin(votes: 1, orientation: bestU, quaternion: q)
                            keys[key] = c
                        }
                    }
                }
            }
        }
        // Neighbourhood scores of the most voted bins only.
        let top = bins.sorted { $0.value.votes > $1.value.votes || ($0.value.votes == $1.value.votes && $0.key < $1.key) }
            .prefix(max(4 * options.candidates, 40))
        var scored: [(key: Int64, score: Int, bin: Bin)] = []
        for (key, bin) in top {
            let c = keys[key]!
            var score = 0
            for dw in -1...1 { for dx in -1...1 { for dy in -1...1 { for dz in -1...1 {
                score += bins[pack(c.0 + dw, c.1 + dx, c.2 + dy, c.3 + dz)]?.votes ?? 0
            } } } }
            scored.append((key, score, bin))
        }
        // Deterministic order: score, then the key.
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.key < $1.key }
        var out: [Cluster] = []
        for s in scored {
            if out.count >= options.candidates { break }
            let q = s.bin.quaternion
            // Skip bins within about 2 deg of one already taken.
            if out.contains(where: { abs($0.quaternion.w * q.w + $0.quaternion.x * q.x + $0.quaternion.y * q.y + $0.quaternion.z * q.z) > cos(1.0 * .pi / 180) }) { continue }
            out.append(Cluster(orientation: s.bin.orientation, votes: s.score, quaternion: q))
        }
        return out
    }

    /// Rotation taking crystal directions (a, b) onto lab directions (qa, qb) (TRIAD: a exactly).
    static func align(crystal: (Vec3, Vec3), lab: (Vec3, Vec3)) -> Mat3? {
        let c1 = crystal.0.normalized, c2n = crystal.0.cross(crystal.1)
        let l1 = lab.0.normalized, l2n = lab.0.cross(lab.1)
        guard c2n.length > 1e-6, l2n.length > 1e-6 else { return nil }
        let c2 = c2n.normalized, l2 = l2n.normalized
        let c3 = c1.cross(c2), l3 = l1.cross(l2)
        return Mat3(columns: l1, l2, l3) * Mat3(columns: c1, c2, c3).transposed
    }

    // MARK: matching and refinement

    /// Pixel radius covering `degrees` of scattered-beam angle anywhere on a detector (the main one
    /// unless given).
    func pixelTolerance(_ degrees: Double, detector: Int = 0) -> Double {
        // Off the detector normal the plane is farther: allow for 1.6x the normal distance.
        let c = calibrations[detector]
        return 1.6 * c.distance * tan(degrees * .pi / 180) / c.pixelSize
    }

    /// The spot grid's cell for matches within `degrees`: the widest detector's pixel tolerance + 1.
    func gridCell(_ degrees: Double) -> Double {
        calibrations.indices.map { pixelTolerance(degrees, detector: $0) }.max()! + 1
    }

    struct Match { var predicted: LaueSpot; var observed: Int; var angle: Double; var detector = 0 }

    /// One-to-one matches between predicted spots and observed ones on the same detector within
    /// `tolerance` degrees of scattered-beam angle, closest pairs first.
    func match(_ ub: Mat3, _ obs: [Observation], grid: SpotGrid, tolerance: Double) -> [Match] {
        let cosTol = cos(tolerance * .pi / 180)
        var pairs: [Match] = []
        lastPredictedCounts = []
        for (d, predictor) in predictors.enumerated() {
            let predicted = predictor.spots(orientation: ub, margin: -pixelTolerance(tolerance, detector: d))
            lastPredictedCounts.append(predicted.count)
            for p in predicted {
                for o in grid.near(d, p.x, p.y) {
                    let c = p.kf.dot(obs[o].kf)
                    if c > cosTol { pairs.append(Match(predicted: p, observed: o, angle: acos(min(1, c)), detector: d)) }
                }
            }
        }
        pairs.sort { ($0.angle, $0.observed) < ($1.angle, $1.observed) }
        var usedObs = Set<Int>(), usedPred = Set<Int>()
        var out: [Match] = []
        for m in pairs {
            let reflection = m.predicted.reflectionIndex &* predictors.count &+ m.detector
            guard !usedObs.contains(m.observed), !usedPred.contains(reflection) else { continue }
            usedObs.insert(m.observed); usedPred.insert(reflection)
            out.append(m)
        }
        return out
    }

    /// Reflections predicted on each detector by the last `match`.
    private var lastPredictedCounts: [Int] = []
    private var lastPredictedCount: Int { lastPredictedCounts.reduce(0, +) }

    /// Refines `ub` on the matched spots (each on its own detector); nil when the fit fails.
    func refine(_ ub: Mat3, _ matches: [Match], _ obs: [Observation], strain: Bool) -> OrientationRefiner.Outcome? {
        OrientationRefiner.refine(ub, hkls: matches.map(\.predicted.hkl),
                                  observed: matches.map { (obs[$0.observed].x, obs[$0.observed].y) },
                                  detectors: matches.map(\.detector), material: material, calibrations: calibrations, strain: strain)
    }

    /// Refines `start` on the spots with re-matching at each of `tolerances` (degrees, widest first),
    /// then drops outliers. nil when fewer than `minimumMatches` match at some tolerance, or, with
    /// `keepingLastMatched`, only when they do not at the first: the passes then end at the tightest
    /// tolerance that still matched them (seeded refinement, `IndexingOptions.seededMatchTolerances`).
    func refineAndMatch(_ start: Mat3, _ obs: [Observation], ids: [Int], grid: SpotGrid, tolerances: [Double]? = nil,
                        minimumMatches: Int = 4, keepingLastMatched: Bool = false) -> Grain? {
        let tolerances = tolerances ?? options.matchTolerances
        var ub = start
        var strain: [Double]? = nil
        var matches: [Match] = []
        var lastMatched: (ub: Mat3, strain: [Double]?, tolerance: Double)? = nil
        passes: for (pass, tol) in tolerances.enumerated() {
            // Two rounds per tolerance: refine, re-match.
            for _ in 0..<2 {
                matches = match(ub, obs, grid: grid, tolerance: tol)
                guard matches.count >= minimumMatches else {
                    guard keepingLastMatched, let last = lastMatched else { return nil }
                    (ub, strain) = (last.ub, last.strain)
                    break passes
                }
                let useStrain = options.refineStrain && pass == tolerances.count - 1 && matches.count >= 12
                guard let r = refine(ub, matches, obs, strain: useStrain) else { return nil }
                ub = r.orientation
                if useStrain { strain = r.strain }
            }
            lastMatched = (ub, strain, tol)
        }
        guard let finalTolerance = lastMatched?.tolerance else { return nil }
        matches = match(ub, obs, grid: grid, tolerance: finalTolerance)
        guard !matches.isEmpty else { return nil }
        // Outliers (overlapping or distorted spots) would pull the fit: drop matches more than
        // max(1 px, 4x the median deviation) off, refine once more on the rest, and keep those.
        for _ in 0..<2 {
            let devs = matches.compactMap { m -> Double? in
                guard let s = predictors[m.detector].spot(m.predicted.hkl, orientation: ub) else { return nil }
                return hypot(s.x - obs[m.observed].x, s.y - obs[m.observed].y)
            }
            guard devs.count == matches.count else { break }
            let limit = max(1.0, 4 * devs.sorted()[devs.count / 2])
            let kept = zip(matches, devs).filter { $0.1 <= limit }.map(\.0)
            guard kept.count < matches.count, kept.count >= minimumMatches else { break }
            matches = kept
            if let r = refine(ub, matches, obs, strain: strain != nil) {
                ub = r.orientation
                if strain != nil { strain = r.strain }
            }
        }
        let spots = matches.compactMap { m -> IndexedSpot? in
            guard let s = predictors[m.detector].spot(m.predicted.hkl, orientation: ub) else { return nil }
            let o = obs[m.observed]
            return IndexedSpot(peakIndex: ids[m.observed], hkl: m.predicted.hkl, energy: s.energy, x: o.x, y: o.y,
                               xPredicted: s.x, yPredicted: s.y, intensity: o.intensity, detector: m.detector)
        }.sorted { $0.intensity > $1.intensity }
        let meanDev = spots.map(\.deviation).reduce(0, +) / Double(max(spots.count, 1))
        // The strain is the whole distortion held in the refined matrix (Grain.strain), not the last
        // refinement's increment.
        return Grain(orientation: ub, spots: spots, meanDeviation: meanDev,
                     matchingRate: Double(spots.count) / Double(max(lastPredictedCount, 1)), predictedCount: lastPredictedCount,
                     strainRefined: strain != nil, phase: material.name, predictedByDetector: lastPredictedCounts)
    }

    /// Rank correlation between observed intensities and |F|^2 of the indexed reflections (-1...1).
    func intensityAgreement(_ g: Grain, obs: [Observation], ids: [Int]) -> Double {
        guard g.spots.count >= 5 else { return 0 }
        let a = g.spots.map(\.intensity), b = g.spots.map { material.intensity($0.hkl) }
        func ranks(_ v: [Double]) -> [Double] {
            let order = v.indices.sorted { v[$0] < v[$1] }
            var r = [Double](repeating: 0, count: v.count)
            for (rank, i) in order.enumerated() { r[i] = Double(rank) }
            return r
        }
        let ra = ranks(a), rb = ranks(b)
        let n = Double(a.count), mean = (n - 1) / 2
        var num = 0.0, da = 0.0, db = 0.0
        for i in ra.indices { num += (ra[i] - mean) * (rb[i] - mean); da += (ra[i] - mean) * (ra[i] - mean); db += (rb[i] - mean) * (rb[i] - mean) }
        return da > 0 && db > 0 ? num / (da * db).squareRoot() : 0
    }
}
