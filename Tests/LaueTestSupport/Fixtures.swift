import Foundation

/// Locates test fixtures in the package's Fixtures/ folder. Large binary fixtures are stored
/// xz-compressed (`NAME.xz`); they are decompressed once into `.build/fixture-cache/`.
public enum Fixtures {
    /// The package root (two levels above this file's folder).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var folder: URL { root.appendingPathComponent("Fixtures") }

    /// Path of fixture `name` (relative to Fixtures/), decompressing `name.xz` when needed.
    public static func path(_ name: String) -> String {
        let plain = folder.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: plain) { return plain }
        let compressed = plain + ".xz"
        guard FileManager.default.fileExists(atPath: compressed) else { return plain }
        let cache = root.appendingPathComponent(".build/fixture-cache")
        try? FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let target = cache.appendingPathComponent(name.replacingOccurrences(of: "/", with: "__")).path
        if FileManager.default.fileExists(atPath: target) { return target }
        // Decompress to a private name, then rename: concurrent tests never see a partial file.
        let temp = target + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "xz -dc '\(compressed)' > '\(temp)'"]
        try? p.run()
        p.waitUntilExit()
        if p.terminationStatus == 0 { rename(temp, target) } else { unlink(temp) }
        return target
    }

    /// A fresh temporary folder for one test, inside one folder per test process that is removed when
    /// the process exits (simulated 2048² scans take gigabytes; runs must not fill the disk).
    /// LAUEMAP_KEEP_TEST_FILES=1 keeps them.
    public static func temporaryFolder(_ label: String = "test") -> String {
        let dir = (testRoot as NSString).appendingPathComponent("\(label)-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Decoded JSON of a fixture.
    public static func json(_ name: String) -> Any? {
        guard let data = FileManager.default.contents(atPath: path(name)) else { return nil }
        return try? JSONSerialization.jsonObject(with: data)
    }
}

extension Fixtures {
    /// The `lauemap` executable built next to the test bundle (tools/test builds it with the tests).
    public static var lauemapExecutable: String? {
        var candidates: [String] = []
        if let arg0 = CommandLine.arguments.first {
            var dir = URL(fileURLWithPath: arg0).deletingLastPathComponent()
            // Inside an .xctest bundle on some platforms: walk up to the build folder.
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("lauemap").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        candidates += ["release", "debug"].map { root.appendingPathComponent(".build/\($0)/lauemap").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// The temporary folder of this test process (see `Fixtures.temporaryFolder`).
let testRoot: String = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("lauemap-tests-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    if ProcessInfo.processInfo.environment["LAUEMAP_KEEP_TEST_FILES"] == nil {
        atexit { _ = try? FileManager.default.removeItem(atPath: testRoot) }
    }
    return root
}()

extension Fixtures {
    /// The Python of `tools/install-deps --test` (h5py, silx, orix), or nil when it was not installed.
    public static var python: String? {
        let p = root.appendingPathComponent(".build/python-venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }

    /// Runs `tools/check_outputs.py` with `arguments` (independent checks of LaueMap's outputs by
    /// silx / orix); nil when no Python checker is installed.
    public static func checkOutputs(_ arguments: [String]) throws -> Command? {
        guard let python else { return nil }
        return try Command.run(python, [root.appendingPathComponent("tools/check_outputs.py").path] + arguments)
    }
}
