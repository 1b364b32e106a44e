import Foundation
import LaueCore
import LaueIO
import LauePeaks
import LaueIndexing
import LaueDefects
import LaueScan
import LaueSimulation
import LaueXANES

// The C interface of LaueMap (`liblauemapc.so`, declared in include/lauemap.h, documented in
// docs/python.md): plain C types, buffers the caller owns or frees with `lauemap_free`, errors as a
// status code plus a JSON message in the caller's buffer, never a trap. Every function is thread-safe:
// each call builds or borrows (from a pool) its own objects.

nonisolated(unsafe) private let versionText = strdup(LaueMapInfo.version)!   // written once, read only

/// LaueMap's version (a static string; do not free).
@_cdecl("lauemap_version")
public func lauemap_version() -> UnsafePointer<CChar> { UnsafePointer(versionText) }

/// Frees a buffer or string a LaueMap function returned. NULL is ignored.
@_cdecl("lauemap_free")
public func lauemap_free(_ pointer: UnsafeMutableRawPointer?) { free(pointer) }

/// Reads a frame (TIFF, MarCCD, HDF5): a malloc'ed row-major float32 buffer of width x height values,
/// and the `dtype` code of the file's sample type (`PixelType` order: uint8, uint16, uint32, int16,
/// int32, float32, float64). `dataset` may be NULL (the layout's default).
@_cdecl("lauemap_read_image")
public func lauemap_read_image(_ path: UnsafePointer<CChar>?, _ frame: Int64, _ dataset: UnsafePointer<CChar>?,
                               _ pixels: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>?, _ width: UnsafeMutablePointer<Int64>?,
                               _ height: UnsafeMutablePointer<Int64>?, _ dtype: UnsafeMutablePointer<Int32>?,
                               _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded(error, capacity) {
        guard let pixels, let width, let height, let dtype else { throw LaueError(.invalidArgument, "an output pointer is NULL") }
        guard frame >= 0, frame <= Int64(Int32.max) else { throw LaueError(.invalidArgument, "frame \(frame) (0 or more)") }
        let img = try ImageReader.read(path: try required(path, "path"), frame: Int(frame), dataset: try text(dataset, "dataset"))
        let buffer = try mallocCopy(img)
        pixels.pointee = buffer
        width.pointee = Int64(img.width)
        height.pointee = Int64(img.height)
        dtype.pointee = Int32(PixelType.allCases.firstIndex(of: img.pixelType) ?? 5)
    }
}

/// Peak search and shapes on a frame in memory: the CSV of `lauemap peaks --csv` (with the angular
/// columns when `calibration` is a .det/.cor path, else NULL). Options (JSON, NULL for none):
/// detection_sigma, psf_sigma, broad_spots (bool), fit ("pseudo-voigt", "gaussian", "lorentzian", "none").
@_cdecl("lauemap_peaks")
public func lauemap_peaks(_ pixels: UnsafeRawPointer?, _ dtype: Int32, _ width: Int64, _ height: Int64,
                          _ calibration: UnsafePointer<CChar>?, _ optionsJSON: UnsafePointer<CChar>?,
                          _ csv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                          _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded(error, capacity) {
        let (result, angles) = try searchPeaks(pixels, dtype, width, height, calibration, optionsJSON)
        try give(result.csvTable(withAngles: angles).text, to: csv)
    }
}

