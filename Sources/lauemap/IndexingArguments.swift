import ArgumentParser
import Foundation
import LaueCore
import LaueIndexing

/// The indexing options shared by `index`, `scan run` and `scan submit` (defaults are
/// `IndexingOptions`'s; each is documented in docs/indexing.md).
struct IndexingArguments: ParsableArguments {
    private static let defaults = IndexingOptions()

    @Option(help: "Energy band of the predicted spots in keV, as MIN,MAX (34-ID-E: up to ~30).")
    var energy: String = "\(defaults.energyRange.lowerBound),\(defaults.energyRange.upperBound)"

    @Flag(help: "Also refine the deviatoric strain (5 components; strain_* columns and a strain map in scans).")
    var strain = false

    @Option(help: "Fewest peaks a pattern needs to be indexed from scratch.")
    var minPeaks: Int = defaults.minimumPeaks

    @Option(help: "Fewest indexed spots an orientation found from scratch needs.")
    var minIndexed: Int = defaults.minimumIndexed

    @Option(help: ArgumentHelp("Below this many indexed spots, an orientation found from scratch must index more spots than any other candidate, twin or pseudo-symmetric mate.",
                               discussion: "A tie (LiCoO2's obverse/reverse twin predicts every spot direction) is refused as ambiguous; 0 turns the rule off."))
    var unambiguousIndexed: Int = defaults.unambiguousIndexed

    @Option(help: ArgumentHelp("Largest chance accepted that unrelated peaks explain an orientation found from scratch.",
                               discussion: "Binomial tail of k matched of n predicted reflections with the frame's peak density."))
    var maxChance: Double = defaults.maximumChance

    @Option(help: "Largest mean pixel deviation accepted for an orientation found from scratch (or --max-deviation-deg, if more pixels).")
    var maxDeviation: Double = defaults.maximumMeanDeviation

    @Option(help: "The same limit as scattered-beam angle at the detector normal, degrees: the larger of the two applies.")
    var maxDeviationDeg: Double = defaults.maximumMeanDeviationDegrees

    @Option(help: "Fraction of the peaks a grain must explain (0: no such rule; other grains and phases do not count against it).")
    var minFraction: Double = defaults.minimumFraction

    @Option(help: ArgumentHelp("When the 12 strongest peaks give no grain, search once more from this many (0: no second try).",
                               discussion: "Split spots (stacking boundaries) and a second crystal spread the strongest peaks over sub-grains and crystals (docs/indexing.md, Candidates)."))
    var retrySeedSpots: Int = defaults.retrySeedSpots

    /// The indexing options these choose, on top of `base`; throws on values out of range.
    func options(_ base: IndexingOptions = IndexingOptions()) throws -> IndexingOptions {
        try check(minPeaks >= 3 && minPeaks <= 10_000, "min-peaks", minPeaks, "3...10000")
        try check(minIndexed >= 3 && minIndexed <= 10_000, "min-indexed", minIndexed, "3...10000")
        try check(unambiguousIndexed >= 0 && unambiguousIndexed <= 10_000, "unambiguous-indexed", unambiguousIndexed, "0...10000")
        try check(maxChance > 0 && maxChance <= 1, "max-chance", maxChance, "in (0, 1]")
        try check(maxDeviation > 0 && maxDeviation <= 1000, "max-deviation", maxDeviation, "in (0, 1000]")
        try check(maxDeviationDeg >= 0 && maxDeviationDeg <= 10, "max-deviation-deg", maxDeviationDeg, "in [0, 10]")
        try check(minFraction >= 0 && minFraction <= 1, "min-fraction", minFraction, "in [0, 1]")
        try check(retrySeedSpots >= 0 && retrySeedSpots <= 100, "retry-seed-spots", retrySeedSpots, "0...100")
        var o = base
        o.energyRange = try parseEnergyBand(energy)
        o.refineStrain = strain
        o.minimumPeaks = minPeaks
        o.minimumIndexed = minIndexed
        o.unambiguousIndexed = unambiguousIndexed
        o.maximumChance = maxChance
        o.maximumMeanDeviation = maxDeviation
        o.maximumMeanDeviationDegrees = maxDeviationDeg
        o.minimumFraction = minFraction
        o.retrySeedSpots = retrySeedSpots
        return o
    }

