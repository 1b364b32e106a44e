import Foundation
import LaueCore

/// A fitted rotated anisotropic 2-D profile (Gaussian, Lorentzian or pseudo-Voigt) on a constant
/// background.
///
/// Positions are 0-based pixel-centre coordinates (column, row); widths are full widths at half
/// maximum along the major and minor axes (`fwhmMajor >= fwhmMinor`); `angle` is the major axis
/// direction in degrees, measured from +x (columns) towards +y (rows), in [0, 180).
public struct EllipseFit: Sendable, Equatable {
    public enum Model: String, Sendable { case gaussian, lorentzian, pseudoVoigt = "pseudo_voigt" }
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
    /// Lorentzian fraction of the profile (0 Gaussian, 1 Lorentzian): the weight of the halo.
    public var eta: Double = 0

    public init(model: Model, x: Double, y: Double, amplitude: Double, background: Double, fwhmMajor: Double,
                fwhmMinor: Double, angle: Double, residual: Double, iterations: Int, converged: Bool, eta: Double = 0) {
        self.model = model; self.x = x; self.y = y; self.amplitude = amplitude; self.background = background
        self.fwhmMajor = fwhmMajor; self.fwhmMinor = fwhmMinor; self.angle = angle; self.residual = residual
        self.iterations = iterations; self.converged = converged; self.eta = eta
    }
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
    /// Centre of the moments (LaueTools convention) and their total weight (sum of the
    /// background-subtracted values that entered them): spots combine exactly as mixtures.
    public var centre: (x: Double, y: Double) = (0, 0)
    public var weight: Double = 0

    public init(covariance: (xx: Double, xy: Double, yy: Double), lambdaMajor: Double, lambdaMinor: Double, angle: Double,
                aspectRatio: Double, length: Double, width: Double, profile: SubpeakProfile,
                centre: (x: Double, y: Double) = (0, 0), weight: Double = 0) {
        self.covariance = covariance; self.lambdaMajor = lambdaMajor; self.lambdaMinor = lambdaMinor; self.angle = angle
        self.aspectRatio = aspectRatio; self.length = length; self.width = width; self.profile = profile
        self.centre = centre; self.weight = weight
    }

    public static func == (a: StreakMetrics, b: StreakMetrics) -> Bool {
        a.covariance == b.covariance && a.lambdaMajor == b.lambdaMajor && a.lambdaMinor == b.lambdaMinor &&
            a.angle == b.angle && a.length == b.length && a.width == b.width && a.profile == b.profile
    }

    /// Unit vector of the major axis (x, y).
    public var direction: (x: Double, y: Double) {
        (cos(angle * .pi / 180), sin(angle * .pi / 180))
    }

    /// How far the spot reaches from its centre along the unit vector `d`: twice its sigma in that
    /// direction (from the major and minor variances) plus `overlapMargin` px. A streak reaches far
    /// along itself and little across.
    public func reach(along d: (x: Double, y: Double)) -> Double {
        let u = direction
        let along = d.x * u.x + d.y * u.y, across = -d.x * u.y + d.y * u.x
        return 2 * (lambdaMajor * along * along + lambdaMinor * across * across).squareRoot() + StreakMetrics.overlapMargin
    }

    /// The largest reach, along the major axis.
    public var maximumReach: Double { 2 * lambdaMajor.squareRoot() + StreakMetrics.overlapMargin }

    /// Pixels added to twice the sigma in a spot's reach.
    public static let overlapMargin = 3.0

    /// Whether two spots meet: their centres are closer than the sum of their reaches along the line
    /// joining them.
    public static func overlap(_ a: StreakMetrics, _ b: StreakMetrics) -> Bool {
        let dx = b.centre.x - a.centre.x, dy = b.centre.y - a.centre.y
        let distance = (dx * dx + dy * dy).squareRoot()
        guard distance > 0 else { return true }
        let d = (x: dx / distance, y: dy / distance)
        return distance < a.reach(along: d) + b.reach(along: d)
    }
}