/// The same table as numbers: `columns` names them (`{"names": [...], "digits": [decimals the CSV
/// writes, null for integers and the model], "models": [names of the model column's values]}`),
/// `values` holds them column after column, `rows` values each, at full precision (NaN where the CSV
/// is empty). No text to format or parse: the fast path of Python's `lauemap.peaks`.
@_cdecl("lauemap_peaks_columns")
public func lauemap_peaks_columns(_ pixels: UnsafeRawPointer?, _ dtype: Int32, _ width: Int64, _ height: Int64,
                                  _ calibration: UnsafePointer<CChar>?, _ optionsJSON: UnsafePointer<CChar>?,
                                  _ values: UnsafeMutablePointer<UnsafeMutablePointer<Double>?>?,
                                  _ rows: UnsafeMutablePointer<Int64>?, _ columns: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                  _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded(error, capacity) {
        guard let values, let rows, let columns else { throw LaueError(.invalidArgument, "an output pointer is NULL") }
        let (result, angles) = try searchPeaks(pixels, dtype, width, height, calibration, optionsJSON)
        let table = result.numericRows(withAngles: angles)
        let names = PeakSearchResult.csvHeader(withAngles: angles)
        let n = table.count, m = names.count
        guard let buffer = malloc(max(1, n * m) * MemoryLayout<Double>.size)?.assumingMemoryBound(to: Double.self) else {
            throw LaueError(.numerical, "out of memory for \(n) peaks")
        }
        for (i, row) in table.enumerated() { for k in 0..<m { buffer[k * n + i] = row[k] } }
        let digits: [Any] = PeakSearchResult.csvDigits(withAngles: angles).map { $0.map { $0 as Any } ?? NSNull() }
        do {
            let header = String(decoding: try JSONSerialization.data(withJSONObject: ["names": names, "digits": digits,
                                                                                      "models": PeakSearchResult.modelNames]), as: UTF8.self)
            try give(header, to: columns)
        } catch {
            free(buffer)
            throw error
        }
        values.pointee = buffer
        rows.pointee = Int64(n)
    }
}

/// Seconds the library's own peak search takes on the frame (the frame converted to LaueMap's image
/// beforehand, untimed; the pooled searcher of `options`): the reference `tools/bench/python_peaks.py`
/// times `lauemap.peaks` against, call by call in the same process.
@_cdecl("lauemap_peaks_search_seconds")
public func lauemap_peaks_search_seconds(_ pixels: UnsafeRawPointer?, _ dtype: Int32, _ width: Int64, _ height: Int64,
                                         _ optionsJSON: UnsafePointer<CChar>?, _ seconds: UnsafeMutablePointer<Double>?,
                                         _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded(error, capacity) {
        guard let seconds else { throw LaueError(.invalidArgument, "the output pointer is NULL") }
        let search = try peakSearchOptions(Options(values: try options(optionsJSON, known: ["detection_sigma", "psf_sigma", "broad_spots", "fit"])))
        seconds.pointee = try withImage(pixels, dtype, width, height) { img in
            try searchers.use(try text(optionsJSON, "options") ?? "", build: { PeakSearcher(options: search) }) { searcher in
                let start = DispatchTime.now().uptimeNanoseconds
                _ = searcher.search(img)
                return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            }
        }
    }
}

/// The peak search of a call: options, calibration (angular columns), the pooled searcher.
private func searchPeaks(_ pixels: UnsafeRawPointer?, _ dtype: Int32, _ width: Int64, _ height: Int64,
                         _ calibration: UnsafePointer<CChar>?, _ optionsJSON: UnsafePointer<CChar>?) throws -> (PeakSearchResult, Bool) {
    let search = try peakSearchOptions(Options(values: try options(optionsJSON, known: ["detection_sigma", "psf_sigma", "broad_spots", "fit"])))
    let calib = try text(calibration, "calibration").map { try LaueToolsCalibration.read(path: $0, frameSize: (Int(width), Int(height))) }
    // Searchers keep their frame-sized buffers and fit workspaces: reused per options.
    var result = try withImage(pixels, dtype, width, height) { img in
        try searchers.use(try text(optionsJSON, "options") ?? "", build: { PeakSearcher(options: search) }) { $0.search(img) }
    }
    if let calib { for i in result.peaks.indices { result.peaks[i].addAngles(calib) } }
    return (result, calib != nil)
}

/// The peak-search options of a call.
private func peakSearchOptions(_ o: Options) throws -> PeakSearchOptions {
    var search = PeakSearchOptions()
    if let s = try o.double("detection_sigma") {
        guard s > 0 && s <= 1000 else { throw LaueError(.invalidArgument, "options: detection_sigma must be in (0, 1000]") }
        search.detectionSigma = s
    }
    if let s = try o.double("psf_sigma") {
        guard s > 0 && s <= 100 else { throw LaueError(.invalidArgument, "options: psf_sigma must be in (0, 100] px") }
        search.psfSigma = s
    }
    if let b = try o.bool("broad_spots") { search.detectBroadSpots = b }
    switch try o.string("fit") ?? "pseudo-voigt" {
    case "pseudo-voigt": search.fitModel = .pseudoVoigt
    case "gaussian": search.fitModel = .gaussian
    case "lorentzian": search.fitModel = .lorentzian
    case "none": search.fitModel = nil
    case let f: throw LaueError(.invalidArgument, "options: fit must be pseudo-voigt, gaussian, lorentzian or none, not \"\(f)\"")
    }
    return search
}

