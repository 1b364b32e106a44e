import Foundation
import LaueCore
import LauePeaks
import LaueIndexing

/// Thresholds of the pattern classifier (docs/classification.md gives each one's reason and how it was
/// tuned on simulated patterns kept apart from the test patterns).
public struct ClassifierOptions: Sendable {
    /// Strongest usable indexed spots that take part.
    public var maximumSpots = 30
    /// Fewer usable spots than this: `unclassified`. Four suffice (docs/classification.md: the four
    /// strongest spots alone classify as well as thirty on every simulated geometry); points indexed
    /// from their neighbours often have only 3-6, and three read as well with `oneAxisModelBelowSpots`.
    public var minimumSpots = 3
    /// With fewer usable spots than this, a one-axis (GND or boundary) reading needs the one-axis model
    /// to fit the spots (`oneAxisResidualFactor`, `oneAxisResidualMargin`): the spread tensor of three
    /// spots can come out elongated by chance (a random-dislocation pattern read as a band five times
    /// its spread, docs/classification.md).
    public var oneAxisModelBelowSpots = 4
    /// Spots of the peak search's coarse pass (faint spots tens of pixels wide, their shape a noisy
    /// moment estimate) take part only when fewer other usable spots than this are indexed: they make a
    /// broad random-dislocation pattern on a distant detector classifiable, and would only add noise
    /// to a pattern rich in spots (docs/classification.md).
    public var coarseEvidenceBelow = 12
    /// A spot that meets another spot is left out (its pixels are shared), unless the other is fainter
    /// than this fraction of it: a fragment at the end of a streak or a weak satellite takes few of
    /// its pixels (0: every meeting spot counts; docs/classification.md).
    public var faintNeighbour = 0.2
    /// Point-spread sigma of the detector in pixels (as second moments measure it), when known; nil:
    /// fitted per pattern together with the spread tensor.
    public var pointSpreadSigma: Double? = nil
    /// Smallest point-spread variance (pixels^2) used for the resolution (pixel size sets a floor).
    public var minimumPointSpreadVariance = 0.5
    /// A spread is detected when sqrt(lambda1) exceeds this many resolution units (point-spread sigma
    /// over the median spot sensitivity) and the tensor explains the spots' excess size (misfit at most
    /// `noiseResidual`); below, `no_defect`. Between `noiseResidual` and `maximumResidual`... see
    /// docs/classification.md.
    public var detectionLimit = 1.0
    /// Tensor misfit above which the excess size of the spots is read as noise (`no_defect` when the
    /// spread is also below `unclassifiedDetection` resolution units, `unclassified` otherwise).
    public var noiseResidual = 0.25
    public var unclassifiedDetection = 2.0
    /// lambda1 / lambda2 at or above which the spread is about one axis; at or below
    /// `isotropicRatio` it is isotropic (random dislocations); in between, `unclassified`.
    public var oneAxisRatio = 4.0
    public var isotropicRatio = 2.5
    /// Also one-axis when the one-axis model's misfit is at most factor x the full tensor's + margin
    /// and the streak directions agree (median mismatch at most half `maximumDirectionMismatch`).
    public var oneAxisResidualFactor = 2.0
    public var oneAxisResidualMargin = 0.05
    /// Largest relative misfit of the spread tensor for a confident reading.
    public var maximumResidual = 0.35
    /// Largest intensity-weighted median angle between observed and predicted streak directions for a
    /// one-axis defect, degrees.
    public var maximumDirectionMismatch = 10.0
    /// A spot reads sub-peaks only when the predicted extent of its streak exceeds this many
    /// point-spread FWHM.
    public var informativeExtent = 2.0
    /// Neighbouring sub-peaks count as resolved when the dip between them is at most this.
    public var maximumDipRatio = 0.8
    /// Sub-grain bands wider than this (degrees, and this fraction of the sub-peak resolution: the
    /// point-spread FWHM across the streak over the spot sensitivity) make a tilt boundary a tilt
    /// boundary with GNDs.
    public var bandSpreadLimit = 0.03
    public var bandResolutionLimit = 0.6
    /// The winning kind of spot (continuous or discrete) needs this share of the vote; otherwise
    /// `unclassified`.
    public var minimumVoteShare = 0.6
    /// The share a continuous (GND) reading needs: spots that cannot resolve a boundary's steps read as
    /// continuous, so sub-peaks in a quarter of the vote make a GND reading doubtful.
    public var minimumContinuousShare = 0.75
    /// A GND (continuous) reading needs a voting spot whose sub-peak resolution (point-spread FWHM
    /// across the streak over its sensitivity, degrees) is at most the band width over this: finer
    /// than the steps of a stacking of that width, so steps would show if there were any.
    public var continuousResolutionSteps = 4.0
    /// The rule above applies when fewer spots than this vote: many voting spots that all read one
    /// band are evidence enough (the rule otherwise refused correct 0.12-0.2 deg GND bands on real
    /// detector geometries).
    public var continuousResolutionBelowReadings = 5
    /// Among discrete spots, this share showing three or more sub-peaks means stacked boundaries.
    public var multiShare = 0.3
    /// Length over which a GND spread accumulates (beam size), micrometres; Burgers vector (angstrom),
    /// nil for the material's shortest lattice translation.
    public var beamSize = 0.5
    public var burgersVector: Double? = nil
    /// The peak search's `momentFloor`: second moments leave out pixels below this fraction of a spot's
    /// height, which keeps (1 - (1 + U) f) / (1 - f) of a Gaussian spot's variance (U = ln(1/f)); the
    /// isotropic spread of random dislocations (Gaussian spots) is corrected for it.
    public var momentFloor = 0.05

