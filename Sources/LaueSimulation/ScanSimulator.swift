import Foundation
import LaueCore

/// Ranges (degrees) from which a simulated scan draws each domain's defect parameters.
public struct DefectRanges: Sendable, Equatable {
    public var gndSpread: ClosedRange<Double> = 0.3...0.9
    public var tilt: ClosedRange<Double> = 0.3...0.8
    public var tiltGNDTilt: ClosedRange<Double> = 0.45...0.9
    public var tiltGNDSpread: ClosedRange<Double> = 0.15...0.3
    public var stackingStep: ClosedRange<Double> = 0.25...0.45
    public var stackingCount: ClosedRange<Int> = 3...5
    /// FWHM of the isotropic spread of random dislocations.
    public var randomSpread: ClosedRange<Double> = 0.15...0.35
    /// Volume fraction of the first sub-grain of a tilt boundary.
    public var weight: ClosedRange<Double> = 0.3...0.7
    /// Relative variation of a parameter across a domain (smooth, linear).
    public var withinDomainVariation: Double = 0.15

    public init() {}
}

/// What to simulate: a raster over one particle.
public struct ScanSpec: Sendable {
    public var material: Material
    public var detector: SimulatedDetector
    public var columns: Int
    public var rows: Int
    public var stepUm: Double
    public var seed: UInt64
    /// Classes present inside the particle, and their relative frequencies (equal when nil).
    public var classes: [DefectClass] = DefectClass.physical
    public var classWeights: [Double]? = nil
    public var ranges = DefectRanges()
    public var energyRange: ClosedRange<Double> = 5...22
    /// Mean number of scan points per defect domain.
    public var pointsPerDomain: Double = 25
    /// Base orientation (random from the seed when nil).
    public var orientation: Mat3? = nil
    /// Total change of the base orientation across the particle, degrees.
    public var orientationGradient: Double = 0.3
    /// Particle radius as a fraction of half the smaller grid side.
    public var particleSize: Double = 0.85
    /// Rotation-axis family (crystal directions [uvw]); nil: <1-100> for hexagonal lattices (basal
    /// edge GNDs), <112> for cubic ones (edge lines of {111}<110> and {110}<111> slip), random otherwise.
    public var axisFamily: [Vec3]? = nil
    /// A depth tail on every spot of every pattern (a thick or layered sample; docs/simulation.md,
    /// "Real-frame confounders"); nil: none.
    public var tail: SpotTail? = nil
    /// Real-frame confounders (docs/simulation.md, "Real-frame confounders"): each domain of the
    /// particle gets the kind `confounders[domain % count]`, drawn once per domain (the same neighbouring
    /// grain or substrate orientation over the domain; a satellite follows each point's orientation).
    /// Points outside the particle get none. Empty: none.
    public var confounders: [Confounders.Kind] = []

    public init(material: Material, detector: SimulatedDetector, columns: Int, rows: Int, stepUm: Double, seed: UInt64) {
        self.material = material; self.detector = detector
        self.columns = columns; self.rows = rows; self.stepUm = stepUm; self.seed = seed
    }

    public func validate() throws {
        guard columns > 0, rows > 0, columns * rows <= 10_000_000 else {
            throw LaueError(.invalidArgument, "grid must be between 1x1 and 10 million points, not \(columns)x\(rows)")
        }
        guard stepUm > 0 else { throw LaueError(.invalidArgument, "step must be positive") }
        guard !classes.isEmpty, classes.allSatisfy({ DefectClass.physical.contains($0) }) else {
            throw LaueError(.invalidArgument, "classes must be among \(DefectClass.physical.map(\.rawValue).joined(separator: ", "))")
        }
        if let w = classWeights, w.count != classes.count || w.contains(where: { $0 < 0 }) || w.reduce(0, +) <= 0 {
            throw LaueError(.invalidArgument, "class weights must be \(classes.count) non-negative numbers")
        }
    }
}

/// One planned point of a simulated scan.
public struct ScanPoint: Sendable {
    public var index: Int
    public var column: Int
    public var row: Int
    public var xUm: Double
    public var yUm: Double
    /// Defect domain (-1 outside the particle).
    public var domain: Int
    public var truth: PatternTruth
}

