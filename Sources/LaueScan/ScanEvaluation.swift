import Foundation
import LaueCore
import LaueIO

/// Scores a scan's results against ground truth (the simulator's `truth.csv`): confusion matrix of
/// the six physical classes, recall, precision and F1, rotation-axis errors, spread and tilt errors, and
/// defect fractions. Patterns are matched by their `file` field.
public struct ScanEvaluation: Sendable {
    public static let classes = DefectClass.physical
    /// confusion[truth][predicted], predicted over `classes + [.unclassified, .unindexed, .failed]`.
    public var confusion: [[Int]]
    public var predictedLabels: [DefectClass] { ScanEvaluation.classes + [.unclassified, .unindexed, .failed] }
    public var recall: [Double]
    public var precision: [Double]
    public var f1: [Double]
    public var macroF1: Double
    /// Lab-frame axis errors (degrees) of correctly classified one-axis patterns.
    public var axisErrors: [Double]
    /// Relative errors (measured / true - 1) of spreads and of mean tilts, per class.
    public var spreadErrors: [DefectClass: [Double]]
    public var tiltErrors: [DefectClass: [Double]]
    /// Fractions among defect-present patterns (percent), truth and measured, per defect class.
    public var truthFractions: [DefectClass: Double]
    public var measuredFractions: [DefectClass: Double]
    /// Patterns outside the particle (truth `unindexed`) given a physical class.
    public var outsideClassified: Int
    public var matched: Int
    /// Misorientation (degrees, symmetry-aware) between each indexed pattern's orientation and the
    /// truth's (`u11`...`u33`), by how the pattern was indexed.
    public var orientationErrors: [IndexingSource: [Double]] = [:]
    /// An orientation farther than this from the truth is wrong, degrees (sub-grains of the simulated
    /// defects lie within about 1 degree of the truth's orientation).
    public static let wrongOrientationDegrees = 3.0
    public var wrongOrientations: Int {
        orientationErrors.values.reduce(0) { $0 + $1.filter { $0 > ScanEvaluation.wrongOrientationDegrees }.count }
    }