    public init() {}
}

/// Reads the defect of one indexed pattern from the shapes of its spots
/// (shared/notes/laue-physics.md 3.7, 4, 5): per-spot labels, the orientation-spread tensor across all
/// spots, the rotation axis from the streak directions, consistency checks, then one class with its
/// parameters and a confidence. Says `unclassified` rather than guess.
public struct DefectClassifier: Sendable {
    public let predictor: SpotPredictor
    public var options: ClassifierOptions
    let density: GNDDensity

    public init(predictor: SpotPredictor, options: ClassifierOptions = ClassifierOptions()) {
        self.predictor = predictor
        self.options = options
        var d = GNDDensity(material: predictor.material, beamSize: options.beamSize)
        if let b = options.burgersVector { d.burgers = b }
        density = d
    }

    var material: Material { predictor.material }

    /// Fraction of a 2-D Gaussian's variance (per axis) that moments keep when pixels below `floor` of
    /// the peak are left out.
    static func gaussianVarianceKept(floor f: Double) -> Double {
        guard f > 0, f < 1 else { return 1 }
        let u = log(1 / f)
        return (1 - (1 + u) * f) / (1 - f)
    }

    /// Classifies a pattern from its peak search and indexed grain, the way the scan pipeline does: the
    /// grain's sub-orientations first (`SubgrainSearch`), then the reflections read with their families.
    /// `detectorPointSpread` (px) takes the place of `options.pointSpreadSigma` when given.
    public func classify(_ found: PeakSearchResult, grain: Grain, subgrainOptions: SubgrainOptions = SubgrainOptions(),
                         detectorPointSpread: Double? = nil) -> (DefectAssessment, SubgrainAnalysis) {
        let subgrains = SubgrainSearch.find(grain: grain, peaks: found.peaks, predictor: predictor, options: subgrainOptions)
        return (classify(peaks: found.peaks, grain: grain, psfSigma: found.psfSigma, subgrains: subgrains,
                         detectorPointSpread: detectorPointSpread), subgrains)
    }

