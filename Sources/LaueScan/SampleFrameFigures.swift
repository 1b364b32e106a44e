import Foundation
import LaueCore
import LaueIO
import LaueRendering

/// Orientation figures in a tilted sample frame (`lauemap scan export --sample-tilt`): IPF maps of the
/// sample x, y and z axes and pole figures projected along sample z, the sample frame being the lab
/// frame turned by -tilt about lab y (`DeviatoricStrain.sampleToLab`: LaueTools' sample2 frame at 40°,
/// 34-ID-E's at 45°). The run's own maps are in the lab frame (tilt 0).
public enum SampleFrameFigures {
    /// Writes `ipf_x.png`, `ipf_y.png`, `ipf_z.png` and `pole_figure_<hkl>.png` of the rows of
    /// `records` about `material` (all rows on the run's grid) into `folder`; returns their paths.
    public static func write(records: [PatternRecord], material: Material, tiltDegrees: Double, folder: String, title: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let frame = DeviatoricStrain.sampleToLab(tiltDegrees: tiltDegrees)
        let maps = ScanMaps(records: records, material: material, phase: material.name)
        let g = maps.grid
        let frameName = String(format: "sample frame, tilt %g deg", tiltDegrees)
        var written: [String] = []
        func save(_ canvas: Canvas, _ name: String) throws {
            let path = (folder as NSString).appendingPathComponent(name)
            try canvas.write(to: path)
            written.append(path)
        }
        let key = ScanMapImages.ipfKey(material)
        for (k, axis) in ["x", "y", "z"].enumerated() {
            let direction = Vec3(frame[0, k], frame[1, k], frame[2, k])      // the sample axis in the lab frame
            var colours = [Double](repeating: .nan, count: 3 * maps.orientations.count)
            for (i, u) in maps.orientations.enumerated() {
                guard let u else { continue }
                let (r, gg, b) = OrientationStatistics.ipfColour(u, direction: direction, material: material)
                colours[3 * i] = r; colours[3 * i + 1] = gg; colours[3 * i + 2] = b
            }
            let figure = MapFigure(title: "\(title): orientation (IPF of sample \(axis), \(frameName))", columns: g.columns, rows: g.rows, xs: g.xs, ys: g.ys)
            try save(figure.rgb(colours, legend: ["IPF colour of the", "sample \(axis) axis in", "the crystal frame"], key: key), "ipf_\(axis).png")
        }
        let present = maps.orientations.compactMap { $0 }
        for family in PoleFigure.families(material) where !present.isEmpty {
            let poles = PoleFigure.poles(present, family: family, material: material, frame: frame)
            try save(PoleFigure.draw(poles, title: "\(title): {\(PoleFigure.label(family, material))} poles, \(frameName) (z at the centre)",
                                     count: present.count), PoleFigure.fileName(family, material))
        }
        return written
    }
}
