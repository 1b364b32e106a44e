import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LauePeaks

struct PeaksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peaks",
        abstract: "Find peaks, fit their shape and measure their streaking.",
        discussion: """
        One row per peak (intensity maximum): x,y,intensity,background,fwhm_major,fwhm_minor,angle_deg,model,eta, \
        streak_length_px,streak_width_px,aspect_ratio,extent_50_px,extent_10_px,spot,n_subpeaks,min_dip_ratio, \
        saturated,edge (+ two_theta,chi,streak_deg with --calib). x, y follow LaueTools (first pixel centre \
        (1, 1)) and lie on the peak's own pixels (the core fit's centre, the centroid around the maximum, or \
        for a broad unfitted spot its centroid); fwhm_* are the core's FWHM in pixels (major >= minor), \
        angle_deg its major axis from +x towards +y; maxima joined by a high saddle share a spot. \
        Definitions: docs/peaks.md.
        """
    )

    @Argument(help: "Image file (TIFF, MarCCD, HDF5).")
    var image: String

    @Option(help: "Calibration (.det or .cor trailer): adds two_theta, chi and the angular streak length.")
    var calib: String?

    @Flag(help: "Write the peak table as CSV to standard output.")
    var csv = false

    @Option(help: "Also write a LaueTools-compatible .dat peak list.")
    var dat: String?

    @Option(help: "Frame (TIFF page or HDF5 stack index).")
    var frame: Int = 0

    @Option(help: "HDF5 dataset path.")
    var dataset: String?

    @Option(help: "Seed threshold in noise sigmas of the 3x3 mean.")
    var detectionSigma: Double = 5

    @Option(help: "Known point-spread sigma in pixels (default: estimated from the sharpest peaks).")
    var psfSigma: Double?

    @Flag(help: "Skip the second detection pass for broad, faint spots (5x5 means).")
    var noBroadSpots = false

    @Option(help: "Core profile fitted to each peak: pseudo-voigt (the Lorentzian fraction fitted), gaussian, lorentzian or none.")
    var fit: String = "pseudo-voigt"

    func run() throws {
        try reportingErrors {
            let img = try ImageReader.read(path: image, frame: frame, dataset: dataset)
            var options = PeakSearchOptions()
            options.detectionSigma = detectionSigma
            options.psfSigma = psfSigma
            switch fit {
            case "pseudo-voigt": options.fitModel = .pseudoVoigt
            case "gaussian": options.fitModel = .gaussian
            case "lorentzian": options.fitModel = .lorentzian
            case "none": options.fitModel = nil
            default: throw LaueError(.invalidArgument, "--fit must be pseudo-voigt, gaussian, lorentzian or none, not \"\(fit)\"")
            }
            options.detectBroadSpots = !noBroadSpots
            let calibration = try calib.map { try LaueToolsCalibration.read(path: $0, frameSize: (img.width, img.height)) }
            if let calibration, let calib, let why = calibration.frameSizeMismatch(width: img.width, height: img.height) {
                throw LaueError(.invalidArgument, file: image, "frame \(why) (\(calib))")
            }
            var result = PeakSearcher(options: options).search(img)
            if let calibration {
                for i in result.peaks.indices { result.peaks[i].addAngles(calibration) }
            }
            if let dat {
                try result.laueToolsPeakList.write(to: dat, comments: ["Peak search by LaueMap on \(image)", "nb of peaks \(result.peaks.count)"])
            }
            if csv {
                emit(result.csvTable(withAngles: calib != nil).text)
            } else {
                var s = "\(result.peaks.count) peaks in \(image) (background median \(String(format: "%.1f", result.backgroundMedian)), "
                s += "noise \(String(format: "%.2f", result.noiseMedian)), PSF sigma \(String(format: "%.2f", result.psfSigma)) px"
                s += result.psfEstimated ? " estimated" : " given"
                s += result.rejectedHotPixels > 0 ? ", \(result.rejectedHotPixels) hot pixels rejected)" : ")"
                if let t = result.depthTail {
                    s += String(format: "\ndepth tail on %d of %d spots (%d the other way): %.1f px towards %.0f deg (from +x towards +y); left out of the streak metrics",
                                t.along, t.spots, t.against, t.length, t.angle)
                }
                emit(s)
                let shown = min(10, result.peaks.count)
                emit(result.csvTable(withAngles: calib != nil).text.split(separator: "\n").prefix(shown + 1).joined(separator: "\n"))
                if result.peaks.count > shown { emit("(the \(shown) strongest of \(result.peaks.count) peaks; --csv writes them all)") }
            }
        }
    }
}
