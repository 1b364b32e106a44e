import Foundation

/// The seven crystal systems.
public enum CrystalSystem: String, Sendable {
    case triclinic, monoclinic, orthorhombic, tetragonal, trigonal, hexagonal, cubic
}

/// A crystallographic space group: its symbol and all its operations (centring included).
public struct SpaceGroup: Hashable, Sendable, CustomStringConvertible {
    /// International Tables number, 1...230 (0 for a Hall symbol outside the reference table).
    public let number: Int
    public let hermannMauguin: String
    public let hall: String
    /// All operations, translations modulo the cell; the identity comes first.
    public let operations: [SymmetryOperation]

    /// The reference setting of space group `number` (ITA; origin choice 2; hexagonal axes for R).
    public init(number: Int) throws {
        guard (1...230).contains(number) else {
            throw LaueError(.invalidArgument, "space group number \(number) is not in 1...230")
        }
        let entry = SpaceGroup.referenceSettings[number - 1]
        self.number = number
        hermannMauguin = entry.hermannMauguin
        hall = entry.hall
        operations = try HallSymbol.parse(entry.hall)
    }

    /// Any setting given by its Hall symbol.
    public init(hall: String) throws {
        let ops = try HallSymbol.parse(hall)
        let key = hall.filter { !$0.isWhitespace }
        let entry = SpaceGroup.referenceSettings.first { $0.hall.filter { !$0.isWhitespace } == key }
        number = entry?.number ?? 0
        hermannMauguin = entry?.hermannMauguin ?? ""
        self.hall = hall
        operations = ops
    }

    /// Looks a space group up by number ("166"), Hermann-Mauguin symbol ("R-3m", "F d -3 m", "P6_3mc",
    /// "P21/c") or Hall symbol ("-R 3 2\"").
    public static func named(_ name: String) throws -> SpaceGroup {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if let n = Int(trimmed) { return try SpaceGroup(number: n) }
        let key = normalized(trimmed)
        for entry in referenceSettings {
            if normalized(entry.hermannMauguin) == key || normalized(shortSymbol(entry.hermannMauguin)) == key {
                return try SpaceGroup(number: entry.number)
            }
        }
        if let sg = try? SpaceGroup(hall: trimmed) { return sg }
        throw LaueError(.invalidArgument, "unknown space group \"\(name)\"")
    }

    static func normalized(_ s: String) -> String {
        s.lowercased().filter { !$0.isWhitespace && $0 != "_" }
    }

    /// "P 1 21/c 1" -> "P 21/c": the short monoclinic symbol.
    static func shortSymbol(_ hm: String) -> String {
        let parts = hm.split(separator: " ")
        guard parts.count == 4 else { return hm }
        return parts.filter { $0 != "1" }.joined(separator: " ")
    }

    public var crystalSystem: CrystalSystem {
        switch number {
        case 1...2: return .triclinic
        case 3...15: return .monoclinic
        case 16...74: return .orthorhombic
        case 75...142: return .tetragonal
        case 143...167: return .trigonal
        case 168...194: return .hexagonal
        case 195...230: return .cubic
        default: return Self.system(fromOrder: pointGroupRotations.count)
        }
    }

    private static func system(fromOrder n: Int) -> CrystalSystem {
        switch n {
        case 1, 2: return .triclinic
        case 4: return .monoclinic
        case 8: return .orthorhombic
        case 16: return .tetragonal
        case 12: return .trigonal
        case 24: return .hexagonal
        default: return .cubic
        }
    }

    public var isCentrosymmetric: Bool {
        operations.contains { $0.rotation == SymmetryOperation.identity.rotation.map { -$0 } }
    }

    /// Distinct rotation parts (the point group, as integer matrices on fractional coordinates).
    public var pointGroupRotations: [[Int]] {
        var seen = Set<[Int]>(), out: [[Int]] = []
        for op in operations where seen.insert(op.rotation).inserted { out.append(op.rotation) }
        return out
    }

    /// Proper rotations of the Laue group (point group plus inversion), on fractional coordinates.
    /// These are the operations that make two orientation matrices describe the same crystal.
    public var laueProperRotations: [[Int]] {
        var seen = Set<[Int]>(), out: [[Int]] = []
        for r in pointGroupRotations {
            let m = SymmetryOperation(rotation: r)
            let proper = m.determinant > 0 ? r : r.map { -$0 }
            if seen.insert(proper).inserted { out.append(proper) }
        }
        return out
    }

    /// Name of the Laue class, e.g. "m-3m", "-3m", "6/mmm".
    public var laueClass: String {
        let n = laueProperRotations.count
        switch crystalSystem {
        case .triclinic: return "-1"
        case .monoclinic: return "2/m"
        case .orthorhombic: return "mmm"
        case .tetragonal: return n == 8 ? "4/mmm" : "4/m"
        case .trigonal: return n == 6 ? "-3m" : "-3"
        case .hexagonal: return n == 12 ? "6/mmm" : "6/m"
        case .cubic: return n == 24 ? "m-3m" : "m-3"
        }
    }

    /// Positions equivalent to `p` (fractional), reduced to [0, 1) and without duplicates.
    public func equivalentPositions(of p: Vec3, tolerance: Double = 1e-4) -> [Vec3] {
        var out: [Vec3] = []
        func wrap(_ v: Double) -> Double { let w = v - v.rounded(.down); return w > 1 - tolerance ? 0 : w }
        for op in operations {
            let q = op.apply(p)
            let r = Vec3(wrap(q.x), wrap(q.y), wrap(q.z))
            let duplicate = out.contains { o in
                let d = r - o
                return [d.x, d.y, d.z].allSatisfy { abs($0 - $0.rounded()) < tolerance }
            }
            if !duplicate { out.append(r) }
        }
        return out
    }

    public var description: String {
        number > 0 ? "\(hermannMauguin) (No. \(number))" : "Hall \(hall)"
    }
}
