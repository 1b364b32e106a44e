import Foundation
import LaueCore

/// A LaueTools raster summary (`build_summary` of LaueTools' FileSeries: `*_SUMMARY_*.dat`): a
/// description line, a header line of column names, then one row of numbers per image and grain
/// (`img`, `gnumloc`, `npeaks`, `pixdev`, `intensity`, `dxymicrons_0/1`, `matstarlab_0..8`,
/// `strain6_crystal_*`, `euler3_*`, ...). docs/file-formats.md, "LaueTools summary".
public struct LaueToolsSummary: Sendable {
    public var path: String
    public var columns: [String]
    /// Rows of numbers, one per image and grain, in file order.
    public var rows: [[Double]]

    public static let required = ["img", "npeaks", "pixdev", "dxymicrons_0", "dxymicrons_1"] + (0..<9).map { "matstarlab_\($0)" }

    public static func read(path: String) throws -> LaueToolsSummary {
        var columns: [String] = []
        var rows: [[Double]] = []
        for (number, line) in try readTextFile(path).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if number == 0 { continue }                             // description
            if number == 1 { columns = fields; continue }
            guard !fields.isEmpty else { continue }
            guard fields.count >= columns.count else {
                throw LaueError(.invalidFormat, file: path, item: "line \(number + 1)", "\(fields.count) values for \(columns.count) columns")
            }
            var row: [Double] = []
            row.reserveCapacity(columns.count)
            for (k, f) in fields.prefix(columns.count).enumerated() {
                guard let v = Double(f) else {
                    throw LaueError(.invalidFormat, file: path, item: "line \(number + 1), column \(columns[k])", "'\(LaueError.excerpt(String(f)))' is not a number")
                }
                row.append(v)
            }
            rows.append(row)
        }
        for name in required where !columns.contains(name) {
            throw LaueError(.missingData, file: path, item: name, "column not found in the summary header (not a LaueTools summary?)")
        }
        return LaueToolsSummary(path: path, columns: columns, rows: rows)
    }

    /// The values of column `name` (nil if absent).
    public func column(_ name: String) -> [Double]? {
        columns.firstIndex(of: name).map { k in rows.map { $0[k] } }
    }

    /// LaueTools' UB (lab frame of LaueTools: x along the beam, z up) from a summary's `matstarlab`,
    /// which is (UB B0)ᵀ in the OR frame (x_OR = -y_LT, y_OR = x_LT), flattened with a*, b*, c* as
    /// consecutive triples and scaled to |a*| = 1 (LaueTools `matstarlabLaueTools_to_matstarlabOR`).
    /// Returns UB up to a scale factor (its rotation part is the orientation), nil for a zero matrix.
    public static func ub(matstarlab v: [Double], lattice: Lattice) -> Mat3? {
        guard v.count == 9, v.allSatisfy(\.isFinite), v.contains(where: { $0 != 0 }) else { return nil }
        // Column j of UB·B0 in LaueTools' frame: (y_OR, -x_OR, z_OR) of the j-th triple.
        let ubb0 = Mat3(rows: Vec3(v[1], v[4], v[7]), Vec3(-v[0], -v[3], -v[6]), Vec3(v[2], v[5], v[8]))
        guard let inverse = lattice.B0.inverse else { return nil }
        return ubb0 * inverse
    }
}
