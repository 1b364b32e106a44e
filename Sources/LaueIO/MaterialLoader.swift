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
    /// phases of a run, the first the scan's own); an empty entry (\"Si,\") is an error.
    public static func loadList(_ list: String) throws -> [Material] {
        let names = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard names.contains(where: { !$0.isEmpty }) else { throw LaueError(.invalidArgument, "--material: no material named") }
        guard !names.contains(where: \.isEmpty) else { throw LaueError(.invalidArgument, "--material \"\(list)\": an empty name between commas") }
        return try names.map { try load($0) }
    }
}
