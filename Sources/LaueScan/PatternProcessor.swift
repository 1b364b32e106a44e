import Foundation
import LaueCore
import LaueIO
import LauePeaks
import LaueIndexing
import LaueDefects

/// Everything the pipeline needs to turn one image into one row: calibration, material and the
/// options of each stage.
public struct ScanSettings: Sendable {
    /// The scan's material: the phase its rows, classes and orientation maps are about (a particle).
    public var material: Material
    /// Further phases indexed in every pattern (a substrate, a second phase, an inclusion), so that
    /// their spots are explained by their own grains and never read as the scan's material. A row is
    /// about the grain of `material` where one is found, else about the best grain of another phase
    /// (`PatternRecord.phase`); the other grains are listed in `PatternRecord.otherGrains`.
    public var otherPhases: [Material] = []
    public var calibration: DetectorCalibration
    /// The calibrations of the side detectors whose frames the patterns hold (`ScanPattern.sides`, in
    /// the order of `ScanManifest.sideDetectors`; 34-ID-E): their peaks are indexed jointly with the
    /// main frame's. Rows, classes and spot shapes are read on the main frame.
    public var sideCalibrations: [DetectorCalibration] = []
    public var peakOptions: PeakSearchOptions
    public var indexingOptions: IndexingOptions
    public var classifierOptions: ClassifierOptions
    /// Scan-guided indexing of the points the first pass left unindexed (nil: off). It runs when a
    /// run covers the whole scan, and in `scan merge` for shards.
    public var neighbourIndexing: NeighbourIndexingOptions? = NeighbourIndexingOptions()

    /// The indexing defaults of a scan (those of `IndexingOptions`, as `lauemap index` uses them).
    public static let defaultIndexingOptions = IndexingOptions()

    public init(material: Material, calibration: DetectorCalibration) {
        self.material = material
        self.calibration = calibration
        peakOptions = PeakSearchOptions()
        indexingOptions = ScanSettings.defaultIndexingOptions
        classifierOptions = ClassifierOptions()
    }

    /// Every phase of the run, the scan's material first.
    public var materials: [Material] { [material] + otherPhases }
}

/// One pattern's results: its row and its indexed spots.
public struct PatternResult: Sendable {
    public var record: PatternRecord
    public var spots: [SpotRecord]
}

/// Turns images into rows: peak search, indexing, classification. Holds per-thread state (the
/// indexer's caches): use one per worker.
public final class PatternProcessor {
    public let settings: ScanSettings
    let searcher: PeakSearcher
    /// The indexer of the scan's material.
    let indexer: Indexer
    /// Every phase from scratch (nil with one material), and the other phases alone (seeded rows).
    let phases: MultiPhaseIndexer?
    let otherPhases: MultiPhaseIndexer?
    /// One classifier per phase, by material name.
    let classifiers: [String: DefectClassifier]

    public init(settings: ScanSettings) throws {
        self.settings = settings
        searcher = PeakSearcher(options: settings.peakOptions)
        var options = settings.indexingOptions
        if !settings.otherPhases.isEmpty {
            options.maxGrains = max(options.maxGrains, MultiPhaseIndexer.defaultGrains(phases: settings.materials.count))
        }
        let calibrations = [settings.calibration] + settings.sideCalibrations
        let indexers = try settings.materials.map { try Indexer(material: $0, calibrations: calibrations, options: options) }
        indexer = indexers[0]
        phases = indexers.count > 1 ? try MultiPhaseIndexer(indexers: indexers, options: options) : nil
        otherPhases = indexers.count > 1 ? try MultiPhaseIndexer(indexers: Array(indexers.dropFirst()), options: options) : nil
        var classifiers: [String: DefectClassifier] = [:]
        for i in indexers { classifiers[i.material.name] = DefectClassifier(predictor: i.predictor, options: settings.classifierOptions) }
        self.classifiers = classifiers
    }

    /// Processes one pattern; never throws: an unreadable image is a `failed` row with the reason.
    /// With `seeds`, the pattern is indexed from those orientations (scan-guided, `Indexer.index(_:near:)`)
    /// instead of from scratch, and `source` says where they came from.
    public func process(_ pattern: ScanPattern, seeds: [Mat3]? = nil, source: IndexingSource = .neighbour,
                        read: (ScanPattern) throws -> LaueImage) -> PatternResult {
        process(searchFrame(pattern, read: read), of: pattern, seeds: seeds, source: source)
    }

    /// What the peak search finds on a pattern's frame, or why the pattern fails (a problem of its
    /// scan row, an unreadable image, a frame of another size than the calibration's detector, no
    /// finite pixel).
    public enum FrameSearch: Sendable {
        /// The main frame's peaks and, for each side detector, its frame's peaks (nil: no usable frame).
        case found(PeakSearchResult, sides: [PeakSearchResult?])
        case failed(String)
    }

