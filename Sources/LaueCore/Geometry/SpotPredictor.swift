import Foundation

/// A Laue spot predicted for an orientation: its lowest allowed harmonic in the energy band.
public struct LaueSpot: Hashable, Sendable {
    public var hkl: HKL
    /// Pixel position, LaueTools convention (first pixel centre at (1, 1)).
    public var x: Double
    public var y: Double
    public var twoTheta: Double
    public var chi: Double
    /// Energy of the reported harmonic (keV).
    public var energy: Double
    /// Unit scattered direction in the LaueTools frame.
    public var kf: Vec3
    /// Scattering vector of the reported harmonic in the LaueTools frame (1/angstrom).
    public var q: Vec3
    /// Index of the primitive reflection in `SpotPredictor.reflections`.
    public var reflectionIndex: Int
    /// Harmonic order n of the reported hkl relative to its primitive direction.
    public var order: Int
}

/// A primitive reciprocal-lattice direction and the harmonics of it that the structure allows.
public struct PrimitiveReflection: Hashable, Sendable {
    public var hkl: HKL
    /// B0 * hkl (crystal frame).
    public var q: Vec3
    /// Allowed orders n (ascending) with n |q| <= qmax.
    public var allowedOrders: [Int]
}

/// Predicts where the reflections of a material land on a detector for a given orientation matrix.
///
/// The reciprocal-lattice directions are enumerated once (per material, energy band and index limit) and
/// reused for every orientation: prediction is then one matrix-vector product per direction.
public struct SpotPredictor: Sendable {
    public let material: Material
    public let calibration: DetectorCalibration
    /// Energy band in keV.
    public let energyRange: ClosedRange<Double>
    public let reflections: [PrimitiveReflection]

    /// - Parameters:
    ///   - maxIndex: largest |h|, |k|, |l| of a reported reflection (nil: everything the band allows).
    ///   - minDSpacing: smallest d-spacing considered in angstrom (nil: hc / (2 Emax)).
    public init(material: Material, calibration: DetectorCalibration, energyRange: ClosedRange<Double> = 5...25,
                maxIndex: Int? = nil, minDSpacing: Double? = nil) throws {
        try calibration.validate()
        guard energyRange.lowerBound > 0 else {
            throw LaueError(.invalidArgument, "energy band must be positive: \(energyRange)")
        }
        self.material = material
        self.calibration = calibration
        self.energyRange = energyRange
        // |q| = 2 sin(theta) / lambda <= 2 Emax / hc.
        var qmax = 2 * energyRange.upperBound / LaueScattering.hc
        if let dmin = minDSpacing { qmax = min(qmax, 1 / dmin) }
        reflections = ReflectionCache.shared.reflections(material: material, qmax: qmax, maxIndex: maxIndex)
    }

    static func enumerate(material: Material, qmax: Double, maxIndex: Int?) -> [PrimitiveReflection] {
        let lat = material.lattice
        var hmax = Int(qmax * lat.a), kmax = Int(qmax * lat.b), lmax = Int(qmax * lat.c)
        if let m = maxIndex { hmax = min(hmax, m); kmax = min(kmax, m); lmax = min(lmax, m) }
        let B0 = material.B0
        var out: [PrimitiveReflection] = []
        // |F| is the same over a reflection's Laue orbit (h W for the point group's W, and -h: Friedel),
        // so the structure factor is computed once per orbit (`LaueOrbits`).
        var orbits = LaueOrbits(material.spaceGroup)
        for h in -hmax...hmax {
            for k in -kmax...kmax {
                for l in -lmax...lmax {
                    let hkl = HKL(h, k, l)
                    guard !hkl.isZero, hkl.gcd == 1 else { continue }
                    let q = B0 * hkl.vector
                    let ql = q.length
                    guard ql <= qmax else { continue }
                    var orders: [Int] = []
                    var n = 1
                    while Double(n) * ql <= qmax * (1 + 1e-12) {
                        let hn = n * hkl
                        if let m = maxIndex, max(abs(hn.h), abs(hn.k), abs(hn.l)) > m { break }
                        if orbits.isAllowed(hn, material) { orders.append(n) }
                        n += 1
                    }
                    if !orders.isEmpty { out.append(PrimitiveReflection(hkl: hkl, q: q, allowedOrders: orders)) }
                }
            }
        }
        return out
    }

