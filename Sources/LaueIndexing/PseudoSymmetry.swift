import Foundation
import LaueCore

/// Rotations that are not symmetries of the crystal but map most of its low-index reflections onto
/// other reflections of nearly the same length and direction (LiCoO2's nearly cubic oxygen lattice:
/// c/a = 4.99 against 4.90 for a cubic stacking). An orientation U and its mates U·Rᵀ put most spots in
/// the same places; only the intensities tell them apart. Cubic crystals have none. Computed once per
/// material (`PseudoSymmetry.operators(of:)`).
public enum PseudoSymmetry {
    /// Reflections taken into account: the shortest allowed ones, up to this many distinct directions.
    public static let reflectionCount = 60
    /// A reflection maps onto another when the directions agree within this angle (degrees) and the
    /// lengths within `lengthTolerance` (relative).
    public static let angleTolerance = 1.0
    public static let lengthTolerance = 0.03
    /// An operator must map at least this share of the reflections.
    public static let minimumShare = 0.15
    /// Reference pairs are drawn from this many of the shortest reflections.
    public static let referenceCount = 16
    /// Two operators closer than this (degrees, up to the crystal's symmetry) are one.
    public static let distinctDegrees = 0.5

    nonisolated(unsafe) private static var cache: [String: [Mat3]] = [:]
    private static let lock = NSLock()

    /// The pseudo-symmetry operators of `material` in its Cartesian crystal frame (B0), one per class
    /// modulo the crystal's Laue group, the crystal's own symmetries excluded.
    public static func operators(of material: Material) -> [Mat3] {
        cached("operators", material) { compute(material) }
    }

    /// `make()` once per kind and material (name, lattice, space group), shared by all threads.
    private static func cached(_ kind: String, _ material: Material, _ make: () -> [Mat3]) -> [Mat3] {
        let key = "\(kind)|\(material.name)|\(material.lattice)|\(material.spaceGroup.hall)"
        lock.lock()
        if let hit = cache[key] { lock.unlock(); return hit }
        lock.unlock()
        let value = make()
        lock.lock(); cache[key] = value; lock.unlock()
        return value
    }

    static func compute(_ material: Material) -> [Mat3] {
        // The shortest allowed reflections, one per direction (the lowest harmonic).
        var found: [(v: Vec3, length: Double)] = []
        let n = 6
        for h in -n...n { for k in -n...n { for l in -n...n {
            guard h != 0 || k != 0 || l != 0, gcd(gcd(abs(h), abs(k)), abs(l)) == 1 else { continue }
            var m = 1
            while m <= n, !material.isAllowed(HKL(m * h, m * k, m * l)) { m += 1 }
            guard m <= n else { continue }
            let q = material.B0 * HKL(m * h, m * k, m * l).vector
            found.append((q, q.length))
        } } }
        found.sort { $0.length < $1.length }
        let reflections = Array(found.prefix(reflectionCount))
        guard reflections.count >= 6 else { return [] }
        let units = reflections.map { $0.v.normalized }
        // Pairs of short, non-collinear reference reflections; every pair of reflections like them
        // (lengths and angle) gives a candidate rotation.
        let tolerance = angleTolerance * .pi / 180, minimumCosine = cos(tolerance)
        func like(_ x: (v: Vec3, length: Double), _ y: (v: Vec3, length: Double)) -> Bool {
            abs(x.length - y.length) <= lengthTolerance * y.length
        }
        let symmetry = material.symmetryRotations
        let radians = distinctDegrees * .pi / 180
        var ops: [Mat3] = []
        var tried: [Mat3] = []
        let references = min(referenceCount, reflections.count)
        for i in 0..<references {
            for j in (i + 1)..<references where abs(units[i].dot(units[j])) < 0.95 {
                let a = reflections[i], b = reflections[j]
                let angleAB = acos(max(-1, min(1, units[i].dot(units[j]))))
                for e1 in reflections where like(e1, a) {
                    for e2 in reflections where like(e2, b) {
                        let angle = acos(max(-1, min(1, e1.v.normalized.dot(e2.v.normalized))))
                        guard abs(angle - angleAB) <= tolerance,
                              let r = Indexer.align(crystal: (a.v, b.v), lab: (e1.v, e2.v)) else { continue }
                        // Not a symmetry of the crystal, nor a repeat (up to the symmetry).
                        if symmetry.contains(where: { Rotation.angle(of: $0.transposed * r) < radians }) { continue }
                        if tried.contains(where: { o in symmetry.contains { Rotation.angle(of: ($0 * o).transposed * r) < radians } }) { continue }
                        tried.append(r)
                        var mapped = 0
                        for (k, x) in reflections.enumerated() {
                            let image = r * units[k]
                            if reflections.indices.contains(where: { m in like(x, reflections[m]) && image.dot(units[m]) >= minimumCosine }) {
                                mapped += 1
                            }
                        }
                        if Double(mapped) >= minimumShare * Double(reflections.count) { ops.append(r) }
                    }
                }
            }
        }
        return ops
    }

    /// Right factors T of the mates U·T of an orientation U, whatever equivalent of U the matrix holds:
    /// Sᵀ·R and Sᵀ·Rᵀ for every operator R and symmetry S, one per class modulo T ~ T·S'.
    public static func mateFactors(of material: Material) -> [Mat3] {
        cached("mates", material) { factors(material) }
    }

    static func factors(_ material: Material) -> [Mat3] {
        let symmetry = material.symmetryRotations, radians = distinctDegrees * .pi / 180
        var factors: [Mat3] = []
        for r in operators(of: material) {
            for s in symmetry {
                for t in [s.transposed * r, s.transposed * r.transposed]
                where !factors.contains(where: { f in symmetry.contains { Rotation.angle(of: (f * $0).transposed * t) < radians } }) {
                    factors.append(t)
                }
            }
        }
        return factors
    }

    /// Right factors T of the lattice twins U·T of an orientation U: rotations that map the
    /// conventional cell's lattice onto itself (its metric holohedry: 6/mmm for hexagonal axes) but are
    /// not symmetries of the crystal, one per class modulo its Laue group. LiCoO2 (R-3m) has one, its
    /// obverse/reverse twin (60° about c): every spot direction coincides, only harmonics and
    /// intensities differ. Cubic Fd-3m and hexagonal P6₃mc crystals have none.
    public static func twinFactors(of material: Material) -> [Mat3] {
        cached("twins", material) { latticeTwins(material) }
    }

    static func latticeTwins(_ material: Material) -> [Mat3] {
        guard let inverse = material.B0.inverse else { return [] }
        let symmetry = material.symmetryRotations, radians = distinctDegrees * .pi / 180
        var twins: [Mat3] = []
        // Integer matrices M (entries -1, 0, 1) with B0·M·B0⁻¹ a proper rotation: the lattice's own
        // rotations in its reciprocal basis (every holohedry's generators have such entries).
        let entries = [-1.0, 0, 1]
        for code in 0..<19_683 {
            var m = [Double](repeating: 0, count: 9), c = code
            for i in 0..<9 { m[i] = entries[c % 3]; c /= 3 }
            let r = material.B0 * Mat3(m) * inverse
            guard abs(r.determinant - 1) < 1e-6, (r.transposed * r).maxAbsDifference(.identity) < 1e-6,
                  !symmetry.contains(where: { Rotation.angle(of: $0.transposed * r) < radians }),
                  !twins.contains(where: { t in symmetry.contains { Rotation.angle(of: (t * $0).transposed * r) < radians } })
            else { continue }
            twins.append(r)
        }
        return twins
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
