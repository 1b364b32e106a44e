import ArgumentParser
import Foundation
import LaueCore
import LaueScan

struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Defect-fraction table of one or more scans (particles).",
        discussion: """
            Counts and percentages of each class among all patterns and among defect-present patterns, per \
            scan and overall, with 95% bootstrap confidence intervals across scans (docs/scan-pipeline.md).
            """
    )

    @Argument(help: "Output folders of scan run or scan merge (one per scan).")
    var folders: [String]

    @Option(help: "Output format: csv, md or latex.")
    var format: String = "md"

    @Option(help: "Columns: scan (one per scan plus overall) or all (overall only).")
    var by: String = "scan"

    @Option(help: ArgumentHelp("Count only the patterns indexed as this phase (runs of several materials).",
                               discussion: "Unindexed and failed patterns belong to no phase and are then left out."))
    var phase: String?

    func run() throws {
        try reportingErrors {
            guard let f = DefectFractionTable.Format(rawValue: format.lowercased()) else {
                throw LaueError(.invalidArgument, "--format must be csv, md or latex, not \"\(format)\"")
            }
            guard ["scan", "all"].contains(by) else { throw LaueError(.invalidArgument, "--by must be scan or all, not \"\(by)\"") }
            let table = try DefectFractionTable.load(folders: folders, phase: phase)
            emit(table.render(f, perScan: by == "scan"))
        }
    }
}
