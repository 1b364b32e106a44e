import Foundation
import LaueCore
import LaueIO

/// Settings of scan-guided indexing, the second pass of a scan (docs/scan-pipeline.md).
public struct NeighbourIndexingOptions: Sendable, Equatable {
    /// Indexed points within this many grid cells (Chebyshev distance) lend their orientations.
    public var radius = 1
    /// At most this many seeds per point, nearest first.
    public var maximumSeeds = 8
    /// A seed within this many degrees of one already taken adds nothing and is dropped.
    public var distinctSeedDegrees = 0.1
    /// Orientation clusters of the scan, for points without an indexed neighbour: scratch-indexed
    /// orientations within `clusterDegrees` of a cluster's first member join it (at most
    /// `maximumClusters` are formed); the `clusterSeeds` most populated clusters with at least
    /// `minimumClusterSize` members lend their mean orientations.
    public var clusterDegrees = 2.0
    public var clusterSeeds = 4
    public var minimumClusterSize = 3
    public var maximumClusters = 256
    /// A scratch-indexed point farther than `outlierDegrees` from most (and at least two) of its
    /// indexed neighbours is re-indexed from their orientations; it takes theirs when that indexes at
    /// least as many of its spots (a pseudo-symmetric or twin mate chosen from scratch; a real
    /// one-point grain keeps its own, which explains its spots better).
    public var outlierDegrees = 5.0
    public var minimumOutlierNeighbours = 2
    /// The particle: after the waves, each of the `particleCandidates` most populated orientation
    /// clusters of the indexed points (at least `minimumClusterSize` members) is tried on a fixed
    /// sample of up to `particleSample` of the other indexed points; its presence is its members plus
    /// the share of the sample it indexes times the other points. The candidate present at the most
    /// points, when at least `particleShare` of the indexed ones, is the scanned particle (a neighbouring
    /// grain diffracts over its own region only; the particle under it too). Every indexed point more
    /// than `outlierDegrees` from the particle is then re-indexed from it (and, in waves, from its
    /// neighbours' particle orientations); where the particle is found (under a neighbouring grain or a
    /// second crystal of the phase, brighter than the particle's own spots) it is reported, with the
    /// other crystal in the reason. Above 1: off.
    public var particleShare = 0.4
    public var particleCandidates = 3
    public var particleSample = 48

    public init() {}
}

/// Scan-guided indexing: a particle is one crystal whose orientation varies slowly across the scan, so
/// the orientations of its indexed points are good starting points for the points whose few or
/// ambiguous spots could not be indexed from scratch. After the first pass has written every row, each
/// `unindexed` point with enough peaks is indexed again from the orientations of its indexed
/// neighbours (`Indexer.index(_:near:)`, accepted by the statistical test with the seeded limits), in
/// waves: a point indexed in one wave lends its orientation in the next, and a point is tried again
/// only when its set of indexed neighbours grew. Points with no indexed neighbour at all are then tried
/// against the scan's orientation clusters. The result depends only on the first pass's rows, never on
/// timing or sharding, so a whole run and merged shards agree byte for byte.
enum NeighbourIndexing {
    struct Outcome {
        /// Points indexed by this pass (neighbour or cluster).
        var indexed = 0
        /// Scratch-indexed points that took their neighbours' orientation instead.
        var replaced = 0
        /// Whether any row changed (indexed, or a failed attempt added to its reason).
        var changed: Bool { !results.isEmpty }
        var results: [Int: PatternResult] = [:]
    }