    /// Reads and searches a pattern's frame; never throws.
    public func searchFrame(_ pattern: ScanPattern, read: (ScanPattern) throws -> LaueImage) -> FrameSearch {
        if let problem = pattern.problem { return .failed(problem) }
        let image: LaueImage
        do {
            image = try read(pattern)
        } catch let e as LaueError {
            return .failed(e.description)
        } catch {
            return .failed("\(pattern.path): \(error)")
        }
        let c = settings.calibration
        if let why = c.frameSizeMismatch(width: image.width, height: image.height) {
            return .failed("\(pattern.path): frame \(why)")
        }
        // A frame without one finite pixel is broken, not a pattern without spots.
        guard image.pixels.contains(where: \.isFinite) else {
            return .failed("\(pattern.path): the frame holds no finite pixel value (all NaN or infinite)")
        }
        return .found(searcher.search(image), sides: searchSides(pattern, read: read))
    }

    /// The peaks of a pattern's side frames (`ScanPattern.sides`) for the side detectors of the settings;
    /// a missing, unreadable or wrongly sized side frame is left out (nil): the main frame still indexes.
    func searchSides(_ pattern: ScanPattern, read: (ScanPattern) throws -> LaueImage) -> [PeakSearchResult?] {
        settings.sideCalibrations.enumerated().map { d, c in
            guard d < pattern.sides.count, pattern.sides[d].problem == nil,
                  let image = try? read(pattern.sides[d]), c.frameSizeMismatch(width: image.width, height: image.height) == nil else { return nil }
            return searcher.search(image)
        }
    }

    /// Processes a pattern whose frame was searched (`searchFrame`): a failure is a `failed` row.
    public func process(_ search: FrameSearch, of pattern: ScanPattern, seeds: [Mat3]? = nil,
                        source: IndexingSource = .neighbour) -> PatternResult {
        var record = PatternRecord(index: pattern.index, file: pattern.label, xUm: pattern.xUm, yUm: pattern.yUm,
                                   status: .failed, defectClass: .failed)
        switch search {
        case .failed(let reason):
            record.reason = reason
            return PatternResult(record: record, spots: [])
        case .found(let found, let sides):
            return process(found: found, sides: sides, record: record, seeds: seeds, source: source)
        }
    }

    /// The row `scan run` writes for a scan of this one frame (`lauemap.classify` in Python): unless the
    /// settings fix the detector's point spread, it is the frame's own estimate, as
    /// `estimatePointSpread` gives for a one-frame scan.
    public func processAlone(image: LaueImage, record: PatternRecord) -> PatternResult {
        process(image: image, record: record, pointSpreadFromFrame: settings.classifierOptions.pointSpreadSigma == nil)
    }

    /// Processes an image already in memory (from scratch, or from `seeds` as above). With
    /// `pointSpreadFromFrame`, the frame's own point-spread estimate is the detector's (`pointSpread(of:)`).
    public func process(image: LaueImage, record base: PatternRecord, seeds: [Mat3]? = nil,
                        source: IndexingSource = .neighbour, pointSpreadFromFrame: Bool = false) -> PatternResult {
        process(found: searcher.search(image), record: base, seeds: seeds, source: source, pointSpreadFromFrame: pointSpreadFromFrame)
    }

    /// Indexes and classifies the peaks `found` on a pattern's frame (with the peaks of its side frames,
    /// indexed jointly; the spots of the row are the main frame's).
    func process(found: PeakSearchResult, sides: [PeakSearchResult?] = [], record base: PatternRecord, seeds: [Mat3]? = nil,
                 source: IndexingSource = .neighbour, pointSpreadFromFrame: Bool = false) -> PatternResult {
        var record = base
        record.peakCount = found.peaks.count
        record.psfSigma = found.psfSigma
        record.depthTail = found.depthTail?.length
        record.depthTailAngle = found.depthTail?.angle
        var observed = found.peaks.map(ObservedSpot.init)
        for (d, side) in sides.enumerated() {
            observed += (side?.peaks ?? []).map { ObservedSpot($0, detector: d + 1) }
        }
        var (grains, reason) = index(observed, seeds: seeds)
        // Side spots take part in the orientation; shapes and classes are read on the main frame.
        let jointCounts = grains.map(\.indexedCount)
        if !sides.isEmpty { grains = grains.map { var g = $0; g.spots.removeAll { $0.detector != 0 }; return g } }
        guard let chosen = grains.firstIndex(where: { $0.phase == settings.material.name }) ?? (grains.isEmpty ? nil : 0) else {
            record.status = .unindexed
            record.defectClass = .unindexed
            record.reason = reason ?? "not indexed"
            return PatternResult(record: record, spots: [])
        }
        let grain = grains[chosen]
        record.status = .indexed
        record.phase = grain.phase
        record.otherGrains = grains.indices.filter { $0 != chosen }.map { "\(grains[$0].phase):\(jointCounts[$0])" }.joined(separator: ";")
        record.indexedBy = seeds == nil ? .scratch : source
        record.indexedCount = jointCounts[chosen]
        record.meanDeviation = grain.meanDeviation
        record.matchingRate = grain.matchingRate
        if let e = grain.strain {
            record.strain = DeviatoricStrain.components(e.crystal)
            record.strainEquivalent = e.equivalent
            record.strainSample = DeviatoricStrain.components(e.sample())
        }
        record.orientation = grain.orientation
        let (a, _) = (classifiers[grain.phase] ?? classifiers[settings.material.name]!)
            .classify(found, grain: grain, detectorPointSpread: pointSpreadFromFrame ? PatternProcessor.pointSpread(of: found) : nil)
        record.defectClass = a.defectClass
        record.confidence = a.confidence
        record.streakExtent = a.streakExtent
        record.axisLab = a.axisLab
        record.axisIndices = a.axisIndices
        record.spread = a.spread
        record.tilts = a.tilts
        record.tilt = a.tilt
        record.orientationCount = a.defectClass.isDefect || a.defectClass == .noDefect ? a.orientationCount : nil
        record.gndDensity = a.gndDensity
        record.reason = a.reason ?? ""
        var labels: [Int: String] = [:]
        for s in a.spots { labels[s.peakIndex] = s.label.rawValue }
        var spots: [SpotRecord] = []
        spots.reserveCapacity(grain.spots.count)
        for s in grain.spots {
            let p = found.peaks[s.peakIndex]
            let core = p.core
            var withAngles = p
            withAngles.addAngles(settings.calibration)
            spots.append(SpotRecord(patternIndex: record.index, file: record.file, hkl: s.hkl, x: s.x, y: s.y,
                                    xPredicted: s.xPredicted, yPredicted: s.yPredicted, energy: s.energy, intensity: p.intensity,
                                    fwhmMajor: core.fwhmMajor, fwhmMinor: core.fwhmMinor,
                                    angle: p.streak.angle, streakLength: p.streak.length, streakWidth: p.streak.width,
                                    aspectRatio: p.streak.aspectRatio, subpeakCount: p.streak.profile.count,
                                    minimumDipRatio: p.streak.profile.minimumDipRatio, streakDegrees: withAngles.streakDegrees,
                                    saturated: p.saturated, label: labels[s.peakIndex] ?? "",
                                    subpeakOffsets: p.streak.profile.count > 1 ? p.streak.profile.positions : []))
        }
        return PatternResult(record: record, spots: spots)
    }

