import Foundation
import LaueCore
import LaueIO

/// Spectrum of the white beam, relative photons per unit energy.
public enum SourceSpectrum: Sendable, Equatable {
    case flat
    /// Bending-magnet-like shape sqrt(E/Ec) exp(-E/Ec) with critical energy Ec (keV).
    case bendingMagnet(criticalEnergy: Double)

    public func value(_ energy: Double) -> Double {
        switch self {
        case .flat: return 1
        case .bendingMagnet(let ec):
            let y = energy / ec
            return y.squareRoot() * exp(-y)
        }
    }
}

/// Detector point-spread function; widths are FWHM in pixels.
public enum PointSpread: Sendable, Equatable {
    case gaussian(fwhm: Double)
    case lorentzian(fwhm: Double)
    /// eta * Lorentzian + (1 - eta) * Gaussian, same FWHM.
    case pseudoVoigt(fwhm: Double, eta: Double)

    public var fwhm: Double {
        switch self {
        case .gaussian(let f), .lorentzian(let f), .pseudoVoigt(let f, _): return f
        }
    }

    /// Gaussian-equivalent sigma (FWHM / 2.3548).
    public var sigma: Double { fwhm / 2.354820045 }
}

/// What the detector adds to the diffracted intensity.
public struct DetectorEffects: Sendable, Equatable {
    /// Flat background, counts per pixel.
    public var flatBackground: Double = 100
    /// Peak height of a broad fluorescence hump centred on the frame (counts per pixel).
    public var smoothBackground: Double = 60
    /// Width (sigma) of the hump as a fraction of the frame diagonal.
    public var smoothBackgroundWidth: Double = 0.3
    /// Detector units per photon.
    public var gain: Double = 1
    public var poissonNoise: Bool = true
    /// Gaussian read noise (detector units, standard deviation).
    public var readNoise: Double = 2
    /// Saturation level in detector units (nil: 65535, the 16-bit maximum).
    public var saturation: Double? = nil
    /// Fraction of hot pixels (set to the saturation level).
    public var hotPixelFraction: Double = 2e-5
    /// Column and row ranges (0-based, half-open) masked to zero: module gaps.
    public var gapColumns: [Range<Int>] = []
    public var gapRows: [Range<Int>] = []

    public init() {}

    /// No background, noise, hot pixels or gaps: the diffracted intensity only.
    public static var ideal: DetectorEffects {
        var e = DetectorEffects()
        e.flatBackground = 0; e.smoothBackground = 0; e.poissonNoise = false; e.readNoise = 0
        e.hotPixelFraction = 0
        return e
    }
}

/// A detector for simulation: geometry, point spread and effects, with a name.
public struct SimulatedDetector: Sendable {
    public var name: String
    public var calibration: DetectorCalibration
    public var pointSpread: PointSpread
    public var effects: DetectorEffects

    public init(name: String, calibration: DetectorCalibration, pointSpread: PointSpread, effects: DetectorEffects = DetectorEffects()) {
        self.name = name; self.calibration = calibration; self.pointSpread = pointSpread; self.effects = effects
    }

    public static let builtinNames = ["marccd", "aps", "als", "medium", "small"]

    /// Built-in detectors:
    /// - `marccd`: the shared MarCCD 165 geometry of `calibGe111.det` (2048 x 2048, 79.142 um, 70.8 mm);
    /// - `aps`: an APS 34-ID-E-like flat panel (2048 x 2048, 0.2 mm, 510 mm), PSF FWHM 3.3 px;
    /// - `als`: an ALS 12.3.2-like Pilatus 1M (981 x 1043, 0.172 mm, 150 mm) with module gaps;
    /// - `medium`: 1024 x 1024, 0.2 mm, 150 mm (benchmarks, demo scans);
    /// - `small`: 512 x 512, 0.3 mm, 110 mm (fast tests).
    /// A detector from a LaueTools calibration file (.det): its geometry, a 2 px Gaussian point spread
    /// and the default detector effects (`lauemap simulate --calib`, Python's `lauemap.simulate`).
    public static func fromCalibration(path: String) throws -> SimulatedDetector {
        SimulatedDetector(name: (path as NSString).lastPathComponent, calibration: try LaueToolsCalibration.read(path: path),
                          pointSpread: .gaussian(fwhm: 2))
    }