private let searchers = Pool<PeakSearcher>()

/// A malloc'ed copy of a frame's pixels for an out-parameter (freed by the caller with `lauemap_free`).
private func mallocCopy(_ img: LaueImage) throws -> UnsafeMutablePointer<Float> {
    guard let buffer = malloc(max(1, img.pixels.count) * MemoryLayout<Float>.size)?.assumingMemoryBound(to: Float.self) else {
        throw LaueError(.numerical, "out of memory for \(img.width) x \(img.height) pixels")
    }
    img.pixels.withUnsafeBufferPointer { _ = memcpy(buffer, $0.baseAddress!, $0.count * MemoryLayout<Float>.size) }
    return buffer
}

/// The indexing options of a call (the options of `lauemap index`, snake case).
private let indexingKeys = ["energy", "strain", "grains", "min_peaks", "min_indexed", "unambiguous_indexed", "retry_seed_spots", "max_chance", "max_deviation",
                            "max_deviation_deg", "min_fraction"]

private func indexingOptions(_ o: Options, materials: Int) throws -> IndexingOptions {
    var io = IndexingOptions()
    if let e = try o.numbers("energy", count: 2) { io.energyRange = try LaueScattering.band(e[0], e[1], what: "options: energy") }
    if let s = try o.bool("strain") { io.refineStrain = s }
    io.maxGrains = try o.int("grains", 1...100) ?? MultiPhaseIndexer.defaultGrains(phases: materials)
    if let v = try o.int("min_peaks", 3...10_000) { io.minimumPeaks = v }
    if let v = try o.int("min_indexed", 3...10_000) { io.minimumIndexed = v }
    if let v = try o.int("unambiguous_indexed", 0...10_000) { io.unambiguousIndexed = v }
    if let v = try o.int("retry_seed_spots", 0...100) { io.retrySeedSpots = v }
    if let v = try o.double("max_chance") { guard v > 0, v <= 1 else { throw LaueError(.invalidArgument, "options: max_chance in (0, 1]") }; io.maximumChance = v }
    if let v = try o.double("max_deviation") { guard v > 0, v <= 1000 else { throw LaueError(.invalidArgument, "options: max_deviation in (0, 1000] px") }; io.maximumMeanDeviation = v }
    if let v = try o.double("max_deviation_deg") { guard v >= 0, v <= 10 else { throw LaueError(.invalidArgument, "options: max_deviation_deg in [0, 10]") }; io.maximumMeanDeviationDegrees = v }
    if let v = try o.double("min_fraction") { guard v >= 0, v <= 1 else { throw LaueError(.invalidArgument, "options: min_fraction in [0, 1]") }; io.minimumFraction = v }
    return io
}

private let indexers = Pool<MultiPhaseIndexer>()