    /// Classifies the pattern whose peaks are `peaks` (from the peak search) and whose grain is `grain`.
    /// `psfSigma` is the point-spread sigma of the frame in pixels (the peak search's estimate);
    /// `subgrains` the grain's sub-orientations and reflection families (`SubgrainSearch`);
    /// `detectorPointSpread` the detector's known point spread (px), else `options.pointSpreadSigma`.
    public func classify(peaks: [Peak], grain: Grain, psfSigma: Double, subgrains: SubgrainAnalysis = SubgrainAnalysis(),
                         detectorPointSpread: Double? = nil) -> DefectAssessment {
        let known = detectorPointSpread ?? options.pointSpreadSigma
        var spots = SpotEvidence.gather(peaks: peaks, grain: grain, predictor: predictor, limit: options.maximumSpots,
                                        families: subgrains.families, incomplete: subgrains.incomplete,
                                        psfSigma: known ?? psfSigma, coarseEvidenceBelow: options.coarseEvidenceBelow,
                                        faintNeighbour: options.faintNeighbour)
        guard spots.count >= options.minimumSpots else {
            return DefectAssessment(defectClass: .unclassified, confidence: 0,
                                    reason: "only \(spots.count) usable indexed spots (need \(options.minimumSpots))")
        }
        let rotation = LinearAlgebra.nearestRotation(grain.orientation)
        var result = DefectAssessment(defectClass: .unclassified, confidence: 0)
        result.streakExtent = streakExtent(spots)
        let fixedVariance = known.map { $0 * $0 }
        guard let tensor = OrientationSpread.fit(spots, psfVariance: fixedVariance)
                ?? OrientationSpread.fit(spots, psfVariance: psfSigma * psfSigma) else {
            result.reason = "orientation-spread fit failed"
            result.spots = spots
            return result
        }
        result.spread3D = tensor
        // Resolution: the rotation (degrees) that moves a typical spot by one point-spread sigma.
        let sensitivities = spots.map { s in ((s.jacobian.dx.dot(s.jacobian.dx) + s.jacobian.dy.dot(s.jacobian.dy)) / 3).squareRoot() }
        let sigma = max(tensor.pointSpreadVariance, options.minimumPointSpreadVariance).squareRoot()
        let resolution = sigma / median(sensitivities)
        result.resolution = resolution
        let l1 = tensor.eigenvalues[0], l2 = tensor.eigenvalues[1]
        let detection = options.detectionLimit * resolution
        result.diagnostics["detection"] = l1.squareRoot() / resolution
        result.diagnostics["psf_variance_px2"] = tensor.pointSpreadVariance
        result.diagnostics["one_axis_ratio"] = tensor.oneAxisRatio
        result.diagnostics["residual"] = tensor.residual

        // 1. Nothing measurable: below the resolution, or excess sizes the tensor cannot explain.
        if tensor.residual > options.noiseResidual && l1.squareRoot() >= options.unclassifiedDetection * resolution {
            result.spots = spots
            result.reason = String(format: "spots are wider than the point spread but no rotation spread explains them (misfit %.2f)", tensor.residual)
            return result
        }
        if l1.squareRoot() < detection || tensor.residual > options.noiseResidual {
            spots = spots.map { var s = $0; s.label = .sharp; return s }
            result.spots = spots
            result.defectClass = .noDefect
            result.confidence = clamp(1 - min(l1.squareRoot() / (options.unclassifiedDetection * resolution), 1 - tensor.residual))
            result.votes = [.sharp: 1]
            return result
        }
        let ratio = tensor.oneAxisRatio
        // One axis? The axis from the streak directions, and how well a spread about it alone explains
        // the spots compared with the full tensor (robust when the tensor is poorly conditioned).
        let axisFit = RotationAxisFit.fit(spots, initial: tensor.axis)
        result.axisFit = axisFit
        let oneAxis = axisFit.map { OrientationSpread.oneAxis(spots, axis: $0.axis, psfVariance: tensor.pointSpreadVariance) }
        if let o = oneAxis { result.diagnostics["one_axis_residual"] = o.residual }
        let oneAxisFits = oneAxis.map { $0.residual <= options.oneAxisResidualFactor * tensor.residual + options.oneAxisResidualMargin } ?? false
        let aligned = oneAxisFits && (axisFit?.medianAngle ?? 90) <= options.maximumDirectionMismatch / 2
        let directional = spots.count < options.oneAxisModelBelowSpots ? oneAxisFits && (ratio >= options.oneAxisRatio || aligned)
                                                                       : ratio >= options.oneAxisRatio || aligned
        // 2. Isotropic spread: random (statistically stored) dislocations.
        if !directional && ratio <= options.isotropicRatio {
            spots = spots.map { var s = $0; s.label = .broadIsotropic; return s }
            result.spots = spots
            result.votes = [.broadIsotropic: 1]
            guard tensor.residual <= options.maximumResidual else {
                result.reason = String(format: "isotropic spread but the tensor misfit %.2f exceeds %.2f", tensor.residual, options.maximumResidual)
                return result
            }
            result.defectClass = .randomDislocations
            // lambda2 (the median eigenvalue) is the steadiest estimate of the common variance.
            result.spread = 2.354820045 * (l2 / DefectClassifier.gaussianVarianceKept(floor: options.momentFloor)).squareRoot()
            result.confidence = clamp((1 - tensor.residual) * min(1, (options.oneAxisRatio - ratio) / (options.oneAxisRatio - 1)))
            return result
        }
        if !directional {
            result.spots = spots
            result.reason = String(format: "spread neither isotropic nor about one axis (lambda1/lambda2 = %.1f)", ratio)
            return result
        }
        // 3. One axis: the axis from the streak directions, checked against the tensor.
        let axis = axisFit?.axis ?? tensor.axis
        result.axisLab = axis
        result.axisCrystal = (rotation.transposed * axis).normalized
        result.axisIndices = material.lattice.directionIndices(of: result.axisCrystal!)
        if let f = axisFit, f.medianAngle > options.maximumDirectionMismatch {
            result.spots = spots
            result.reason = String(format: "streak directions disagree with one rotation axis (median %.1f deg off)", f.medianAngle)
            return result
        }
        let variance = axis.dot(tensor.tensor * axis)
        let width = (12 * variance).squareRoot()

        // 4. Sub-peaks of the informative spots, in degrees of rotation about the axis.
        var readings: [SubpeakReading] = []
        let maxSensitivity = spots.map { $0.sensitivity(to: axis) }.max() ?? 1
        for i in spots.indices {
            let s = spots[i]
            let sens = s.sensitivity(to: axis)
            let reference = s.streak.profile.crossWidth > 0 ? s.streak.profile.crossWidth : 2.354820045 * sigma
            guard sens * width >= options.informativeExtent * reference else { spots[i].label = .sharp; continue }
            if RotationAxisFit.directionMismatch(s, axis: axis) > 2 * options.maximumDirectionMismatch {
                spots[i].label = .unclassified; continue
            }
            var reading = SubpeakReading(spot: s, index: i, axis: axis, sensitivity: sens, reference: reference,
                                         maximumDip: options.maximumDipRatio)
            // The most sensitive spots resolve the finest sub-structure: they weigh most.
            reading.weight *= pow(sens / maxSensitivity, 2)
            spots[i].label = reading.count == 1 ? .streak : reading.count == 2 ? .split2 : .multi
            readings.append(reading)
        }
        guard !readings.isEmpty else {
            result.spots = spots
            result.reason = "no spot is long enough to read sub-peaks"
            return result
        }
        // Band widths of the sub-grains decide tilt boundary vs tilt boundary + GND.
        let splitReadings = readings.filter { $0.count == 2 }
        let band = weightedMedian(splitReadings.map { ($0.bandWidth, $0.weight) })
        let profileResolution = weightedMedian(splitReadings.map { ($0.reference / $0.sensitivity, $0.weight) })
        let bandLimit = max(options.bandSpreadLimit, options.bandResolutionLimit * (profileResolution.isFinite ? profileResolution : 0))
        let withGND = band.isFinite && band >= bandLimit
        result.diagnostics["band_deg"] = band
        result.diagnostics["band_limit_deg"] = bandLimit
        for r in splitReadings { spots[r.index].label = withGND ? .split2Streak : .split2 }

        var votes: [SpotLabel: Double] = [:]
        for r in readings { votes[spots[r.index].label, default: 0] += r.weight }
        let total = votes.values.reduce(0, +)
        for k in votes.keys { votes[k]! /= total }
        result.votes = votes
        result.spots = spots
        // Continuous (one sub-peak) against discrete (several); within discrete, a tilt boundary never
        // shows three sub-peaks, so a consistent share of rows means stacked boundaries.
        let discrete = (votes[.split2] ?? 0) + (votes[.split2Streak] ?? 0) + (votes[.multi] ?? 0)
        let continuous = votes[.streak] ?? 0
        var winner: SpotLabel, share: Double
        if discrete >= continuous {
            share = discrete
            if (votes[.multi] ?? 0) >= options.multiShare * discrete { winner = .multi }
            else { winner = withGND ? .split2Streak : .split2 }
        } else {
            winner = .streak; share = continuous
        }
        // Unresolved discrete defects (steps below the point spread in the less sensitive spots) read as
        // continuous, a continuous band never as resolved sub-peaks: GND needs a larger share.
        guard share >= (winner == .streak ? options.minimumContinuousShare : options.minimumVoteShare) else {
            result.reason = String(format: "spot labels disagree (%@ %.0f%%)", winner.rawValue, share * 100)
            return result
        }
        guard tensor.residual <= options.maximumResidual else {
            result.reason = String(format: "tensor misfit %.2f exceeds %.2f", tensor.residual, options.maximumResidual)
            return result
        }
        // A continuous band is only told from boundary steps by a spot that would resolve the steps of
        // a stacking of the same width.
        let finest = readings.map { $0.reference / $0.sensitivity }.min() ?? .infinity
        result.diagnostics["finest_resolution_deg"] = finest
        if winner == .streak, readings.count < options.continuousResolutionBelowReadings, finest > width / options.continuousResolutionSteps {
            result.reason = String(format: "no spot resolves steps finer than %.2f deg in a %.2f deg band: continuous or stepped cannot be told", finest, width)
            return result
        }
        result.confidence = clamp(share * (1 - tensor.residual))
        switch winner {
        case .streak:
            result.defectClass = .gnd
            result.spread = width
            result.gndDensity = density.density(spread: width)
        case .split2, .split2Streak:
            result.defectClass = winner == .split2 ? .tiltBoundary : .tiltBoundaryGND
            let sep = weightedMedian(splitReadings.map { ($0.separations[0], $0.weight) })
            result.tilts = [sep]
            result.orientationCount = 2
            if winner == .split2Streak {
                result.spread = band
                result.gndDensity = density.density(spread: band)
            }
        case .multi:
            result.defectClass = .stackingTiltBoundaries
            let multi = readings.filter { $0.count >= 3 }
            let counts = Dictionary(grouping: multi, by: \.count).mapValues { $0.reduce(0) { $0 + $1.weight } }
            let n = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!.key
            let same = multi.filter { $0.count == n }
            result.orientationCount = n
            result.tilts = (0..<(n - 1)).map { k in weightedMedian(same.map { ($0.separations[k], $0.weight) }) }
        default:
            result.reason = "no defect label won"
            return result
        }
        return result
    }

