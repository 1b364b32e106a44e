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
}
