import Foundation
import LaueCore
import LaueIO

extension PeakSearchResult {
    /// The CSV columns of `lauemap peaks` (docs/peaks.md).
    public static func csvHeader(withAngles: Bool) -> [String] {
        ["x", "y", "intensity", "background", "fwhm_major", "fwhm_minor", "angle_deg", "model", "eta", "streak_length_px",
         "streak_width_px", "aspect_ratio", "extent_50_px", "extent_10_px", "spot", "n_subpeaks", "min_dip_ratio", "saturated", "edge"]
            + (withAngles ? ["two_theta", "chi", "streak_deg"] : [])
    }

    public func csvTable(withAngles: Bool) -> CSVTable {
        var t = CSVTable(header: PeakSearchResult.csvHeader(withAngles: withAngles))
        for p in peaks {
            let c = p.core
            var row = [csvNumber(p.x, digits: 3), csvNumber(p.y, digits: 3), csvNumber(p.intensity, digits: 1),
                       csvNumber(p.background, digits: 2), csvNumber(c.fwhmMajor, digits: 3), csvNumber(c.fwhmMinor, digits: 3),
                       csvNumber(c.angle, digits: 2), c.model, csvNumber(c.eta, digits: 3), csvNumber(p.streak.length, digits: 3),
                       csvNumber(p.streak.width, digits: 3), csvNumber(c.fwhmMajor / max(c.fwhmMinor, 1e-9), digits: 3),
                       csvNumber(p.extentHalf, digits: 2), csvNumber(p.extentTenth, digits: 2), String(p.spot),
                       String(p.components), csvNumber(p.streak.profile.minimumDipRatio, digits: 3),
                       p.saturated ? "1" : "0", p.edge ? "1" : "0"]
            if withAngles {
                row += [csvNumber(p.twoTheta, digits: 5), csvNumber(p.chi, digits: 5), csvNumber(p.streakDegrees, digits: 5)]
            }
            t.rows.append(row)
        }
        return t
    }

    /// The peaks as a LaueTools `.dat` peak list: widths as Gaussian sigmas (LaueTools' fwaxmaj/fwaxmin),
    /// inclination of the minor axis in degrees (LaueTools' convention), Xdev/Ydev = fitted centre minus
    /// the brightest pixel.
    public var laueToolsPeakList: LaueToolsPeakList {
        let columns = ["peak_X", "peak_Y", "peak_Itot", "peak_Isub", "peak_fwaxmaj", "peak_fwaxmin", "peak_inclination",
                       "Xdev", "Ydev", "peak_bkg", "Ipixmax"]
        let rows = peaks.map { p -> [Double] in
            let g = p.fit.flatMap { $0.converged ? $0 : nil }
            let amplitude = g?.amplitude ?? (p.maximum - p.background)
            let c = p.core
            let sMajor = c.fwhmMajor / 2.354820045, sMinor = c.fwhmMinor / 2.354820045
            var inclination = c.angle - 90
            if inclination < 0 { inclination += 360 }
            return [p.x, p.y, amplitude + p.background, amplitude, sMajor, sMinor, inclination,
                    p.x - Double(p.maximumX), p.y - Double(p.maximumY), p.background, p.maximum]
        }
        return LaueToolsPeakList(columns: columns, rows: rows)
    }
}

extension Peak {
    /// The core as users read it: the converged fit's FWHM (major >= minor), angle, model and Lorentzian
    /// fraction; without one, the FWHM of the Gaussian of the spot's second moments.
    public var core: (fwhmMajor: Double, fwhmMinor: Double, angle: Double, model: String, eta: Double) {
        if let f = fit, f.converged { return (f.fwhmMajor, f.fwhmMinor, f.angle, f.model.rawValue, f.eta) }
        return (2.354820045 * streak.lambdaMajor.squareRoot(), 2.354820045 * streak.lambdaMinor.squareRoot(), streak.angle, "moments", 0)
    }
}
