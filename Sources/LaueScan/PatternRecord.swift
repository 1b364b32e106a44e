import Foundation
import LaueCore
import LaueIO

/// How a scan point's orientation was found (`indexed_by` in patterns.csv).
public enum IndexingSource: String, Sendable, CaseIterable {
    /// From its own spots alone (`Indexer.index(_:)`).
    case scratch
    /// Refined from the orientations of indexed neighbouring points (second pass, `NeighbourIndexing`).
    case neighbour
    /// Refined from one of the scan's orientation clusters (an isolated point, second pass).
    case cluster
}

/// One row of `patterns.csv`: what the pipeline made of one pattern of a scan.
public struct PatternRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// An orientation was found (the class may still be `unclassified`).
        case indexed
        /// The image was read, but no orientation explains its peaks (`reason` says why).
        case unindexed
        /// The image could not be read or processed (`reason` names the file and the cause).
        case failed
    }

    public var index: Int
    public var file: String
    public var xUm: Double
    public var yUm: Double
    public var status: Status
    public var defectClass: DefectClass
    public var confidence: Double?
    public var peakCount: Int?
    public var indexedCount: Int?
    public var meanDeviation: Double?
    public var streakExtent: Double?
    public var axisLab: Vec3?
    /// Rotation axis as direction indices [uvw] (largest component +-1).
    public var axisIndices: Vec3?
    public var spread: Double?
    public var tilt: Double?
    public var tilts: [Double] = []
    public var orientationCount: Int?
    public var gndDensity: Double?
    public var reason: String = ""
    /// LaueTools UB of the grain.
    public var orientation: Mat3?
    public var matchingRate: Double?
    /// Point-spread sigma measured on this frame, pixels.
    public var psfSigma: Double?
    /// A depth tail shared by the frame's spots (LauePeaks' `DepthTail`): its length (px) and direction
    /// on the detector (degrees from +x towards +y); nil when none was found.
    public var depthTail: Double?
    public var depthTailAngle: Double?
    /// Direct-space deviatoric strain of the refined matrix (xx, yy, zz, yz, xz, xy; Cartesian crystal
    /// frame of B0) and its von Mises equivalent, with `scan run --strain`; empty otherwise.
    public var strain: [Double] = []
    public var strainEquivalent: Double?
    /// The same tensor in LaueTools' sample2 frame (40° sample tilt; `DeviatoricStrain.sample`).
    public var strainSample: [Double] = []
    /// How the orientation was found (nil unless indexed).
    public var indexedBy: IndexingSource?
    /// Channels recorded with the scan (columns `channel_<name>` of a whole-scan patterns.csv, e.g.
    /// a BLISS fluorescence counter), by name; empty in part files and shards.
    public var channels: [String: Double] = [:]
    /// The phase of the row's grain (the material it was indexed as; empty unless indexed). With
    /// several materials (`ScanSettings.otherPhases`) the row is about the scan's first material where it
    /// is found, else about the best grain of another phase.
    public var phase: String = ""
    /// The other grains found in the pattern, as `phase:spots` separated by `;` (a substrate under the
    /// particle: "Si:91"), in the order they were found; empty when none.
    public var otherGrains: String = ""

    public init(index: Int, file: String, xUm: Double, yUm: Double, status: Status, defectClass: DefectClass, reason: String = "") {
        self.index = index; self.file = file; self.xUm = xUm; self.yUm = yUm
        self.status = status; self.defectClass = defectClass; self.reason = reason
    }

    /// Columns of `patterns.csv`, in order (docs/scan-pipeline.md).
    public static let columns = ["file", "x_um", "y_um", "status", "class", "confidence", "n_peaks", "n_indexed",
                                 "mean_deviation_px", "streak_extent_deg", "axis_lab_x", "axis_lab_y", "axis_lab_z",
                                 "axis_h", "axis_k", "axis_l", "spread_deg", "tilt_deg", "n_orientations",
                                 "gnd_density_m2", "reason", "u11", "u12", "u13", "u21", "u22", "u23", "u31", "u32", "u33",
                                 "tilts_deg", "matching_rate", "psf_sigma_px", "pattern_index", "depth_tail", "depth_tail_px", "depth_tail_deg",
                                 "strain_xx", "strain_yy", "strain_zz", "strain_yz", "strain_xz", "strain_xy", "strain_equivalent",
                                 "indexed_by", "strain_sample_xx", "strain_sample_yy", "strain_sample_zz", "strain_sample_yz",
                                 "strain_sample_xz", "strain_sample_xy", "phase", "other_grains"]

    /// Position of `pattern_index` among the columns.
    public static let patternIndexColumn = columns.firstIndex(of: "pattern_index") ?? columns.count - 1

    /// The CSV fields, formatted with fixed precision so that equal results give equal text.
    public var fields: [String] {
        func n(_ v: Double?, _ d: Int) -> String { csvNumber(v, digits: d) }
        func i(_ v: Int?) -> String { v.map(String.init) ?? "" }
        var f = [file, n(xUm, 4), n(yUm, 4), status.rawValue, defectClass.rawValue, n(confidence, 3), i(peakCount),
                 i(indexedCount), n(meanDeviation, 4), n(streakExtent, 5)]
        f += [axisLab?.x, axisLab?.y, axisLab?.z].map { n($0, 6) }
        f += [axisIndices?.x, axisIndices?.y, axisIndices?.z].map { n($0, 4) }
        f += [n(spread, 5), n(tilt, 5), i(orientationCount), gndDensity.map { String(format: "%.4e", $0) } ?? "", reason]
        f += orientation.map { $0.flat.map { String(format: "%.9f", $0) } } ?? [String](repeating: "", count: 9)
        f += [tilts.map { String(format: "%.5f", $0) }.joined(separator: ";"), n(matchingRate, 4), n(psfSigma, 4), String(index)]
        // The flag: 1 when the frame's spots share a depth tail, 0 when its peaks were searched without
        // finding one, empty when the image was not read.
        f += [depthTail != nil ? "1" : (peakCount != nil ? "0" : ""), n(depthTail, 2), n(depthTailAngle, 1)]
        f += (0..<6).map { strain.count == 6 ? String(format: "%.4e", strain[$0]) : "" }
        f += [strainEquivalent.map { String(format: "%.4e", $0) } ?? "", indexedBy?.rawValue ?? ""]
        f += (0..<6).map { strainSample.count == 6 ? String(format: "%.4e", strainSample[$0]) : "" }
        f += [phase, otherGrains]
        return f
    }

    public var csvLine: String { CSVTable.line(fields) }

    /// Parses a row of `patterns.csv` (columns found by name, so extra or reordered columns are fine).
    public init(fields f: [String], header: [String], source: String) throws {
        var at: [String: Int] = [:]
        for (k, h) in header.enumerated() { at[h] = k }
        func s(_ name: String) -> String { at[name].flatMap { $0 < f.count ? f[$0] : nil } ?? "" }
        func d(_ name: String) -> Double? { Double(s(name)) }
        func int(_ name: String) -> Int? { Int(s(name)) }
        guard let status = Status(rawValue: s("status")) else {
            throw LaueError(.invalidFormat, file: source, item: s("file"), "unknown status \"\(s("status"))\"")
        }
        // A failed row may lack a position (its stage position was not a number): empty fields.
        func position(_ name: String) -> Double? { d(name) ?? (status == .failed && s(name).isEmpty ? .nan : nil) }
        guard let idx = int("pattern_index"), let x = position("x_um"), let y = position("y_um") else {
            throw LaueError(.invalidFormat, file: source, item: "row \(f.first ?? "")", "needs pattern_index, x_um and y_um")
        }
        let cls = try DefectClass(label: s("class"))
        self.init(index: idx, file: s("file"), xUm: x, yUm: y, status: status, defectClass: cls, reason: s("reason"))
        confidence = d("confidence"); peakCount = int("n_peaks"); indexedCount = int("n_indexed")
        meanDeviation = d("mean_deviation_px"); streakExtent = d("streak_extent_deg")
        if let ax = d("axis_lab_x"), let ay = d("axis_lab_y"), let az = d("axis_lab_z") { axisLab = Vec3(ax, ay, az) }
        if let h = d("axis_h"), let k = d("axis_k"), let l = d("axis_l") { axisIndices = Vec3(h, k, l) }
        spread = d("spread_deg"); tilt = d("tilt_deg"); orientationCount = int("n_orientations")
        gndDensity = d("gnd_density_m2")
        let u = ["u11", "u12", "u13", "u21", "u22", "u23", "u31", "u32", "u33"].compactMap(d)
        if u.count == 9 { orientation = Mat3(u) }
        tilts = s("tilts_deg").split(separator: ";").compactMap { Double($0) }
        matchingRate = d("matching_rate"); psfSigma = d("psf_sigma_px")
        depthTail = d("depth_tail_px"); depthTailAngle = d("depth_tail_deg")
        let e = ["strain_xx", "strain_yy", "strain_zz", "strain_yz", "strain_xz", "strain_xy"].compactMap(d)
        if e.count == 6 { strain = e }
        strainEquivalent = d("strain_equivalent")
        let es = ["strain_sample_xx", "strain_sample_yy", "strain_sample_zz", "strain_sample_yz", "strain_sample_xz", "strain_sample_xy"].compactMap(d)
        if es.count == 6 { strainSample = es }
        indexedBy = IndexingSource(rawValue: s("indexed_by"))
        phase = s("phase"); otherGrains = s("other_grains")
        for h in header where h.hasPrefix(ScanChannels.columnPrefix) {
            if let v = d(h) { channels[String(h.dropFirst(ScanChannels.columnPrefix.count))] = v }
        }
    }
}