    /// Runs the pass over the rows of `patterns` and `peaks` (the first pass's tables, whole scan). When
    /// a row changes, all rows are written to new tables in `work` (the spots of every changed point
    /// replacing its first-pass spots, in scan order) and those are returned; otherwise the input tables. The inputs are never
    /// changed, so a run killed during the pass redoes it from the same rows.
    static func run(patterns: String, peaks: String, work: String, manifest: ScanManifest,
                    processors: [PatternProcessor], options: NeighbourIndexingOptions,
                    cache: FrameSearchCache = FrameSearchCache()) throws
        -> (patterns: String, peaks: String, indexed: Int, replaced: Int) {
        var rows: [PatternRecord] = []
        try ScanOutputs.forEachPattern(patterns) { rows.append($0) }
        if let row = rows.first(where: { !manifest.patterns.indices.contains($0.index) }) {
            throw LaueError(.invalidArgument, file: patterns, item: row.file,
                            "pattern \(row.index) is not in the scan (\(manifest.patterns.count) patterns): the scan changed since the run")
        }
        let outcome = search(rows: rows, manifest: manifest, processors: processors, options: options, cache: cache)
        guard outcome.changed else { return (patterns, peaks, outcome.indexed, outcome.replaced) }
        let patternsOut = (work as NSString).appendingPathComponent("patterns.guided.csv")
        let peaksOut = (work as NSString).appendingPathComponent("peaks.guided.csv")
        try write(rows: rows, results: outcome.results, patterns: patterns, peaks: peaks, patternsOut: patternsOut, peaksOut: peaksOut)
        return (patternsOut, peaksOut, outcome.indexed, outcome.replaced)
    }

    /// Whether the pass tries `row` from its neighbours: unindexed, or indexed as another phase only,
    /// with at least `minimumPeaks` (`seededMinimumIndexed`) peaks.
    static func isCandidate(_ row: PatternRecord, material: Material, minimumPeaks: Int) -> Bool {
        (row.status == .unindexed || (row.status == .indexed && !row.isIndexed(as: material))) && (row.peakCount ?? 0) >= minimumPeaks
    }

