import ArgumentParser
import Foundation
import LaueCore
import LaueIO

/// `--config FILE.json`: settings of a command kept in a file (docs/scan-pipeline.md, "Config files").
/// The file is a JSON object whose keys are the command's long option names without the dashes
/// (`"energy": "5,30"`, `"min-peaks": 6`, `"strain": true`, `"raster": "40x30"`); its entries are
/// put in place of `--config FILE`, so options given on the command line after it win.
enum ConfigFile {
    /// `arguments` with every `--config FILE` (or `--config=FILE`) replaced by the file's options.
    static func expand(_ arguments: [String]) throws -> [String] {
        var out: [String] = []
        var k = 0
        while k < arguments.count {
            let a = arguments[k]
            var path: String? = nil
            if a == "--config" {
                guard k + 1 < arguments.count else { throw LaueError(.invalidArgument, "--config needs a file") }
                path = arguments[k + 1]; k += 2
            } else if a.hasPrefix("--config=") {
                path = String(a.dropFirst("--config=".count)); k += 1
            } else {
                out.append(a); k += 1; continue
            }
            out += try options(path!)
        }
        return out
    }

    /// One value of a config file.
    enum Value: Decodable {
        case flag(Bool), number(Double), text(String), list([String])

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let t = try? c.decode(String.self) { self = .text(t) }
            else if let l = try? c.decode([Double].self) { self = .list(l.map(ConfigFile.text)) }
            else if let l = try? c.decode([String].self) { self = .list(l) }
            else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a number, text, true/false or a list") }
        }
    }

    /// A number as an option value: integers without a decimal point.
    static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)" }

    /// The options a config file holds, as arguments.
    static func options(_ path: String) throws -> [String] {
        _ = try InputFile.requireRegular(path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count <= 1 << 20 else { throw LaueError(.invalidFormat, file: path, "a config file holds at most 1 MiB") }
        let object: [String: Value]
        do { object = try JSONDecoder().decode([String: Value].self, from: data) } catch {
            throw LaueError(.invalidFormat, file: path, "not a JSON object of option names and values (numbers, text, true/false, lists)")
        }
        var out: [String] = []
        for key in object.keys.sorted() {
            guard key.range(of: "^[a-z][a-z0-9-]*$", options: .regularExpression) != nil, key != "config" else {
                throw LaueError(.invalidFormat, file: path, item: key, "not an option name (a lower-case long option without its dashes)")
            }
            switch object[key]! {
            case .flag(let b): if b { out.append("--" + key) }
            case .number(let n): out += ["--" + key, text(n)]
            case .text(let t): out += ["--" + key, t]
            case .list(let l): out += ["--" + key, l.joined(separator: ",")]
            }
        }
        return out
    }

    /// The config files named in `arguments`: path -> text (for the run's provenance).
    static func contents(_ arguments: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for (k, a) in arguments.enumerated() {
            let path = a == "--config" && k + 1 < arguments.count ? arguments[k + 1] : (a.hasPrefix("--config=") ? String(a.dropFirst(9)) : nil)
            if let path, let data = FileManager.default.contents(atPath: path) { out[path] = String(decoding: data, as: UTF8.self) }
        }
        return out
    }
}
