import Foundation
import Testing
import LaueCore
import LaueDefects
import LaueIndexing
import LauePeaks
import LaueSimulation

/// Simulates, searches, indexes and classifies one LiCoO2 pattern on the medium detector.
struct Pipeline: Sendable {
    let material: Material
    let detector: SimulatedDetector
    var simulator: PatternSimulator
    let peakOptions: PeakSearchOptions
    /// The detector's point spread as the peak search measures it on a perfect crystal (as a beamline
    /// measures it on its calibration crystal); the scan pipeline estimates it over the scan.
    let pointSpread: Double

    /// `adjust` changes the detector (point spread, gaps) before the point spread is measured on it.
    init(detector name: String = "medium", adjust: (inout SimulatedDetector) -> Void = { _ in }) throws {
        material = try Material.builtin("LiCoO2")
        var d = try SimulatedDetector.builtin(name)
        adjust(&d)
        detector = d
        simulator = try PatternSimulator(material: material, detector: detector)
        let po = PeakSearchOptions()
        peakOptions = po
        var g = SeededGenerator(seed: 424242)
        let perfect = simulator.simulate(PatternTruth(defect: .noDefect, orientation: Quaternion.random(using: &g).matrix), seed: 1)
        pointSpread = PeakSearcher(options: po).search(perfect).psfSigma
    }

    /// The classifier's options with the detector's measured point spread.
    var classifierOptions: ClassifierOptions {
        var o = ClassifierOptions()
        o.pointSpreadSigma = pointSpread
        return o
    }

    /// An indexer of the pattern's material on the detector (default options).
    func indexer() throws -> Indexer { try Indexer(material: material, calibration: detector.calibration) }

    func classify(_ truth: PatternTruth, seed: UInt64, options: ClassifierOptions? = nil) throws -> DefectAssessment? {
        try classify(PeakSearcher(options: peakOptions).search(simulator.simulate(truth, seed: seed)), options: options)
    }

    func classify(_ found: PeakSearchResult, options: ClassifierOptions? = nil) throws -> DefectAssessment? {
        let indexer = try Indexer(material: material, calibration: detector.calibration)
        guard let grain = indexer.index(found.peaks.map(ObservedSpot.init)).grains.first else { return nil }
        var o = options ?? ClassifierOptions()
        if options == nil { o.pointSpreadSigma = pointSpread }
        return DefectClassifier(predictor: indexer.predictor, options: o).classify(found, grain: grain).0
    }
}

func axisError(_ a: Vec3?, _ b: Vec3?) -> Double {
    guard let a, let b else { return .nan }
    return acos(min(1, abs(a.normalized.dot(b.normalized)))) * 180 / .pi
}

