import Foundation
import LaueCore

/// One simulated pattern as a user asks for it (`lauemap simulate pattern`, the C ABI and Python's
/// `lauemap.simulate`): orientation, defect and its parameters, energy band, noise, seed. Decodable
/// from JSON with these keys (snake case); `simulate` gives the frame and its truth.
public struct PatternRequest: Sendable, Equatable, Codable {
    /// LaueTools UB, nine numbers row by row; nil: a random orientation drawn from `seed`.
    public var matrix: [Double]? = nil
    /// Defect class label (`DefectClass`): no_defect, gnd, tilt_boundary, tilt_boundary_gnd,
    /// stacking_tilt_boundaries, random_dislocations.
    public var defect: String = DefectClass.noDefect.rawValue
    /// Rotation axis as a crystal direction u,v,w (or U,V,T,W); nil: the material's default axis
    /// (<1-100> for hexagonal and trigonal lattices, <112> for cubic ones).
    public var axis: [Double]? = nil
    /// GND band width (uniform) or FWHM (gaussian, random dislocations), degrees.
    public var spread: Double = 0.5
    /// Tilt of a tilt boundary, or the successive steps of stacking boundaries (one value repeated
    /// `orientations - 1` times), degrees.
    public var tilt: [Double] = [0.5]
    public var orientations: Int = 3
    /// Volume fraction of the first sub-grain of a tilt boundary.
    public var weight: Double = 0.5
    /// GND profile: uniform or gaussian.
    public var profile: String = SpreadProfile.uniform.rawValue
    /// Energy band, keV.
    public var energy: [Double] = [5, 22]
    /// Background, Poisson noise, read noise and hot pixels.
    public var noise: Bool = true
    public var seed: UInt64 = 1

    public init() {}

