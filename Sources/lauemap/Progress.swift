import Foundation

/// Progress on standard error: a bar on a terminal, periodic log lines otherwise.
final class ProgressReporter {
    let label: String
    let total: Int
    let start = Date()
    let isTerminal = isatty(2) != 0
    var lastLog = Date.distantPast
    var lastPercent = -1
    /// Work already done before this run (a resumed scan): not counted in the rate.
    let initial: Int

    init(label: String, total: Int, initial: Int = 0) {
        self.label = label; self.total = max(total, 1); self.initial = initial
    }

    func update(_ done: Int) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done - initial) / elapsed : 0
        let percent = done * 100 / total
        let eta = rate > 0 ? Double(total - done) / rate : 0
        if isTerminal {
            let width = 30, filled = width * done / total
            let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
            let line = String(format: "\r%@ [%@] %3d%% %d/%d  %.1f/s  eta %@", label, bar, percent, done, total, rate, Self.duration(eta))
            FileHandle.standardError.write(Data(line.utf8))
            if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if done >= total || percent >= lastPercent + 10 || Date().timeIntervalSince(lastLog) > 30 {
            lastPercent = percent
            lastLog = Date()
            let line = String(format: "%@: %d/%d (%d%%) %.1f/s elapsed %@\n", label, done, total, percent, rate, Self.duration(elapsed))
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }
}
