import Foundation
import LaueCore

/// Single-pattern estimate of the density of geometrically necessary dislocations
/// (shared/notes/laue-physics.md 7): a lattice-rotation spread Delta accumulated over a length L of
/// illuminated material gives a curvature kappa = Delta / L and, for one edge family (Nye),
/// rho = kappa / b = Delta / (b L). It is a lower bound (only the unpaired part is seen) and L is
/// uncertain (beam size for lateral gradients; penetration depth mixes in more).
public struct GNDDensity: Sendable {
    /// Burgers vector length, angstrom.
    public var burgers: Double
    /// Length of material over which the spread accumulates, micrometres.
    public var length: Double

    public init(burgers: Double, length: Double) { self.burgers = burgers; self.length = length }

    /// Default for a material: the shortest lattice translation as Burgers vector (LiCoO2:
    /// a/3<11-20>, 2.816 A) and a 0.5 um beam.
    public init(material: Material, beamSize: Double = 0.5) {
        self.init(burgers: GNDDensity.shortestTranslation(material), length: beamSize)
    }

    /// Density in m^-2 for a spread in degrees.
    public func density(spread: Double) -> Double {
        (spread * .pi / 180) / (burgers * 1e-10 * length * 1e-6)
    }

    /// Length of the shortest lattice translation (angstrom), centring translations included.
    public static func shortestTranslation(_ material: Material) -> Double {
        let basis = material.lattice.directBasis
        var fractions: [Vec3] = [Vec3(1, 0, 0), Vec3(0, 1, 0), Vec3(0, 0, 1)]
        for op in material.spaceGroup.operations where op.rotation == SymmetryOperation.identity.rotation {
            let t = Vec3(Double(op.translation12[0]), Double(op.translation12[1]), Double(op.translation12[2])) * (1.0 / 12)
            if t.length > 0 { fractions.append(t) }
        }
        var best = Double.infinity
        for f in fractions {
            for i in -1...1 { for j in -1...1 { for k in -1...1 {
                let v = f + Vec3(Double(i), Double(j), Double(k))
                let length = (basis * v).length
                if length > 1e-6 { best = min(best, length) }
            } } }
        }
        return best
    }
}
