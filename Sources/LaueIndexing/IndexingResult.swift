import Foundation
import LaueCore

/// A peak to index: position in LaueTools' pixel convention and intensity, on one of the indexer's
/// detectors (`Indexer.calibrations`; 0, the first, for a pattern of one frame).
public struct ObservedSpot: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var intensity: Double
    public var detector: Int

    public init(x: Double, y: Double, intensity: Double, detector: Int = 0) {
        self.x = x; self.y = y; self.intensity = intensity; self.detector = detector
    }
}

/// One indexed spot of a grain.
public struct IndexedSpot: Sendable, Equatable {
    /// Index of the observed spot in the input list.
    public var peakIndex: Int
    public var hkl: HKL
    public var energy: Double
    public var x: Double
    public var y: Double
    public var xPredicted: Double
    public var yPredicted: Double
    public var intensity: Double
    /// The detector the spot is on (index into `Indexer.calibrations`).
    public var detector: Int = 0

    public var deviation: Double { ((x - xPredicted) * (x - xPredicted) + (y - yPredicted) * (y - yPredicted)).squareRoot() }
}

/// An indexed grain: orientation (LaueTools' UB), its spots and the quality of the fit.
public struct Grain: Sendable {
    /// LaueTools' UB: q_lab = UB * B0 * hkl, lab x along the beam. A pure rotation unless the
    /// deviatoric strain was refined.
    public var orientation: Mat3
    public var spots: [IndexedSpot]
    public var meanDeviation: Double
    /// Matched spots over spots predicted on the detector in the energy band.
    public var matchingRate: Double
    public var predictedCount: Int
    /// Whether the five deviatoric strain components were refined (the orientation then holds them).
    public var strainRefined: Bool = false
    /// The grain's phase: the name of the material it was indexed as.
    public var phase: String = ""
    /// The chance that unrelated peaks give its matches (the acceptance test's value; nil when not computed).
    public var chance: Double? = nil
    /// Reflections predicted on each detector (`Indexer.calibrations`) when the grain was matched.
    public var predictedByDetector: [Int] = []

    /// The deviatoric strain of the refined orientation matrix (polar decomposition), when refined. It
    /// is derived from `orientation`, so a re-expressed grain carries it rotated consistently.
    public var strain: DeviatoricStrain? { strainRefined ? DeviatoricStrain(orientation: orientation) : nil }

    public var indexedCount: Int { spots.count }

    /// The same grain with the orientation replaced by its symmetry equivalent closest to `reference`
    /// and every hkl re-expressed accordingly (to compare with another program's choice).
    public func reexpressed(closestTo reference: Mat3, material: Material) -> Grain {
        let (_, s) = Misorientation.minimal(orientation, reference, symmetry: material.symmetryRotations)
        var g = self
        g.orientation = orientation * s
        // q = U B0 h = (U S)(S^T B0 h): h' = B0^-1 S^T B0 h.
        let m = material.B0.inverse! * s.transposed * material.B0
        g.spots = spots.map { spot in
            var t = spot
            let v = m * spot.hkl.vector
            t.hkl = HKL(Int(v.x.rounded()), Int(v.y.rounded()), Int(v.z.rounded()))
            return t
        }
        return g
    }
}

/// The outcome of indexing one pattern.
public struct IndexingResult: Sendable {
    public enum Status: String, Sendable { case indexed, unindexed }
    public var status: Status
    public var grains: [Grain]
    /// Why the pattern (or its next grain) could not be indexed.
    public var reason: String?
    public var peakCount: Int
}
