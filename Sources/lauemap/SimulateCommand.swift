import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueSimulation

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate Laue patterns and scans with known defects (ground truth included).",
        subcommands: [SimulatePattern.self, SimulateScan.self, SimulateXANES.self, SimulateGallery.self]
    )
}

/// Options shared by the simulate commands: where the detector comes from.
struct DetectorOptions: ParsableArguments {
    @Option(help: "Detector calibration (.det); the rest of the detector model uses defaults.")
    var calib: String?

    @Option(help: "Built-in detector: \(SimulatedDetector.builtinNames.joined(separator: ", ")).")
    var detector: String?

    @Option(help: "Point-spread FWHM in pixels (default: the detector's).")
    var psfFwhm: Double?

    @Option(help: "Point-spread shape: gaussian, lorentzian or pseudo-voigt.")
    var psf: String?

    @Option(help: "Lorentzian fraction of a pseudo-Voigt point spread.")
    var eta: Double = 0.3

    func resolve(defaultName: String) throws -> SimulatedDetector {
        var det: SimulatedDetector
        if let calib {
            det = try SimulatedDetector.fromCalibration(path: calib)
        } else {
            det = try SimulatedDetector.builtin(detector ?? defaultName)
        }
        let fwhm = psfFwhm ?? det.pointSpread.fwhm
        guard fwhm > 0 else { throw LaueError(.invalidArgument, "--psf-fwhm must be positive") }
        switch psf?.lowercased() {
        case nil: if psfFwhm != nil { det.pointSpread = .gaussian(fwhm: fwhm) }
        case "gaussian"?: det.pointSpread = .gaussian(fwhm: fwhm)
        case "lorentzian"?: det.pointSpread = .lorentzian(fwhm: fwhm)
        case "pseudo-voigt"?, "pseudovoigt"?: det.pointSpread = .pseudoVoigt(fwhm: fwhm, eta: eta)
        default: throw LaueError(.invalidArgument, "unknown --psf \(psf!): gaussian, lorentzian or pseudo-voigt")
        }
        return det
    }
}

func parseNumbers(_ s: String, option: String) throws -> [Double] {
    let v = s.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !v.isEmpty, v.allSatisfy({ $0 != nil }) else {
        throw LaueError(.invalidArgument, "\(option) needs comma-separated numbers, not \"\(s)\"")
    }
    return v.map { $0! }
}

/// An energy band option "MIN,MAX" in keV (finite, 0 < MIN < MAX <= `LaueScattering.maximumBandEnergy`).
func parseEnergyBand(_ s: String, option: String = "--energy") throws -> ClosedRange<Double> {
    let band = try parseNumbers(s, option: option)
    guard band.count == 2 else { throw LaueError(.invalidArgument, "\(option) needs MIN,MAX keV, not \"\(s)\"") }
    return try LaueScattering.band(band[0], band[1], what: option)
}

/// A grid option "COLUMNSxROWS", each at least `minimum`.
func parseGrid(_ s: String, option: String = "--grid", minimum: Int = 1) throws -> (columns: Int, rows: Int) {
    let v = s.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
    guard v.count == 2, let c = v[0], let r = v[1], c >= minimum, r >= minimum else {
        throw LaueError(.invalidArgument, "\(option) needs COLUMNSxROWS (each at least \(minimum)), e.g. 40x40, not \"\(s)\"")
    }
    return (c, r)
}

struct SimulatePattern: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pattern",
        abstract: "Simulate one pattern with a defect and write it as a 16-bit TIFF (or HDF5).",
        discussion: """
        The defect is a distribution of lattice rotations about --axis, a crystal direction [u,v,w] \
        (or [U,V,T,W] for hexagonal crystals); default <1-100> for hexagonal and trigonal lattices, <112> \
        for cubic ones. --spread is the GND band width (uniform) or FWHM (gaussian, random dislocations); \
        --tilt the misorientation of a tilt boundary, or the list of successive steps of stacking boundaries.
        """
    )

    @OptionGroup var detectorOptions: DetectorOptions

    @Option(help: "Material: built-in name or JSON material file.")
    var material: String

    @Option(parsing: .unconditional, help: "Orientation matrix m11,...,m33 (LaueTools UB).")
    var matrix: String?

    @Flag(help: "Use a random orientation drawn from --seed.")
    var randomOrientation = false

    @Option(help: "Defect class: \(DefectClass.physical.map(\.rawValue).joined(separator: ", ")).")
    var defect: String = "no_defect"

    @Option(parsing: .unconditional, help: "Rotation axis as a crystal direction u,v,w (or U,V,T,W).")
    var axis: String?

    @Option(help: "Orientation spread in degrees (GND band width, random-dislocation FWHM).")
    var spread: Double = 0.5

    @Option(help: "Tilt in degrees; for stacking boundaries a comma list of steps (or one step repeated).")
    var tilt: String = "0.5"

    @Option(help: "Number of orientations of stacking tilt boundaries (when --tilt is one value).")
    var orientations: Int = 3

    @Option(help: "Volume fraction of the first sub-grain (tilt boundaries).")
    var weight: Double = 0.5

    @Option(help: "GND profile: uniform or gaussian.")
    var profile: String = "uniform"

    @Option(help: "Energy band in keV, as MIN,MAX.")
    var energy: String = "5,22"

    @Flag(inversion: .prefixedNo, help: "Background, Poisson noise, read noise and hot pixels.")
    var noise = true

    @Option(help: "Random seed (orientation, random-dislocation ensemble, noise).")
    var seed: UInt64 = 1

    @Option(help: "Output image (.tif, or .h5 for the APS HDF5 layout).")
    var out: String

    func run() throws {
        try reportingErrors {
            let mat = try Material.load(material)
            let det = try detectorOptions.resolve(defaultName: "aps")
            var request = PatternRequest()
            if let matrix {
                request.matrix = try parseNumbers(matrix, option: "--matrix")
                guard request.matrix!.count == 9 else { throw LaueError(.invalidArgument, "--matrix needs nine numbers") }
            } else if !randomOrientation {
                throw LaueError(.invalidArgument, "give --matrix or --random-orientation")
            }
            request.defect = defect
            request.axis = try axis.map { try parseNumbers($0, option: "--axis") }
            request.spread = spread
            request.tilt = try parseNumbers(tilt, option: "--tilt")
            request.orientations = orientations
            request.weight = weight
            request.profile = profile
            let band = try parseEnergyBand(energy)
            request.energy = [band.lowerBound, band.upperBound]
            request.noise = noise
            request.seed = seed
            let (image, truth, spots) = try request.simulate(material: mat, detector: det)
            if out.hasSuffix(".h5") || out.hasSuffix(".hdf5") {
                try HDF5ImageWriter.write([image], to: out, detectorFields: ["distance": det.calibration.distance])
            } else {
                try TIFFWriter.write(image, to: out)
            }
            let ax = truth.axisLab.map { String(format: "(%.4f, %.4f, %.4f)", $0.x, $0.y, $0.z) } ?? "-"
            emit("wrote \(out): \(image.width)x\(image.height), class \(truth.defectClass.rawValue), axis (lab) \(ax), \(spots) spots")
        }
    }
}