    /// The waves of the pass over rows in memory.
    static func search(rows: [PatternRecord], manifest: ScanManifest, processors: [PatternProcessor],
                       options: NeighbourIndexingOptions, cache: FrameSearchCache = FrameSearchCache()) -> Outcome {
        guard let settings = processors.first?.settings else { return Outcome() }
        let symmetry = settings.material.symmetryRotations
        let minimumPeaks = settings.indexingOptions.seededMinimumIndexed
        let grid = ScanGrid(x: rows.map(\.xUm), y: rows.map(\.yUm))
        var occupants: [Int: [Int]] = [:]
        for (k, cell) in grid.cells.enumerated() { if let c = cell { occupants[c.row * grid.columns + c.column, default: []].append(k) } }
        let material = settings.material
        // Only grains of the scan's material lend orientations; points where only another phase (a
        // substrate) was indexed are candidates like unindexed ones.
        var orientation: [Mat3?] = rows.map { $0.isIndexed(as: material) ? $0.orientation : nil }
        let candidates = rows.indices.filter { isCandidate(rows[$0], material: material, minimumPeaks: minimumPeaks) }

        /// Indexed neighbours of point k, nearest first (then by pattern index), and their distinct
        /// orientations (only those farther than `outlierDegrees` from `unlike`, or within it of `like`,
        /// when given).
        func neighbourSeeds(_ k: Int, unlike: Mat3? = nil, like: Mat3? = nil) -> (lenders: [Int], seeds: [Mat3]) {
            guard let c = grid.cells[k] else { return ([], []) }
            let r = options.radius
            var near: [(d: Int, index: Int, position: Int)] = []
            for dr in -r...r {
                for dc in -r...r {
                    let row = c.row + dr, column = c.column + dc
                    guard row >= 0, row < grid.rows, column >= 0, column < grid.columns else { continue }
                    for j in occupants[row * grid.columns + column] ?? [] where j != k && orientation[j] != nil {
                        near.append((dr * dr + dc * dc, rows[j].index, j))
                    }
                }
            }
            near.sort { ($0.d, $0.index) < ($1.d, $1.index) }
            var seeds: [Mat3] = []
            for n in near where seeds.count < options.maximumSeeds {
                let u = orientation[n.position]!
                if let own = unlike, Misorientation.angle(u, own, symmetry: symmetry) <= options.outlierDegrees { continue }
                if let p = like, Misorientation.angle(u, p, symmetry: symmetry) > options.outlierDegrees { continue }
                if seeds.contains(where: { Misorientation.angle(u, $0, symmetry: symmetry) < options.distinctSeedDegrees }) { continue }
                seeds.append(u)
            }
            return (near.map(\.position), seeds)
        }

        var outcome = Outcome()
        // Odd ones out first, on the first pass's orientations.
        var outliers: [(Int, [Mat3])] = []
        for k in rows.indices where rows[k].isIndexed(as: material) {
            guard let own = orientation[k] else { continue }
            let (lenders, unlike) = neighbourSeeds(k, unlike: own)
            let differing = lenders.filter { Misorientation.angle(orientation[$0]!, own, symmetry: symmetry) > options.outlierDegrees }.count
            if !unlike.isEmpty, differing >= options.minimumOutlierNeighbours, 2 * differing > lenders.count { outliers.append((k, unlike)) }
        }
        for (k, r) in process(outliers, source: .neighbour, rows: rows, manifest: manifest, processors: processors, cache: cache)
        where r.record.isIndexed(as: material) && (r.record.indexedCount ?? 0) >= (rows[k].indexedCount ?? Int.max) {
            outcome.results[k] = r
            outcome.replaced += 1
        }
        for (k, r) in outcome.results { orientation[k] = r.record.orientation }

        var tried: [Int: [Mat3]] = [:]                 // candidate -> every seed it was tried from
        /// Waves over the candidates still unindexed: each is tried from its neighbours' orientations
        /// that it was not yet tried from (a neighbour indexed, or re-indexed onto the particle, since).
        func waves() {
            while true {
                var jobs: [(Int, [Mat3])] = []
                for k in candidates where outcome.results[k]?.record.isIndexed(as: material) != true {
                    let seeds = neighbourSeeds(k).seeds
                    let new = seeds.filter { u in !(tried[k] ?? []).contains { Misorientation.angle(u, $0, symmetry: symmetry) < options.distinctSeedDegrees } }
                    guard !new.isEmpty else { continue }
                    tried[k, default: []] += new
                    jobs.append((k, seeds))
                }
                guard !jobs.isEmpty else { break }
                for (k, r) in process(jobs, source: .neighbour, rows: rows, manifest: manifest, processors: processors, cache: cache) {
                    record(r, for: k, source: .neighbour, rows: rows, material: material, into: &outcome)
                    if r.record.isIndexed(as: material) { orientation[k] = r.record.orientation }
                }
            }
        }
        waves()
        // Points that never had an indexed neighbour: the scan's orientation clusters.
        let isolated = candidates.filter { tried[$0] == nil }
        let clusters = isolated.isEmpty ? [] : clusterSeeds(rows: rows, symmetry: symmetry, material: settings.material, options: options)
        if !clusters.isEmpty {
            let jobs = isolated.map { ($0, clusters) }
            for (k, r) in process(jobs, source: .cluster, rows: rows, manifest: manifest, processors: processors, cache: cache) {
                record(r, for: k, source: .cluster, rows: rows, material: material, into: &outcome)
                if r.record.isIndexed(as: material) { orientation[k] = r.record.orientation }
            }
        }
        // Points indexed on another crystal than the particle (`particleShare`), which is now known
        // from every indexed point: tried from the particle's mean orientation, then in waves from
        // their neighbours' particle orientations as those are found.
        if let particle = particle(rows: rows, orientation: orientation, manifest: manifest, processors: processors,
                                   material: settings.material, options: options, cache: cache) {
            var pending = rows.indices.filter { k in
                orientation[k].map { Misorientation.angle($0, particle, symmetry: symmetry) > options.outlierDegrees } == true
            }
            let away = Dictionary(uniqueKeysWithValues: pending.map { ($0, Misorientation.angle(orientation[$0]!, particle, symmetry: symmetry)) })
            var tried: [Int: [Int]] = [:]
            while true {
                var jobs: [(Int, [Mat3])] = []
                for k in pending {
                    let (lenders, seeds) = neighbourSeeds(k, like: particle)
                    let lending = lenders.filter { j in Misorientation.angle(orientation[j]!, particle, symmetry: symmetry) <= options.outlierDegrees }
                    guard tried[k] != lending else { continue }
                    tried[k] = lending
                    jobs.append((k, [particle] + seeds))
                }
                guard !jobs.isEmpty else { break }
                for (k, r) in process(jobs, source: .cluster, rows: rows, manifest: manifest, processors: processors, cache: cache)
                where r.record.isIndexed(as: material) {
                    var r = r
                    let before = outcome.results[k]?.record ?? rows[k]
                    let note = String(format: "another crystal also diffracts here (%d spots, %.1f deg from the particle)",
                                      before.indexedCount ?? 0, away[k]!)
                    r.record.reason = r.record.reason.isEmpty ? note : note + "; " + r.record.reason
                    if outcome.results[k] == nil { outcome.replaced += 1 }
                    outcome.results[k] = r
                    orientation[k] = r.record.orientation
                }
                pending.removeAll { orientation[$0].map { Misorientation.angle($0, particle, symmetry: symmetry) <= options.outlierDegrees } == true }
            }
            for k in orphans(pending, rows: rows, grid: grid, orientation: orientation, outcome: outcome,
                             symmetry: symmetry, material: material, options: options) {
                outcome.results[k] = nil
                orientation[k] = nil
                outcome.indexed -= 1
            }
            // Unindexed points whose neighbours now hold the particle's orientation (they lent another
            // crystal's before) are tried from it.
            waves()
        }
        return outcome
    }

