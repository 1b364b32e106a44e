import ArgumentParser
import Foundation
import LaueCore
import LaueIO

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "List every Laue spot that lands on the detector for an orientation.",
        discussion: """
        The orientation is LaueTools' UB (q = UB * B0 * hkl, lab x along the beam), taken from a .fit file or \
        given as nine numbers by rows. Each direction is reported once, at its lowest allowed harmonic in the \
        energy band. x, y follow LaueTools (first pixel centre at (1, 1)).
        """
    )

    @Option(help: "Detector calibration (.det, or a .cor with a calibration trailer).")
    var calib: String

    @Option(help: "Material: a built-in name (\(Material.builtinNames.joined(separator: ", "))) or a JSON material file.")
    var material: String

    @Option(help: "LaueTools .fit file holding the orientation matrix (first grain).")
    var fit: String?

    @Option(parsing: .unconditional, help: "Orientation matrix m11,m12,...,m33 (row by row).")
    var matrix: String?

    @Option(help: "Lowest energy in keV.")
    var emin: Double = 5

    @Option(help: "Highest energy in keV.")
    var emax: Double = 25

    @Option(help: "Largest |h|, |k|, |l| reported (default: all the band allows).")
    var maxIndex: Int?

    @Flag(help: "Write CSV (h,k,l,x,y,two_theta,chi,energy_kev) instead of an aligned table.")
    var csv = false

    @Option(help: "Also write the predicted spots and the orientation as a LaueTools .fit file.")
    var fitOut: String?

    func validate() throws {
        guard (fit == nil) != (matrix == nil) else { throw ValidationError("give exactly one of --fit or --matrix") }
        guard emin > 0 && emax > emin else { throw ValidationError("need 0 < --emin < --emax") }
    }

    func run() throws {
        try reportingErrors {
            let mat = try Material.load(material)
            let calibration = try LaueToolsCalibration.read(path: calib)
            let ub: Mat3
            if let fit {
                guard let m = try LaueToolsFit.read(path: fit).grains.first(where: { $0.ub != nil })?.ub else {
                    throw LaueError(.missingData, file: fit, "no orientation matrix")
                }
                ub = m
            } else {
                let values = matrix!.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard values.count == 9, values.allSatisfy({ $0 != nil }) else {
                    throw LaueError(.invalidArgument, "--matrix needs nine comma-separated numbers")
                }
                ub = Mat3(values.map { $0! })
            }
            do { try OrientationMatrix.validate(ub) } catch let e as LaueError { throw LaueError(.invalidArgument, file: fit, item: fit == nil ? "--matrix" : "UB matrix", e.reason) }
            let predictor = try SpotPredictor(material: mat, calibration: calibration, energyRange: emin...emax, maxIndex: maxIndex)
            let spots = predictor.spots(orientation: ub).sorted { ($0.energy, $0.hkl) < ($1.energy, $1.hkl) }
            if let fitOut { try writeFit(spots, ub: ub, material: mat, calibration: calibration, to: fitOut) }
            var out = csv ? "h,k,l,x,y,two_theta,chi,energy_kev\n"
                          : ["h", "k", "l"].map { pad($0, 4) }.joined(separator: " ") + " "
                            + ["x", "y", "2theta", "chi", "E(keV)"].map { pad($0, 10) }.joined(separator: " ") + "\n"
            for s in spots {
                if csv {
                    out += String(format: "%d,%d,%d,%.4f,%.4f,%.5f,%.5f,%.5f\n", s.hkl.h, s.hkl.k, s.hkl.l, s.x, s.y, s.twoTheta, s.chi, s.energy)
                } else {
                    out += String(format: "%4d %4d %4d %10.3f %10.3f %10.4f %10.4f %10.4f\n", s.hkl.h, s.hkl.k, s.hkl.l, s.x, s.y, s.twoTheta, s.chi, s.energy)
                }
            }
            emit(out)
        }
    }

    func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }

    /// Predicted spots as a LaueTools .fit (Xexp = Xtheo, pixel deviation 0) so LaueTools can load them.
    func writeFit(_ spots: [LaueSpot], ub: Mat3, material: Material, calibration: DetectorCalibration, to path: String) throws {
        let columns = ["spot_index", "Intensity", "h", "k", "l", "pixDev", "energy(keV)", "Xexp", "Yexp", "2theta_exp",
                       "chi_exp", "Xtheo", "Ytheo", "2theta_theo", "chi_theo", "Qx", "Qy", "Qz", "grainindex"]
        let rows = spots.enumerated().map { i, s -> [Double] in
            let q = s.q.normalized
            return [Double(i), material.intensity(s.hkl), Double(s.hkl.h), Double(s.hkl.k), Double(s.hkl.l), 0, s.energy,
                    s.x, s.y, s.twoTheta, s.chi, s.x, s.y, s.twoTheta, s.chi, q.x, q.y, q.z, 0]
        }
        let grain = LaueToolsFit.Grain(material: material.name, meanDeviation: 0, columns: columns, rows: rows, ub: ub,
                                       b0: material.B0)
        let fit = LaueToolsFit(grains: [grain], detectorParameters: calibration.parameters, pixelSize: calibration.pixelSize,
                               frameDimensions: [calibration.height, calibration.width],
                               detectorLabel: calibration.detectorLabel.isEmpty ? nil : calibration.detectorLabel)
        try fit.write(to: path, peakListName: "lauemap predict")
    }
}