    enum CodingKeys: String, CodingKey { case matrix, defect, axis, spread, tilt, orientations, weight, profile, energy, noise, seed }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PatternRequest()
        matrix = try c.decodeIfPresent([Double].self, forKey: .matrix)
        defect = try c.decodeIfPresent(String.self, forKey: .defect) ?? d.defect
        axis = try c.decodeIfPresent([Double].self, forKey: .axis)
        spread = try c.decodeIfPresent(Double.self, forKey: .spread) ?? d.spread
        if let one = try? c.decodeIfPresent(Double.self, forKey: .tilt) { tilt = [one] } else { tilt = try c.decodeIfPresent([Double].self, forKey: .tilt) ?? d.tilt }
        orientations = try c.decodeIfPresent(Int.self, forKey: .orientations) ?? d.orientations
        weight = try c.decodeIfPresent(Double.self, forKey: .weight) ?? d.weight
        profile = try c.decodeIfPresent(String.self, forKey: .profile) ?? d.profile
        energy = try c.decodeIfPresent([Double].self, forKey: .energy) ?? d.energy
        noise = try c.decodeIfPresent(Bool.self, forKey: .noise) ?? d.noise
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
    }

    /// The request of a JSON object (`{}` or empty text: every default); unknown keys are refused.
    public init(json: String) throws {
        let text = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { self.init(); return }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw LaueError(.invalidArgument, "simulation options: not a JSON object")
        }
        let known = Set(["matrix", "defect", "axis", "spread", "tilt", "orientations", "weight", "profile", "energy", "noise", "seed"])
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw LaueError(.invalidArgument, "simulation options: unknown key \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        do { self = try JSONDecoder().decode(PatternRequest.self, from: Data(text.utf8)) } catch {
            throw LaueError(.invalidArgument, "simulation options: \(error)")
        }
    }

    /// Determinants an orientation matrix may have: a rotation (1) with up to ±50 % volume strain.
    public static let orientationDeterminant = 0.5...1.5

    /// The orientation: `matrix`, or a random one drawn from `seed`.
    public func orientation() throws -> Mat3 {
        if let matrix {
            guard matrix.count == 9, matrix.allSatisfy(\.isFinite) else { throw LaueError(.invalidArgument, "the orientation matrix needs nine finite numbers") }
            let u = Mat3(matrix)
            // A rotation, possibly strained: a zero, flattened or mirrored matrix predicts nothing real.
            guard PatternRequest.orientationDeterminant.contains(u.determinant) else {
                throw LaueError(.invalidArgument, String(format: "the orientation matrix must be a rotation (possibly strained): its determinant is %.3g, not within %g...%g",
                                                         u.determinant, PatternRequest.orientationDeterminant.lowerBound, PatternRequest.orientationDeterminant.upperBound))
            }
            return u
        }
        var g = SeededGenerator(seed: seed)
        return Quaternion.random(using: &g).matrix
    }

    /// The energy band, checked (finite, 0 < MIN < MAX <= `LaueScattering.maximumBandEnergy` keV).
    public func band() throws -> ClosedRange<Double> {
        guard energy.count == 2 else { throw LaueError(.invalidArgument, "the energy band needs MIN,MAX keV, not \(energy)") }
        return try LaueScattering.band(energy[0], energy[1], what: "the energy band")
    }

    /// The defect model for `material`, validated.
    public func model(material: Material) throws -> DefectModel {
        let cls = try DefectClass(label: defect)
        let axisVector: Vec3
        if let axis {
            guard axis.allSatisfy(\.isFinite) else { throw LaueError(.invalidArgument, "the axis needs finite numbers") }
            let uvw: Vec3
            switch axis.count {
            case 3: uvw = Vec3(axis)
            case 4: uvw = Lattice.threeIndexDirection(axis[0], axis[1], axis[2], axis[3])
            default: throw LaueError(.invalidArgument, "the axis needs 3 (or 4) numbers")
            }
            guard uvw.length > 0 else { throw LaueError(.invalidArgument, "the axis is the zero vector") }
            axisVector = material.lattice.cartesian(direction: uvw).normalized
        } else {
            axisVector = ScanPlanner.defaultAxes(for: material)[0]
        }
        guard !tilt.isEmpty else { throw LaueError(.invalidArgument, "the tilt needs at least one value") }
        guard let prof = SpreadProfile(rawValue: profile) else { throw LaueError(.invalidArgument, "the GND profile is uniform or gaussian, not \"\(profile)\"") }
        let model: DefectModel
        switch cls {
        case .noDefect: model = .noDefect
        case .gnd: model = .gnd(axis: axisVector, spread: spread, profile: prof)
        case .tiltBoundary: model = .tiltBoundary(axis: axisVector, tilt: tilt[0], weight: weight)
        case .tiltBoundaryGND: model = .tiltBoundaryGND(axis: axisVector, tilt: tilt[0], spread: spread, weight: weight)
        case .stackingTiltBoundaries:
            guard tilt.count > 1 || (2...100).contains(orientations) else { throw LaueError(.invalidArgument, "stacking boundaries need 2...100 orientations") }
            let steps = tilt.count > 1 ? tilt : [Double](repeating: tilt[0], count: max(2, orientations - 1))
            model = .stackingTiltBoundaries(axis: axisVector, tilts: steps, weights: [Double](repeating: 1, count: steps.count + 1))
        case .randomDislocations: model = .randomDislocations(spread: spread)
        default: throw LaueError(.invalidArgument, "\(cls.rawValue) is not a simulated defect")
        }
        try model.validate()
        return model
    }

    /// The simulated frame of `material` on `detector` and its truth.
    public func simulate(material: Material, detector: SimulatedDetector) throws -> (image: LaueImage, truth: PatternTruth, spots: Int) {
        var det = detector
        if !noise { det.effects = .ideal }
        let u = try orientation()
        let sim = try PatternSimulator(material: material, detector: det, energyRange: try band())
        let truth = PatternTruth(defect: try model(material: material), orientation: u)
        return (sim.simulate(truth, seed: seed), truth, sim.predictor.spots(orientation: u).count)
    }
}
