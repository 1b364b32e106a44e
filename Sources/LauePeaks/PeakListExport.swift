import Foundation
import LaueCore
import LaueIO

extension PeakSearchResult {
    /// The CSV columns of `lauemap peaks` (docs/peaks.md).
    public static func csvHeader(withAngles: Bool) -> [String] {
        ["x", "y", "intensity", "background", "fwhm_major", "fwhm_minor", "angle_deg", "model", "eta", "streak_length_px",
         "streak_width_px", "aspect_ratio", "extent_50_px", "extent_10_px", "spot", "n_subpeaks", "min_dip_ratio", "saturated", "edge",
         "index_x", "index_y"]
            + (withAngles ? ["two_theta", "chi", "streak_deg"] : [])
    }

    /// Names of the `model` column's values (`numericRows` holds their index).
    public static let modelNames = ["gaussian", "lorentzian", "pseudo_voigt", "moments"]

    /// Decimals the CSV writes in each column of `csvHeader` (nil: an integer, or the model's name).
    public static func csvDigits(withAngles: Bool) -> [Int?] {
        [3, 3, 1, 2, 3, 3, 2, nil, 3, 3, 3, 3, 2, 2, nil, nil, 3, nil, nil, 3, 3] + (withAngles ? [5, 5, 5] : [])
    }

    /// The table as numbers at full precision, one row per peak in the order of `csvHeader` (`model`:
    /// its index in `modelNames`; NaN where the CSV is empty).
    public func numericRows(withAngles: Bool) -> [[Double]] {
        peaks.map { p in
            let c = p.core
            var row = [p.x, p.y, p.intensity, p.background, c.fwhmMajor, c.fwhmMinor, c.angle,
                       Double(PeakSearchResult.modelNames.firstIndex(of: c.model) ?? PeakSearchResult.modelNames.count - 1), c.eta,
                       p.streak.length, p.streak.width, c.fwhmMajor / max(c.fwhmMinor, 1e-9), p.extentHalf, p.extentTenth,
                       Double(p.spot), Double(p.components), p.streak.profile.minimumDipRatio, p.saturated ? 1 : 0, p.edge ? 1 : 0,
                       p.indexingPosition.x, p.indexingPosition.y]
            if withAngles { row += [p.twoTheta ?? .nan, p.chi ?? .nan, p.streakDegrees ?? .nan] }
            return row
        }
    }

    /// The table of `lauemap peaks --csv`: `numericRows` at `csvDigits` decimals.
    public func csvTable(withAngles: Bool) -> CSVTable {
        var t = CSVTable(header: PeakSearchResult.csvHeader(withAngles: withAngles))
        let digits = PeakSearchResult.csvDigits(withAngles: withAngles)
        let model = PeakSearchResult.csvHeader(withAngles: withAngles).firstIndex(of: "model")
        t.rows = numericRows(withAngles: withAngles).map { row in
            row.enumerated().map { k, v in
                if k == model { return PeakSearchResult.modelNames[Int(v)] }
                if let d = digits[k] { return csvNumber(v, digits: d) }
                return String(Int(v))
            }
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
