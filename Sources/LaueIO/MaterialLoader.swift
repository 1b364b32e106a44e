import Foundation
import LaueCore

extension Material {
    /// A built-in material by name, or a JSON material file by path (docs/file-formats.md).
    public static func load(_ nameOrPath: String) throws -> Material {
        if FileManager.default.fileExists(atPath: nameOrPath) {
            return try Material(json: Data(try readTextFile(nameOrPath).utf8), source: nameOrPath)
        }
        if nameOrPath.hasSuffix(".json") {
            throw LaueError(.unreadable, file: nameOrPath, "no such material file")
        }
        return try builtin(nameOrPath)
    }

    /// Materials from a comma-separated list of built-in names or JSON files (`--material A,B`: the
    /// phases of a run, the first the scan's own); blank entries are skipped.
    public static func loadList(_ list: String) throws -> [Material] {
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw LaueError(.invalidArgument, "--material: no material named") }
        return try names.map { try load($0) }
    }
}
