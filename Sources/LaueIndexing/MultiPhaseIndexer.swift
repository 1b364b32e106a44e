import Foundation
import LaueCore

/// Indexes patterns that hold several phases (a film on its substrate, a second phase, an inclusion):
/// each next grain is the best accepted grain of any phase among the spots the grains before it left
/// (the most indexed spots; then the smaller chance of unrelated matches; then the earlier phase), and
/// every grain reports its phase (`Grain.phase`). Peaks of one phase never count against another's
/// grain: acceptance is the statistical test of each phase's `Indexer`, not a fraction of the peaks.
/// With one material it is `Indexer.index(_:)`. Deterministic; not thread-safe (one per thread).
public final class MultiPhaseIndexer {
    public let indexers: [Indexer]
    public let options: IndexingOptions

    public convenience init(materials: [Material], calibration: DetectorCalibration, options: IndexingOptions = IndexingOptions()) throws {
        try self.init(materials: materials, calibrations: [calibration], options: options)
    }

    /// Over spots on several detectors (`Indexer.init(material:calibrations:options:)`).
    public convenience init(materials: [Material], calibrations: [DetectorCalibration], options: IndexingOptions = IndexingOptions()) throws {
        var names = Set<String>()
        for m in materials where !names.insert(m.name).inserted {
            throw LaueError(.invalidArgument, "material \(m.name) is given twice")
        }
        try self.init(indexers: materials.map { try Indexer(material: $0, calibrations: calibrations, options: options) }, options: options)
    }

    /// Over indexers already built (one per material, names distinct; their own options apply to each
    /// phase's search, `options` to the number of grains).
    public init(indexers: [Indexer], options: IndexingOptions) throws {
        guard !indexers.isEmpty else { throw LaueError(.invalidArgument, "no material to index with") }
        guard Set(indexers.map(\.material.name)).count == indexers.count else {
            throw LaueError(.invalidArgument, "a material is given twice")
        }
        self.indexers = indexers
        self.options = options
    }

    public var materials: [Material] { indexers.map(\.material) }

    /// Grains looked for by default with `phases` materials: one with one material; with several, one
    /// more than phases (a second grain of the substrate or the film: the real GaN/Si frames of BM32
    /// hold Si and two GaN grains). `lauemap index` and `scan run` use it.
    public static func defaultGrains(phases: Int) -> Int { phases > 1 ? phases + 1 : 1 }

    public func index(_ spots: [ObservedSpot]) -> IndexingResult {
        if indexers.count == 1 { return indexers[0].index(spots) }
        return Indexer.grains(in: indexers[0].observations(spots), peakCount: spots.count, options: options) { pool in
            var best: Grain? = nil
            var failures: [String] = []
            for indexer in indexers {
                switch indexer.findGrain(pool) {
                case .success(let g):
                    if let b = best, (g.indexedCount, -(g.chance ?? 1)) <= (b.indexedCount, -(b.chance ?? 1)) { continue }
                    best = g
                case .failure(let why):
                    failures.append("\(indexer.material.name): \(why)")
                }
            }
            return best.map { .success($0) } ?? .failure(failures.joined(separator: "; "))
        }
    }
}
