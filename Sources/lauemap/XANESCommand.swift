import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueXANES

struct XANESCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xanes",
        abstract: "Micro-XANES: normalise spectra as Larch does, edge-energy maps (docs/xanes.md).",
        subcommands: [XANESNormalizeCommand.self]
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
    @Option(help: "Pre-edge range start, relative to e0 (eV).")
    var pre1: Double?
    @Option(help: "Pre-edge range end, relative to e0 (eV).")
    var pre2: Double?
    @Option(help: "Post-edge range start, relative to e0 (eV).")
    var norm1: Double?
    @Option(help: "Post-edge range end, relative to e0 (eV).")
    var norm2: Double?
    @Option(help: "Degree of the post-edge polynomial (0-5).")
    var nnorm: Int?

    @Flag(help: "JSON output with Larch's names (e0, edge_step, pre1, pre2, norm1, norm2, nnorm, half_height_e, white_line_e, energy, norm, flat).")
    var json = false

    func run() throws {
        try reportingErrors {
            let s = try Spectrum.read(path: spectrum)
            let r = try EdgeNormalization.normalize(s, PreEdgeRanges(e0: e0, pre1: pre1, pre2: pre2, norm1: norm1, norm2: norm2, nnorm: nnorm))
            let half = r.halfHeightEnergy, white = r.whiteLineEnergy()
            if json {
                let object: [String: Any] = [
                    "file": spectrum, "e0": r.e0, "edge_step": r.edgeStep, "pre1": r.pre1, "pre2": r.pre2, "norm1": r.norm1,
                    "norm2": r.norm2, "nnorm": r.nnorm, "npre": r.npre, "pre_offset": r.preOffset, "pre_slope": r.preSlope,
                    "norm_coefs": r.normCoefficients, "half_height_e": half ?? NSNull(), "white_line_e": white ?? NSNull(),
                    "energy": r.energy, "norm": r.norm, "flat": r.flat,
                ]
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
