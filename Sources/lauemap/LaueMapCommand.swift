import ArgumentParser
import Foundation
import LaueCore
#if canImport(Glibc)
import Glibc
import CMalloc
#endif

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
        MemoryTuning.apply()
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

/// The allocator settings of the command-line process (docs/performance.md, "Process"). A frame and the
/// peak search's frame-sized buffers are tens of megabytes: by default glibc maps each from the kernel
/// and returns it on free, so every frame's pages are faulted in (and zeroed) again, 4 kB at a time.
/// Here large buffers come from the main heap, which grows in `heapStep` steps, keeps what is freed for
/// the next frame, and is backed by transparent huge pages where the kernel offers them on request.
enum MemoryTuning {
    /// Heap growth step and the size below which buffers come from the heap, bytes.
    static let heapStep: Int32 = 64 << 20
    static let heapBufferLimit: Int32 = 1 << 30

    static func apply() {
        #if canImport(Glibc)
        guard mallopt(M_MMAP_THRESHOLD, heapBufferLimit) == 1, mallopt(M_TRIM_THRESHOLD, heapBufferLimit) == 1,
              mallopt(M_TOP_PAD, heapStep) == 1 else { return }
        // Grow the heap once by a frame's worth and ask for huge pages over the new part (a hint:
        // ignored where transparent huge pages are off). The freed block stays in the heap.
        guard let probe = malloc(Int(heapStep)) else { return }
        free(probe)
        let top = Int(bitPattern: sbrk(0))
        let page = 2 << 20
        let start = (Int(bitPattern: probe) + page - 1) / page * page
        if top > start { madvise(UnsafeMutableRawPointer(bitPattern: start), top - start, MADV_HUGEPAGE) }
        #endif
    }
}
