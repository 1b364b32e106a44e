import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueXANES
import LaueSimulation
import LaueScan
import LaueCorrelation

struct XANESCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xanes",
        abstract: "Micro-XANES: normalise spectra as Larch does, edge-energy maps (docs/xanes.md).",
        subcommands: [XANESNormalizeCommand.self, XANESMapCommand.self]
    )
}

struct XANESNormalizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "normalize",
        abstract: "Normalise one spectrum exactly as Larch's pre_edge (find_e0, pre-edge line, post-edge polynomial).",
        discussion: """
            SPECTRUM: two columns (energy eV, mu) or XDI (mu from mutrans, or ln(i0/itrans), or ifluor/i0). \
            Ranges are relative to e0 in eV; those not given take Larch's defaults. Also reports the \
            interpolated half-height energy (norm = 0.5) and the white-line energy (largest norm in [e0, e0+30]).
            """
    )

    @Argument(help: "Spectrum file.")
    var spectrum: String

    @Option(help: "Edge energy (eV); default: Larch's find_e0.")
    var e0: Double?
    @Option(parsing: .unconditional, help: "Pre-edge range start, relative to e0 (eV).")
    var pre1: Double?
    @Option(parsing: .unconditional, help: "Pre-edge range end, relative to e0 (eV).")
    var pre2: Double?
    @Option(parsing: .unconditional, help: "Post-edge range start, relative to e0 (eV).")
    var norm1: Double?
    @Option(parsing: .unconditional, help: "Post-edge range end, relative to e0 (eV).")
    var norm2: Double?
    @Option(help: "Degree of the post-edge polynomial (0-5).")
    var nnorm: Int?

    @Flag(help: "JSON output with Larch's names (e0, edge_step, pre1, pre2, norm1, norm2, nnorm, half_height_e, white_line_e, energy, norm, flat, pre_edge, post_edge).")
    var json = false

    func run() throws {
        try reportingErrors {
            let s = try Spectrum.read(path: spectrum)
            let r = try EdgeNormalization.normalize(s, PreEdgeRanges(e0: e0, pre1: pre1, pre2: pre2, norm1: norm1, norm2: norm2, nnorm: nnorm))
            let half = r.halfHeightEnergy, white = r.whiteLineEnergy()
            if json {
                var object = r.json()
                object["file"] = spectrum
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                emit(String(decoding: data, as: UTF8.self))
            } else {
                emit("""
                    \(spectrum): \(r.energy.count) points, \(r.energy.first!)-\(r.energy.last!) eV
                    e0 \(r.e0) eV   edge step \(String(format: "%.6g", r.edgeStep))
                    ranges: pre1 \(r.pre1) pre2 \(r.pre2) norm1 \(r.norm1) norm2 \(r.norm2) nnorm \(r.nnorm)\(r.npre == 0 ? " (pre-edge: constant)" : "")
                    half-height energy \(half.map { String(format: "%.4f", $0) } ?? "none") eV   white line \(white.map { String($0) } ?? "none") eV
                    """)
            }
        }
    }
}

/// How a XANES map file is read: options shared by `xanes map` and `correlate`.
struct XANESInputOptions: ParsableArguments {
    @Option(help: "Energies file (one per line, eV or keV) for TIFF stacks or XRF map files without energies.")
    var energies: String?
    @Option(help: "HDF5 dataset of the stack [energies, rows, columns] (default: /xanes/data, /exchange/data or /data).")
    var dataset: String?
    @Option(help: "HDF5 dataset of the energies (default: /xanes/energy, /exchange/energy or /energy).")
    var energyPath: String?
    @Option(help: "Pixel step in micrometres, X or X,Y (required when the file does not carry it).")
    var stepUm: String?
    @Option(help: "Centre of the first pixel in micrometres, X,Y.")
    var originUm: String?
    @Option(help: "Element channel of XRF map files (MAPS or PyXRF), e.g. Co or Co_K: the map is then one file per energy.")
    var channel: String?

    func geometry() throws -> XANESMapReader.Geometry {
        func pair(_ text: String?, _ name: String) throws -> (x: Double, y: Double)? {
            guard let text else { return nil }
            let v = try numbers(text, option: name, counts: [1, 2], form: "X or X,Y in micrometres")
            return (v[0], v.count == 2 ? v[1] : v[0])
        }
        return XANESMapReader.Geometry(stepUm: try pair(stepUm, "step-um"), originUm: try pair(originUm, "origin-um"))
    }

    /// Reads a map from one path (stack) or several (XRF map files, with --channel).
    func read(_ paths: [String]) throws -> XANESMap {
        if let channel { return try XANESMapReader.readXRFMaps(paths: paths, channel: channel, energies: energies, geometry: try geometry()) }
        guard paths.count == 1 else { throw LaueError(.invalidArgument, "several map files need --channel (one XRF map file per energy)") }
        return try XANESMapReader.read(path: paths[0], energies: energies, dataset: dataset, energyPath: energyPath, geometry: try geometry())
    }
}

