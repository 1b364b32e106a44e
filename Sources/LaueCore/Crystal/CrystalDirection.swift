import Foundation

extension Lattice {
    /// Cartesian vector (frame of B0) of the crystal direction [u v w] (direct-lattice components).
    public func cartesian(direction uvw: Vec3) -> Vec3 {
        directBasis * uvw
    }

    /// Direct-lattice components [u v w] of a Cartesian direction (frame of B0), scaled so that the
    /// largest |component| is 1.
    public func directionIndices(of v: Vec3) -> Vec3 {
        // u = a* . v etc.: the reciprocal basis gives direct components.
        let uvw = B0.transposed * v
        let m = max(abs(uvw.x), abs(uvw.y), abs(uvw.z))
        return m > 0 ? uvw / m : uvw
    }

    /// Converts a four-index Miller-Bravais direction [U V T W] to three indices [u v w]
    /// (u = U - T, v = V - T, w = W).
    public static func threeIndexDirection(_ u: Double, _ v: Double, _ t: Double, _ w: Double) -> Vec3 {
        Vec3(u - t, v - t, w)
    }
}

/// The pattern classes LaueMap reports (exact labels, shared by the simulator's ground truth and the
/// classifier).
public enum DefectClass: String, CaseIterable, Sendable, Codable {
    case noDefect = "no_defect"
    case gnd = "gnd"
    case tiltBoundary = "tilt_boundary"
    case tiltBoundaryGND = "tilt_boundary_gnd"
    case stackingTiltBoundaries = "stacking_tilt_boundaries"
    case randomDislocations = "random_dislocations"
    case unclassified = "unclassified"
    case unindexed = "unindexed"
    case failed = "failed"

    /// The six physical classes a simulator can produce inside a particle.
    public static let physical: [DefectClass] = [.noDefect, .gnd, .tiltBoundary, .tiltBoundaryGND,
                                                 .stackingTiltBoundaries, .randomDislocations]
    /// Classes that mean "a defect is present" in defect-fraction tables.
    public var isDefect: Bool {
        [.gnd, .tiltBoundary, .tiltBoundaryGND, .stackingTiltBoundaries, .randomDislocations].contains(self)
    }

    public init(label: String) throws {
        guard let c = DefectClass(rawValue: label.lowercased()) else {
            throw LaueError(.invalidArgument, "unknown defect class \"\(label)\"; expected one of "
                            + DefectClass.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = c
    }
}