    /// Intensity-weighted median over spots of half the scattered-beam angle spanned by the
    /// PSF-corrected streak length (shared/notes/laue-physics.md 3.3).
    func streakExtent(_ spots: [SpotEvidence]) -> Double {
        let c = predictor.calibration
        let pairs = spots.map { s -> (Double, Double) in
            let d = s.streak.direction, half = s.streak.length / 2
            let a = c.scatteredDirection(x: s.x - half * d.x, y: s.y - half * d.y)
            let b = c.scatteredDirection(x: s.x + half * d.x, y: s.y + half * d.y)
            let angle = acos(max(-1, min(1, a.dot(b)))) * 180 / .pi
            return (angle / 2, s.intensity)
        }
        return weightedMedian(pairs)
    }
}

/// The sub-peaks of one informative spot, converted to degrees of rotation about the axis.
struct SubpeakReading {
    var index: Int
    /// Resolved sub-peaks (neighbours merged where the dip is shallower than the limit).
    var count: Int
    /// Separations between resolved neighbours, degrees, ordered along +axis rotation.
    var separations: [Double]
    /// Mean band width of the sub-peaks, degrees (0 for point-spread-limited sub-peaks).
    var bandWidth: Double
    var weight: Double
    /// Sub-peak point-spread FWHM (pixels) and pixels per degree about the axis.
    var reference: Double
    var sensitivity: Double