/// Normalisation ranges as options.
struct RangeOptions: ParsableArguments {
    @Option(help: "Edge energy (eV) for every pixel; default: from the particle-mean spectrum.")
    var e0: Double?
    @Option(parsing: .unconditional, help: "Pre-edge range start, relative to e0 (eV).")
    var pre1: Double?
    @Option(parsing: .unconditional, help: "Pre-edge range end, relative to e0 (eV).")
    var pre2: Double?
    @Option(parsing: .unconditional, help: "Post-edge range start, relative to e0 (eV).")
    var norm1: Double?
    @Option(parsing: .unconditional, help: "Post-edge range end, relative to e0 (eV).")
    var norm2: Double?
    @Option(help: "Degree of the post-edge polynomial.")
    var nnorm: Int?

    var ranges: PreEdgeRanges { PreEdgeRanges(e0: e0, pre1: pre1, pre2: pre2, norm1: norm1, norm2: norm2, nnorm: nnorm) }
}

struct XANESMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Per-pixel edge energy, edge step and reference fraction of a XANES map (HDF5 + CSV + PNG).",
        discussion: """
            STACK: plain HDF5 stack, multi-page TIFF or folder of TIFFs (with --energies), or one XRF map file \
            per energy (MAPS or PyXRF, with --channel). Every pixel is normalised as Larch's pre_edge with one set \
            of ranges fixed from the particle-mean spectrum; pixels with too small an edge step are masked with the \
            reason. Writes OUT/edge_map.h5, edge_map.csv and PNG maps.
            """
    )

    @Argument(help: "XANES map file(s).")
    var stack: [String]
    @Option(help: "Output folder.")
    var out: String
    @OptionGroup var input: XANESInputOptions
    @OptionGroup var ranges: RangeOptions
    @Option(help: "Two reference spectra for the fraction map, FIRST,SECOND (the fraction is FIRST's).")
    var references: String?
    @Flag(help: "Leave the reference fraction unbounded (default: clamped to [0, 1]).")
    var unbounded = false
    @Option(help: "Mask pixels whose edge step is below this fraction of the particle's median.")
    var minimumEdgeStep: Double = 0.2

    func run() throws {
        try reportingErrors {
            let map = try input.read(stack)
            var options = EdgeMapOptions()
            options.ranges = ranges.ranges
            options.minimumEdgeStep = minimumEdgeStep
            options.boundedFraction = !unbounded
            if let references {
                let parts = references.split(separator: ",").map(String.init)
                guard parts.count == 2 else { throw LaueError(.invalidArgument, "--references takes FIRST,SECOND") }
                options.references = (try Spectrum.read(path: parts[0]), try Spectrum.read(path: parts[1]))
            }
            let t0 = Date()
            let edge = try EdgeMap.analyse(map, options: options)
            let seconds = Date().timeIntervalSince(t0)
            let written = try EdgeMapOutputs.write(edge, to: out, title: (stack[0] as NSString).lastPathComponent)
            let valid = edge.edgeEnergy.filter(\.isFinite).sorted()
            let r = edge.ranges
            emit(String(format: "%d x %d pixels, %d energies: %d valid (%.0f ms); ranges e0 %.2f pre %g..%g norm %g..%g nnorm %d; median edge energy %.3f eV",
                        map.grid.columns, map.grid.rows, map.energies.count, valid.count, 1000 * seconds, r.e0 ?? .nan, r.pre1 ?? .nan, r.pre2 ?? .nan,
                        r.norm1 ?? .nan, r.norm2 ?? .nan, r.nnorm ?? 0, valid.isEmpty ? Double.nan : valid[valid.count / 2]))
            for m in PixelMask.allCases where m != .valid {
                let n = edge.mask.filter { $0 == m }.count
                if n > 0 { emit("  \(n) masked: \(m.reason)") }
            }
            emit("outputs: " + written.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        }
    }
}