    /// Whether reflections are allowed, computed once per Laue orbit: |F(h W)| = |F(h)| for every
    /// rotation W of the point group (F changes only by a phase) and |F(-h)| = |F(h)| (Friedel, no
    /// anomalous scattering), so every member of {±h W} is allowed or absent together. The first
    /// member met is computed and its whole orbit recorded; the others are looked up.
    struct LaueOrbits {
        let rotations: [[Int]]
        let centrosymmetric: Bool
        var allowed: [HKL: Bool] = [:]

        init(_ group: SpaceGroup) { rotations = group.pointGroupRotations; centrosymmetric = group.isCentrosymmetric }

        mutating func isAllowed(_ h: HKL, _ material: Material) -> Bool {
            if let a = allowed[h] { return a }
            let a = material.isAllowed(h)
            for w in rotations {
                let t = HKL(h.h * w[0] + h.k * w[3] + h.l * w[6], h.h * w[1] + h.k * w[4] + h.l * w[7], h.h * w[2] + h.k * w[5] + h.l * w[8])
                allowed[t] = a
                if !centrosymmetric { allowed[HKL(-t.h, -t.k, -t.l)] = a }
            }
            return a
        }
    }

    /// Every spot that lands on the detector for orientation matrix `UB` (q_lab = UB * B0 * hkl),
    /// reported as the lowest allowed harmonic whose energy lies in the band.
    public func spots(orientation UB: Mat3, margin: Double = 0) -> [LaueSpot] {
        var out: [LaueSpot] = []
        out.reserveCapacity(256)
        let emin = energyRange.lowerBound, emax = energyRange.upperBound
        for (index, r) in reflections.enumerated() {
            let q1 = UB * r.q
            guard let (kf, e1) = LaueScattering.scatter(q: q1) else { continue }
            guard let n = r.allowedOrders.first(where: { Double($0) * e1 >= emin }),
                  Double(n) * e1 <= emax else { continue }
            guard let p = calibration.pixel(kf: kf), calibration.contains(x: p.x, y: p.y, margin: margin) else { continue }
            let (tth, chi) = DetectorCalibration.angles(kf: kf)
            out.append(LaueSpot(hkl: n * r.hkl, x: p.x, y: p.y, twoTheta: tth, chi: chi, energy: Double(n) * e1,
                                kf: kf, q: q1 * Double(n), reflectionIndex: index, order: n))
        }
        return out
    }

    /// Position and energy of one reflection hkl (any order), or nil if it does not reach the detector
    /// or cannot diffract. Ignores the energy band.
    public func spot(_ hkl: HKL, orientation UB: Mat3) -> LaueSpot? {
        let q = UB * (material.B0 * hkl.vector)
        guard let (kf, e) = LaueScattering.scatter(q: q), let p = calibration.pixel(kf: kf) else { return nil }
        let (tth, chi) = DetectorCalibration.angles(kf: kf)
        let prim = hkl.primitive
        return LaueSpot(hkl: hkl, x: p.x, y: p.y, twoTheta: tth, chi: chi, energy: e, kf: kf, q: q,
                        reflectionIndex: -1, order: prim.order)
    }
}

/// Enumerated reflections are kept per material, q range and index limit: every predictor, simulator
/// and indexer of a process shares them.
final class ReflectionCache: @unchecked Sendable {
    static let shared = ReflectionCache()
    private var store: [String: [PrimitiveReflection]] = [:]
    private let lock = NSLock()

    func reflections(material: Material, qmax: Double, maxIndex: Int?) -> [PrimitiveReflection] {
        let key = "\(material.name)|\(material.lattice)|\(material.spaceGroup.hall)|\(material.atoms.count)|\(qmax)|\(maxIndex ?? -1)"
        lock.lock()
        if let r = store[key] { lock.unlock(); return r }
        lock.unlock()
        let r = SpotPredictor.enumerate(material: material, qmax: qmax, maxIndex: maxIndex)
        lock.lock(); store[key] = r; lock.unlock()
        return r
    }
}