/// Indexes a peak list (x, y in LaueTools' pixel convention, intensity; n peaks; `detector` the
/// detector of each peak, NULL: all on the main one) with one material or several (comma-separated):
/// the JSON of `lauemap index --json`. Options: the indexing options of `lauemap index` (energy [MIN,
/// MAX], strain, grains, min_peaks, min_indexed, unambiguous_indexed, max_chance, max_deviation,
/// max_deviation_deg, min_fraction) and side_calib (the calibrations of detectors 1, 2, ...: side
/// detectors indexed jointly with the main one, as `lauemap index --side-calib`).
@_cdecl("lauemap_index")
public func lauemap_index(_ x: UnsafePointer<Double>?, _ y: UnsafePointer<Double>?, _ intensity: UnsafePointer<Double>?,
                          _ detector: UnsafePointer<Int32>?, _ n: Int64,
                          _ calibration: UnsafePointer<CChar>?, _ material: UnsafePointer<CChar>?, _ optionsJSON: UnsafePointer<CChar>?,
                          _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                          _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded(error, capacity) {
        guard n >= 0, n <= 1_000_000 else { throw LaueError(.invalidArgument, "\(n) peaks (0 to 1,000,000)") }
        guard n == 0 || (x != nil && y != nil && intensity != nil) else { throw LaueError(.invalidArgument, "a peak array is NULL") }
        let calibPath = try required(calibration, "calibration"), names = try required(material, "material")
        let optionsText = try text(optionsJSON, "options") ?? ""
        let o = Options(values: try options(optionsJSON, known: indexingKeys + ["side_calib"]))
        let sides = try o.strings("side_calib", limit: maximumSideDetectors) ?? []
        var spots: [ObservedSpot] = []
        spots.reserveCapacity(Int(n))
        for k in 0..<Int(n) {
            let s = ObservedSpot(x: x![k], y: y![k], intensity: intensity![k], detector: detector.map { Int($0[k]) } ?? 0)
            guard s.x.isFinite, s.y.isFinite, s.intensity.isFinite else { throw LaueError(.invalidArgument, "peak \(k): position or intensity is not finite") }
            guard (0...sides.count).contains(s.detector) else {
                throw LaueError(.invalidArgument, "peak \(k): detector \(s.detector), but \(sides.count) side calibrations (detectors 0-\(sides.count))")
            }
            spots.append(s)
        }
        let materials = try Material.loadList(names)
        let io = try indexingOptions(o, materials: materials.count)
        let key = ([calibPath] + sides).map(fileKey) + [names, optionsText]
        let result = try indexers.use(key.joined(separator: "\u{1}"), build: {
            try MultiPhaseIndexer(materials: materials, calibrations: try ([calibPath] + sides).map { try LaueToolsCalibration.read(path: $0) }, options: io)
        }) { $0.index(spots) }
        try give(try jsonText(result.json(detectors: 1 + sides.count)), to: json)
    }
}

/// Side detectors a C/Python call may index with (34-ID-E has two).
let maximumSideDetectors = 8


private let processors = Pool<PatternProcessor>()

/// The whole pipeline of `scan run` on one frame in memory: peak search, indexing, classification.
/// Returns JSON {"pattern": CSV text of patterns.csv's header and the row, "spots": CSV of peaks.csv's
/// header and the indexed spots}; the row is what `scan run` writes for a scan of this one frame.
/// `label` names the pattern (the file column). Options: the indexing options, beam_size (µm) and
/// psf_sigma (px; default the frame's own estimate).
@_cdecl("lauemap_classify")
public func lauemap_classify(_ pixels: UnsafeRawPointer?, _ dtype: Int32, _ width: Int64, _ height: Int64,
                             _ calibration: UnsafePointer<CChar>?, _ material: UnsafePointer<CChar>?, _ label: UnsafePointer<CChar>?,
                             _ optionsJSON: UnsafePointer<CChar>?, _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                             _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded(error, capacity) {
        let o = Options(values: try options(optionsJSON, known: indexingKeys + ["beam_size", "psf_sigma"]))
        let calibPath = try required(calibration, "calibration"), names = try required(material, "material")
        let materials = try Material.loadList(names)
        let io = try indexingOptions(o, materials: 1)
        let beam = try o.double("beam_size"), psf = try o.double("psf_sigma")
        if let beam { guard beam > 0, beam <= 1000 else { throw LaueError(.invalidArgument, "options: beam_size in (0, 1000] µm") } }
        if let psf { guard psf > 0, psf <= 100 else { throw LaueError(.invalidArgument, "options: psf_sigma in (0, 100] px") } }
        let optionsText = try text(optionsJSON, "options") ?? ""
        let record = PatternRecord(index: 0, file: try text(label, "label") ?? "frame", xUm: 0, yUm: 0, status: .failed, defectClass: .failed)
        let key = [fileKey(calibPath), names, optionsText, "\(width)x\(height)"].joined(separator: "\u{1}")
        let result = try withImage(pixels, dtype, width, height) { img in
            try processors.use(key, build: {
                try processor(calibration: calibPath, materials: materials, indexing: io, beamSize: beam, pointSpread: psf, size: (img.width, img.height))
            }) { $0.processAlone(image: img, record: record) }
        }
        let pattern = CSVTable.line(PatternRecord.columns) + "\n" + result.record.csvLine + "\n"
        let spots = ([CSVTable.line(SpotRecord.columns)] + result.spots.map(\.csvLine)).joined(separator: "\n") + "\n"
        try give(try jsonText(["pattern": pattern, "spots": spots]), to: json)
    }
}