    /// The grains of a pattern and, without any, why. From scratch: every phase (`MultiPhaseIndexer`).
    /// From `seeds` (orientations of the scan's material): the other phases from scratch first, then
    /// the scan's material from the seeds among the peaks they left.
    func index(_ observed: [ObservedSpot], seeds: [Mat3]?) -> (grains: [Grain], reason: String?) {
        guard let seeds else {
            let r = phases?.index(observed) ?? indexer.index(observed)
            return (r.grains, r.reason)
        }
        let others = otherPhases?.index(observed).grains ?? []
        let used = Set(others.flatMap { $0.spots.map(\.peakIndex) })
        let r = indexer.index(observed, near: seeds, excluding: used)
        return (r.grains + others, r.grains.isEmpty ? r.reason : nil)
    }

    /// The point-spread sigma of the detector estimated over a scan: the lower quartile of the
    /// per-frame estimates of `samples` frames with enough peaks (sharp frames give the detector's
    /// value; broadened frames only raise their own estimate). Frames are visited in the order of a hash
    /// of their file label, and only frames that read give a value or use up one of the `4 x samples`
    /// visits: a row that cannot be read (missing, broken, a directory) never changes which frames are
    /// sampled, so bad rows never change good rows. Nil when no visited frame qualifies.
    public func estimatePointSpread(_ manifest: ScanManifest, samples: Int = 24, read: (ScanPattern) throws -> LaueImage) -> Double? {
        let order = manifest.patterns.sorted { PatternProcessor.visitOrder($0.label, $0.index) < PatternProcessor.visitOrder($1.label, $1.index) }
        var values: [Double] = []
        var visits = 0
        for p in order where p.problem == nil && values.count < samples && visits < 4 * samples {
            guard let image = try? read(p), image.width == settings.calibration.width, image.height == settings.calibration.height,
                  image.pixels.contains(where: \.isFinite) else { continue }
            visits += 1
            if let sigma = PatternProcessor.pointSpread(of: searcher.search(image)) { values.append(sigma) }
        }
        guard !values.isEmpty else { return nil }
        values.sort()
        return values[(values.count - 1) / 4]
    }

    /// A frame's estimate of the detector's point spread: its search's sigma when estimated from at least
    /// `pointSpreadMinimumPeaks` peaks, else nil.
    static func pointSpread(of found: PeakSearchResult) -> Double? {
        found.psfEstimated && found.peaks.count >= pointSpreadMinimumPeaks ? found.psfSigma : nil
    }

    /// Peaks a frame needs for its point-spread estimate to count (`estimatePointSpread`).
    public static let pointSpreadMinimumPeaks = 8

    /// Sort key of a frame in the scan's fixed visiting order (PSF estimate, particle samples): the
    /// FNV-1a hash of its label, then its index. Independent of the scan order and of other rows.
    static func visitOrder(_ label: String, _ index: Int) -> (UInt64, Int) { (hash(label), index) }

    /// FNV-1a of a label's UTF-8 bytes: a fixed, platform-independent order of a scan's frames.
    static func hash(_ label: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}