    /// `symmetry`: the material's proper rotations, for the orientation errors (nil: not evaluated).
    public init(truth: CSVTable, results: [PatternRecord], source: String = "truth.csv", symmetry: [Mat3]?) throws {
        guard let fi = truth.index(of: "file"), let ci = truth.index(of: "class") else {
            throw LaueError(.missingData, file: source, "truth table needs file and class columns")
        }
        func col(_ n: String) -> Int? { truth.index(of: n) }
        let byFile = Dictionary(results.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a })
        let labels = ScanEvaluation.classes + [.unclassified, .unindexed, .failed]
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: ScanEvaluation.classes.count)
        var axis: [Double] = [], spreads: [DefectClass: [Double]] = [:], tilts: [DefectClass: [Double]] = [:]
        var truthCounts: [DefectClass: Int] = [:], measuredCounts: [DefectClass: Int] = [:]
        var outside = 0, matched = 0
        let uColumns = ["u11", "u12", "u13", "u21", "u22", "u23", "u31", "u32", "u33"].compactMap(col)
        var orientationErrors: [IndexingSource: [Double]] = [:]
        for row in truth.rows {
            guard let r = byFile[row[fi]] else { continue }
            matched += 1
            let u = uColumns.compactMap { Double(row[$0]) }
            if let symmetry, u.count == 9, let measured = r.orientation, r.status == .indexed {
                orientationErrors[r.indexedBy ?? .scratch, default: []].append(Misorientation.angle(measured, Mat3(u), symmetry: symmetry))
            }
            let t = try DefectClass(label: row[ci])
            guard let ti = ScanEvaluation.classes.firstIndex(of: t) else {
                if ScanEvaluation.classes.contains(r.defectClass) { outside += 1 }
                continue
            }
            let pi = labels.firstIndex(of: r.defectClass) ?? labels.firstIndex(of: .unclassified)!
            confusion[ti][pi] += 1
            if t.isDefect { truthCounts[t, default: 0] += 1 }
            if r.defectClass.isDefect { measuredCounts[r.defectClass, default: 0] += 1 }
            guard r.defectClass == t else { continue }
            func num(_ name: String) -> Double? { col(name).flatMap { Double(row[$0]) } }
            if let x = num("axis_lab_x"), let y = num("axis_lab_y"), let z = num("axis_lab_z"), let a = r.axisLab {
                axis.append(acos(min(1, abs(Vec3(x, y, z).normalized.dot(a.normalized)))) * 180 / .pi)
            }
            if let s = num("spread_deg"), s > 0, let m = r.spread { spreads[t, default: []].append(m / s - 1) }
            if let s = num("tilt_deg"), s > 0, let m = r.tilt { tilts[t, default: []].append(m / s - 1) }
        }
        self.confusion = confusion
        var rec: [Double] = [], pre: [Double] = [], f: [Double] = []
        for (i, _) in ScanEvaluation.classes.enumerated() {
            let tp = Double(confusion[i][i])
            let t = Double(confusion[i].reduce(0, +))
            let p = Double(confusion.map { $0[i] }.reduce(0, +))
            let r = t > 0 ? tp / t : .nan, pr = p > 0 ? tp / p : (t > 0 ? 0 : .nan)
            rec.append(r); pre.append(pr)
            f.append(r.isNaN || pr.isNaN ? .nan : (r + pr > 0 ? 2 * r * pr / (r + pr) : 0))
        }
        recall = rec; precision = pre; f1 = f
        let present = f.filter { !$0.isNaN }
        macroF1 = present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
        axisErrors = axis; spreadErrors = spreads; tiltErrors = tilts
        let tTotal = Double(truthCounts.values.reduce(0, +)), mTotal = Double(measuredCounts.values.reduce(0, +))
        var tf: [DefectClass: Double] = [:], mf: [DefectClass: Double] = [:]
        for c in ScanEvaluation.classes where c.isDefect {
            tf[c] = tTotal > 0 ? 100 * Double(truthCounts[c] ?? 0) / tTotal : 0
            mf[c] = mTotal > 0 ? 100 * Double(measuredCounts[c] ?? 0) / mTotal : 0
        }
        truthFractions = tf; measuredFractions = mf
        outsideClassified = outside
        self.matched = matched
        self.orientationErrors = orientationErrors
    }

    public static func median(_ v: [Double]) -> Double { Statistics.median(v) }

    /// A plain-text report.
    public var report: String {
        var lines: [String] = []
        lines.append("truth \\ measured: " + predictedLabels.map(\.rawValue).joined(separator: " | "))
        for (i, c) in ScanEvaluation.classes.enumerated() {
            lines.append(c.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: " %@   recall %.3f precision %.3f F1 %.3f",
                                confusion[i].map { String(format: "%4d", $0) }.joined(separator: " "), recall[i], precision[i], f1[i]))
        }
        lines.append(String(format: "macro-F1 %.3f over %d matched patterns; median axis error %.2f deg (%d)", macroF1, matched,
                            ScanEvaluation.median(axisErrors), axisErrors.count))
        for c in ScanEvaluation.classes {
            if let e = spreadErrors[c] { lines.append(String(format: "  %@ spread: median |error| %.1f %%, max %.1f %%", c.rawValue, 100 * ScanEvaluation.median(e.map(abs)), 100 * (e.map(abs).max() ?? 0))) }
            if let e = tiltErrors[c] { lines.append(String(format: "  %@ tilt: median |error| %.1f %%, max %.1f %%", c.rawValue, 100 * ScanEvaluation.median(e.map(abs)), 100 * (e.map(abs).max() ?? 0))) }
        }
        for source in IndexingSource.allCases {
            guard let e = orientationErrors[source], !e.isEmpty else { continue }
            lines.append(String(format: "  indexed %@: %d patterns, orientation error median %.3f deg, max %.3f deg, %d wrong (> %.0f deg)",
                                source.rawValue, e.count, ScanEvaluation.median(e), e.max() ?? 0,
                                e.filter { $0 > ScanEvaluation.wrongOrientationDegrees }.count, ScanEvaluation.wrongOrientationDegrees))
        }
        lines.append("defect fractions among defect-present patterns (truth / measured, %):")
        for c in ScanEvaluation.classes where c.isDefect {
            lines.append("  " + c.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: " %5.1f / %5.1f", truthFractions[c] ?? 0, measuredFractions[c] ?? 0))
        }
        if outsideClassified > 0 { lines.append("\(outsideClassified) patterns outside the particle were given a class") }
        return lines.joined(separator: "\n")
    }
}