@Suite struct ClassifierTests {
    /// Patterns with parameters drawn from the simulator's default ranges, on seeds 5000+ (tuning used
    /// 1000-1039; see docs/classification.md).
    @Test(arguments: DefectClass.physical)
    func recoversClassAndParameters(_ defectClass: DefectClass) throws {
        let pipeline = try Pipeline()
        let stream = UInt64(DefectClass.physical.firstIndex(of: defectClass)!)
        var correct = 0, indexed = 0
        var axisErrors: [Double] = [], parameterErrors: [Double] = []
        let n = 12
        for i in 0..<n {
            var g = SeededGenerator(seed: UInt64(5000 + i), stream: stream)
            let u = Quaternion.random(using: &g).matrix
            let defect = ScanPlanner.randomDefect(defectClass, material: pipeline.material, generator: &g)
            let truth = PatternTruth(defect: defect, orientation: u)
            guard let a = try pipeline.classify(truth, seed: UInt64(5000 + i) &* 31 &+ stream) else { continue }
            indexed += 1
            guard a.defectClass == defectClass else {
                // Never a confident wrong class.
                #expect(a.defectClass == .unclassified || a.confidence < 0.5,
                        "\(defectClass.rawValue) #\(i) read as \(a.defectClass.rawValue) with confidence \(a.confidence)")
                continue
            }
            correct += 1
            if let axis = truth.axisLab { axisErrors.append(axisError(a.axisLab, axis)) }
            switch defectClass {
            case .gnd, .randomDislocations: parameterErrors.append(abs(a.spread! / defect.spread - 1))
            case .tiltBoundary, .tiltBoundaryGND:
                parameterErrors.append(abs(a.tilts[0] / defect.tilts[0] - 1))
                if defectClass == .tiltBoundaryGND { parameterErrors.append(abs(a.spread! / defect.spread - 1)) }
            case .stackingTiltBoundaries:
                #expect(a.orientationCount == defect.orientationCount)
                if a.orientationCount == defect.orientationCount {
                    // The axis sign is arbitrary: the steps may come in reverse order.
                    let forward = zip(a.tilts, defect.tilts).map { abs($0 / $1 - 1) }
                    let backward = zip(a.tilts.reversed(), defect.tilts).map { abs($0 / $1 - 1) }
                    parameterErrors += forward.max()! <= backward.max()! ? forward : backward
                }
            default: break
            }
        }
        #expect(indexed >= n - 1, "\(indexed) of \(n) indexed")
        #expect(Double(correct) >= 0.9 * Double(indexed), "\(defectClass.rawValue): \(correct) of \(indexed) indexed patterns right")
        if !axisErrors.isEmpty {
            let sorted = axisErrors.sorted()
            #expect(sorted[sorted.count / 2] <= 3, "median axis error \(sorted[sorted.count / 2]) deg")
        }
        for e in parameterErrors { #expect(e <= 0.10, "\(defectClass.rawValue) parameter off by \(e * 100) %") }
    }

