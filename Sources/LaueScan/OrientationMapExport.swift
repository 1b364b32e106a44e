import Foundation
import LaueCore
import LaueIO

/// Orientation maps for texture tools (MTEX, orix, Channel 5, OIM): the Oxford Channel Text File (.ctf)
/// and the EDAX/TSL .ang of a scan run (docs/scan-pipeline.md, "orientations.ctf").
///
/// Frames. LaueMap's orientation matrix UB (LaueTools' convention, q_lab = UB B0 hkl) takes vectors of
/// LaueTools' Cartesian crystal frame (x ∥ a*, B0 upper triangular) to the lab frame (x along the
/// beam, z up). The .ctf holds Bunge Euler angles (φ1, Φ, φ2, degrees) of the passive rotation g
/// from the sample frame to the standard Cartesian crystal frame of MTEX, orix and diffpy (x ∥ a,
/// z ∥ c*): g = S · Uᵀ · P, with U the rotation nearest to UB, S the change from LaueTools' crystal
/// frame to the standard one (the identity for cubic crystals), and P the sample tilt: the sample
/// frame is the lab frame turned by −tilt about lab y (as LaueTools' sample2 frame; tilt 0: the lab
/// frame itself).
public enum OrientationMapExport {
    /// Oxford's Laue-group code (1 = -1 ... 11 = m-3m) of a space group.
    public static func laueGroupCode(spaceGroup number: Int) -> Int {
        switch number {
        case ...2: return 1
        case ...15: return 2
        case ...74: return 3
        case ...88: return 4
        case ...142: return 5
        case ...148: return 6
        case ...167: return 7
        case ...176: return 8
        case ...194: return 9
        case ...206: return 10
        default: return 11
        }
    }

    /// S: coordinates in LaueTools' crystal frame (x ∥ a*) to the standard frame (x ∥ a, z ∥ c*).
    static func standardFrame(_ lattice: Lattice) -> Mat3 {
        let direct = lattice.directBasis                  // columns a, b, c in LaueTools' frame
        let b0 = lattice.B0
        let e1 = Vec3(direct[0, 0], direct[1, 0], direct[2, 0]).normalized
        let e3 = Vec3(b0[0, 2], b0[1, 2], b0[2, 2]).normalized
        let e2 = e3.cross(e1).normalized
        return Mat3(rows: e1, e2, e3)
    }

    /// The passive rotation g (sample frame -> standard crystal frame) of orientation matrix `ub`.
    public static func sampleToCrystal(_ ub: Mat3, lattice: Lattice, sampleTiltDegrees: Double = 0) -> Mat3 {
        standardFrame(lattice) * LinearAlgebra.nearestRotation(ub).transposed * DeviatoricStrain.sampleToLab(tiltDegrees: sampleTiltDegrees)
    }

    /// Bunge Euler angles (φ1, Φ, φ2) in degrees, φ1 and φ2 in [0, 360), of a rotation matrix g.
    public static func bungeAngles(_ g: Mat3) -> (Double, Double, Double) {
        let degrees = 180 / Double.pi
        let Phi = acos(max(-1, min(1, g[2, 2])))
        var phi1: Double, phi2: Double
        if sin(Phi) > 1e-9 {
            phi1 = atan2(g[2, 0], -g[2, 1]); phi2 = atan2(g[0, 2], g[1, 2])
        } else {                                  // Φ = 0 or 180°: only φ1 ± φ2 is defined; φ2 = 0
            phi1 = atan2(g[0, 1], g[0, 0]); phi2 = 0
        }
        func wrap(_ a: Double) -> Double { let d = (a * degrees).truncatingRemainder(dividingBy: 360); return d < 0 ? d + 360 : d }
        return (wrap(phi1), Phi * degrees, wrap(phi2))
    }

