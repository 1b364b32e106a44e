import Foundation
import LaueCore

/// Parameters of the peak search (docs/peaks.md gives each one's reason). The defaults work on MarCCD,
/// sCMOS and simulated frames untuned.
public struct PeakSearchOptions: Sendable, Equatable {
    // Background and detection.
    /// Edge of the background blocks, pixels (nil: about 1/40 of the frame, between 16 and 48).
    public var blockSize: Int? = nil
    /// Seed threshold: a pixel's 3x3 mean must exceed the background by this many standard deviations
    /// of a 3x3 mean, measured on the frame (correlated noise makes it larger than sigma / 3).
    public var detectionSigma: Double = 5
    /// Region threshold: pixels above background + regionSigma * noise sigma join a peak region.
    public var regionSigma: Double = 2
    /// Pixels below background + scanSigma * noise sigma cannot be seeds (a cheap first test).
    public var scanSigma: Double = 2.5
    /// Smallest region kept, pixels.
    public var minimumPixels = 3
    /// Smallest peak height above the local background, detector units.
    public var minimumAmplitude: Double = 0
    /// Saturation level (nil: the sample type's maximum, e.g. 65535).
    public var saturation: Double? = nil
    /// Treat pixels equal to 0 as dead (nil: automatic, when more than 2 % of the frame is 0 while the
    /// rest sits on a background above 10, as MarCCD corners and module gaps).
    public var maskZeros: Bool? = nil
    /// Also detect broad, faint spots on 5x5 means (seeds above background + detectionSigma sigmas of a
    /// 5x5 mean, regions above regionSigma of them): spots broadened by a lattice-rotation spread that
    /// no single pixel lifts above the noise.
    public var detectBroadSpots = true
    /// The broad-spot pass runs only when the first pass found fewer regions than this (frames with
    /// many sharp spots do not need it, and it costs about a third of a search).
    public var broadSpotPassBelow = 80
    /// With the broad-spot pass, also detect spots tens of pixels wide on 4x4-pixel cells (3x3 means of
    /// cells, thresholds as the broad pass): the coarse pass.
    public var detectCoarseSpots = true

    // Segmentation (watershed of the 3x3-mean, background-subtracted frame inside each region).
    /// A maximum is a peak of its own when it stands this many noise sigmas (of a 3x3 mean, scaled for
    /// the signal's Poisson noise) above the saddle that joins it to a higher maximum...
    public var saddleSigma: Double = 4
    /// ... and this fraction of its own height above that saddle (noise on bright halos).
    public var saddleFraction: Double = 0.1
    /// Maxima lower than this fraction of the highest maximum of their region are not peaks of their
    /// own (weak satellites at or above it are reported).
    public var satelliteFraction: Double = 0.02
    /// Neighbouring peaks whose saddle stays above this fraction of the lower one's height are
    /// sub-peaks of one spot (a split spot); below, separate spots.
    public var subpeakSaddle: Double = 0.4
    /// Sub-peaks at least this fraction of their spot's main peak are peaks (rows) of their own; weaker
    /// ones (tail bumps, weak satellites) are listed among the spot's sub-peaks and their intensity
    /// goes to the main peak.
    public var subpeakRowFraction: Double = 0.25

