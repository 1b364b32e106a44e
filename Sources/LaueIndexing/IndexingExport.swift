import Foundation
import LaueCore
import LaueIO
import LauePeaks

extension ObservedSpot {
    /// The spot of a found peak, at the position that predicts the crystal's mean orientation: the
    /// peak's own maximum (core fit centre), or, for a streak (one maximum, second moments elongated by
    /// at least `streakAspectForCentre`, not cut by the frame edge), the streak's moment centre. Along a
    /// continuous streak (a GND band) the maximum stands anywhere, up to half the streak from the mean
    /// orientation's reflection; the centre is where that reflection lands. (On a frame with a depth
    /// tail the moments are mirrored through each spot's core, docs/peaks.md, so the centre is the core.)
    public init(_ peak: Peak) {
        // A spot cut by the frame edge or a masked area is elongated by the cut, not by the crystal.
        let streak = peak.components == 1 && !peak.edge && peak.streak.weight > 0 && peak.streak.aspectRatio >= ObservedSpot.streakAspectForCentre
        self.init(x: streak ? peak.streak.centre.x : peak.x, y: streak ? peak.streak.centre.y : peak.y, intensity: peak.intensity)
    }

    /// Aspect ratio (sqrt of the moments' eigenvalue ratio) from which a one-maximum spot is indexed at
    /// its moment centre (docs/indexing.md, "Streaks").
    public static let streakAspectForCentre = 2.0
}

extension IndexingResult {
    /// The JSON document of `lauemap index --json` (docs/indexing.md).
    public func json() -> [String: Any] {
        var root: [String: Any] = ["n_peaks": peakCount, "status": status.rawValue, "reason": reason ?? NSNull()]
        root["grains"] = grains.map { g -> [String: Any] in
            let strain = g.strain       // one polar decomposition per grain
            return [
                "phase": g.phase,
                "orientation_matrix": g.orientation.rows,
                "n_indexed": g.indexedCount,
                "mean_deviation_px": (g.meanDeviation * 1e4).rounded() / 1e4,
                "matching_rate": (g.matchingRate * 1e4).rounded() / 1e4,
                "strain_deviatoric": strain.map { DeviatoricStrain.components($0.crystal) as Any } ?? NSNull(),
                "strain_deviatoric_lab": strain.map { DeviatoricStrain.components($0.lab) as Any } ?? NSNull(),
                "strain_deviatoric_sample": strain.map { DeviatoricStrain.components($0.sample()) as Any } ?? NSNull(),
                "strain_equivalent": strain.map { $0.equivalent as Any } ?? NSNull(),
                "spots": g.spots.map { s -> [String: Any] in
                    ["h": s.hkl.h, "k": s.hkl.k, "l": s.hkl.l, "x": s.x, "y": s.y,
                     "x_pred": (s.xPredicted * 1e4).rounded() / 1e4, "y_pred": (s.yPredicted * 1e4).rounded() / 1e4,
                     "energy_kev": (s.energy * 1e5).rounded() / 1e5, "intensity": s.intensity]
                },
            ]
        }
        return root
    }

    /// The grains as a LaueTools `.fit` file, each with its own phase's material (from `materials`, by
    /// name; the first when a grain names none of them).
    public func laueToolsFit(materials: [Material], calibration c: DetectorCalibration) -> LaueToolsFit {
        let columns = ["spot_index", "Intensity", "h", "k", "l", "pixDev", "energy(keV)", "Xexp", "Yexp", "2theta_exp",
                       "chi_exp", "Xtheo", "Ytheo", "2theta_theo", "chi_theo", "Qx", "Qy", "Qz", "grainindex"]
        let fitGrains = grains.enumerated().map { gi, g -> LaueToolsFit.Grain in
            let material = materials.first { $0.name == g.phase } ?? materials[0]
            let rows = g.spots.enumerated().map { i, s -> [Double] in
                let (te, ce) = c.angles(x: s.x, y: s.y), (tt, ct) = c.angles(x: s.xPredicted, y: s.yPredicted)
                let q = (g.orientation * (material.B0 * s.hkl.vector)).normalized
                return [Double(i), s.intensity, Double(s.hkl.h), Double(s.hkl.k), Double(s.hkl.l), s.deviation, s.energy,
                        s.x, s.y, te, ce, s.xPredicted, s.yPredicted, tt, ct, q.x, q.y, q.z, Double(gi)]
            }
            let strain = g.strain
            return LaueToolsFit.Grain(material: material.name, grainIndex: gi, meanDeviation: g.meanDeviation, columns: columns,
                                      rows: rows, ub: g.orientation, b0: material.B0, deviatoricStrain: strain.map { $0.crystal * 1000 },
                                      deviatoricStrainSample: strain.map { $0.sample() * 1000 })
        }
        return LaueToolsFit(grains: fitGrains, detectorParameters: c.parameters, pixelSize: c.pixelSize,
                            frameDimensions: [c.height, c.width], detectorLabel: c.detectorLabel.isEmpty ? nil : c.detectorLabel)
    }
}
