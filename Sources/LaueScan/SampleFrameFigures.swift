import Foundation
import LaueCore
import LaueIO
import LaueRendering

/// Orientation figures in a tilted sample frame (`lauemap scan export --sample-tilt`): IPF maps of the
/// sample x, y and z axes and pole figures projected along sample z, the sample frame being the lab
/// frame turned by -tilt about lab y (`DeviatoricStrain.sampleToLab`: LaueTools' sample2 frame at 40°,
/// 34-ID-E's at 45°). The run's own maps are in the lab frame (tilt 0).
public enum SampleFrameFigures {
    /// Writes `ipf_x`, `ipf_y`, `ipf_z` and `pole_figure_<hkl>` (PNG and PDF) of the rows of
    /// `records` about `material` (all rows on the run's grid) into `folder`; returns their paths.
    public static func write(records: [PatternRecord], material: Material, tiltDegrees: Double, folder: String, title: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let frame = DeviatoricStrain.sampleToLab(tiltDegrees: tiltDegrees)
        let maps = ScanMaps(records: records, material: material, phase: material.name)
        let g = maps.grid
        let frameName = String(format: "sample frame, tilt %g°", tiltDegrees)
        var written: [String] = []
        func save(_ canvas: Canvas, _ name: String) throws {
            let path = (folder as NSString).appendingPathComponent(name)
            written += try canvas.writeFigure(to: path)
        }
        let key = ScanMapImages.ipfKey(material)
        for (k, axis) in ["x", "y", "z"].enumerated() {
            let colours = maps.ipfColours(of: Vec3(frame[0, k], frame[1, k], frame[2, k]), material: material)   // the sample axis in the lab frame
            let figure = MapFigure(title: "\(title): orientation (IPF of sample \(axis), \(frameName))", columns: g.columns, rows: g.rows, xs: g.xs, ys: g.ys)
            try save(figure.rgb(colours, legend: ["IPF colour of the", "sample \(axis) axis in", "the crystal frame"], key: key), "ipf_\(axis).png")
        }
        for (name, canvas) in PoleFigure.figures(maps.orientations.compactMap { $0 }, material: material, frame: frame,
                                                 frameName: frameName, title: title) {
            try save(canvas, name)
        }
        return written
    }
}
