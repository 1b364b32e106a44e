import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueScan

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn other programs' results into LaueMap run folders.",
        subcommands: [ImportLaueToolsCommand.self]
    )
}

struct ImportLaueToolsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lauetools",
        abstract: "A LaueTools raster summary (*_SUMMARY_*.dat) as a LaueMap run: maps, KAM, grains, GROD, results.h5, orientations.ctf.",
        discussion: """
            Positions from dxymicrons, orientations from matstarlab (converted from LaueTools' OR frame to its lab frame), \
            npeaks and pixdev per image. The summary has no spot shapes: indexed rows are 'unclassified' \
            (docs/scan-pipeline.md, "Importing LaueTools results").
            """
    )

    @Argument(help: "LaueTools summary file.")
    var summary: String

    @Option(help: "Material: built-in name or JSON material file.")
    var material: String

    @Option(help: "Output folder (a LaueMap run folder).")
    var out: String

    func run() throws {
        try reportingErrors {
            let written = try LaueToolsImport.run(summary: summary, material: try Material.load(material), out: out)
            emit("imported \(summary) into \(out): " + written.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        }
    }
}