/// Plans simulated scans: particle outline, spatially coherent defect domains with smoothly varying
/// parameters and a slowly varying base orientation, all reproducible from the seed.
public enum ScanPlanner {
    public static func plan(_ spec: ScanSpec) throws -> [ScanPoint] {
        try spec.validate()
        var g = SeededGenerator(seed: spec.seed)
        let u0 = spec.orientation ?? Quaternion.random(using: &g).matrix
        // Star-shaped particle outline.
        let cx = Double(spec.columns - 1) / 2, cy = Double(spec.rows - 1) / 2
        let radius = spec.particleSize * (Double(min(spec.columns, spec.rows)) / 2)
        let a2 = 0.06 + 0.08 * g.uniform(), a3 = 0.03 + 0.05 * g.uniform()
        let p2 = 2 * .pi * g.uniform(), p3 = 2 * .pi * g.uniform()
        func inside(_ c: Int, _ r: Int) -> Bool {
            if spec.columns * spec.rows <= 4 { return true }
            let dx = Double(c) - cx, dy = Double(r) - cy
            let phi = atan2(dy, dx)
            let edge = radius * (1 + a2 * cos(2 * phi + p2) + a3 * cos(3 * phi + p3)) / (1 + a2 + a3) + 0.5
            return (dx * dx + dy * dy).squareRoot() <= edge
        }
        var insidePoints: [(Int, Int)] = []
        for r in 0..<spec.rows { for c in 0..<spec.columns where inside(c, r) { insidePoints.append((c, r)) } }

        // Domains: Voronoi cells of seeds inside the particle; every requested class appears.
        let k = max(spec.classes.count, Int((Double(insidePoints.count) / spec.pointsPerDomain).rounded()))
        var seeds: [(Double, Double)] = []
        for _ in 0..<k {
            let p = insidePoints.isEmpty ? (0, 0) : insidePoints[Int(g.next() % UInt64(insidePoints.count))]
            seeds.append((Double(p.0) + g.uniform() - 0.5, Double(p.1) + g.uniform() - 0.5))
        }
        var domainClasses = spec.classes.shuffled(using: &g)
        let weights = spec.classWeights ?? [Double](repeating: 1, count: spec.classes.count)
        let total = weights.reduce(0, +)
        while domainClasses.count < k {
            var t = g.uniform() * total, pick = spec.classes.count - 1
            for (i, w) in weights.enumerated() { if t < w { pick = i; break }; t -= w }
            domainClasses.append(spec.classes[pick])
        }
        let family = axisFamily(spec)
        let domains = (0..<k).map { d in DomainParameters(defectClass: domainClasses[d], family: family, spec: spec, generator: &g) }

        // Slowly varying base orientation: a rotation vector linear in position.
        let gradient = spec.orientationGradient * .pi / 180 / 2
        let ux = randomUnit(&g), uy = randomUnit(&g)
        let extent = max(radius, 1)

        var points: [ScanPoint] = []
        points.reserveCapacity(spec.columns * spec.rows)
        for r in 0..<spec.rows {
            for c in 0..<spec.columns {
                let index = r * spec.columns + c
                let x = (Double(c) - cx) / extent, y = (Double(r) - cy) / extent
                let u = Rotation.matrix(rotationVector: (ux * x + uy * y) * gradient) * u0
                if !inside(c, r) {
                    points.append(ScanPoint(index: index, column: c, row: r, xUm: Double(c) * spec.stepUm,
                                            yUm: Double(r) * spec.stepUm, domain: -1,
                                            truth: PatternTruth(defect: .noDefect, orientation: u, diffracting: false)))
                    continue
                }
                var best = 0, bestD = Double.infinity
                for (i, s) in seeds.enumerated() {
                    let d = (Double(c) - s.0) * (Double(c) - s.0) + (Double(r) - s.1) * (Double(r) - s.1)
                    if d < bestD { bestD = d; best = i }
                }
                let local = Double(c) * domains[best].drift.0 + Double(r) * domains[best].drift.1
                let defect = domains[best].defect(variation: local - (seeds[best].0 * domains[best].drift.0 + seeds[best].1 * domains[best].drift.1))
                points.append(ScanPoint(index: index, column: c, row: r, xUm: Double(c) * spec.stepUm, yUm: Double(r) * spec.stepUm,
                                        domain: best, truth: PatternTruth(defect: defect, orientation: u)))
            }
        }
        return points
    }

    static func randomUnit(_ g: inout SeededGenerator) -> Vec3 {
        Vec3(g.normal(), g.normal(), g.normal()).normalized
    }

    /// Cartesian unit axes (crystal frame) of the default rotation-axis family of a material.
    public static func defaultAxes(for material: Material) -> [Vec3] {
        axisFamily(material: material, directions: nil)
    }

    static func axisFamily(_ spec: ScanSpec) -> [Vec3] {
        axisFamily(material: spec.material, directions: spec.axisFamily)
    }

    static func axisFamily(material: Material, directions: [Vec3]?) -> [Vec3] {
        let lat = material.lattice
        let uvw: [Vec3]
        if let f = directions {
            uvw = f
        } else {
            switch material.spaceGroup.crystalSystem {
            case .hexagonal, .trigonal:
                // <1-100> in three indices: [1 -1 0], [1 2 0], [2 1 0].
                uvw = [Vec3(1, -1, 0), Vec3(1, 2, 0), Vec3(2, 1, 0)]
            case .cubic:
                uvw = [Vec3(1, 1, 2), Vec3(1, 2, 1), Vec3(2, 1, 1), Vec3(-1, 1, 2), Vec3(1, -1, 2), Vec3(1, 1, -2),
                       Vec3(-1, 2, 1), Vec3(1, -2, 1), Vec3(1, 2, -1), Vec3(-2, 1, 1), Vec3(2, -1, 1), Vec3(2, 1, -1)]
            default:
                uvw = [Vec3(1, 0, 0), Vec3(0, 1, 0), Vec3(0, 0, 1)]
            }
        }
        return uvw.map { lat.cartesian(direction: $0).normalized }
    }
}