    /// The four strongest usable spots alone (`maximumSpots` 4) read every class and its parameters, as
    /// scan points indexed from their neighbours with 3-6 spots need; three (the default
    /// `minimumSpots`) read the true class or nothing; two are refused. Seeds 6000+ (never used for tuning).
    @Test(arguments: DefectClass.physical)
    func fourSpotsReadEveryClass(_ defectClass: DefectClass) throws {
        let pipeline = try Pipeline()
        let stream = UInt64(DefectClass.physical.firstIndex(of: defectClass)!)
        var four = ClassifierOptions()
        four.pointSpreadSigma = pipeline.pointSpread
        four.maximumSpots = 4
        var three = four
        three.maximumSpots = 3
        var two = four
        two.maximumSpots = 2
        var correct = 0, indexed = 0
        let n = 8
        for i in 0..<n {
            var g = SeededGenerator(seed: UInt64(6000 + i), stream: stream)
            let u = Quaternion.random(using: &g).matrix
            let defect = ScanPlanner.randomDefect(defectClass, material: pipeline.material, generator: &g)
            let found = PeakSearcher(options: pipeline.peakOptions).search(pipeline.simulator.simulate(PatternTruth(defect: defect, orientation: u),
                                                                                                        seed: UInt64(6000 + i) &* 31 &+ stream))
            guard let a = try pipeline.classify(found, options: four) else { continue }
            indexed += 1
            // Three spots: the true class or unclassified, never another defect (`oneAxisModelBelowSpots`);
            // two are refused.
            let fromThree = try #require(try pipeline.classify(found, options: three))
            #expect([defectClass, .unclassified].contains(fromThree.defectClass),
                    "\(defectClass.rawValue) #\(i) read as \(fromThree.defectClass.rawValue) from 3 spots, \(fromThree.diagnostics)")
            let refused = try pipeline.classify(found, options: two)
            #expect(refused?.defectClass == .unclassified && refused?.reason?.contains("only 2 usable indexed spots (need 3)") == true)
            guard a.defectClass == defectClass else {
                #expect(a.defectClass == .unclassified, "\(defectClass.rawValue) #\(i) read as \(a.defectClass.rawValue) from 4 spots, confidence \(a.confidence), tilts \(defect.tilts), \(a.diagnostics), spread \(a.spread ?? -1)")
                continue
            }
            correct += 1
            switch defectClass {
            case .gnd, .randomDislocations:
                #expect(abs(a.spread! / defect.spread - 1) <= 0.15, "\(defectClass.rawValue) #\(i): spread \(a.spread!) for \(defect.spread)")
            case .tiltBoundary, .tiltBoundaryGND:
                #expect(abs(a.tilts[0] / defect.tilts[0] - 1) <= 0.15, "\(defectClass.rawValue) #\(i): tilt \(a.tilts[0]) for \(defect.tilts[0])")
            default: break
            }
        }
        #expect(indexed >= n - 1, "\(indexed) of \(n) indexed")
        #expect(Double(correct) >= 0.85 * Double(indexed), "\(defectClass.rawValue): \(correct) of \(indexed) right from 4 spots")
    }

    /// Defects far below the resolution (about 0.05 deg per point-spread sigma here) read as no defect or
    /// unclassified, never as a confident defect class.
    @Test func subResolutionDefectsAreNotInvented() throws {
        // With the point spread fitted per pattern as well as with the detector's.
        var free = ClassifierOptions()
        free.pointSpreadSigma = nil
        let pipeline = try Pipeline()
        let axis = ScanPlanner.defaultAxes(for: pipeline.material)[0]
        let defects: [DefectModel] = [.gnd(axis: axis, spread: 0.02, profile: .uniform),
                                      .tiltBoundary(axis: axis, tilt: 0.02, weight: 0.5),
                                      .randomDislocations(spread: 0.02)]
        for (k, d) in defects.enumerated() {
            for i in 0..<3 {
                var g = SeededGenerator(seed: UInt64(6000 + i), stream: UInt64(k))
                let truth = PatternTruth(defect: d, orientation: Quaternion.random(using: &g).matrix)
                for options in [nil, free] {
                    guard let a = try pipeline.classify(truth, seed: UInt64(6100 + 10 * k + i), options: options) else { continue }
                    #expect(a.defectClass == .noDefect || a.defectClass == .unclassified,
                            "\(d.defectClass.rawValue) of 0.02 deg read as \(a.defectClass.rawValue)")
                }
            }
        }
    }

    /// The spread tensor is recovered exactly from exact moments.
    @Test func spreadTensorFromExactMoments() throws {
        let pipeline = try Pipeline()
        var g = SeededGenerator(seed: 11)
        let u = Quaternion.random(using: &g).matrix
        let predictor = try SpotPredictor(material: pipeline.material, calibration: pipeline.detector.calibration, energyRange: 5...22)
        let n = Vec3(1, 2, -0.5).normalized
        let sigma = Mat3(rows: n * (n.x * 0.04), n * (n.y * 0.04), n * (n.z * 0.04)) + Mat3.identity * 0.001
        var spots: [SpotEvidence] = []
        for s in predictor.spots(orientation: u).prefix(20) {
            guard let j = predictor.jacobian(s.hkl, orientation: u) else { continue }
            let p = j.dx * (Double.pi / 180), q = j.dy * (Double.pi / 180)
            let c = Sym2(p.dot(sigma * p) + 1.1, p.dot(sigma * q), q.dot(sigma * q) + 1.1)
            let streak = StreakMetrics(covariance: (c.xx, c.xy, c.yy), lambdaMajor: 1, lambdaMinor: 1, angle: 0, aspectRatio: 1,
                                       length: 0, width: 0, profile: SubpeakProfile(count: 1, positions: [0], heights: [1], separations: [],
                                                                                     dipRatios: [], widths: [1], kurtosis: 3))
            spots.append(SpotEvidence(peakIndex: spots.count, hkl: s.hkl, x: s.x, y: s.y, intensity: 1000, covariance: c,
                                      streak: streak, jacobian: (p, q)))
        }
        let fit = try #require(OrientationSpread.fit(spots, psfVariance: nil))
        #expect(abs(fit.pointSpreadVariance - 1.1) < 1e-6)
        #expect(abs(fit.eigenvalues[0] - 0.041) < 1e-6)
        #expect(abs(fit.eigenvalues[2] - 0.001) < 1e-6)
        #expect(axisError(fit.axis, n) < 1e-3)
        #expect(fit.residual < 1e-6)
    }

    /// rho = Delta / (b L): LiCoO2's shortest translation is a = 2.8156 A; 0.1 deg over 1 um gives
    /// 6.2e12 m^-2 (shared/notes/laue-physics.md 7).
    @Test func gndDensity() throws {
        let lco = try Material.builtin("LiCoO2")
        let d = GNDDensity(material: lco, beamSize: 1)
        #expect(abs(d.burgers - 2.8156) < 1e-4)
        #expect(abs(d.density(spread: 0.1) / 6.2e12 - 1) < 0.01)
        #expect(abs(GNDDensity.shortestTranslation(try Material.builtin("Cu")) - 3.6149 / 2.0.squareRoot()) < 1e-3)
    }
}

