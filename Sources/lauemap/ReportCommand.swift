import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "A self-contained HTML report of one or more scan runs (particles).",
        discussion: """
            Writes OUT/index.html: run summary and provenance, the defect-fraction table with 95% bootstrap \
            intervals over runs, per run a class map whose cells open their pattern (frame thumbnail with \
            indexed and predicted spots, crops of the most informative spots with the measured streak, class, \
            confidence, axis, reason), the class, streaking-extent, orientation and misorientation maps and \
            histograms of spread, tilt and streaking extent per class; with --correlation, the registration \
            overlay and edge-shift plots of lauemap correlate. No network or external script is needed to \
            open it (docs/report.md). scan run writes one for its run (OUT/report/index.html).
            """
    )

    @Argument(help: "Output folders of scan run or scan merge (one per scan or particle).")
    var folders: [String]

    @Option(help: "Folder to write index.html into.")
    var out: String

    @Option(help: "Report title.")
    var title: String = "LaueMap report"

    @Option(help: ArgumentHelp("Patterns per run whose frame is embedded (thumbnail and spot crops).",
                               discussion: "All patterns of a run with no more; otherwise evenly spaced ones. The others show their spots without the frame."))
    var frames: Int = HTMLReport.defaultFramesPerRun

    @Option(help: "Output folder of lauemap correlate to include (repeatable).")
    var correlation: [String] = []

    @Option(help: "Material of runs whose run.json does not record it (a folder with only patterns.csv): a built-in name or a JSON material file.")
    var material: String?

    func run() throws {
        try reportingErrors {
            guard frames >= 0, frames <= HTMLReport.maximumFramesPerRun else {
                throw LaueError(.invalidArgument, "--frames must be within 0...\(HTMLReport.maximumFramesPerRun), not \(frames)")
            }
            let fallback = try material.map { try Material.load($0) }
            let runs = try folders.map { try ReportedRun(folder: $0, material: fallback) }
            let path = try HTMLReport(runs: runs, title: title, framesPerRun: frames, correlations: correlation).write(to: out)
            emit("wrote \(path) (\(runs.count) run\(runs.count == 1 ? "" : "s"), \(runs.map(\.records.count).reduce(0, +)) patterns)")
        }
    }
}