/// One domain's defect: class, axis and base parameters, with a linear drift across the domain.
struct DomainParameters {
    var defectClass: DefectClass
    var axis: Vec3
    var spread: Double
    var tilt: Double
    var weight: Double
    var steps: [Double]
    var stepWeights: [Double]
    /// Relative parameter change per grid step along x and y.
    var drift: (Double, Double)
    var ranges: DefectRanges

    init(defectClass: DefectClass, family: [Vec3], spec: ScanSpec, generator g: inout SeededGenerator) {
        self.defectClass = defectClass
        let ranges = spec.ranges
        self.ranges = ranges
        func draw(_ r: ClosedRange<Double>) -> Double { r.lowerBound + (r.upperBound - r.lowerBound) * g.uniform() }
        axis = family[Int(g.next() % UInt64(family.count))] * (g.uniform() < 0.5 ? -1 : 1)
        switch defectClass {
        case .gnd: spread = draw(ranges.gndSpread); tilt = 0
        case .tiltBoundary: spread = 0; tilt = draw(ranges.tilt)
        case .tiltBoundaryGND: spread = draw(ranges.tiltGNDSpread); tilt = draw(ranges.tiltGNDTilt)
        case .randomDislocations: spread = draw(ranges.randomSpread); tilt = 0
        default: spread = 0; tilt = 0
        }
        weight = draw(ranges.weight)
        let n = ranges.stackingCount.lowerBound + Int(g.next() % UInt64(ranges.stackingCount.count))
        var stepList: [Double] = [], weightList: [Double] = []
        for _ in 0..<(n - 1) { stepList.append(draw(ranges.stackingStep)) }
        for _ in 0..<n { weightList.append(0.6 + 0.8 * g.uniform()) }
        steps = stepList
        stepWeights = weightList
        let angle = 2 * Double.pi * g.uniform()
        let perStep = ranges.withinDomainVariation / max(3, (spec.pointsPerDomain).squareRoot())
        drift = (perStep * cos(angle), perStep * sin(angle))
    }

    /// The defect at a point whose relative parameter offset is `variation` (clamped to +-variation).
    func defect(variation: Double) -> DefectModel {
        let v = min(max(variation, -ranges.withinDomainVariation), ranges.withinDomainVariation)
        let f = 1 + v
        switch defectClass {
        case .noDefect: return .noDefect
        case .gnd: return .gnd(axis: axis, spread: spread * f, profile: .uniform)
        case .tiltBoundary: return .tiltBoundary(axis: axis, tilt: tilt * f, weight: weight)
        case .tiltBoundaryGND: return .tiltBoundaryGND(axis: axis, tilt: tilt * f, spread: spread * f, weight: weight)
        case .stackingTiltBoundaries: return .stackingTiltBoundaries(axis: axis, tilts: steps.map { $0 * f }, weights: stepWeights)
        case .randomDislocations: return .randomDislocations(spread: spread * f)
        default: return .noDefect
        }
    }
}

extension ScanPlanner {
    /// One defect of class `defectClass` with parameters drawn from `ranges` and an axis from the
    /// material's default family (random sign): for classifier tests and tuning outside scans.
    public static func randomDefect(_ defectClass: DefectClass, material: Material, ranges: DefectRanges = DefectRanges(),
                                    generator g: inout SeededGenerator) -> DefectModel {
        let family = defaultAxes(for: material)
        func draw(_ r: ClosedRange<Double>) -> Double { r.lowerBound + (r.upperBound - r.lowerBound) * g.uniform() }
        let axis = family[Int(g.next() % UInt64(family.count))] * (g.uniform() < 0.5 ? -1 : 1)
        switch defectClass {
        case .gnd: return .gnd(axis: axis, spread: draw(ranges.gndSpread), profile: .uniform)
        case .tiltBoundary: return .tiltBoundary(axis: axis, tilt: draw(ranges.tilt), weight: draw(ranges.weight))
        case .tiltBoundaryGND:
            return .tiltBoundaryGND(axis: axis, tilt: draw(ranges.tiltGNDTilt), spread: draw(ranges.tiltGNDSpread),
                                    weight: draw(ranges.weight))
        case .stackingTiltBoundaries:
            let n = ranges.stackingCount.lowerBound + Int(g.next() % UInt64(ranges.stackingCount.count))
            let steps = (0..<(n - 1)).map { _ in draw(ranges.stackingStep) }
            let weights = (0..<n).map { _ in 0.6 + 0.8 * g.uniform() }
            return .stackingTiltBoundaries(axis: axis, tilts: steps, weights: weights)
        case .randomDislocations: return .randomDislocations(spread: draw(ranges.randomSpread))
        default: return .noDefect
        }
    }
}
