import LaueCore

/// The defect reading of one indexed pattern.
public struct DefectAssessment: Sendable {
    public var defectClass: DefectClass
    /// 0...1: for defects, the winning share of the spot votes times (1 - tensor misfit); for
    /// `no_defect`, how far the spread is below the detection limit.
    public var confidence: Double
    /// Why the pattern is `unclassified` (or what limited the reading).
    public var reason: String?
    /// Rotation axis, lab frame (LaueTools), unit vector; nil for classes without an axis.
    public var axisLab: Vec3?
    /// The same axis in the Cartesian crystal frame of B0, and as direction indices [uvw] scaled so
    /// that the largest magnitude is 1.
    public var axisCrystal: Vec3?
    public var axisIndices: Vec3?
    /// Continuous spread, degrees: full width of the GND band (uniform), of each sub-grain's band for
    /// `tilt_boundary_gnd`, or the FWHM of the isotropic spread of random dislocations.
    public var spread: Double?
    /// Tilt angles between neighbouring sub-orientations, degrees (one for a tilt boundary).
    public var tilts: [Double] = []
    /// Number of sub-orientations (1 for continuous spreads).
    public var orientationCount: Int = 1
    /// Streaking extent: intensity-weighted median over the used spots of the lattice rotation that
    /// spans each streak (half the scattered-beam angle of the PSF-corrected streak length), degrees.
    public var streakExtent: Double = 0
    /// Lower-bound GND density (m^-2) from the spread, for `gnd` and `tilt_boundary_gnd` (see
    /// `GNDDensity`).
    public var gndDensity: Double?
    /// Angular resolution of the pattern: point-spread sigma over the median spot sensitivity, degrees.
    public var resolution: Double = 0
    /// Evidence: fitted spread tensor, axis from streak directions, spots with their labels, and the
    /// weighted vote.
    public var spread3D: OrientationSpread?
    public var axisFit: RotationAxisFit?
    public var spots: [SpotEvidence] = []
    public var votes: [SpotLabel: Double] = [:]
    /// Named intermediate numbers of the decision (for reports and tuning): e.g. `detection` (sqrt(lambda1)
    /// over the resolution), `band_deg` (sub-grain band width), `psf_variance_px2`.
    public var diagnostics: [String: Double] = [:]

    /// Mean tilt, degrees (nil without tilts).
    public var tilt: Double? { tilts.isEmpty ? nil : tilts.reduce(0, +) / Double(tilts.count) }

    public init(defectClass: DefectClass, confidence: Double, reason: String? = nil) {
        self.defectClass = defectClass; self.confidence = confidence; self.reason = reason
    }
}
