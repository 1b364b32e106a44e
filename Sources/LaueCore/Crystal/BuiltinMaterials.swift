import Foundation

extension Material {
    /// Names of the materials LaueMap knows without a material file.
    public static let builtinNames = ["Si", "Ge", "Cu", "Al", "Ni", "Au", "UO2", "W", "Fe", "CdTe", "GaAs",
                                      "LiCoO2", "LiNiO2", "GaN"]

    /// A built-in material by name (case-insensitive).
    public static func builtin(_ name: String) throws -> Material {
        guard let key = builtinNames.first(where: { $0.lowercased() == name.lowercased() }) else {
            throw LaueError(.unknownMaterial,
                            "unknown material \"\(name)\"; built-in: \(builtinNames.joined(separator: ", ")) (or give a material file)")
        }
        if let cached = BuiltinCache.shared[key] { return cached }
        let m = try makeBuiltin(key)
        BuiltinCache.shared[key] = m
        return m
    }

    private static func makeBuiltin(_ name: String) throws -> Material {
        func el(_ s: String) throws -> Element { try Element.named(s) }
        func cubic(_ a: Double, _ sg: Int, _ atoms: [Atom]) throws -> Material {
            try Material(name: name, lattice: .cubic(a), spaceGroup: SpaceGroup(number: sg), atoms: atoms)
        }
        switch name {
        // Diamond structure, Fd-3m origin choice 2: 8a at (1/8, 1/8, 1/8). Lattice constants as in LaueTools.
        case "Si": return try cubic(5.4309, 227, [Atom(el("Si"), 0.125, 0.125, 0.125)])
        case "Ge": return try cubic(5.6575, 227, [Atom(el("Ge"), 0.125, 0.125, 0.125)])
        // Face-centred cubic metals, Fm-3m.
        case "Cu": return try cubic(3.6149, 225, [Atom(el("Cu"), 0, 0, 0)])
        case "Al": return try cubic(4.0495, 225, [Atom(el("Al"), 0, 0, 0)])
        case "Ni": return try cubic(3.5238, 225, [Atom(el("Ni"), 0, 0, 0)])
        case "Au": return try cubic(4.0782, 225, [Atom(el("Au"), 0, 0, 0)])
        // Fluorite, Fm-3m.
        case "UO2": return try cubic(5.4704, 225, [Atom(el("U"), 0, 0, 0), Atom(el("O"), 0.25, 0.25, 0.25)])
        // Body-centred cubic, Im-3m.
        case "W": return try cubic(3.1652, 229, [Atom(el("W"), 0, 0, 0)])
        case "Fe": return try cubic(2.8665, 229, [Atom(el("Fe"), 0, 0, 0)])
        // Zinc blende, F-43m.
        case "CdTe": return try cubic(6.481, 216, [Atom(el("Cd"), 0, 0, 0), Atom(el("Te"), 0.25, 0.25, 0.25)])
        case "GaAs": return try cubic(5.65325, 216, [Atom(el("Ga"), 0, 0, 0), Atom(el("As"), 0.25, 0.25, 0.25)])
        // Layered alpha-NaFeO2 type, R-3m hexagonal setting: M 3a (0,0,0), Li 3b (0,0,1/2), O 6c (0,0,z).
        case "LiCoO2":
            return try Material(name: name, lattice: .hexagonal(a: 2.8156, c: 14.0516), spaceGroup: SpaceGroup(number: 166),
                                atoms: [Atom(el("Co"), 0, 0, 0), Atom(el("Li"), 0, 0, 0.5), Atom(el("O"), 0, 0, 0.2396)])
        case "LiNiO2":
            return try Material(name: name, lattice: .hexagonal(a: 2.8782, c: 14.1909), spaceGroup: SpaceGroup(number: 166),
                                atoms: [Atom(el("Ni"), 0, 0, 0), Atom(el("Li"), 0, 0, 0.5), Atom(el("O"), 0, 0, 0.2415)])
        // Wurtzite, P6_3mc (lattice as in LaueTools).
        case "GaN":
            return try Material(name: name, lattice: .hexagonal(a: 3.189, c: 5.185), spaceGroup: SpaceGroup(number: 186),
                                atoms: [Atom(el("Ga"), 1.0 / 3, 2.0 / 3, 0), Atom(el("N"), 1.0 / 3, 2.0 / 3, 0.377)])
        default:
            throw LaueError(.unknownMaterial, "unknown material \"\(name)\"")
        }
    }
}

/// Built-in materials are built once per process and shared.
final class BuiltinCache: @unchecked Sendable {
    static let shared = BuiltinCache()
    private var store: [String: Material] = [:]
    private let lock = NSLock()
    subscript(key: String) -> Material? {
        get { lock.lock(); defer { lock.unlock() }; return store[key] }
        set { lock.lock(); defer { lock.unlock() }; store[key] = newValue }
    }
}
