import Foundation
import LaueCore
import LaueCorrelation
import LaueIO
import LaueScan
import LaueSimulation
import LaueTestSupport
import LaueXANES
import Testing

/// A fluorescence channel recorded with the Laue scan (BLISS `xia_sum_fluoCo`) as the registration
/// channel: carried through patterns.csv (`channel_<name>` columns), it registers the XANES map at
/// least as accurately as the number of peaks does.
@Suite struct RecordedChannelTests {
    /// The synthetic particle as a scan run's patterns.csv (n_peaks from its domain-varying Laue
    /// intensity), with a Co Kα fluorescence channel appended as the scan pipeline appends it: counts
    /// proportional to the particle's presence (800 on it, 30 off it) with Poisson-like noise.
    static func patternsWithFluorescence(_ d: SyntheticDefectMap, folder: String) throws -> String {
        var rng = SeededGenerator(seed: 99)
        var lines = [CSVTable.line(PatternRecord.columns)]
        var fluo: [Double] = []
        for p in 0..<d.grid.count {
            let (i, j) = (p % d.grid.columns, p / d.grid.columns)
            let on = d.classes[p] != nil
            var r = PatternRecord(index: p, file: "p\(p).tif", xUm: d.grid.x(i), yUm: d.grid.y(j), status: on ? .indexed : .unindexed,
                                  defectClass: d.classes[p] ?? .unindexed)
            r.peakCount = Int((d.intensity[p] * 30).rounded())
            r.streakExtent = on ? d.streakExtent[p] : nil
            lines.append(r.csvLine)
            let mean = on ? 800.0 : 30.0
            fluo.append(max(0, (mean + mean.squareRoot() * rng.normal()).rounded()))
        }
        let plain = folder + "/patterns.plain.csv"
        try (lines.joined(separator: "\n") + "\n").write(toFile: plain, atomically: true, encoding: .utf8)
        try ScanChannels.append(["xia_sum_fluoCo": fluo, "mon": [Double](repeating: 5e5, count: fluo.count)], to: plain,
                                output: folder + "/patterns.csv")
        return folder + "/patterns.csv"
    }

    @Test func fluorescenceRegistersAsWellAsPeaks() throws {
        let folder = Fixtures.temporaryFolder("recorded-channel")
        for rotation in [0.0, 6.0, -9.0] {
            let pair = SyntheticPair(rotation: rotation, offset: (10.3, 9.6))
            let file = try Self.patternsWithFluorescence(pair.defects, folder: folder)
            let sim = try pair.simulation.run()
            let edge = try EdgeMap.analyse(sim.before)
            let moving = GriddedMap(grid: edge.grid, values: edge.edgeStep)
            var errors: [String: Double] = [:]
            for name in ["n_peaks", "xia_sum_fluoCo"] {
                let defects = try DefectMap.load(scanOutput: file, channel: DefectMap.Channel(name: name))
                let r = try Registration.register(fixed: GriddedMap(grid: defects.grid, values: defects.channel), moving: moving)
                errors[name] = pair.displacement(r.transform, thickness: sim.thickness)
            }
            print(String(format: "rotation %.0f deg: RMS displacement with n_peaks %.3f µm, with xia_sum_fluoCo %.3f µm",
                         rotation, errors["n_peaks"]!, errors["xia_sum_fluoCo"]!))
            #expect(errors["xia_sum_fluoCo"]! <= max(errors["n_peaks"]!, 0.05), "rotation \(rotation): \(errors)")
        }
        // The column reaches the records, and an unknown channel is refused naming those recorded.
        let file = folder + "/patterns.csv"
        let records = try ScanOutputs.readPatterns(file)
        #expect(records.allSatisfy { $0.channels["mon"] == 5e5 && $0.channels["xia_sum_fluoCo"] != nil })
        #expect(DefectMap.Channel(name: "channel_mon") == .recorded("mon"))
        do {
            _ = try DefectMap.load(scanOutput: file, channel: .recorded("xia_sum_fluoNi"))
            Issue.record("an unknown channel was accepted")
        } catch let e as LaueError {
            #expect(e.description.contains("recorded: mon, xia_sum_fluoCo"), "\(e.description)")
        }
    }
}
