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
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    public static func line(_ fields: [String]) -> String { fields.map(quote).joined(separator: ",") }

    public var text: String {
        var s = CSVTable.line(header) + "\n"
        for r in rows { s += CSVTable.line(r) + "\n" }
        return s
    }

    public func write(to path: String) throws { try AtomicFile.write(text, to: path) }

    /// Splits one CSV record into fields (quoted fields may hold commas, doubled quotes and newlines).
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

    /// A decimal number field (digits, sign, point, exponent, or the words inf and nan for the caller
    /// to judge), surrounding spaces allowed; not hexadecimal, no control characters.
    public static func decimal(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.unicodeScalars.allSatisfy({ "0123456789+-.eE".unicodeScalars.contains($0) })
                || ["inf", "-inf", "+inf", "nan"].contains(t.lowercased()) else { return nil }
        return Double(t)
    }

    public static func read(path: String) throws -> CSVTable {
        try parse(readTextFile(path), source: path)
    }

    public static func parse(_ text: String, source: String? = nil) throws -> CSVTable {
        var lines = records(of: text)
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let first = lines.first else { throw LaueError(.invalidFormat, file: source, "empty CSV file") }
        let header = fields(of: first).map { $0.trimmingCharacters(in: .whitespaces) }
        var rows: [[String]] = []
        for (n, l) in lines.dropFirst().enumerated() where !l.trimmingCharacters(in: .whitespaces).isEmpty {
            let f = fields(of: l)
            guard f.count == header.count else {
                throw LaueError(.invalidFormat, file: source, item: "record \(n + 2)", "expected \(header.count) fields, found \(f.count)")
            }
            rows.append(f)
        }
        return CSVTable(header: header, rows: rows)
    }

    /// The records of a CSV text: split at newlines outside quoted fields (`CSVRecordSplitter`), a
    /// carriage return before the newline dropped.
    static func records(of text: String) -> [Substring] {
        var out: [Substring] = []
        var splitter = CSVRecordSplitter()
        let bytes = Array(text.utf8)
        var start = 0
        func add(_ end: Int) {
            var e = end
            if e > start, bytes[e - 1] == 0x0D { e -= 1 }
            out.append(Substring(String(decoding: bytes[start..<e], as: UTF8.self)))
        }
        for i in bytes.indices where splitter.ends(at: bytes[i]) {
            add(i)
            start = i + 1
        }
        if start < bytes.count { add(bytes.count) }
        return out
    }
}

/// Where CSV records end in a byte stream (RFC 4180): at a newline outside a quoted field. A quote
/// opens a quoted field only at the field's start, and a doubled quote inside one is a quote, as
/// `CSVTable.fields(of:)` reads them. Feed every byte in order.
public struct CSVRecordSplitter: Sendable {
    private var quoted = false, fieldStart = true, quoteInQuoted = false

    public init() {}

    /// Whether `byte` (a newline outside quotes) ends the current record.
    public mutating func ends(at byte: UInt8) -> Bool {
        if quoted {
            if !quoteInQuoted {
                if byte == 0x22 { quoteInQuoted = true }
                return false
            }
            quoteInQuoted = false
            if byte == 0x22 { return false }            // a doubled quote: still inside
            quoted = false                              // the quote closed the field; read this byte outside
        }
        switch byte {
        case 0x0A: fieldStart = true; return true
        case 0x2C: fieldStart = true
        case 0x22 where fieldStart: quoted = true; fieldStart = false
        default: fieldStart = false
        }
        return false
    }
}

/// Number formatting for CSV output: with `digits`, fixed-point text (`%.<digits>f`); without, the
/// shortest round-trip text; "" for nil, NaN and infinities.
public func csvNumber(_ v: Double?, digits: Int? = nil) -> String {
    guard let v, v.isFinite else { return "" }
    if let d = digits { return fixedPoint(v, digits: d) }
    return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
}

/// `String(format: "%.<digits>f", v)` (digits 0-17) through the C library's `vsnprintf`: the same text,
/// without Foundation's formatter, which costs several microseconds a number on Linux (a peak table
/// has thousands of numbers per frame).
public func fixedPoint(_ v: Double, digits: Int) -> String {
    let d = max(0, min(digits, fixedPointFormats.count - 1))
    // %.17f of the largest double: 309 digits before the point, 17 after, sign, point, NUL.
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 336) { buffer in
        let n = fixedPointFormats[d].withCString { format in withVaList([v]) { vsnprintf(buffer.baseAddress!, 336, format, $0) } }
        guard n > 0, n < 336 else { return String(format: "%.\(d)f", v) }
        return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: Int(n)), as: UTF8.self)
    }
}

private let fixedPointFormats = (0...17).map { "%.\($0)f" }
