import Foundation
import LaueCore
import LaueIO
import LaueRendering

/// Pole figures of a scan's orientations (docs/scan-pipeline.md, "maps/*.png"): the lab-frame
/// directions of the plane normals of a family {hkl} (every symmetry equivalent) of each indexed cell,
/// folded onto the upper hemisphere (z >= 0: a pole and its opposite are one plane normal) and shown
/// in stereographic projection along lab z (figure right = lab x, up = lab y), the frame of the IPF-Z map.
public enum PoleFigure {
    /// The families drawn: cubic {100}, {110}, {111}; hexagonal and trigonal {0001}, {10-10}, {11-20};
    /// other lattices {100}, {010}, {001} (Miller indices of planes, three-index).
    public static func families(_ material: Material) -> [HKL] {
        switch material.spaceGroup.crystalSystem {
        case .cubic: return [HKL(1, 0, 0), HKL(1, 1, 0), HKL(1, 1, 1)]
        case .hexagonal, .trigonal: return [HKL(0, 0, 1), HKL(1, 0, 0), HKL(1, 1, 0)]
        default: return [HKL(1, 0, 0), HKL(0, 1, 0), HKL(0, 0, 1)]
        }
    }

    /// The family's name as crystallographers write it (four indices for hexagonal and trigonal lattices).
    public static func label(_ family: HKL, _ material: Material) -> String {
        func t(_ v: Int) -> String { String(v) }
        switch material.spaceGroup.crystalSystem {
        case .hexagonal, .trigonal: return t(family.h) + t(family.k) + t(-(family.h + family.k)) + t(family.l)
        default: return t(family.h) + t(family.k) + t(family.l)
        }
    }

    /// `label` as printed in figures: a negative index overlined (10-10 -> 101̅0).
    static func overlined(_ label: String) -> String {
        label.replacingOccurrences(of: #"-(\d)"#, with: "$1\u{305}", options: .regularExpression)
    }

    static func fileName(_ family: HKL, _ material: Material) -> String { "pole_figure_\(label(family, material)).png" }

    /// Every file name `ScanMapImages` may write for a pole figure (for clean-up).
    static var fileNames: [String] {
        ["100", "110", "111", "0001", "10-10", "11-20", "010", "001"].map { "pole_figure_\($0).png" }
    }

    /// Unit plane normals of `family` for each orientation (LaueTools UB; its nearest rotation is used),
    /// every symmetry equivalent once, on the upper hemisphere, in the lab frame or, with `frame` (the
    /// sample-to-lab rotation, `DeviatoricStrain.sampleToLab`), in the sample frame.
    public static func poles(_ orientations: [Mat3], family: HKL, material: Material, frame: Mat3 = .identity) -> [Vec3] {
        let n = (material.B0 * family.vector).normalized
        var normals: [Vec3] = []
        for s in material.symmetryRotations {
            var v = (s * n).normalized
            if v.z < -1e-12 || (abs(v.z) <= 1e-12 && (v.y < -1e-12 || (abs(v.y) <= 1e-12 && v.x < 0))) { v = v * -1 }
            if !normals.contains(where: { ($0 - v).length < 1e-6 }) { normals.append(v) }
        }
        var out: [Vec3] = []
        out.reserveCapacity(orientations.count * normals.count)
        let toFrame = frame.transposed
        for u in orientations {
            let r = toFrame * LinearAlgebra.nearestRotation(u)
            for c in normals {
                let v = r * c
                out.append(v.z < 0 ? v * -1 : v)
            }
        }
        return out
    }

    /// Stereographic projection of an upper-hemisphere unit vector (the unit disk; z = 1 at the centre).
    public static func project(_ v: Vec3) -> (x: Double, y: Double) { (v.x / (1 + v.z), v.y / (1 + v.z)) }

    /// The pole figure of each of the material's `families` (file name, figure) of `orientations` in
    /// `frame` (named `frameName` in the titles); none without orientations.
    static func figures(_ orientations: [Mat3], material: Material, frame: Mat3 = .identity, frameName: String,
                        title: String) -> [(name: String, canvas: Canvas)] {
        guard !orientations.isEmpty else { return [] }
        return families(material).map { family in
            let poles = poles(orientations, family: family, material: material, frame: frame)
            return (fileName(family, material),
                    draw(poles, title: "\(title): {\(overlined(label(family, material)))} poles, \(frameName) (z at the centre)", count: orientations.count))
        }
    }

    /// Radius of the projection circle in the figure, pixels.
    static let radius = 150

    /// The figure: the unit circle with its axes, one dot per pole.
    static func draw(_ poles: [Vec3], title: String, count: Int) -> Canvas {
        let r = radius, margin = 30
        let size = 2 * r + 2 * margin
        let caption = "\(count) orientations, \(poles.count) poles"
        var canvas = Canvas(width: max(size, Canvas.textWidth(title) + 16, Canvas.textWidth(caption) + 16), height: size + 3 * Canvas.lineHeight + 8)
        canvas.text(title, x: 8, y: 6)
        let cx = margin + r, cy = 2 * Canvas.lineHeight + 8 + margin + r
        canvas.circle(x: Double(cx), y: Double(cy), radius: Double(r))
        canvas.fill(x: cx - r, y: cy, width: 2 * r, height: 1, Colour(0.8, 0.8, 0.8))
        canvas.fill(x: cx, y: cy - r, width: 1, height: 2 * r, Colour(0.8, 0.8, 0.8))
        canvas.text("x", x: cx + r + 6, y: cy - Canvas.lineHeight / 2)
        canvas.text("y", x: cx - 3, y: cy - r - Canvas.lineHeight - 2)
        let dot = Colour(hex: 0x0072B2)
        for p in poles {
            let (x, y) = project(p)
            canvas.circle(x: Double(cx) + x * Double(r), y: Double(cy) - y * Double(r), radius: 1.5, dot, filled: true)
        }
        canvas.text(caption, x: 8, y: cy + r + margin / 2)
        return canvas
    }
}
