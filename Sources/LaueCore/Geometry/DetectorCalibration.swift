import Foundation

/// Detector geometry in LaueTools' convention (top reflection, `kf_direction = "Z>0"`).
///
/// - `distance` (dd): |IO| in mm, from the sample point I to O, the foot of the normal from I onto the
///   detector plane; `xcen`, `ycen`: the pixel of O; `xbet`, `xgam`: detector tilts in degrees.
/// - Pixel coordinates follow LaueTools: X = column + 1, Y = row + 1 (the first pixel's centre is (1, 1)).
/// - Frames: the *LaueTools frame* (indexing, orientation matrices) has x along the incident beam and
///   z up towards the detector; the *LT2 frame* (detector formulas) has y along the beam, z up and
///   LT = (y_LT2, -x_LT2, z_LT2). Formulas from `LaueGeometry.calc_uflab` / `calc_xycam` (see docs).
public struct DetectorCalibration: Hashable, Sendable, CustomStringConvertible {
    public var distance: Double
    public var xcen: Double
    public var ycen: Double
    public var xbet: Double
    public var xgam: Double
    /// Pixel size in mm (square pixels).
    public var pixelSize: Double
    /// Image width (number of columns) and height (number of rows).
    public var width: Int
    public var height: Int
    /// LaueTools' detector label (MARCCD165, sCMOS, ...), informative only.
    public var detectorLabel: String
    /// Rotation of the whole detector about the incident beam, degrees from the top position (0, the
    /// LaueTools `Z>0` geometry) towards lab +y (90: a side detector looking along +y, LaueTools'
    /// `kf_direction = "Y>0"`; -90: `"Y<0"`). The five LaueTools parameters describe the detector in
    /// its own rotated frame, so a side detector is calibrated exactly as a top one (docs/geometry.md).
    public var azimuth: Double

    public init(distance: Double, xcen: Double, ycen: Double, xbet: Double, xgam: Double, pixelSize: Double,
                width: Int, height: Int, detectorLabel: String = "", azimuth: Double = 0) {
        self.distance = distance; self.xcen = xcen; self.ycen = ycen; self.xbet = xbet; self.xgam = xgam
        self.pixelSize = pixelSize; self.width = width; self.height = height; self.detectorLabel = detectorLabel
        self.azimuth = azimuth
    }

    /// The five LaueTools detector parameters [dd, xcen, ycen, xbet, xgam].
    public var parameters: [Double] { [distance, xcen, ycen, xbet, xgam] }

    /// Physical bounds a calibration must respect: sample-detector distance (mm), pixel size (mm), frame
    /// side (px), |xcen|, |ycen| (px, the beam centre may lie off the frame) and |xbet|, |xgam| (degrees).
    public static let distanceRange = 1e-3...1e4
    public static let pixelSizeRange = 1e-4...10.0
    public static let maximumSide = 100_000
    public static let maximumCentreOffset = 1e6
    public static let maximumTilt = 360.0

    /// Why a frame of `width` x `height` px cannot be read with this calibration ("is W x H px, its
    /// calibration's detector W x H"), or nil when it has the detector's size.
    public func frameSizeMismatch(width: Int, height: Int) -> String? {
        width == self.width && height == self.height ? nil
            : "is \(width) x \(height) px, its calibration's detector \(self.width) x \(self.height)"
    }

    /// Throws, naming the parameter, unless every value is finite and within the physical bounds above
    /// (1e308 mm or a 4.9e-324 mm pixel would overflow the geometry).
    public func validate() throws {
        func bad(_ what: String) -> LaueError { LaueError(.invalidArgument, "calibration: \(what) (\(self))") }
        guard distance.isFinite, DetectorCalibration.distanceRange.contains(distance) else {
            throw bad("distance \(distance) mm: must be positive, within \(DetectorCalibration.distanceRange)")
        }
        guard pixelSize.isFinite, DetectorCalibration.pixelSizeRange.contains(pixelSize) else {
            throw bad("pixel size \(pixelSize) mm: must be positive, within \(DetectorCalibration.pixelSizeRange)")
        }
        guard (1...DetectorCalibration.maximumSide).contains(width), (1...DetectorCalibration.maximumSide).contains(height) else {
            throw bad("frame \(width) x \(height) px: each side must be positive, at most \(DetectorCalibration.maximumSide)")
        }
        guard xcen.isFinite, ycen.isFinite, abs(xcen) <= DetectorCalibration.maximumCentreOffset,
              abs(ycen) <= DetectorCalibration.maximumCentreOffset else { throw bad("beam centre (\(xcen), \(ycen)) px") }
        guard xbet.isFinite, xgam.isFinite, abs(xbet) <= DetectorCalibration.maximumTilt,
              abs(xgam) <= DetectorCalibration.maximumTilt else { throw bad("tilts xbet \(xbet), xgam \(xgam) deg") }
        guard azimuth.isFinite, abs(azimuth) <= DetectorCalibration.maximumTilt else { throw bad("azimuth \(azimuth) deg") }
    }