    /// Of `offParticle`, the points this pass indexed from their neighbours with another crystal's
    /// orientation that no point indexed from scratch still holds nearby, directly or through such
    /// points (their lenders were moved onto the particle: a lattice coincidence with a substrate
    /// accepted from scratch, lent before the particle was known). They go back to their first-pass
    /// rows, so the waves after the particle pass may index them from it. A crystal really present keeps its scratch-indexed points.
    private static func orphans(_ offParticle: [Int], rows: [PatternRecord], grid: ScanGrid, orientation: [Mat3?], outcome: Outcome,
                                symmetry: [Mat3], material: Material, options: NeighbourIndexingOptions) -> [Int] {
        let lent = offParticle.filter { !rows[$0].isIndexed(as: material) && outcome.results[$0]?.record.isIndexed(as: material) == true }
        guard !lent.isEmpty else { return [] }
        let scratch = Set(rows.indices.filter { rows[$0].isIndexed(as: material) && outcome.results[$0] == nil && orientation[$0] != nil })
        let held = grid.flood(from: scratch, through: lent, radius: options.radius) { a, b in
            guard let ua = orientation[a], let ub = orientation[b] else { return false }
            return Misorientation.angle(ua, ub, symmetry: symmetry) <= options.outlierDegrees
        }
        return lent.filter { !held.contains($0) }
    }

    /// Keeps an attempt: a point indexed as the scan's material replaces its row; a failed attempt adds
    /// its reason to the first pass's (a point where only another phase is indexed keeps its row).
    private static func record(_ r: PatternResult, for k: Int, source: IndexingSource, rows: [PatternRecord], material: Material,
                               into outcome: inout Outcome) {
        var r = r
        if r.record.isIndexed(as: material) {
            outcome.indexed += 1
        } else if r.record.status == .indexed || rows[k].status == .indexed {
            return                                      // only another phase here: keep the first pass's row
        } else if r.record.status == .unindexed {
            let from = source == .cluster ? "from the scan's orientation clusters" : "from neighbouring orientations"
            r.record.reason = rows[k].reason + "; " + from + ": " + r.record.reason
        } else {
            return                                      // unreadable now: keep the first pass's row
        }
        outcome.results[k] = r
    }

