import Foundation

/// The frame searches of the scan-guided pass (`NeighbourIndexing`), kept by pattern index: a point
/// tried in several waves, from the particle and from its neighbours, is read and searched once, and a
/// candidate searched by the first pass of the same process not again (the peak search is
/// deterministic, so the rows are the same either way: a resumed run or a merge of shards searches
/// again). Bounded by `peakLimit` cached peaks (about 1 kB each); beyond it, frames are read and
/// searched again.
final class FrameSearchCache: @unchecked Sendable {
    /// Peaks kept at most (docs/performance.md: about 100 MB).
    static let peakLimit = 100_000

    private var entries: [Int: PatternProcessor.FrameSearch] = [:]
    private var peaks = 0
    private let lock = NSLock()

    init() {}

    /// The search of pattern `index`, made by `make` the first time (and again when the cache is full).
    func search(_ index: Int, _ make: () -> PatternProcessor.FrameSearch) -> PatternProcessor.FrameSearch {
        lock.lock()
        if let hit = entries[index] { lock.unlock(); return hit }
        lock.unlock()
        let made = make()
        store(index, made)
        return made
    }

    /// Keeps `search` for pattern `index` while the cache has room; a search that is only `likely` to be
    /// needed again (an indexed point the pass may check against its neighbours or sample for its
    /// particle) only while the cache is under half full, so that the candidates keep their room.
    func store(_ index: Int, _ search: PatternProcessor.FrameSearch, likely: Bool = false) {
        var count = 0
        if case .found(let found, let sides) = search { count = found.peaks.count + sides.reduce(0) { $0 + ($1?.peaks.count ?? 0) } }
        let limit = likely ? FrameSearchCache.peakLimit / 2 : FrameSearchCache.peakLimit
        lock.lock()
        if entries[index] == nil, peaks + count <= limit {
            entries[index] = search
            peaks += count
        }
        lock.unlock()
    }
}