    /// A direction of the detector's own (top-geometry) frame in the lab frame: rotated about the
    /// beam (x) so that +z goes to (0, sin a, cos a).
    @inlinable func toLab(_ v: Vec3) -> Vec3 { DetectorCalibration.rotatedAboutBeam(v, degrees: azimuth) }

    /// The inverse of `toLab`.
    @inlinable func fromLab(_ v: Vec3) -> Vec3 { DetectorCalibration.rotatedAboutBeam(v, degrees: -azimuth) }

    /// `v` rotated about the beam (lab x) by `degrees`, +z towards +y; unchanged for 0 (a top detector).
    @inlinable static func rotatedAboutBeam(_ v: Vec3, degrees: Double) -> Vec3 {
        guard degrees != 0 else { return v }
        let (c, s) = (cos(degrees * .pi / 180), sin(degrees * .pi / 180))
        return Vec3(v.x, c * v.y + s * v.z, -s * v.y + c * v.z)
    }

    // Precomputed trigonometry of the tilts.
    @usableFromInline var trig: (cb: Double, sb: Double, cg: Double, sg: Double) {
        let d = Double.pi / 180
        return (cos(.pi / 2 - xbet * d), sin(.pi / 2 - xbet * d), cos(-xgam * d), sin(-xgam * d))
    }

    /// Unit scattered direction kf of pixel (x, y), in the LaueTools frame (x along the beam).
    public func scatteredDirection(x: Double, y: Double) -> Vec3 {
        let (cb, sb, cg, sg) = trig
        let x1 = (x - xcen) * pixelSize, y1 = (y - ycen) * pixelSize
        let xca0 = cg * x1 - sg * y1, yca0 = sg * x1 + cg * y1
        let lt2 = Vec3(xca0, distance * cb + yca0 * sb, distance * sb - yca0 * cb).normalized
        return toLab(Vec3(lt2.y, -lt2.x, lt2.z))
    }

    /// (2theta, chi) in degrees of pixel (x, y), as LaueTools' `calc_uflab`.
    public func angles(x: Double, y: Double) -> (twoTheta: Double, chi: Double) {
        let kf = scatteredDirection(x: x, y: y)
        return DetectorCalibration.angles(kf: kf)
    }

    /// (2theta, chi) in degrees of a unit scattered direction in the LaueTools frame.
    public static func angles(kf: Vec3) -> (twoTheta: Double, chi: Double) {
        // LT2: uf = (-y_LT, x_LT, z_LT); 2theta = acos(uf_y), chi = atan(-uf_x / uf_z).
        let twoTheta = acos(max(-1, min(1, kf.x))) * 180 / .pi
        let chi = atan(kf.y / (kf.z + 1e-17)) * 180 / .pi
        return (twoTheta, chi)
    }

    /// Unit scattered direction (LaueTools frame) from (2theta, chi) in degrees.
    public static func scatteredDirection(twoTheta: Double, chi: Double) -> Vec3 {
        let t = twoTheta * .pi / 180, c = chi * .pi / 180
        return Vec3(cos(t), sin(t) * sin(c), sin(t) * cos(c))
    }

    /// Pixel (x, y) hit by a scattered direction (LaueTools frame), or nil if it points away from the
    /// detector plane. The pixel may lie outside the frame: see `contains`.
    public func pixel(kf: Vec3) -> (x: Double, y: Double)? {
        let (cb, sb, cg, sg) = trig
        let k = fromLab(kf)                               // the detector's own frame
        let uf = Vec3(-k.y, k.x, k.z)                     // LT2 frame
        let un = Vec3(0, cb, sb)                          // detector normal, IO / dd
        let cosine = uf.dot(un)
        guard cosine > 1e-12 else { return nil }
        let im = uf * (distance / cosine)
        let om = im - un * distance
        let xca0 = om.x, yca0 = om.y / sb
        return (xcen + (cg * xca0 + sg * yca0) / pixelSize, ycen + (-sg * xca0 + cg * yca0) / pixelSize)
    }

    /// Pixel (x, y) of a direction given by (2theta, chi) in degrees, as LaueTools' `calc_xycam_from2thetachi`.
    public func pixel(twoTheta: Double, chi: Double) -> (x: Double, y: Double)? {
        pixel(kf: DetectorCalibration.scatteredDirection(twoTheta: twoTheta, chi: chi))
    }

    /// Whether pixel (x, y) in LaueTools convention lies on the frame (pixel centres 1...width).
    public func contains(x: Double, y: Double, margin: Double = 0) -> Bool {
        x >= 0.5 + margin && x <= Double(width) + 0.5 - margin && y >= 0.5 + margin && y <= Double(height) + 0.5 - margin
    }

    public var description: String {
        String(format: "dd=%.4f mm, xcen=%.3f, ycen=%.3f, xbet=%.4f, xgam=%.4f deg, pixel %.6f mm, %dx%d",
               distance, xcen, ycen, xbet, xgam, pixelSize, width, height)
            + (azimuth == 0 ? "" : String(format: ", azimuth %.4f deg", azimuth))
    }
}
