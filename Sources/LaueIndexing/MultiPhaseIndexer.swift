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

    public init(materials: [Material], calibration: DetectorCalibration, options: IndexingOptions = IndexingOptions()) throws {
        guard !materials.isEmpty else { throw LaueError(.invalidArgument, "no material to index with") }
        var names = Set<String>()
        for m in materials where !names.insert(m.name).inserted {
            throw LaueError(.invalidArgument, "material \(m.name) is given twice")
        }
        indexers = try materials.map { try Indexer(material: $0, calibration: calibration, options: options) }
        self.options = options
    }

    public var materials: [Material] { indexers.map(\.material) }

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