struct CorrelateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correlate",
        abstract: "Relate a scan's defect map to micro-XANES edge shifts before and after delithiation.",
        discussion: """
            Edge maps of BEFORE and AFTER (the same ranges relative to each map's e0), each registered onto the \
            Laue grid (coarse FFT cross-correlation, then rigid refinement of the correlation; the XANES edge step \
            against the Laue --channel), area-averaged onto the Laue grid; per class N/mean/SD/median of the edge \
            energies and of the shift, Welch and Mann-Whitney tests with a spatial permutation p, bootstrap \
            intervals, Pearson and Spearman between streaking extent and shift. Refuses registrations with too \
            little overlap or similarity (give --manual-before/--manual-after to override). Outputs in OUT \
            (docs/xanes.md).
            """
    )

    @Option(help: "Scan run output folder (patterns.csv) with the defect classes.")
    var defects: String
    @Option(parsing: .upToNextOption, help: "XANES map before delithiation (file, or XRF map files with --channel).")
    var before: [String]
    @Option(parsing: .upToNextOption, help: "XANES map after delithiation.")
    var after: [String]
    @Option(help: "Output folder.")
    var out: String
    @OptionGroup var input: XANESInputOptions
    @Option(help: "Laue channel for registration: n_peaks, n_indexed, particle, or a channel recorded with the scan (e.g. xia_sum_fluoCo, a column channel_<name> of patterns.csv).")
    var laueChannel: String = "n_peaks"
    @Option(help: "Transform of the before map by hand: ROTATION_DEG,TX_UM,TY_UM (XANES frame -> Laue frame).")
    var manualBefore: String?
    @Option(help: "Transform of the after map by hand.")
    var manualAfter: String?
    @Option(help: "Largest rotation searched (deg).")
    var maximumRotation: Double = 12
    @Option(help: "Toroidal shifts for the spatial permutation tests.")
    var permutations: Int = 999
    @Option(help: "Random seed (bootstrap, permutations).")
    var seed: UInt64 = 1

    func run() throws {
        try reportingErrors {
            let channel = DefectMap.Channel(name: laueChannel)
            let defectMap = try DefectMap.load(scanOutput: defects, channel: channel)
            let beforeMap = try input.read(before), afterMap = try input.read(after)
            let (edgeBefore, edgeAfter) = try EdgeMap.analysePair(before: beforeMap, after: afterMap)
            var options = CorrelationOptions()
            options.registration.maximumRotation = maximumRotation
            options.manualBefore = try manualBefore.map(transform)
            options.manualAfter = try manualAfter.map(transform)
            options.permutations = permutations
            options.seed = seed
            let r = try CorrelationAnalysis.run(defects: defectMap, before: edgeBefore, after: edgeAfter, options: options)
            try EdgeMapOutputs.write(edgeBefore, to: (out as NSString).appendingPathComponent("before"), title: "before")
            try EdgeMapOutputs.write(edgeAfter, to: (out as NSString).appendingPathComponent("after"), title: "after")
            let written = try CorrelationOutputs.write(r, xanesStepBefore: GriddedMap(grid: edgeBefore.grid, values: edgeBefore.edgeStep), to: out,
                                                       title: (defects as NSString).lastPathComponent)
            emit((try? String(contentsOfFile: (out as NSString).appendingPathComponent("summary.md"), encoding: .utf8)) ?? "")
            emit("outputs in \(out): " + written.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + ", before/, after/")
        }
    }

    func transform(_ text: String) throws -> RigidTransform {
        let v = try numbers(text, option: "manual-before/--manual-after", counts: [3], form: "ROTATION_DEG,TX_UM,TY_UM")
        return RigidTransform(rotationDegrees: v[0], translationX: v[1], translationY: v[2])
    }
}

