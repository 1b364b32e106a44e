import Foundation

public struct CommandError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Runs a program and returns its exit status and output.
public struct Command {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    /// posix_spawn + waitpid rather than Foundation's Process, whose exit detection waits for
    /// descendants too: the cluster start script leaves daemons behind.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Command {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("cmd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { unlink(base + ".out"); unlink(base + ".err") }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The child must not inherit other descriptors: a long-lived child holding an HDF5 file that
        // another test has open keeps HDF5's file lock, and later opens of that file fail.
        Command.closeOtherDescriptors(&actions)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw CommandError(reason: "cannot run \(executable): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code: Int32 = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = { (s: String) in (try? String(contentsOfFile: base + s, encoding: .utf8)) ?? "" }
        return Command(status: code, stdout: text(".out"), stderr: text(".err"))
    }
}

extension Command {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's posix_spawn_file_actions_addclosefrom_np (not in Swift's Glibc module), else marks
    /// every open descriptor above 2 close-on-exec.
    static func closeOtherDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
            if closeFrom(&actions, 3) == 0 { return }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
    }
}