struct SimulateScan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Simulate a raster scan over a particle with defect domains, and its ground truth.",
        discussion: "Layouts and the truth table are described in docs/scan-layouts.md."
    )

    @OptionGroup var detectorOptions: DetectorOptions

    @Option(help: "Material: built-in name or JSON material file.")
    var material: String = "LiCoO2"

    @Option(help: "Grid as COLUMNSxROWS.")
    var grid: String = "20x20"

    @Option(help: "Step between points in micrometres.")
    var stepUm: Double = 0.5

    @Option(help: "Random seed: the same seed gives byte-identical output.")
    var seed: UInt64 = 1

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Layout: folder (TIFF images + scan.csv) or hdf5 (APS-style scan.h5).")
    var layout: String = "folder"

    @Option(help: "Defect classes present, comma-separated (default: all six physical classes).")
    var classes: String?

    @Option(help: "Relative class frequencies, comma-separated, in the order of --classes.")
    var classWeights: String?

    @Option(help: "Energy band in keV, as MIN,MAX.")
    var energy: String = "5,22"

    @Option(help: "TIFF compression for the folder layout: none, deflate, lzw, packbits.")
    var compression: String = "deflate"

    @Option(help: ArgumentHelp("Real-frame confounders, one kind per domain in turn, comma-separated: tail, neighbour, crowded, satellite, substrate, or all (docs/simulation.md).",
                               valueName: "kinds"))
    var confounders: String?

    @Option(help: "Worker threads (default: all cores).")
    var jobs: Int?

    func run() throws {
        try reportingErrors {
            let mat = try Material.load(material)
            let det = try detectorOptions.resolve(defaultName: "medium")
            let dims = try parseGrid(grid)
            var spec = ScanSpec(material: mat, detector: det, columns: dims.columns, rows: dims.rows, stepUm: stepUm, seed: seed)
            spec.energyRange = try parseEnergyBand(energy)
            if let classes { spec.classes = try classes.split(separator: ",").map { try DefectClass(label: String($0)) } }
            if let classWeights { spec.classWeights = try parseNumbers(classWeights, option: "--class-weights") }
            if let confounders { spec.confounders = try parseConfounders(confounders) }
            var options = SimulatedScanWriter.Options()
            guard let l = ScanLayoutKind(rawValue: layout) else { throw LaueError(.invalidArgument, "--layout: folder or hdf5") }
            options.layout = l
            guard let c = TIFFCompression.allCases.first(where: { $0.name == compression }) else {
                throw LaueError(.invalidArgument, "--compression: none, deflate, lzw or packbits")
            }
            options.compression = c
            if let jobs { options.jobs = max(1, jobs) }
            let reporter = ProgressReporter(label: "simulate", total: dims.columns * dims.rows)
            let points = try SimulatedScanWriter.write(spec, to: out, options: options) { done, _ in reporter.update(done) }
            var counts: [DefectClass: Int] = [:]
            for p in points { counts[p.truth.defectClass, default: 0] += 1 }
            var summary = "wrote \(points.count) patterns to \(out) (\(l.rawValue) layout, detector \(det.name))\n"
            for c in DefectClass.allCases where counts[c] != nil { summary += "  \(c.rawValue): \(counts[c]!)\n" }
            emit(summary)
        }
    }
}

/// `--confounders`: kinds separated by commas, or `all` (every kind, in the order of `Confounders.Kind`).
func parseConfounders(_ text: String) throws -> [Confounders.Kind] {
    if text == "all" { return Confounders.Kind.allCases }
    return try text.split(separator: ",").map { name in
        guard let k = Confounders.Kind(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
            throw LaueError(.invalidArgument, "--confounders: '\(name)' is none of \(Confounders.Kind.allCases.map(\.rawValue).joined(separator: ", ")), all")
        }
        return k
    }
}