/// One row of `peaks.csv`: an indexed spot with its shape.
public struct SpotRecord: Sendable, Equatable {
    public var patternIndex: Int
    public var file: String
    public var hkl: HKL
    public var x: Double, y: Double
    public var xPredicted: Double, yPredicted: Double
    public var energy: Double
    public var intensity: Double
    public var fwhmMajor: Double, fwhmMinor: Double
    public var angle: Double
    public var streakLength: Double, streakWidth: Double
    public var aspectRatio: Double
    public var subpeakCount: Int
    public var minimumDipRatio: Double
    public var streakDegrees: Double?
    public var saturated: Bool
    /// The classifier's reading of the spot ("" when it did not use it).
    public var label: String
    /// With two sub-peaks or more, where they lie: pixels along the major axis (`angle_deg`) from the
    /// spot's intensity centroid, ascending (empty for one).
    public var subpeakOffsets: [Double] = []

    public static let columns = ["file", "pattern_index", "h", "k", "l", "x", "y", "x_pred", "y_pred", "energy_kev",
                                 "intensity", "fwhm_major", "fwhm_minor", "angle_deg", "streak_length_px",
                                 "streak_width_px", "aspect_ratio", "n_subpeaks", "min_dip_ratio", "streak_deg",
                                 "saturated", "label", "subpeak_offsets_px"]

