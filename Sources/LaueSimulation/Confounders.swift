import Foundation
import LaueCore

/// Real-frame confounders added to simulated patterns, so that the classifier is tuned and tested
/// against what real frames hold besides the pattern grain's defect (docs/classification.md,
/// "Confounders"). Detector-level confounders are detector settings: pseudo-Voigt halos
/// (`PointSpread.pseudoVoigt`, the `aps` preset) and module gaps (`DetectorEffects.gapColumns`, `als`).
public enum Confounders {
    public enum Kind: String, CaseIterable, Sendable {
        /// A depth tail on every spot along one detector direction (`SpotTail`): decay 2-4 px, 20-40 % of
        /// each spot, direction uniform.
        case tail
        /// A neighbouring grain at a random orientation, strongest spot 0.3-1x the pattern grain's.
        case neighbour
        /// Three neighbouring grains (spots crowding the frame, some a few pixels from the grain's).
        case crowded
        /// A weak satellite: a small sub-grain 0.3-0.6 deg away about a random axis, 2-6 % as bright.
        case satellite
        /// A Si substrate at a random orientation, 1-2x as bright.
        case substrate
    }

    /// Adds a confounder of `kind`, drawn from `g`, to `sim` for a pattern grain of orientation `u`;
    /// `substrate` renders the substrate (another material; nil: the kind is skipped).
    public static func add(_ kind: Kind, to sim: inout PatternSimulator, orientation u: Mat3, substrate: PatternSimulator?,
                           generator g: inout SeededGenerator) {
        switch kind {
        case .tail:
            sim.tail = SpotTail(angle: 360 * g.uniform(), length: 2 + 2 * g.uniform(), fraction: 0.2 + 0.2 * g.uniform())
        case .neighbour:
            sim.others.append(OtherCrystal(orientation: Quaternion.random(using: &g).matrix, scale: 0.3 + 0.7 * g.uniform()))
        case .crowded:
            for _ in 0..<3 { sim.others.append(OtherCrystal(orientation: Quaternion.random(using: &g).matrix, scale: 0.3 + 0.7 * g.uniform())) }
        case .satellite:
            let axis = Quaternion.random(using: &g).matrix * Vec3(0, 0, 1)
            let angle = (0.3 + 0.3 * g.uniform()) * .pi / 180
            sim.others.append(OtherCrystal(orientation: u * Rotation.matrix(rotationVector: axis * angle), scale: 0.02 + 0.04 * g.uniform()))
        case .substrate:
            guard let substrate else { return }
            sim.others.append(OtherCrystal(orientation: Quaternion.random(using: &g).matrix, scale: 1 + g.uniform(), simulator: substrate))
        }
    }
}

extension DefectRanges {
    /// Every angular range multiplied by `factor` (counts and weights unchanged).
    public func scaled(by factor: Double) -> DefectRanges {
        func s(_ r: ClosedRange<Double>) -> ClosedRange<Double> { (r.lowerBound * factor)...(r.upperBound * factor) }
        var out = self
        out.gndSpread = s(gndSpread); out.tilt = s(tilt); out.tiltGNDTilt = s(tiltGNDTilt)
        out.tiltGNDSpread = s(tiltGNDSpread); out.stackingStep = s(stackingStep); out.randomSpread = s(randomSpread)
        return out
    }

    /// Degrees per pixel of `calibration` relative to `reference` (pixel size over distance): the factor
    /// that keeps a defect's spot displacement the same number of pixels on both.
    public static func pixelScale(of calibration: DetectorCalibration, reference: DetectorCalibration) -> Double {
        (calibration.pixelSize / calibration.distance) / (reference.pixelSize / reference.distance)
    }
}