/// One maximum of a spot.
public struct Subpeak: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var height: Double
    public init(x: Double, y: Double, height: Double) { self.x = x; self.y = y; self.height = height }
}

/// One peak found on a detector frame: one intensity maximum (a watershed basin of the
/// background-subtracted frame). Maxima joined by a high saddle form one *spot* (the sub-peaks of a
/// split spot); the streak metrics describe the whole spot and are shared by its peaks.
public struct Peak: Sendable, Equatable {
    /// Position in LaueTools' convention (first pixel centre (1, 1)): the centre of the core fit when the
    /// fit is good, else the centroid of the 3x3 pixels around the maximum; for an unfitted broad spot
    /// (found on 5x5 means or coarse cells, or more than `broadCentroidSigma` across) the centroid of its
    /// pixels above the noise. Always on the peak's own pixels.
    public var x: Double
    public var y: Double
    /// Intensity-weighted centroid of the peak's own pixels, LaueTools convention.
    public var centroidX: Double
    public var centroidY: Double
    /// Background-subtracted integrated intensity over the peak's own pixels.
    public var intensity: Double
    /// Local background level (median of the region's surroundings).
    public var background: Double
    /// Highest pixel value and its position (LaueTools convention).
    public var maximum: Double
    public var maximumX: Int
    public var maximumY: Int
    /// Number of pixels of the peak's own basin.
    public var pixelCount: Int
    /// The spot this peak belongs to (index into `PeakSearchResult.spots`).
    public var spot: Int = 0
    /// Number of maxima (sub-peaks) in the peak's spot.
    public var components: Int = 1
    /// Every maximum of the peak's spot, highest first: position (LaueTools convention) and height above
    /// the background of its pixel.
    public var subpeaks: [Subpeak] = []
    /// The core profile fit (model chosen by the fit; nil for peaks too faint or at an edge).
    public var fit: EllipseFit?
    /// Streak metrics of the peak's spot.
    public var streak: StreakMetrics
    /// Full lengths of the spot's major-axis profile at 50 % and 10 % of its highest value, pixels: the
    /// core plus streak, and the extent of tails and halos.
    public var extentHalf: Double = 0
    public var extentTenth: Double = 0
    /// With a depth tail found in the frame, how much farther this spot reaches along the tail direction
    /// than against it (its pixels above the region threshold), pixels (nil: no shared tail, or the spot was not measured).
    public var depthTail: Double? = nil
    /// A pixel of the region reached the saturation level.
    public var saturated: Bool
    /// The spot touches the frame edge or a masked area (not fitted).
    public var edge: Bool
    /// The spot lies within a few widths of another spot.
    public var overlapping: Bool
    /// Found by the coarse pass (docs/peaks.md): a spot tens of pixels wide and faint, placed at its
    /// centroid; its shape is a noisy moment estimate, so defect classification does not read it.
    public var coarse = false
    /// Scattering angles of (x, y) and the angular length of the streak (kf angle, degrees), when a
    /// calibration was given.
    public var twoTheta: Double? = nil
    public var chi: Double? = nil
    public var streakDegrees: Double? = nil

    /// The position that stands for the peak in indexing (LaueTools convention): where the crystal's
    /// mean orientation puts its reflection. The peak's own maximum (`x`, `y`), or, for a streak (one
    /// maximum, not cut by the frame edge or a masked area, second moments elongated by at least
    /// `streakAspectForCentre`), the streak's moment centre: along a continuous band of orientations the
    /// maximum stands anywhere, up to half the streak from the mean orientation's reflection. (On a frame
    /// with a depth tail the moments are mirrored through each spot's core, so the centre is the core.)
    public var indexingPosition: (x: Double, y: Double) {
        let isStreak = components == 1 && !edge && streak.weight > 0 && streak.aspectRatio >= Peak.streakAspectForCentre
        return isStreak ? streak.centre : (x, y)
    }

    /// Aspect ratio (sqrt of the moments' eigenvalue ratio) from which a one-maximum spot stands for
    /// its reflection at its moment centre (docs/indexing.md, "Streaks").
    public static let streakAspectForCentre = 2.0
}
