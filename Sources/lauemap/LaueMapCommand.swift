import ArgumentParser
import Foundation
import LaueCore

@main
struct LaueMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lauemap",
        abstract: "Laue X-ray microdiffraction defect mapping.",
        discussion: "Every command reads LaueTools-compatible inputs; see docs/getting-started.md.",
        version: LaueMapInfo.version,
        subcommands: [InfoCommand.self, PredictCommand.self, PeaksCommand.self, IndexCommand.self, SimulateCommand.self, ScanCommand.self, ImportCommand.self, TableCommand.self, ReportCommand.self, XANESCommand.self, CorrelateCommand.self, DemoCommand.self]
    )

    /// `--config FILE` is replaced by the file's options before parsing (`ConfigFile`).
    static func main() {
        let arguments: [String]
        do { arguments = try ConfigFile.expand(Array(CommandLine.arguments.dropFirst())) } catch let e as LaueError {
            FileHandle.standardError.write(Data("lauemap: error: \(e.description)\n".utf8))
            Foundation.exit(1)
        } catch { Foundation.exit(1) }
        main(arguments)
    }
}


/// Runs a command body and turns LaueMap errors into one clear line on standard error and exit code 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as LaueError {
        FileHandle.standardError.write(Data("lauemap: error: \(e.description)\n".utf8))
        throw ExitCode(1)
    }
}

/// Standard output helper that does not buffer-lose on exit.
func emit(_ s: String) {
    FileHandle.standardOutput.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8))
}