/// Real-frame confounders in simulated patterns (seeds 7000+, not used for tuning).
@Suite struct ConfounderTests {
    /// A tail on every spot along one detector direction (beam penetration, detector smear) is reported
    /// by the peak search and never read as a lattice rotation; the rest of the pattern still is.
    @Test func depthTailsAreNotRotations() throws {
        var pipeline = try Pipeline()
        pipeline.simulator.tail = SpotTail(angle: 100, length: 3, fraction: 0.3)
        let axis = ScanPlanner.defaultAxes(for: pipeline.material)[0]
        var tails = 0, perfect = 0, gnd = 0, perfectCount = 0, gndCount = 0
        for i in 0..<8 {
            var g = SeededGenerator(seed: UInt64(7000 + i))
            let u = Quaternion.random(using: &g).matrix
            for defect in [DefectModel.noDefect, .gnd(axis: axis, spread: 0.4, profile: .uniform)] {
                let image = pipeline.simulator.simulate(PatternTruth(defect: defect, orientation: u), seed: UInt64(7100 + i))
                let found = PeakSearcher(options: pipeline.peakOptions).search(image)
                if let t = found.depthTail, abs(t.angle - 100) < 15 { tails += 1 }
                guard let a = try pipeline.classify(found) else { continue }
                #expect(a.defectClass == defect.defectClass || a.defectClass == .unclassified,
                        "pattern \(i), \(defect.defectClass.rawValue) with a depth tail read as \(a.defectClass.rawValue)")
                if defect.defectClass == .noDefect { perfectCount += 1; if a.defectClass == .noDefect { perfect += 1 } }
                else { gndCount += 1; if a.defectClass == .gnd { gnd += 1 } }
            }
        }
        #expect(tails >= 14, "depth tail found in \(tails) of 16 patterns")
        #expect(perfect >= perfectCount - 1, "\(perfect) of \(perfectCount) perfect patterns no_defect")
        #expect(gnd >= gndCount - 2, "\(gnd) of \(gndCount) GND patterns read as gnd")
    }

    /// Each real-frame confounder alone on an undeformed crystal: pseudo-Voigt halos, detector gaps, a
    /// neighbouring grain, a crowd of grains, a weak satellite sub-grain, a Si substrate. The pattern's
    /// grain comes out `no_defect` (or `unclassified`), never a defect class.
    @Test(arguments: ["halo", "gaps", "neighbour", "crowded", "satellite", "substrate"])
    func confounderAloneIsNoDefect(_ kind: String) throws {
        var pipeline = try Pipeline { d in
            switch kind {
            case "halo": d.pointSpread = .pseudoVoigt(fwhm: d.pointSpread.fwhm, eta: 0.5)
            case "gaps": d.effects.gapColumns = [300..<307, 700..<707]; d.effects.gapRows = [500..<517]
            default: break
            }
        }
        let base = pipeline.simulator
        let silicon = try PatternSimulator(material: Material.builtin("Si"), detector: pipeline.detector)
        var classes: [String] = []
        for i in 0..<6 {
            var g = SeededGenerator(seed: UInt64(7200 + i), stream: UInt64(kind.utf8.reduce(0) { $0 &+ UInt64($1) }))
            let u = Quaternion.random(using: &g).matrix
            var sim = base
            // The crystal confounders as the simulator draws them (`Confounders.add`).
            if let crystal = Confounders.Kind(rawValue: kind) {
                Confounders.add(crystal, to: &sim, orientation: u, substrate: silicon, generator: &g)
            }
            pipeline.simulator = sim
            let found = PeakSearcher(options: pipeline.peakOptions).search(sim.simulate(PatternTruth(defect: .noDefect, orientation: u),
                                                                                      seed: UInt64(7300 + i)))
            guard let a = try pipeline.classify(found) else { classes.append("unindexed"); continue }
            classes.append(a.defectClass.rawValue)
            #expect(a.defectClass == .noDefect || a.defectClass == .unclassified,
                    "\(kind) #\(i): an undeformed crystal read as \(a.defectClass.rawValue) (\(a.reason ?? ""))")
        }
        #expect(classes.filter { $0 == "no_defect" }.count >= 4, "\(kind): \(classes)")
    }

    /// Confounders mixed into defect patterns (one per pattern, cycling through `Confounders.Kind`, seeds
    /// 7400+): the pattern's grain (the indexed grain nearest its true orientation) is never given another
    /// defect class, and most are recovered (docs/classification.md, "Confounders").
    @Test func confoundersMixedIntoDefects() throws {
        var pipeline = try Pipeline()
        let base = pipeline.simulator
        let silicon = try PatternSimulator(material: Material.builtin("Si"), detector: pipeline.detector)
        var io = IndexingOptions()
        io.maxGrains = 4
        let indexer = try Indexer(material: pipeline.material, calibration: pipeline.detector.calibration, options: io)
        var co = ClassifierOptions()
        co.pointSpreadSigma = pipeline.pointSpread
        let classifier = DefectClassifier(predictor: indexer.predictor, options: co)
        var right = 0, total = 0
        for (c, defectClass) in DefectClass.physical.enumerated() where defectClass != .noDefect {
            for i in 0..<5 {
                var g = SeededGenerator(seed: UInt64(7400 + i), stream: UInt64(c))
                let u = Quaternion.random(using: &g).matrix
                let defect = ScanPlanner.randomDefect(defectClass, material: pipeline.material, generator: &g)
                var sim = base
                let kind = Confounders.Kind.allCases[(i + c) % Confounders.Kind.allCases.count]
                Confounders.add(kind, to: &sim, orientation: u, substrate: silicon, generator: &g)
                pipeline.simulator = sim
                let found = PeakSearcher(options: pipeline.peakOptions).search(sim.simulate(PatternTruth(defect: defect, orientation: u),
                                                                                          seed: UInt64(7500 + 10 * c + i)))
                total += 1
                guard let grain = indexer.index(found.peaks.map(ObservedSpot.init)).grains
                        .first(where: { pipeline.material.misorientation($0.orientation, u) < 2 }) else { continue }
                let a = classifier.classify(found, grain: grain).0
                #expect(a.defectClass == defectClass || a.defectClass == .unclassified || a.defectClass == .noDefect,
                        "\(defectClass.rawValue) with \(kind.rawValue) read as \(a.defectClass.rawValue)")
                if a.defectClass == defectClass { right += 1 }
            }
        }
        #expect(Double(right) >= 0.8 * Double(total), "\(right) of \(total) defects recovered with confounders")
    }
    /// Random dislocations on the APS-like detector (510 mm, 0.022° per pixel; spreads of the scan
    /// simulator, 0.15-0.35° FWHM; seeds 8800+, never used for tuning) spread each reflection over 15-35 px,
    /// so faintly that only the coarse pass of the peak search finds many of them (docs/peaks.md,
    /// "Detection"). With it more patterns are indexed, on their own orientation, and more read as random
    /// dislocations; none as another defect.
    @Test func broadRandomDislocationsOnADistantDetector() throws {
        let pipeline = try Pipeline(detector: "aps")
        var noCoarse = pipeline.peakOptions
        noCoarse.detectCoarseSpots = false
        let material = pipeline.material
        let outcomes = (0..<16).map { i -> (with: DefectClass?, without: DefectClass?) in
            var g = SeededGenerator(seed: UInt64(8800 + i))
            let u = Quaternion.random(using: &g).matrix
            let defect = ScanPlanner.randomDefect(.randomDislocations, material: material, generator: &g)
            let image = pipeline.simulator.simulate(PatternTruth(defect: defect, orientation: u), seed: UInt64(8900 + i))
            func read(_ options: PeakSearchOptions) -> DefectClass? {
                let found = PeakSearcher(options: options).search(image)
                let indexer = try! Indexer(material: material, calibration: pipeline.detector.calibration)
                guard let grain = indexer.index(found.peaks.map(ObservedSpot.init)).grains.first else { return nil }
                #expect(material.misorientation(grain.orientation, u) < 0.5, "pattern \(i): wrong orientation")
                var co = ClassifierOptions()
                co.pointSpreadSigma = pipeline.pointSpread
                return DefectClassifier(predictor: indexer.predictor, options: co).classify(found, grain: grain).0.defectClass
            }
            return (read(pipeline.peakOptions), read(noCoarse))
        }
        func count(_ c: DefectClass?, _ key: KeyPath<(with: DefectClass?, without: DefectClass?), DefectClass?>) -> Int {
            outcomes.filter { $0[keyPath: key] == c }.count
        }
        let indexedWith = 16 - count(nil, \.with), indexedWithout = 16 - count(nil, \.without)
        let readWith = count(.randomDislocations, \.with), readWithout = count(.randomDislocations, \.without)
        print("random dislocations on aps: indexed \(indexedWith) of 16 with the coarse pass, \(indexedWithout) without; read \(readWith) and \(readWithout)")
        #expect(outcomes.allSatisfy { [nil, .randomDislocations, .unclassified].contains($0.with) }, "\(outcomes.map(\.with))")
        #expect(indexedWith >= indexedWithout + 3, "indexed with \(indexedWith), without \(indexedWithout)")
        #expect(readWith >= readWithout + 1, "read with \(readWith), without \(readWithout)")
    }

    /// A weak satellite sub-grain (the simulator's `satellite` confounder, 2-6 % as bright) beside
    /// stacked tilt boundaries on the far APS-like detector, seeds 9100+: the satellite is found as a
    /// minor sub-orientation, and the weak reflections where its spot is too faint to be found are still
    /// read (`SubgrainOptions.minorIntensity`). With every missing sub-spot counted (the rule before),
    /// those reflections dropped out and most patterns had too few usable spots.
    @Test func satelliteBesideStackedBoundaries() throws {
        let pipeline = try Pipeline(detector: "aps")
        let material = pipeline.material
        let silicon = try PatternSimulator(material: Material.builtin("Si"), detector: pipeline.detector)
        let indexer = try pipeline.indexer()
        let co = pipeline.classifierOptions
        let classifier = DefectClassifier(predictor: indexer.predictor, options: co)
        var strict = SubgrainOptions()
        strict.minorIntensity = 0
        // The comparison with the rule before is made with four spots needed (as then): with three, a
        // pattern whose weak reflections dropped out may still be read from its strongest.
        var four = co
        four.minimumSpots = 4
        let fromFour = DefectClassifier(predictor: indexer.predictor, options: four)
        var read = 0, readFour = 0, readStrict = 0, indexed = 0, accurate = 0
        for i in 0..<12 {
            var g = SeededGenerator(seed: UInt64(9100 + i))
            let u = Quaternion.random(using: &g).matrix
            let defect = ScanPlanner.randomDefect(.stackingTiltBoundaries, material: material, generator: &g)
            var sim = pipeline.simulator
            Confounders.add(.satellite, to: &sim, orientation: u, substrate: silicon, generator: &g)
            let found = PeakSearcher(options: pipeline.peakOptions).search(sim.simulate(PatternTruth(defect: defect, orientation: u),
                                                                                      seed: UInt64(9200 + i)))
            guard let grain = indexer.index(found.peaks.map(ObservedSpot.init)).grains.first,
                  material.misorientation(grain.orientation, u) < 2 else { continue }
            indexed += 1
            let a = classifier.classify(found, grain: grain).0
            #expect([.stackingTiltBoundaries, .unclassified].contains(a.defectClass), "pattern \(i) read as \(a.defectClass.rawValue)")
            if a.defectClass == .stackingTiltBoundaries {
                read += 1
                // Tilts in either order along the stack.
                let truth = defect.tilts.sorted(), measured = a.tilts.sorted()
                if measured.count == truth.count && zip(measured, truth).allSatisfy({ abs($0 - $1) <= 0.1 * $1 }) { accurate += 1 }
            }
            if fromFour.classify(found, grain: grain).0.defectClass == .stackingTiltBoundaries { readFour += 1 }
            if fromFour.classify(found, grain: grain, subgrainOptions: strict).0.defectClass == .stackingTiltBoundaries { readStrict += 1 }
        }
        print("stacking + satellite on aps: \(indexed) of 12 indexed, read \(read); from four spots \(readFour) (\(readStrict) counting every missing sub-spot), tilts within 10 % on \(accurate)")
        #expect(read >= indexed - 2, "\(read) of \(indexed) read as stacking")
        #expect(accurate >= read - 1, "every tilt within 10 % on \(accurate) of \(read)")
        #expect(readFour >= readStrict + 2, "from four spots \(readFour) read, \(readStrict) counting every missing sub-spot")
    }

    /// A faint spot touching a GND streak (the band's end split off, a weak spot of another crystal):
    /// GND patterns on the medium detector (seeds 9300+), with a faint round spot (a fifth of the
    /// streak's peak pixel, sigma 1.5 px: 2-5 % of the streak's intensity) painted 5 px beyond the end
    /// of each of their six strongest streaks. Those streaks stay in the evidence
    /// (`ClassifierOptions.faintNeighbour`) and the pattern is still read as GND; counting every
    /// touching spot (the rule before) drops them.
    @Test func faintSpotsTouchingStreaksKeepThem() throws {
        let pipeline = try Pipeline()
        let material = pipeline.material
        let indexer = try pipeline.indexer()
        let co = pipeline.classifierOptions
        var strict = co
        strict.faintNeighbour = 0
        var patterns = 0, kept = 0, keptStrict = 0, streakCount = 0
        for i in 0..<4 {
            var g = SeededGenerator(seed: UInt64(9300 + i))
            let u = Quaternion.random(using: &g).matrix
            let defect = ScanPlanner.randomDefect(.gnd, material: material, generator: &g)
            var image = pipeline.simulator.simulate(PatternTruth(defect: defect, orientation: u), seed: UInt64(9400 + i))
            let searcher = PeakSearcher(options: pipeline.peakOptions)
            let found = searcher.search(image)
            guard let grain = indexer.index(found.peaks.map(ObservedSpot.init)).grains.first else { continue }
            let classifier = DefectClassifier(predictor: indexer.predictor, options: co)
            let reading = classifier.classify(found, grain: grain).0
            guard reading.defectClass == .gnd else { continue }
            patterns += 1
            // The faint spots, beyond the ends of the six strongest streaks read before.
            let w = image.width, h = image.height
            let streaks = reading.spots.filter { $0.streak.length > 8 }.sorted { $0.intensity > $1.intensity }.prefix(6)
            for e in streaks {
                let d = e.streak.direction, r = e.streak.length / 2 + 5
                let cx = e.streak.centre.x - 1 + d.x * r, cy = e.streak.centre.y - 1 + d.y * r
                let p = found.peaks[e.peakIndex]
                let top = Double(image.pixels[min(h - 1, max(0, Int(p.y.rounded()) - 1)) * w + min(w - 1, max(0, Int(p.x.rounded()) - 1))])
                for y in max(0, Int(cy) - 6)...min(h - 1, Int(cy) + 6) { for x in max(0, Int(cx) - 6)...min(w - 1, Int(cx) + 6) {
                    let q = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)) / (2 * 1.5 * 1.5)
                    image.pixels[y * w + x] += Float(0.2 * top * exp(-q))
                } }
            }
            let touched = searcher.search(image)
            guard let grain2 = indexer.index(touched.peaks.map(ObservedSpot.init)).grains.first else {
                Issue.record("pattern \(i): no longer indexed"); continue
            }
            let a = classifier.classify(touched, grain: grain2).0
            let b = DefectClassifier(predictor: indexer.predictor, options: strict).classify(touched, grain: grain2).0
            let hkls = Set(streaks.map(\.hkl))
            let inA = a.spots.filter { hkls.contains($0.hkl) }.count, inB = b.spots.filter { hkls.contains($0.hkl) }.count
            streakCount += hkls.count; kept += inA; keptStrict += inB
            print("GND pattern \(i): of \(hkls.count) streaks touched by a faint spot, \(inA) read (\(inB) counting every touching spot)")
            #expect(a.defectClass == .gnd, "pattern \(i) read as \(a.defectClass.rawValue) (\(a.reason ?? ""))")
        }
        #expect(patterns >= 3, "\(patterns) GND patterns read")
        #expect(kept >= streakCount - 2, "\(kept) of \(streakCount) touched streaks read")
        #expect(keptStrict <= kept - streakCount / 2, "\(keptStrict) of \(streakCount) counting every touching spot")
    }

    /// Faint GND bands on the MarCCD geometry (the strongest spot 1/5 of the default counts, spreads
    /// 0.6-0.85° as in the confounded scans, seeds 9500+): noise dips of 10-15 % along a band are not
    /// resolved sub-peaks (`maximumDipRatio` 0.8). 9 of 12 read as GND (8 at 0.9, the value before);
    /// the other three still see deeper noise dips ("spot labels disagree"): a dip test that knows the
    /// profile's noise is the open lead (docs/classification.md).
    @Test func faintGNDBandsAreNotSplitByNoise() throws {
        var pipeline = try Pipeline(detector: "marccd")
        pipeline.simulator.brightestSpotCounts /= 5
        let material = pipeline.material
        let indexer = try pipeline.indexer()
        let co = pipeline.classifierOptions
        var loose = co
        loose.maximumDipRatio = 0.9
        var read = 0, readLoose = 0, indexed = 0
        for i in 0..<12 {
            var g = SeededGenerator(seed: UInt64(9500 + i))
            let u = Quaternion.random(using: &g).matrix
            let axis = Quaternion.random(using: &g).matrix * Vec3(0, 0, 1)
            let defect = DefectModel.gnd(axis: axis, spread: 0.6 + 0.25 * g.uniform(), profile: .uniform)
            let found = PeakSearcher(options: pipeline.peakOptions).search(pipeline.simulator.simulate(PatternTruth(defect: defect, orientation: u),
                                                                                                     seed: UInt64(9600 + i)))
            guard let grain = indexer.index(found.peaks.map(ObservedSpot.init)).grains.first,
                  material.misorientation(grain.orientation, u) < 2 else { continue }
            indexed += 1
            let a = DefectClassifier(predictor: indexer.predictor, options: co).classify(found, grain: grain).0
            #expect([.gnd, .unclassified].contains(a.defectClass), "pattern \(i) read as \(a.defectClass.rawValue)")
            if a.defectClass == .gnd { read += 1 }
            if DefectClassifier(predictor: indexer.predictor, options: loose).classify(found, grain: grain).0.defectClass == .gnd { readLoose += 1 }
        }
        print("faint GND bands on marccd: \(indexed) of 12 indexed, read \(read) (\(readLoose) at a dip ratio of 0.9)")
        #expect(indexed >= 11, "\(indexed) of 12 indexed")
        #expect(read >= 9 && read >= readLoose, "\(read) of \(indexed) read as GND, \(readLoose) at a dip ratio of 0.9")
    }
}