    /// The same options as command-line arguments (for the shards of `scan submit`).
    var arguments: [String] {
        ["--energy", energy] + (strain ? ["--strain"] : []) + [
            "--min-peaks", String(minPeaks), "--min-indexed", String(minIndexed), "--unambiguous-indexed", String(unambiguousIndexed), "--max-chance", String(maxChance),
            "--max-deviation", String(maxDeviation), "--max-deviation-deg", String(maxDeviationDeg), "--min-fraction", String(minFraction),
            "--retry-seed-spots", String(retrySeedSpots),
        ]
    }
}

/// Scan-guided indexing options of `scan run` and `scan submit` (docs/scan-pipeline.md, docs/indexing.md).
struct ScanGuidedArguments: ParsableArguments {
    private static let defaults = IndexingOptions()

    @Flag(help: ArgumentHelp("Index every point from its own spots only.",
                             discussion: "By default, points left unindexed are indexed again from the orientations of their indexed neighbours (indexed_by = neighbour in patterns.csv)."))
    var scratchOnly = false

    @Option(help: "Fewest indexed spots for an orientation refined from a neighbour's (scan-guided indexing).")
    var seededMinIndexed: Int = defaults.seededMinimumIndexed

    @Option(help: "Largest chance accepted for an orientation refined from a neighbour's.")
    var maxSeededChance: Double = defaults.maximumSeededChance

    @Option(help: "Largest mean pixel deviation accepted for an orientation refined from a neighbour's.")
    var maxSeededDeviation: Double = defaults.maximumSeededMeanDeviation

    @Option(help: ArgumentHelp("The same limit in degrees of scattered-beam angle at the detector normal, when that is more pixels.",
                               discussion: "A streaked spot's maximum lies off the mean orientation's prediction by a share of the band's width in degrees, whatever the pixel size."))
    var maxSeededDeviationDeg: Double = defaults.maximumSeededMeanDeviationDegrees

    @Option(help: "Largest rotation (degrees) between a neighbour's orientation and the one refined from it.")
    var maxSeedRotation: Double = defaults.maximumSeedRotation

    /// The scan-guided thresholds on top of `base`; throws on values out of range.
    func options(_ base: IndexingOptions) throws -> IndexingOptions {
        try check(seededMinIndexed >= 2 && seededMinIndexed <= 10_000, "seeded-min-indexed", seededMinIndexed, "2...10000")
        try check(maxSeededChance > 0 && maxSeededChance <= 1, "max-seeded-chance", maxSeededChance, "in (0, 1]")
        try check(maxSeededDeviationDeg >= 0 && maxSeededDeviationDeg <= 90, "max-seeded-deviation-deg", maxSeededDeviationDeg, "in [0, 90] (0: the pixel limit alone)")
        for (name, v) in [("max-seeded-deviation", maxSeededDeviation), ("max-seed-rotation", maxSeedRotation)] {
            try check(v > 0 && v <= 1000, name, v, "in (0, 1000]")
        }
        var o = base
        o.seededMinimumIndexed = seededMinIndexed
        o.maximumSeededChance = maxSeededChance
        o.maximumSeededMeanDeviation = maxSeededDeviation
        o.maximumSeededMeanDeviationDegrees = maxSeededDeviationDeg
        o.maximumSeedRotation = maxSeedRotation
        return o
    }

    var arguments: [String] {
        (scratchOnly ? ["--scratch-only"] : []) + [
            "--seeded-min-indexed", String(seededMinIndexed), "--max-seeded-chance", String(maxSeededChance),
            "--max-seeded-deviation", String(maxSeededDeviation), "--max-seeded-deviation-deg", String(maxSeededDeviationDeg),
            "--max-seed-rotation", String(maxSeedRotation),
        ]
    }
}

/// Throws "--OPTION must be RANGE, not VALUE" unless `ok`.
private func check(_ ok: Bool, _ option: String, _ value: Any, _ range: String) throws {
    guard ok else { throw LaueError(.invalidArgument, "--\(option) must be \(range), not \(value)") }
}
