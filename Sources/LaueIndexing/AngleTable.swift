import Foundation
import LaueCore

/// The angles between low-index reciprocal-lattice directions of a material, sorted for look-up: the
/// invariant that lets two observed spots propose an orientation (LaueTools' angular look-up table).
///
/// Directions are the primitive reciprocal-lattice directions whose lowest allowed harmonic is
/// shortest (the strongest, lowest-index spots). Pairs start from one direction of each symmetry class
/// only: every orientation they propose is equivalent under the Laue group to the full set's.
public struct AngleTable: Sendable {
    public struct Direction: Sendable {
        public var hkl: HKL          // lowest allowed harmonic
        public var unit: Vec3        // B0 * hkl, normalised (crystal frame)
    }
    public struct Entry: Sendable {
        public var angle: Double     // degrees
        public var first: Int        // index into directions (a class representative)
        public var second: Int
    }

    public let directions: [Direction]
    /// Sorted by angle.
    public let entries: [Entry]

    /// - Parameter count: how many directions (the shortest lowest-allowed harmonics) the table holds.
    public init(material: Material, count: Int = 160) {
        // Primitive directions with their lowest allowed order, by |q| of that harmonic. Indices up to 8
        // (more along a long c axis, as for LiCoO2) reach far past the `count` shortest.
        let lat = material.lattice
        let lmax = max(8, min(30, Int((8 * lat.c / min(lat.a, lat.b)).rounded())))
        var found: [(HKL, Double)] = []
        for h in -8...8 {
            for k in -8...8 {
                for l in -lmax...lmax {
                    let p = HKL(h, k, l)
                    guard !p.isZero, p.gcd == 1 else { continue }
                    for n in 1...6 where material.isAllowed(n * p) {
                        found.append((n * p, (material.B0 * (n * p).vector).length))
                        break
                    }
                }
            }
        }
        found.sort { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        let chosen = found.prefix(count)
        let dirs = chosen.map { Direction(hkl: $0.0, unit: (material.B0 * $0.0.vector).normalized) }
        directions = dirs
        // One representative per symmetry class for the first direction of a pair.
        let ops = material.symmetryRotations
        // Directions by their unit vector on a 1e-5 grid: a symmetry image is looked up among the 27
        // grid cells around it (distinct directions lie far more than 1e-6 apart).
        let grid = 1e5
        func cell(_ v: Vec3) -> (Int, Int, Int) { (Int((v.x * grid).rounded()), Int((v.y * grid).rounded()), Int((v.z * grid).rounded())) }
        func key(_ c: (Int, Int, Int)) -> Int { (c.0 &* 73_856_093) ^ (c.1 &* 19_349_663) ^ (c.2 &* 83_492_791) }
        var byCell: [Int: [Int]] = [:]
        for (j, d) in dirs.enumerated() { byCell[key(cell(d.unit)), default: []].append(j) }
        var representative = [Bool](repeating: false, count: dirs.count)
        var covered = [Bool](repeating: false, count: dirs.count)
        for i in dirs.indices where !covered[i] {
            representative[i] = true
            for s in ops {
                let v = s * dirs[i].unit
                let c = cell(v)
                for dx in -1...1 { for dy in -1...1 { for dz in -1...1 {
                    for j in byCell[key((c.0 + dx, c.1 + dy, c.2 + dz))] ?? [] where !covered[j] && (dirs[j].unit - v).length < 1e-6 {
                        covered[j] = true
                    }
                } } }
            }
        }
        var list: [Entry] = []
        for i in dirs.indices where representative[i] {
            for j in dirs.indices where j != i {
                let c = max(-1, min(1, dirs[i].unit.dot(dirs[j].unit)))
                list.append(Entry(angle: acos(c) * 180 / .pi, first: i, second: j))
            }
        }
        list.sort { $0.angle < $1.angle }
        entries = list
    }

    /// Entries whose angle lies within `tolerance` degrees of `angle`.
    public func entries(near angle: Double, tolerance: Double) -> ArraySlice<Entry> {
        var lo = 0, hi = entries.count
        while lo < hi { let m = (lo + hi) / 2; if entries[m].angle < angle - tolerance { lo = m + 1 } else { hi = m } }
        var end = lo
        while end < entries.count && entries[end].angle <= angle + tolerance { end += 1 }
        return entries[lo..<end]
    }
}

/// Angle tables are built once per material and shared.
final class AngleTableCache: @unchecked Sendable {
    static let shared = AngleTableCache()
    private var tables: [String: AngleTable] = [:]
    private let lock = NSLock()

    func table(for material: Material, count: Int) -> AngleTable {
        let key = "\(material.name)|\(material.lattice)|\(material.spaceGroup.hall)|\(count)"
        lock.lock()
        if let t = tables[key] { lock.unlock(); return t }
        lock.unlock()
        let t = AngleTable(material: material, count: count)
        lock.lock(); tables[key] = t; lock.unlock()
        return t
    }
}
