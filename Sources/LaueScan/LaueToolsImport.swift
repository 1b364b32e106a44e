import Foundation
import LaueCore
import LaueIO

/// A LaueTools raster summary turned into a LaueMap run folder (`lauemap import lauetools`), so that
/// every map, table and export of a scan run works on LaueTools results too: patterns.csv (one row
/// per image: position from `dxymicrons`, `npeaks` as the indexed spots, `pixdev` as the mean
/// deviation, the orientation from `matstarlab`), an empty peaks.csv, results.h5, the maps, grains.csv
/// and orientations.ctf. The summary carries no spot shapes, so every indexed row is `unclassified`
/// (the defect classes need the frames: `lauemap scan run`).
public enum LaueToolsImport {
    /// Writes the run folder `out` from the summary at `path`; returns the files written.
    public static func run(summary path: String, material: Material, out: String) throws -> [String] {
        let summary = try LaueToolsSummary.read(path: path)
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        let lock = try FolderLock(folder: out, purpose: "import of \(path)")
        defer { lock.release() }
        let work = (out as NSString).appendingPathComponent(".work")
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        let col = { (name: String) in summary.column(name)! }
        let (img, npeaks, pixdev, xs, ys) = (col("img"), col("npeaks"), col("pixdev"), col("dxymicrons_0"), col("dxymicrons_1"))
        let mat = (0..<9).map { col("matstarlab_\($0)") }
        var lines = [CSVTable.line(PatternRecord.columns)]
        for k in summary.rows.indices {
            let name = "img_\(Int(img[k]))"
            guard ScanManifest.isPosition(xs[k]), ScanManifest.isPosition(ys[k]) else {
                let r = PatternRecord(index: k, file: name, xUm: .nan, yUm: .nan, status: .failed, defectClass: .failed,
                                      reason: "\(path): line \(k + 3): position (\(xs[k]), \(ys[k])) µm is not a finite number")
                lines.append(r.csvLine)
                continue
            }
            let ub = LaueToolsSummary.ub(matstarlab: mat.map { $0[k] }, lattice: material.lattice)
            var r: PatternRecord
            if let ub, npeaks[k] > 0 {
                r = PatternRecord(index: k, file: name, xUm: xs[k], yUm: ys[k], status: .indexed, defectClass: .unclassified,
                                  reason: "imported from a LaueTools summary: no spot shapes, not classified")
                r.orientation = LinearAlgebra.nearestRotation(ub)
                r.indexedCount = Int(npeaks[k]); r.peakCount = Int(npeaks[k])
                r.meanDeviation = pixdev[k].isFinite ? pixdev[k] : nil
                r.phase = material.name
            } else {
                r = PatternRecord(index: k, file: name, xUm: xs[k], yUm: ys[k], status: .unindexed, defectClass: .unindexed,
                                  reason: "not indexed in the LaueTools summary")
            }
            lines.append(r.csvLine)
        }
        let patterns = (work as NSString).appendingPathComponent("patterns.csv")
        let peaks = (work as NSString).appendingPathComponent("peaks.csv")
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: patterns)
        try AtomicFile.write(CSVTable.line(SpotRecord.columns) + "\n", to: peaks)
        let provenance: [String: Any] = [
            "lauemap_version": LaueMapInfo.version,
            "imported_from": ["path": path, "format": "LaueTools summary", "rows": summary.rows.count,
                              "crc32": Checksum.crc32(try readTextFile(path))],
            "material": Provenance.material(material),
        ]
        var written = try ScanOutputs.writeAll(patterns: patterns, peaks: peaks, folder: out, work: work, materials: [material],
                                               title: (path as NSString).lastPathComponent, provenance: provenance)
        for (source, name) in [(peaks, "peaks.csv"), (patterns, "patterns.csv")] {
            let target = (out as NSString).appendingPathComponent(name)
            try fm.moveItemReplacing(source, target)
            written.insert(target, at: 0)
        }
        let run: [String: Any] = ["lauemap": "LaueMap import", "provenance": provenance, "complete": true,
                                  "invocations": [["command_line": CommandLine.arguments, "finished": Provenance.now()]]]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: run, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8),
                             to: (out as NSString).appendingPathComponent("run.json"))
        try? fm.removeItem(atPath: work)
        return written
    }
}
