import Foundation
import LaueCore

/// A CSV table: a header and rows of text fields (RFC 4180 quoting when needed). pandas reads it as is.
public struct CSVTable: Sendable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]] = []) {
        self.header = header; self.rows = rows
    }

    public func column(_ name: String) -> [String]? {
        guard let i = header.firstIndex(of: name) else { return nil }
        return rows.map { i < $0.count ? $0[i] : "" }
    }

    public func index(of name: String) -> Int? { header.firstIndex(of: name) }

    static func quote(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    public static func line(_ fields: [String]) -> String { fields.map(quote).joined(separator: ",") }

    public var text: String {
        var s = CSVTable.line(header) + "\n"
        for r in rows { s += CSVTable.line(r) + "\n" }
        return s
    }

    public func write(to path: String) throws { try AtomicFile.write(text, to: path) }

    /// Splits one CSV line into fields (quoted fields may hold commas and doubled quotes).
    public static func fields(of line: Substring) -> [String] {
        var out: [String] = [], cur = "", quoted = false
        var it = line.makeIterator()
        while let c = it.next() {
            if quoted {
                if c == "\"" {
                    if let n = it.next() {
                        if n == "\"" { cur.append("\"") } else { quoted = false; if n == "," { out.append(cur); cur = "" } else { cur.append(n) } }
                    } else { quoted = false }
                } else { cur.append(c) }
            } else if c == "," { out.append(cur); cur = "" }
            else if c == "\"" && cur.isEmpty { quoted = true }
            else { cur.append(c) }
        }
        out.append(cur)
        return out
    }

    public static func read(path: String) throws -> CSVTable {
        try parse(readTextFile(path), source: path)
    }

    public static func parse(_ text: String, source: String? = nil) throws -> CSVTable {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let first = lines.first else { throw LaueError(.invalidFormat, file: source, "empty CSV file") }
        let header = fields(of: first).map { $0.trimmingCharacters(in: .whitespaces) }
        var rows: [[String]] = []
        for (n, l) in lines.dropFirst().enumerated() where !l.trimmingCharacters(in: .whitespaces).isEmpty {
            let f = fields(of: l)
            guard f.count == header.count else {
                throw LaueError(.invalidFormat, file: source, item: "line \(n + 2)", "expected \(header.count) fields, found \(f.count)")
            }
            rows.append(f)
        }
        return CSVTable(header: header, rows: rows)
    }
}

/// Number formatting for CSV output: shortest round-trip text, "" for nil and NaN.
public func csvNumber(_ v: Double?, digits: Int? = nil) -> String {
    guard let v, v.isFinite else { return "" }
    if let d = digits { return String(format: "%.\(d)f", v) }
    return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
}
