import Foundation
import LaueCore
import LaueIO
import LauePeaks

extension ObservedSpot {
    /// The spot of a found peak, at the position that stands for it in indexing
    /// (`Peak.indexingPosition`: its maximum, or a streak's moment centre).
    public init(_ peak: Peak) { self.init(peak, detector: 0) }

    /// The same on detector `detector` of a joint indexing (`Indexer.calibrations`).
    public init(_ peak: Peak, detector: Int) {
        let p = peak.indexingPosition
        self.init(x: p.x, y: p.y, intensity: peak.intensity, detector: detector)
    }
}

extension IndexingResult {
    /// The JSON document of `lauemap index --json` (docs/indexing.md). With several detectors, every
    /// spot names its detector (0: the main one, then the side detectors in the order given).
    public func json(detectors: Int = 1) -> [String: Any] {
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
                    var spot: [String: Any] = ["h": s.hkl.h, "k": s.hkl.k, "l": s.hkl.l, "x": s.x, "y": s.y,
                                               "x_pred": (s.xPredicted * 1e4).rounded() / 1e4, "y_pred": (s.yPredicted * 1e4).rounded() / 1e4,
                                               "energy_kev": (s.energy * 1e5).rounded() / 1e5, "intensity": s.intensity]
                    if detectors > 1 { spot["detector"] = s.detector }
                    return spot
                },
            ]
        }
        return root
    }

    /// The grains as a LaueTools `.fit` file, each with its own phase's material (from `materials`, by
    /// name; the first when a grain names none of them). A `.fit` describes one detector: the spots of
    /// the main detector (`calibration`, detector 0) are written; the orientation is the joint one.
    public func laueToolsFit(materials: [Material], calibration c: DetectorCalibration) -> LaueToolsFit {
        let columns = ["spot_index", "Intensity", "h", "k", "l", "pixDev", "energy(keV)", "Xexp", "Yexp", "2theta_exp",
                       "chi_exp", "Xtheo", "Ytheo", "2theta_theo", "chi_theo", "Qx", "Qy", "Qz", "grainindex"]
        let fitGrains = grains.enumerated().map { gi, g -> LaueToolsFit.Grain in
            let material = materials.first { $0.name == g.phase } ?? materials[0]
            let rows = g.spots.filter { $0.detector == 0 }.enumerated().map { i, s -> [Double] in
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