struct SimulateXANES: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xanes",
        abstract: "Synthetic before/after XANES maps of a particle whose edge shift depends on its defect map.",
        discussion: """
            The defect map comes from a scan run (--defects OUT) or is a built-in synthetic particle, written to \
            OUT/defects/patterns.csv so that 'lauemap correlate --defects OUT/defects' can use it. The XANES grid \
            has its own step and size and sits at --rotation-deg and --offset-um in the Laue frame. Writes \
            OUT/before.h5 and OUT/after.h5 (plain layout, docs/xanes.md) and OUT/truth.json.
            """
    )

    @Option(help: "Output folder.")
    var out: String
    @Option(help: "Scan run output folder (patterns.csv) for the defect map (default: a synthetic particle).")
    var defects: String?
    @Option(help: "XANES grid COLUMNSxROWS.")
    var grid: String = "56x56"
    @Option(help: "XANES step (µm).")
    var stepUm: Double = 0.4
    @Option(parsing: .unconditional, help: "Rotation of the XANES frame in the Laue frame (deg).")
    var rotationDeg: Double = 5
    @Option(help: "Laue-frame position of the XANES frame's origin (the map centre), X,Y in µm (default: the defect map's centre).")
    var offsetUm: String?
    @Option(parsing: .unconditional, help: "Edge shift of every particle pixel after delithiation (eV).")
    var globalShift: Double = 1.5
    @Option(parsing: .unconditional, help: "Extra shift of GND and tilt-boundary + GND pixels (eV).")
    var gndShift: Double = 0.8
    @Option(parsing: .unconditional, help: "Extra shift of tilt-boundary pixels (eV).")
    var tiltShift: Double = 0.3
    @Option(parsing: .unconditional, help: "Extra shift per degree of streaking extent (eV/deg).")
    var shiftPerDegree: Double = 0
    @Option(help: "Noise SD relative to the signal.")
    var noise: Double = 0.01
    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    func run() throws {
        try reportingErrors {
            let dims = try parseGrid(grid, minimum: 4)
            let defectMap: DefectMap
            if let defects {
                defectMap = try DefectMap.load(scanOutput: defects)
            } else {
                let d = SyntheticDefectMap(seed: seed)
                defectMap = DefectMap(grid: d.grid, classes: d.classes, streakExtent: d.streakExtent, channel: d.intensity.map { $0 * 30 }, name: "synthetic")
                try writeDefects(d, to: (out as NSString).appendingPathComponent("defects"))
            }
            let g = defectMap.grid
            let half = (Double(dims.columns - 1) / 2 * stepUm, Double(dims.rows - 1) / 2 * stepUm)
            let xanesGrid = MapGrid(columns: dims.columns, rows: dims.rows, stepX: stepUm, stepY: stepUm, originX: -half.0, originY: -half.1)
            var offset = (g.x(0) + 0.5 * Double(g.columns - 1) * g.stepX, g.y(0) + 0.5 * Double(g.rows - 1) * g.stepY)
            if let offsetUm {
                let v = try numbers(offsetUm, option: "offset-um", counts: [2], form: "X,Y in micrometres")
                offset = (v[0], v[1])
            }
            var sim = XANESSimulation(laueGrid: g, classes: defectMap.classes.map { c in c.flatMap { [.unindexed, .failed].contains($0) ? nil : $0 } },
                                      streakExtent: defectMap.streakExtent, xanesGrid: xanesGrid)
            sim.rotationDegrees = rotationDeg
            sim.offsetUm = offset
            sim.globalShift = globalShift
            sim.classShift = [.gnd: gndShift, .tiltBoundaryGND: gndShift, .tiltBoundary: tiltShift]
            sim.shiftPerDegree = shiftPerDegree
            sim.noise = noise
            sim.seed = seed
            let r = try sim.run()
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try XANESMapReader.writeHDF5(r.before, to: (out as NSString).appendingPathComponent("before.h5"))
            try XANESMapReader.writeHDF5(r.after, to: (out as NSString).appendingPathComponent("after.h5"))
            let truth: [String: Any] = [
                "transform_xanes_to_laue": ["rotation_deg": rotationDeg, "translation_x_um": offset.0, "translation_y_um": offset.1],
                "global_shift_ev": globalShift, "gnd_shift_ev": gndShift, "tilt_shift_ev": tiltShift, "shift_per_degree_ev": shiftPerDegree,
                "noise_relative": noise, "seed": seed, "edge_before_ev": sim.edgeBefore,
            ]
            try AtomicFile.write(try JSONSerialization.data(withJSONObject: truth, options: [.prettyPrinted, .sortedKeys]),
                                 to: (out as NSString).appendingPathComponent("truth.json"))
            emit("wrote before.h5 and after.h5 (\(dims.columns) x \(dims.rows) pixels, \(sim.energies.count) energies) and truth.json in \(out)"
                 + (defects == nil ? "; defect map in \(out)/defects/patterns.csv" : ""))
        }
    }

    /// The synthetic defect map as a patterns.csv (one indexed row per particle point).
    func writeDefects(_ d: SyntheticDefectMap, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var lines = [CSVTable.line(PatternRecord.columns)]
        for j in 0..<d.grid.rows {
            for i in 0..<d.grid.columns {
                let p = j * d.grid.columns + i
                var r = PatternRecord(index: p, file: "synthetic_\(i)_\(j)", xUm: d.grid.x(i), yUm: d.grid.y(j),
                                      status: d.classes[p] == nil ? .unindexed : .indexed, defectClass: d.classes[p] ?? .unindexed,
                                      reason: d.classes[p] == nil ? "outside the synthetic particle" : "")
                r.peakCount = Int((d.intensity[p] * 30).rounded()) + 2
                r.indexedCount = d.classes[p] == nil ? 0 : r.peakCount
                r.streakExtent = d.streakExtent[p].isFinite ? d.streakExtent[p] : nil
                lines.append(r.csvLine)
            }
        }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: (folder as NSString).appendingPathComponent("patterns.csv"))
    }
}

/// Comma-separated numbers of an option (`parseNumbers`), exactly `counts` of them, e.g. "0.5,0.25".
func numbers(_ text: String, option: String, counts: Set<Int>, form: String) throws -> [Double] {
    guard let values = try? parseNumbers(text, option: "--" + option), counts.contains(values.count) else {
        throw LaueError(.invalidArgument, "--\(option) takes \(form), not \"\(text)\"")
    }
    return values
}