/// The pattern processor of `lauemap_classify`: the settings of `scan run` on one frame (no second pass).
private func processor(calibration path: String, materials: [Material], indexing: IndexingOptions, beamSize: Double?, pointSpread: Double?,
                       size: (width: Int, height: Int)) throws -> PatternProcessor {
    let calib = try LaueToolsCalibration.read(path: path, frameSize: size)
    if let why = calib.frameSizeMismatch(width: size.width, height: size.height) {
        throw LaueError(.invalidArgument, file: path, "the frame \(why)")
    }
    var settings = ScanSettings(material: materials[0], calibration: calib)
    settings.otherPhases = Array(materials.dropFirst())
    settings.indexingOptions = indexing
    if let beamSize { settings.classifierOptions.beamSize = beamSize }
    settings.classifierOptions.pointSpreadSigma = pointSpread
    settings.neighbourIndexing = nil
    return try PatternProcessor(settings: settings)
}

/// Simulates one pattern (`lauemap simulate pattern`): `detector` is a built-in detector name or a
/// .det path; `material` a built-in name or JSON file; options (JSON) those of `PatternRequest`
/// (matrix, defect, axis, spread, tilt, orientations, weight, profile, energy, noise, seed). Returns a
/// malloc'ed float32 frame and JSON of its truth (class, orientation, axis, spot count).
@_cdecl("lauemap_simulate")
public func lauemap_simulate(_ detector: UnsafePointer<CChar>?, _ material: UnsafePointer<CChar>?, _ optionsJSON: UnsafePointer<CChar>?,
                             _ pixels: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>?, _ width: UnsafeMutablePointer<Int64>?,
                             _ height: UnsafeMutablePointer<Int64>?, _ truth: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                             _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded(error, capacity) {
        guard let pixels, let width, let height else { throw LaueError(.invalidArgument, "an output pointer is NULL") }
        let request = try PatternRequest(json: try text(optionsJSON, "options") ?? "")
        let name = try required(detector, "detector")
        let det = FileManager.default.fileExists(atPath: name) ? try SimulatedDetector.fromCalibration(path: name) : try SimulatedDetector.builtin(name)
        let mat = try Material.load(try required(material, "material"))
        let (img, t, spots) = try request.simulate(material: mat, detector: det)
        let buffer = try mallocCopy(img)
        let object: [String: Any] = ["class": t.defectClass.rawValue, "orientation_matrix": t.orientation.rows, "spots": spots,
                                     "axis_lab": t.axisLab.map { [$0.x, $0.y, $0.z] as Any } ?? NSNull()]
        do { try give(try jsonText(object), to: truth) } catch { free(buffer); throw error }
        pixels.pointee = buffer
        width.pointee = Int64(img.width)
        height.pointee = Int64(img.height)
    }
}

/// Larch's XANES normalisation (`pre_edge`) of one spectrum (n energies in eV and absorbances):
/// the JSON of `lauemap xanes normalize --json` (e0, edge_step, ranges, norm, flat, pre_edge,
/// post_edge...). Options: Larch's keywords e0, pre1, pre2, norm1, norm2, nnorm (null: Larch's default).
@_cdecl("lauemap_xanes_normalize")
public func lauemap_xanes_normalize(_ energy: UnsafePointer<Double>?, _ mu: UnsafePointer<Double>?, _ n: Int64,
                                    _ optionsJSON: UnsafePointer<CChar>?, _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                    _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int32 {
    guarded(error, capacity) {
        guard n >= 0, n <= 10_000_000 else { throw LaueError(.invalidArgument, "\(n) points (0 to 10,000,000)") }
        guard n == 0 || (energy != nil && mu != nil) else { throw LaueError(.invalidArgument, "an array is NULL") }
        let o = Options(values: try options(optionsJSON, known: ["e0", "pre1", "pre2", "norm1", "norm2", "nnorm"]))
        let ranges = PreEdgeRanges(e0: try o.double("e0"), pre1: try o.double("pre1"), pre2: try o.double("pre2"),
                                   norm1: try o.double("norm1"), norm2: try o.double("norm2"), nnorm: try o.int("nnorm", 0...5))
        let count = Int(n)
        let e = count == 0 ? [] : Array(UnsafeBufferPointer(start: energy!, count: count))
        let m = count == 0 ? [] : Array(UnsafeBufferPointer(start: mu!, count: count))
        let r = try EdgeNormalization.normalize(try Spectrum(energy: e, mu: m), ranges)
        try give(try jsonText(r.json()), to: json)
    }
}
