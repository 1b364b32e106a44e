import Foundation

/// An atom of the asymmetric unit: element, fractional position, occupancy, isotropic B (angstrom^2).
public struct Atom: Hashable, Sendable {
    public var element: Element
    public var position: Vec3
    public var occupancy: Double
    public var bIso: Double

    public init(_ element: Element, _ x: Double, _ y: Double, _ z: Double, occupancy: Double = 1, bIso: Double = 0) {
        self.element = element
        position = Vec3(x, y, z)
        self.occupancy = occupancy
        self.bIso = bIso
    }
}

/// A crystalline material: lattice, space group and atoms. Everything LaueMap needs to predict which
/// reflections exist and how strong they are.
public struct Material: Sendable, CustomStringConvertible {
    public let name: String
    public let lattice: Lattice
    public let spaceGroup: SpaceGroup
    /// Asymmetric unit.
    public let atoms: [Atom]
    /// Every atom of the unit cell (asymmetric unit expanded by the space group).
    public let cellAtoms: [Atom]
    /// LaueTools' B0 (q = B0 * hkl in 1/angstrom).
    public let B0: Mat3
    /// Proper rotations of the Laue group in the Cartesian crystal frame of B0.
    public let symmetryRotations: [Mat3]
    /// The distinct elements of the cell and, per cell atom, the index of its element (scattering
    /// factors are computed once per element and reflection).
    private let cellElements: [Element]
    private let cellElementIndex: [Int]

    public init(name: String, lattice: Lattice, spaceGroup: SpaceGroup, atoms: [Atom]) throws {
        try lattice.validate()
        guard !atoms.isEmpty else { throw LaueError(.invalidArgument, "material \(name) has no atoms") }
        self.name = name
        self.lattice = lattice
        self.spaceGroup = spaceGroup
        self.atoms = atoms
        cellAtoms = atoms.flatMap { atom in
            spaceGroup.equivalentPositions(of: atom.position).map { p in
                Atom(atom.element, p.x, p.y, p.z, occupancy: atom.occupancy, bIso: atom.bIso)
            }
        }
        var elements: [Element] = [], index: [Int] = []
        for atom in cellAtoms {
            if let k = elements.firstIndex(where: { $0.atomicNumber == atom.element.atomicNumber }) { index.append(k) } else {
                index.append(elements.count)
                elements.append(atom.element)
            }
        }
        cellElements = elements
        cellElementIndex = index
        B0 = lattice.B0
        // A fractional rotation W acts on direct coordinates; in Cartesian: R = A W A^-1 (A: direct basis).
        let A = lattice.directBasis
        guard let Ainv = A.inverse, B0.flat.allSatisfy(\.isFinite) else {
            throw LaueError(.invalidArgument, "material \(name): the lattice \(lattice.a) \(lattice.b) \(lattice.c) \(lattice.alpha) \(lattice.beta) \(lattice.gamma) has no invertible basis")
        }
        symmetryRotations = spaceGroup.laueProperRotations.map { A * Mat3($0.map(Double.init)) * Ainv }
    }

    /// sin(theta)/lambda = 1/(2d) of a reflection.
    private func sinThetaOverLambda(_ hkl: HKL) -> Double {
        let d = 1 / (B0 * hkl.vector).length
        return 0.5 / d
    }

    /// The scattering factor of each distinct cell element at `s`.
    private func scatteringFactors(s: Double) -> [Double] { cellElements.map { $0.scatteringFactor(s: s) } }

    /// Structure factor F(hkl) = sum_j occ_j f_j(s) exp(-B_j s^2) exp(2 pi i h.r_j), as (re, im).
    public func structureFactor(_ hkl: HKL) -> (re: Double, im: Double) {
        let s = sinThetaOverLambda(hkl)
        return structureFactor(hkl, s: s, factors: scatteringFactors(s: s))
    }

    private func structureFactor(_ hkl: HKL, s: Double, factors: [Double]) -> (re: Double, im: Double) {
        let h = hkl.vector
        var re = 0.0, im = 0.0
        for (atom, e) in zip(cellAtoms, cellElementIndex) {
            let amplitude = atom.occupancy * factors[e] * exp(-atom.bIso * s * s)
            let phase = 2 * Double.pi * h.dot(atom.position)
            re += amplitude * cos(phase)
            im += amplitude * sin(phase)
        }
        return (re, im)
    }

    /// |F(hkl)|^2 (electrons^2), without Lorentz, polarisation or absorption factors.
    public func intensity(_ hkl: HKL) -> Double {
        if hkl.isZero { return 0 }
        let f = structureFactor(hkl)
        return f.re * f.re + f.im * f.im
    }

    /// Whether a reflection is allowed: |F|^2 above a tiny fraction of its largest possible value, so that
    /// systematic absences (lattice centring, glides, screws, special positions) come out false.
    public func isAllowed(_ hkl: HKL) -> Bool {
        if hkl.isZero { return false }
        let s = sinThetaOverLambda(hkl)
        let factors = scatteringFactors(s: s)
        var bound = 0.0
        for (atom, e) in zip(cellAtoms, cellElementIndex) { bound += atom.occupancy * abs(factors[e]) }
        let f = structureFactor(hkl, s: s, factors: factors)
        return f.re * f.re + f.im * f.im > 1e-6 * bound * bound
    }

    /// Reciprocal-lattice vector of hkl in the crystal Cartesian frame (1/angstrom).
    @inlinable public func q(_ hkl: HKL) -> Vec3 { B0 * hkl.vector }

    public var description: String { "\(name) (\(spaceGroup), \(lattice))" }
}
