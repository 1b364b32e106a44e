import Foundation
import LaueCore
import LaueIO

extension PeakSearchResult {
    /// The CSV columns of `lauemap peaks` (docs/peaks.md).
    public static func csvHeader(withAngles: Bool) -> [String] {
        ["x", "y", "intensity", "background", "fwhm_major", "fwhm_minor", "angle_deg", "streak_length_px",
         "streak_width_px", "aspect_ratio", "n_subpeaks", "min_dip_ratio", "saturated"]
            + (withAngles ? ["two_theta", "chi", "streak_deg"] : [])
    }

    public func csvTable(withAngles: Bool) -> CSVTable {
        var t = CSVTable(header: PeakSearchResult.csvHeader(withAngles: withAngles))
        for p in peaks {
            let g = p.gaussian.flatMap { $0.converged ? $0 : nil }
            // Without a converged fit, widths come from the moments (FWHM of the equivalent Gaussian).
            let major = g?.fwhmMajor ?? 2.3548 * p.streak.lambdaMajor.squareRoot()
            let minor = g?.fwhmMinor ?? 2.3548 * p.streak.lambdaMinor.squareRoot()
            var row = [csvNumber(p.x, digits: 3), csvNumber(p.y, digits: 3), csvNumber(p.intensity, digits: 1),
                       csvNumber(p.background, digits: 2), csvNumber(major, digits: 3), csvNumber(minor, digits: 3),
                       csvNumber(p.streak.angle, digits: 2), csvNumber(p.streak.length, digits: 3),
                       csvNumber(p.streak.width, digits: 3), csvNumber(p.streak.aspectRatio, digits: 3),
                       String(p.streak.profile.count), csvNumber(p.streak.profile.minimumDipRatio, digits: 3),
                       p.saturated ? "1" : "0"]
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
            let g = p.gaussian.flatMap { $0.converged ? $0 : nil }
            let amplitude = g?.amplitude ?? (p.maximum - p.background)
            let sMajor = (g?.fwhmMajor ?? 2.3548 * p.streak.lambdaMajor.squareRoot()) / 2.3548
            let sMinor = (g?.fwhmMinor ?? 2.3548 * p.streak.lambdaMinor.squareRoot()) / 2.3548
            var inclination = (g?.angle ?? p.streak.angle) - 90
            if inclination < 0 { inclination += 360 }
            return [p.x, p.y, amplitude + p.background, amplitude, sMajor, sMinor, inclination,
                    p.x - Double(p.maximumX), p.y - Double(p.maximumY), p.background, p.maximum]
        }
        return LaueToolsPeakList(columns: columns, rows: rows)
    }
}