    /// A name or title as one header field: control characters (tabs, line breaks) become spaces, so a
    /// material or folder name cannot break the tab-separated, line-based headers.
    static func headerText(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : $0 }))
    }

    /// The .ctf of `records` on their raster: one line per cell (x fastest), phase 1 with the Euler
    /// angles where a pattern is indexed, phase 0 with error 3 (no solution) elsewhere.
    public static func ctf(records: [PatternRecord], material: Material, title: String, sampleTiltDegrees: Double = 0) -> String {
        ctf(records: records, materials: [material], title: title, sampleTiltDegrees: sampleTiltDegrees)
    }

    /// The same with several phases: a row's phase number is its material's place in `materials` (from
    /// 1; a row without a recorded phase is of the first), with that phase's lattice.
    public static func ctf(records: [PatternRecord], materials: [Material], title: String, sampleTiltDegrees: Double = 0) -> String {
        let (grid, byCell, sx, sy) = raster(records)
        let phases = materials.map { m in
            let l = m.lattice, sg = m.spaceGroup.number
            return String(format: "%.4f;%.4f;%.4f\t%.4f;%.4f;%.4f", l.a, l.b, l.c, l.alpha, l.beta, l.gamma)
                + "\t\(headerText(m.name))\t\(laueGroupCode(spaceGroup: sg))\t\(sg)"
        }
        var out = """
            Channel Text File
            Prj\t\(headerText(title))
            Author\tLaueMap \(LaueMapInfo.version) (Laue microdiffraction)
            JobMode\tGrid
            XCells\t\(grid.columns)
            YCells\t\(grid.rows)
            XStep\t\(String(format: "%.4f", sx))
            YStep\t\(String(format: "%.4f", sy))
            AcqE1\t0
            AcqE2\t0
            AcqE3\t0
            Euler angles refer to Sample Coordinate system (CS0)!\tMag\t0\tCoverage\t100\tDevice\t0\tKV\t0\tTiltAngle\t\(String(format: "%.2f", sampleTiltDegrees))\tTiltAxis\t0
            Phases\t\(materials.count)
            \(phases.joined(separator: "\n"))
            Phase\tX\tY\tBands\tError\tEuler1\tEuler2\tEuler3\tMAD\tBC\tBS

            """
        for row in 0..<grid.rows {
            for column in 0..<grid.columns {
                let (x, y) = (String(format: "%.4f", Double(column) * sx), String(format: "%.4f", Double(row) * sy))
                if let r = byCell[row * grid.columns + column], r.status == .indexed, let ub = r.orientation {
                    let phase = phaseIndex(r, materials)
                    let (a, b, c) = bungeAngles(sampleToCrystal(ub, lattice: materials[phase].lattice, sampleTiltDegrees: sampleTiltDegrees))
                    let quality = Int(((r.confidence ?? 0) * 255).rounded())
                    out += "\(phase + 1)\t\(x)\t\(y)\t\(r.indexedCount ?? 0)\t0\t" + String(format: "%.4f\t%.4f\t%.4f", a, b, c)
                        + "\t0.0000\t\(quality)\t\(quality)\n"
                } else {
                    out += "0\t\(x)\t\(y)\t0\t3\t0.0000\t0.0000\t0.0000\t0.0000\t0\t0\n"
                }
            }
        }
        return out
    }

    /// The rows on their raster (x fastest), and the steps (1 where a direction has one cell).
    static func raster(_ records: [PatternRecord]) -> (ScanGrid, [PatternRecord?], Double, Double) {
        let grid = ScanGrid(x: records.map(\.xUm), y: records.map(\.yUm))
        var byCell = [PatternRecord?](repeating: nil, count: grid.rows * grid.columns)
        for (r, c) in zip(records, grid.cells) { if let c { byCell[c.row * grid.columns + c.column] = r } }
        let step = grid.step
        return (grid, byCell, step.x > 0 ? step.x : 1, step.y > 0 ? step.y : 1)
    }

    /// A row's phase: its material's place in `materials` (a row without a recorded phase is of the first).
    static func phaseIndex(_ r: PatternRecord, _ materials: [Material]) -> Int { materials.firstIndex { $0.name == r.phase } ?? 0 }

    /// EDAX/TSL symmetry code of the Laue group of a space group (as OIM, MTEX and orix read it:
    /// 43 = m-3m, 62 = 6/mmm, 32 = -3m, ...; monoclinic "20": 2/m with the 2-fold along b, the unique
    /// axis of LaueMap's monoclinic settings — "2" would put it along c).
    public static func tslSymmetry(spaceGroup number: Int) -> String {
        ["1", "20", "22", "4", "42", "3", "32", "6", "62", "23", "43"][laueGroupCode(spaceGroup: number) - 1]
    }

    /// Confidence index written for a point that is not indexed (OIM's convention, which orix reads as
    /// "not indexed").
    public static let angNotIndexedCI = -1.0

    /// The EDAX/TSL .ang of `records` on their raster (square grid, x fastest): Bunge Euler angles in
    /// radians of the same rotation g as the .ctf, x and y in µm, image quality = indexed spots,
    /// confidence index = the classification confidence, phase from 1; points not indexed carry CI -1
    /// and phase 0.
    public static func ang(records: [PatternRecord], materials: [Material], title: String, sampleTiltDegrees: Double = 0) -> String {
        let (grid, byCell, sx, sy) = raster(records)
        var out = """
            # TEM_PIXperUM          1.000000
            # x-star                0.000000
            # y-star                0.000000
            # z-star                0.000000
            # WorkingDistance       0.000000
            #

            """
        for (k, m) in materials.enumerated() {
            let l = m.lattice
            out += """
                # Phase \(k + 1)
                # MaterialName  \(headerText(m.name))
                # Formula       \(headerText(m.name))
                # Info          LaueMap \(LaueMapInfo.version), Laue microdiffraction, space group \(m.spaceGroup.number)
                # Symmetry              \(tslSymmetry(spaceGroup: m.spaceGroup.number))
                # LatticeConstants      \(String(format: "%.4f %.4f %.4f %.3f %.3f %.3f", l.a, l.b, l.c, l.alpha, l.beta, l.gamma))
                # NumberFamilies        0
                #

                """
        }
        out += """
            # GRID: SqrGrid
            # XSTEP: \(String(format: "%.6f", sx))
            # YSTEP: \(String(format: "%.6f", sy))
            # NCOLS_ODD: \(grid.columns)
            # NCOLS_EVEN: \(grid.columns)
            # NROWS: \(grid.rows)
            #
            # OPERATOR: LaueMap
            # SAMPLEID: \(headerText(title))
            # SCANID: sample tilt \(String(format: "%.2f", sampleTiltDegrees)) deg
            #

            """
        let radians = Double.pi / 180
        for row in 0..<grid.rows {
            for column in 0..<grid.columns {
                let xy = String(format: "%.5f %.5f", Double(column) * sx, Double(row) * sy)
                if let r = byCell[row * grid.columns + column], r.status == .indexed, let ub = r.orientation {
                    let phase = phaseIndex(r, materials)
                    let (a, b, c) = bungeAngles(sampleToCrystal(ub, lattice: materials[phase].lattice, sampleTiltDegrees: sampleTiltDegrees))
                    let confidence = r.confidence ?? 0
                    out += String(format: "%.6f %.6f %.6f ", a * radians, b * radians, c * radians) + xy
                        + String(format: " %d.0 %.3f %d 0 0.000\n", r.indexedCount ?? 0, confidence, phase + 1)
                } else {
                    out += "12.56637 12.56637 12.56637 " + xy + String(format: " 0.0 %.3f 0 0 0.000\n", angNotIndexedCI)
                }
            }
        }
        return out
    }
}