    /// Processes `jobs` (row position, seeds) in parallel, one processor per worker; results in job order.
    /// A frame is read and searched once per pass (`cache`).
    private static func process(_ jobs: [(Int, [Mat3])], source: IndexingSource, rows: [PatternRecord], manifest: ScanManifest,
                                processors: [PatternProcessor], cache: FrameSearchCache) -> [(Int, PatternResult)] {
        let results = ProcessorBox(processors).map(jobs.count) { processor, i in
            let (k, seeds) = jobs[i]
            let pattern = manifest.patterns[rows[k].index]
            let search = cache.search(pattern.index) { processor.searchFrame(pattern) { try manifest.readImage($0) } }
            return processor.process(search, of: pattern, seeds: seeds, source: source)
        }
        return zip(jobs.map(\.0), results).map { ($0, $1) }
    }

    /// Orientation clusters of `orientations` (each joins the first cluster whose first member is
    /// within `clusterDegrees`; at most `maximumClusters`), most populated first (then the earlier
    /// first member).
    static func clusters(_ orientations: [(u: Mat3, index: Int)], symmetry: [Mat3], options: NeighbourIndexingOptions)
        -> [(first: Mat3, members: [Mat3], firstIndex: Int)] {
        var clusters: [(first: Mat3, members: [Mat3], firstIndex: Int)] = []
        for (u, index) in orientations {
            if let c = clusters.firstIndex(where: { Misorientation.angle(u, $0.first, symmetry: symmetry) <= options.clusterDegrees }) {
                clusters[c].members.append(u)
            } else if clusters.count < options.maximumClusters {
                clusters.append((u, [u], index))
            }
        }
        return clusters.sorted { ($0.members.count, -$0.firstIndex) > ($1.members.count, -$1.firstIndex) }
    }

    /// Mean orientation of a cluster's members.
    static func mean(of c: (first: Mat3, members: [Mat3], firstIndex: Int), symmetry: [Mat3], material: Material) -> Mat3? {
        let aligned = c.members.map { Misorientation.closestEquivalent(of: $0, to: c.first, symmetry: symmetry) }
        return OrientationStatistics.mean(aligned, material: material)
    }

    /// Mean orientations of the most populated orientation clusters of the scratch-indexed points.
    static func clusterSeeds(rows: [PatternRecord], symmetry: [Mat3], material: Material, options: NeighbourIndexingOptions) -> [Mat3] {
        let scratch = rows.compactMap { r in r.isIndexed(as: material) && r.indexedBy == .scratch ? r.orientation.map { (u: $0, index: r.index) } : nil }
        return clusters(scratch, symmetry: symmetry, options: options)
            .filter { $0.members.count >= options.minimumClusterSize }
            .prefix(options.clusterSeeds)
            .compactMap { mean(of: $0, symmetry: symmetry, material: material) }
    }

    /// The scanned particle's mean orientation (`particleShare`), or nil when no crystal is present at
    /// that share of the indexed points.
    static func particle(rows: [PatternRecord], orientation: [Mat3?], manifest: ScanManifest, processors: [PatternProcessor],
                         material: Material, options: NeighbourIndexingOptions, cache: FrameSearchCache) -> Mat3? {
        guard options.particleShare <= 1 else { return nil }
        let symmetry = material.symmetryRotations
        let indexed = rows.indices.filter { orientation[$0] != nil }
        let candidates = clusters(indexed.map { (u: orientation[$0]!, index: rows[$0].index) }, symmetry: symmetry, options: options)
            .prefix(options.particleCandidates).filter { $0.members.count >= options.minimumClusterSize }
        var best: (u: Mat3, presence: Double)? = nil
        for c in candidates {
            guard let u = mean(of: c, symmetry: symmetry, material: material) else { continue }
            let others = indexed.filter { Misorientation.angle(orientation[$0]!, u, symmetry: symmetry) > options.outlierDegrees }
            let sample = hashOrder(others, rows: rows).prefix(options.particleSample)
            let found = process(sample.map { ($0, [u]) }, source: .cluster, rows: rows, manifest: manifest, processors: processors, cache: cache)
                .filter { $0.1.record.isIndexed(as: material) }.count
            let presence = Double(indexed.count - others.count) + (sample.isEmpty ? 0 : Double(found) / Double(sample.count) * Double(others.count))
            if best == nil || presence > best!.presence { best = (u, presence) }
        }
        guard let b = best, b.presence >= options.particleShare * Double(indexed.count) else { return nil }
        // The particle may be a pseudo-symmetric mate chosen from scratch (LiCoO2; `PseudoSymmetry`):
        // refined from it, most of its own points then turn to the crystal's orientation, which is
        // the particle instead.
        let members = indexed.filter { Misorientation.angle(orientation[$0]!, b.u, symmetry: symmetry) <= options.outlierDegrees }
        let check = Array(hashOrder(members, rows: rows).prefix(options.particleSample))
        let turned = process(check.map { ($0, [b.u]) }, source: .cluster, rows: rows, manifest: manifest, processors: processors, cache: cache)
            .compactMap { $0.1.record.isIndexed(as: material) ? $0.1.record.orientation : nil }
            .filter { Misorientation.angle($0, b.u, symmetry: symmetry) > options.outlierDegrees }
        if 2 * turned.count > check.count,
           let top = clusters(turned.enumerated().map { (u: $0.element, index: $0.offset) }, symmetry: symmetry, options: options).first,
           let crystal = mean(of: top, symmetry: symmetry, material: material) {
            return crystal
        }
        return b.u
    }