    public static func builtin(_ name: String) throws -> SimulatedDetector {
        switch name.lowercased() {
        case "marccd":
            return SimulatedDetector(name: "marccd", calibration: DetectorCalibration(
                distance: 70.775, xcen: 941.74, ycen: 1082.56, xbet: 0.63, xgam: -0.682, pixelSize: 0.079142,
                width: 2048, height: 2048, detectorLabel: "MARCCD165"), pointSpread: .gaussian(fwhm: 1.8))
        case "aps":
            return SimulatedDetector(name: "aps", calibration: DetectorCalibration(
                distance: 510.0, xcen: 1024.5, ycen: 1024.5, xbet: 0, xgam: 0, pixelSize: 0.2,
                width: 2048, height: 2048, detectorLabel: "PE1621"), pointSpread: .pseudoVoigt(fwhm: 3.3, eta: 0.3))
        case "als":
            var e = DetectorEffects()
            // Pilatus 1M: 2 x 5 modules of 487 x 195 px, gaps of 7 px (columns) and 17 px (rows).
            e.gapColumns = [487..<494]
            e.gapRows = (1...4).map { k in (k * 195 + (k - 1) * 17)..<(k * 195 + k * 17) }
            e.flatBackground = 20; e.smoothBackground = 20; e.readNoise = 0
            return SimulatedDetector(name: "als", calibration: DetectorCalibration(
                distance: 150.0, xcen: 491.0, ycen: 522.0, xbet: 0, xgam: 0, pixelSize: 0.172,
                width: 981, height: 1043, detectorLabel: "Pilatus1M"), pointSpread: .gaussian(fwhm: 1.3), effects: e)
        case "medium":
            return SimulatedDetector(name: "medium", calibration: DetectorCalibration(
                distance: 150.0, xcen: 512.5, ycen: 512.5, xbet: 0, xgam: 0, pixelSize: 0.2,
                width: 1024, height: 1024, detectorLabel: "sim1024"), pointSpread: .gaussian(fwhm: 2.2))
        case "small":
            return SimulatedDetector(name: "small", calibration: DetectorCalibration(
                distance: 110.0, xcen: 256.5, ycen: 256.5, xbet: 0, xgam: 0, pixelSize: 0.3,
                width: 512, height: 512, detectorLabel: "sim512"), pointSpread: .gaussian(fwhm: 2.0))
        default:
            throw LaueError(.invalidArgument, "unknown detector \"\(name)\"; built-in: \(builtinNames.joined(separator: ", "))")
        }
    }
}

/// A tail on every spot along one detector direction: the intensity diffracted deeper in a thick
/// sample lands displaced along the projection of the beam, the same way for every spot; some
/// detectors smear along their readout direction too. `fraction` of each spot's intensity is spread as
/// a one-sided exponential of decay `length` pixels along `angle` (degrees from +x towards +y).
public struct SpotTail: Sendable, Equatable {
    public var angle: Double
    public var length: Double
    public var fraction: Double

    public init(angle: Double, length: Double, fraction: Double) {
        self.angle = angle; self.length = length; self.fraction = fraction
    }

    /// Sample points of the tail (offsets in pixels and weights summing to `fraction`), every half pixel
    /// out to four decay lengths.
    var points: [(dx: Double, dy: Double, weight: Double)] {
        guard length > 0, fraction > 0 else { return [] }
        let step = 0.5, n = max(1, Int((4 * length / step).rounded(.up)))
        let c = cos(angle * .pi / 180), s = sin(angle * .pi / 180)
        let raw = (0..<n).map { exp(-(Double($0) + 0.5) * step / length) }
        let total = raw.reduce(0, +)
        return raw.enumerated().map { (k, r) in
            let t = (Double(k) + 0.5) * step
            return (t * c, t * s, fraction * r / total)
        }
    }
}

/// Another crystal in the beam besides the pattern's grain, rendered undeformed: a neighbouring grain
/// (crowding the frame with spots of its own), a weak satellite (a small sub-grain a fraction of a degree
/// away), or a second phase or substrate (`simulator` of another material). Real-frame confounders that
/// the pattern's defect class must not take in.
public struct OtherCrystal: Sendable {
    /// Orientation (LaueTools UB).
    public var orientation: Mat3
    /// Its brightness: for the pattern's own material, its diffracting volume relative to the pattern
    /// grain's (spot for spot); for another material, its strongest spot relative to the grain's strongest.
    public var scale: Double
    /// The simulator that renders it (another material, or nil: the pattern's own).
    public var simulator: PatternSimulator?

    public init(orientation: Mat3, scale: Double, simulator: PatternSimulator? = nil) {
        self.orientation = orientation; self.scale = scale; self.simulator = simulator
    }
}