    /// The last column, added 2026-12-07: peaks.csv files of earlier runs have the columns before it.
    public static let offsetsColumn = "subpeak_offsets_px"
    /// Whether a peaks.csv record of `fields` fields is complete: today's columns, or an earlier run's.
    public static func isComplete(fieldCount: Int) -> Bool { fieldCount == columns.count || fieldCount == columns.count - 1 }

    /// `subpeak_offsets_px` as written: offsets with 2 decimals joined by ";".
    public static func offsetsText(_ offsets: [Double]) -> String { offsets.map { fixedPoint($0, digits: 2) }.joined(separator: ";") }
    /// The offsets of a `subpeak_offsets_px` field (unreadable parts left out).
    public static func offsets(_ text: String) -> [Double] { text.split(separator: ";").compactMap { Double($0) }.filter(\.isFinite) }

    public var fields: [String] {
        [file, String(patternIndex), String(hkl.h), String(hkl.k), String(hkl.l), csvNumber(x, digits: 3),
         csvNumber(y, digits: 3), csvNumber(xPredicted, digits: 3), csvNumber(yPredicted, digits: 3),
         csvNumber(energy, digits: 4), csvNumber(intensity, digits: 1), csvNumber(fwhmMajor, digits: 3),
         csvNumber(fwhmMinor, digits: 3), csvNumber(angle, digits: 2), csvNumber(streakLength, digits: 3),
         csvNumber(streakWidth, digits: 3), csvNumber(aspectRatio, digits: 3), String(subpeakCount),
         csvNumber(minimumDipRatio, digits: 3), csvNumber(streakDegrees, digits: 5), saturated ? "1" : "0", label,
         SpotRecord.offsetsText(subpeakOffsets)]
    }

    public var csvLine: String { CSVTable.line(fields) }
}

extension ScanOutputs {
    /// peaks.csv as spot records per pattern index (an absent file: none), streamed; with `patterns`,
    /// only the spots of those pattern indices are kept (a report of a large scan).
    public static func readSpots(_ path: String, patterns: Set<Int>? = nil) throws -> [Int: [SpotRecord]] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        var c: [Int] = []
        var count = 0
        var out: [Int: [SpotRecord]] = [:]
        try LineReader.forEachLine(path) { line, number in
            let row = CSVTable.fields(of: Substring(line))
            if number == 0 {
                count = row.count
                // subpeak_offsets_px is optional: runs written before it existed read as they are.
                c = try SpotRecord.columns.map { name in
                    guard let i = row.firstIndex(of: name) else {
                        if name == SpotRecord.offsetsColumn { return -1 }
                        throw LaueError(.invalidFormat, file: path, item: name, "column missing")
                    }
                    return i
                }
                return
            }
            guard row.count == count else { throw LaueError(.invalidFormat, file: path, item: "line \(number + 1)", "\(row.count) fields, the header has \(count)") }
            guard let index = Int(row[c[1]]) else { throw LaueError(.invalidFormat, file: path, item: "line \(number + 1)", "pattern_index is not an integer") }
            if let patterns, !patterns.contains(index) { return }
            func d(_ k: Int) -> Double { Double(row[c[k]]) ?? .nan }
            func i(_ k: Int) -> Int { Int(row[c[k]]) ?? 0 }
            out[index, default: []].append(SpotRecord(patternIndex: index, file: row[c[0]], hkl: HKL(i(2), i(3), i(4)), x: d(5), y: d(6),
                                                      xPredicted: d(7), yPredicted: d(8), energy: d(9), intensity: d(10), fwhmMajor: d(11),
                                                      fwhmMinor: d(12), angle: d(13), streakLength: d(14), streakWidth: d(15), aspectRatio: d(16),
                                                      subpeakCount: i(17), minimumDipRatio: d(18), streakDegrees: Double(row[c[19]]),
                                                      saturated: row[c[20]] == "1", label: row[c[21]],
                                                      subpeakOffsets: c[22] >= 0 ? SpotRecord.offsets(row[c[22]]) : []))
        }
        return out
    }
}