    /// Row positions in the scan's fixed visiting order (`PatternProcessor.visitOrder`).
    static func hashOrder(_ positions: [Int], rows: [PatternRecord]) -> [Int] {
        positions.sorted { PatternProcessor.visitOrder(rows[$0].file, rows[$0].index) < PatternProcessor.visitOrder(rows[$1].file, rows[$1].index) }
    }

    /// Rewrites the tables with the pass's rows: changed pattern rows replaced, spots of newly indexed
    /// points inserted before the spots of later patterns.
    static func write(rows: [PatternRecord], results: [Int: PatternResult], patterns: String, peaks: String,
                      patternsOut: String, peaksOut: String) throws {
        try AtomicFile.write(to: patternsOut) { temp in
            let out = try TextSink(temp)
            try LineReader.forEachLine(patterns) { line, number in
                if number > 0, let r = results[number - 1] { try out.write(r.record.csvLine + "\n") } else { try out.write(line + "\n") }
            }
            try out.close()
        }
        let inserted = results.values.filter { !$0.spots.isEmpty }.sorted { $0.record.index < $1.record.index }
        try AtomicFile.write(to: peaksOut) { temp in
            let out = try TextSink(temp)
            var next = 0
            func flush(before index: Int) throws {
                while next < inserted.count, inserted[next].record.index < index {
                    for s in inserted[next].spots { try out.write(s.csvLine + "\n") }
                    next += 1
                }
            }
            // A point this pass changed loses the first pass's spots: a point that took the particle's
            // orientation under another crystal keeps only the particle's spots.
            let changed = Set(results.values.map(\.record.index))
            try LineReader.forEachLine(peaks) { line, number in
                if number > 0 {
                    let f = CSVTable.fields(of: Substring(line))
                    if f.count > 1, let index = Int(f[1]) {
                        try flush(before: index)
                        if changed.contains(index) { return }
                    }
                }
                try out.write(line + "\n")
            }
            try flush(before: Int.max)
            try out.close()
        }
    }
}

extension PatternRecord {
    /// Whether the row's grain is of `material` (rows written before phases were recorded have none
    /// and are of the run's material).
    func isIndexed(as material: Material) -> Bool { status == .indexed && (phase.isEmpty || phase == material.name) }
}

/// A buffered text file writer.
final class TextSink {
    let path: String
    let handle: FileHandle
    var buffer = ""

    init(_ path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw LaueError(.unreadable, file: path, "cannot write" + DiskSpace.noteIfFull(folderOf: path))
        }
        self.path = path; handle = h
    }

    func write(_ text: String) throws {
        buffer += text
        if buffer.utf8.count > 1 << 20 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: Data(buffer.utf8)) } catch {
            throw LaueError(.unreadable, file: path, "cannot write: " + DiskSpace.reason(for: error, writing: path))
        }
        buffer = ""
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}