    // Shape.
    /// Peaks lower than this many noise sigmas above the background are not fitted (moments only).
    public var minimumFitSigma: Double = 6
    /// Profile fitted to each peak's core: `.pseudoVoigt` (the Lorentzian fraction fitted, reported as
    /// Gaussian or Lorentzian at the ends), or a pure `.gaussian` or `.lorentzian`. Nil: no fit.
    public var fitModel: EllipseFit.Model? = .pseudoVoigt
    /// Known point-spread sigma in pixels (nil: estimated from the sharpest peaks of the frame).
    public var psfSigma: Double? = nil
    /// Pixels below this fraction of a spot's highest value do not enter its second moments (halos
    /// and tails of bright spots would otherwise read as streaks).
    public var momentFloor: Double = 0.05
    /// Largest region measured (pixels); larger ones are reported unfitted.
    public var maxRegionPixels = 40_000
    public var maxPeaks = 5000
    /// Relative prominence a sub-peak needs along the major axis (fraction of the highest sub-peak).
    public var subpeakProminence: Double = 0.10
    /// The depth-tail test (a tail shared by every spot along one detector direction); nil: not tested.
    public var depthTail: DepthTailOptions? = DepthTailOptions()
    /// The doublet test (two point-like components closer than the watershed splits); nil: not tested.
    public var doublet: DoubletOptions? = DoubletOptions()

    public init() {}
}

/// Fixed constants of the peak search, named where they are used (docs/peaks.md lists them).
enum PeakSearchConstants {
    /// A one-pixel spike stands this many noise sigmas above the background...
    static let spikeSigma: Float = 10
    /// ... and this many times higher (above background) than its highest neighbour.
    static let spikeRatio: Float = 8
    /// A region of at most this many pixels whose neighbours stay below `hotNeighbourFraction` of its
    /// brightest pixel is a hot pixel.
    static let hotPixelMaximumSize = 4
    static let hotNeighbourFraction: Float = 0.1
    /// A seed's 3x3 mean needs at least this many valid pixels.
    static let seedMinimumValid = 6
    /// Broad-spot pass: a 5x5 mean needs this many valid pixels, a broad region this many pixels, and
    /// its seed this clearance (pixels) from regions already found.
    static let wideMinimumValid = 15
    static let broadMinimumPixels = 9
    static let broadClearance = 4
    /// Coarse pass: cells of this many pixels a side, valid with at least this fraction of valid pixels
    /// (a 3x3 mean of cells needs all nine); a coarse region needs this many cells...
    static let coarseCell = 4
    static let coarseCellValid: Float = 0.75
    static let coarseMinimumCells = 4
    /// Cells this close to an invalid cell (dead pixels, a gap, MarCCD's rim) or to the frame's edge
    /// are left out.
    static let coarseRimCells = 3
    /// ... and must stand this many noise sigmas (of a 3x3 mean of cells) above the median cell of each
    /// side of its surroundings (`standsOut`).
    static let coarseConfirmSigma: Float = 3
    /// The noise of the cells' 3x3 means is measured on every this-many-th cell.
    static let coarseNoiseStride = 7
    /// A coarse region coming within this many cells of a measured spot is dropped.
    static let coarseClearance = 2
    /// Local background: median of the ring this many pixels (inner, outer) outside the spot's box,
    /// when it holds at least `ringMinimumPixels`.
    static let ringInner = 3
    static let ringOuter = 5
    static let ringMinimumPixels = 8
    /// Moments are taken over the spot grown by this many pixels.
    static let momentMargin = 2
    /// Core fit box: half-size at least this, and this many core FWHM beyond the pixels above half
    /// maximum; at most `fitMaximumPixels` pixels.
    static let fitMinimumHalfSize = 3
    static let fitMarginFWHM = 1.0
    static let fitMaximumPixels = 1024
    /// Peaks below `psfMinimumSigma` noise sigmas with more than this many pixels above half maximum
    /// (faint broad blobs) are described by their moments, not fitted.
    static let faintBroadCorePixels = 64
    /// An unfitted, unsaturated peak found by the broad-spot or coarse pass, or whose spot's second
    /// moments are at least this many pixels (sigma) across its narrow axis, is placed at the centroid
    /// of its pixels above the noise rather than around its brightest pixel.
    static let broadCentroidSigma = 3.0
    /// PSF estimate: peaks this many noise sigmas above the background, lower quartile of their minor
    /// variances.
    static let psfMinimumSigma = 20.0
    /// Sub-peak profile: samples over +-this many px across the axis.
    static let profileHalfBand = 1.5
}
