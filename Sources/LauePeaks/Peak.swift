import Foundation
import LaueCore

/// A fitted rotated anisotropic 2-D profile (Gaussian or Lorentzian) on a constant background.
///
/// Positions are 0-based pixel-centre coordinates (column, row); widths are full widths at half
/// maximum along the major and minor axes; `angle` is the major axis direction in degrees, measured
/// from +x (columns) towards +y (rows), in [0, 180).
public struct EllipseFit: Sendable, Equatable {
    public enum Model: String, Sendable { case gaussian, lorentzian }
    public var model: Model
    public var x: Double
    public var y: Double
    public var amplitude: Double
    public var background: Double
    public var fwhmMajor: Double
    public var fwhmMinor: Double
    public var angle: Double
    /// Root-mean-square residual divided by the amplitude.
    public var residual: Double
    public var iterations: Int
    public var converged: Bool
}

/// Sub-peaks along a spot's major axis.
public struct SubpeakProfile: Sendable, Equatable {
    /// Number of sub-peaks (1 for a single peak or a continuous streak).
    public var count: Int
    /// Positions along the major axis, pixels from the centroid, ascending.
    public var positions: [Double]
    /// Heights (background-subtracted profile values).
    public var heights: [Double]
    /// Separations between neighbouring sub-peaks, pixels.
    public var separations: [Double]
    /// Dip ratio between neighbours: lowest profile value between them over the lower of the two
    /// heights (0: fully split, 1: no dip).
    public var dipRatios: [Double]
    /// FWHM of each sub-peak along the axis, pixels.
    public var widths: [Double]
    /// Excess kurtosis-free shape factor mu4 / mu2^2 of the whole profile (3 Gaussian, 1.8 flat top,
    /// 1 two equal spikes).
    public var kurtosis: Double
    /// FWHM of the profile across the major axis through the highest sub-peak, pixels, measured the
    /// same way as `widths` (the point-spread reference for one-axis defects).
    public var crossWidth: Double = 0

    public var minimumDipRatio: Double { dipRatios.min() ?? 1 }

    public init(count: Int, positions: [Double], heights: [Double], separations: [Double], dipRatios: [Double],
                widths: [Double], kurtosis: Double, crossWidth: Double = 0) {
        self.count = count; self.positions = positions; self.heights = heights; self.separations = separations
        self.dipRatios = dipRatios; self.widths = widths; self.kurtosis = kurtosis; self.crossWidth = crossWidth
    }
}

/// Streak metrics of one spot (shared/notes/laue-physics.md section 3).
public struct StreakMetrics: Sendable, Equatable {
    /// Intensity-weighted second moments (pixels^2) of the background-subtracted spot.
    public var covariance: (xx: Double, xy: Double, yy: Double)
    /// Eigenvalues of the covariance, major and minor (pixels^2).
    public var lambdaMajor: Double
    public var lambdaMinor: Double
    /// Major axis direction, degrees from +x towards +y, in [0, 180).
    public var angle: Double
    /// sqrt(lambdaMajor / lambdaMinor).
    public var aspectRatio: Double
    /// PSF-corrected streak length: sqrt(12 max(lambdaMajor - sigma_psf^2, 0)), the length of the uniform
    /// line that, convolved with the PSF, has the same second moment.
    public var length: Double
    /// PSF-corrected width excess, same definition across the streak: sqrt(12 max(lambdaMinor - sigma_psf^2, 0)).
    public var width: Double
    public var profile: SubpeakProfile

    public init(covariance: (xx: Double, xy: Double, yy: Double), lambdaMajor: Double, lambdaMinor: Double, angle: Double,
                aspectRatio: Double, length: Double, width: Double, profile: SubpeakProfile) {
        self.covariance = covariance; self.lambdaMajor = lambdaMajor; self.lambdaMinor = lambdaMinor; self.angle = angle
        self.aspectRatio = aspectRatio; self.length = length; self.width = width; self.profile = profile
    }

    public static func == (a: StreakMetrics, b: StreakMetrics) -> Bool {
        a.covariance == b.covariance && a.lambdaMajor == b.lambdaMajor && a.lambdaMinor == b.lambdaMinor &&
            a.angle == b.angle && a.length == b.length && a.width == b.width && a.profile == b.profile
    }

    /// Unit vector of the major axis (x, y).
    public var direction: (x: Double, y: Double) {
        (cos(angle * .pi / 180), sin(angle * .pi / 180))
    }
}

/// One peak found on a detector frame.
public struct Peak: Sendable, Equatable {
    /// Position in LaueTools' convention (first pixel centre (1, 1)): the Gaussian fit centre when the
    /// fit is good, else the centroid.
    public var x: Double
    public var y: Double
    /// Intensity-weighted centroid, LaueTools convention.
    public var centroidX: Double
    public var centroidY: Double
    /// Background-subtracted integrated intensity over the peak region.
    public var intensity: Double
    /// Local background level (median of the region's surroundings).
    public var background: Double
    /// Highest pixel value and its position (LaueTools convention).
    public var maximum: Double
    public var maximumX: Int
    public var maximumY: Int
    /// Number of pixels in the peak region.
    public var pixelCount: Int
    /// Number of separate regions grouped into this peak (sub-peaks further apart than the PSF).
    public var components: Int = 1
    public var gaussian: EllipseFit?
    public var lorentzian: EllipseFit?
    public var streak: StreakMetrics
    /// A pixel of the region reached the saturation level.
    public var saturated: Bool
    /// The region touches the frame edge or a masked area.
    public var edge: Bool
    /// The region touches another peak's region, or holds several maxima off the major axis.
    public var overlapping: Bool
    /// Scattering angles of (x, y) and the angular length of the streak (kf angle, degrees), when a
    /// calibration was given.
    public var twoTheta: Double? = nil
    public var chi: Double? = nil
    public var streakDegrees: Double? = nil
}