    init(spot s: SpotEvidence, index: Int, axis: Vec3, sensitivity: Double, reference: Double, maximumDip: Double) {
        self.index = index
        self.reference = reference
        self.sensitivity = sensitivity
        let p = s.streak.profile
        // Merge neighbours whose dip is too shallow to count as resolved.
        var groups: [[Int]] = p.count > 0 ? [[0]] : []
        for k in 1..<max(p.count, 1) {
            if p.dipRatios[k - 1] <= maximumDip { groups.append([k]) } else { groups[groups.count - 1].append(k) }
        }
        count = max(groups.count, 1)
        func position(_ g: [Int]) -> Double {
            let h = g.reduce(0) { $0 + max(p.heights[$1], 0) }
            return h > 0 ? g.reduce(0) { $0 + p.positions[$1] * max(p.heights[$1], 0) } / h : p.positions[g[0]]
        }
        let positions = groups.map(position)
        var seps = zip(positions.dropFirst(), positions).map { ($0 - $1) / sensitivity }
        // Order along the rotation: the profile runs along +major axis; flip if that points against M n.
        let d = s.displacement(axis), e = s.streak.direction
        if d.x * e.x + d.y * e.y < 0 { seps.reverse() }
        separations = seps
        let widths = groups.map { g -> Double in
            g.count == 1 ? p.widths[g[0]] : (p.positions[g.last!] - p.positions[g[0]]) + p.widths[g[0]]
        }
        let bands = widths.map { BandProfile.band(measured: $0, reference: reference) / sensitivity }
        bandWidth = bands.isEmpty ? 0 : bands.reduce(0, +) / Double(bands.count)
        weight = s.intensity.squareRoot()
    }
}

func median(_ v: [Double]) -> Double { Statistics.median(v) }

func clamp(_ x: Double) -> Double { min(1, max(0, x)) }
