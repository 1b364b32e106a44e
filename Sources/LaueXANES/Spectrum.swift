import Foundation
import LaueCore

/// One absorption spectrum: energies (eV, strictly increasing) and mu(E).
public struct Spectrum: Sendable, Equatable {
    public var energy: [Double]
    public var mu: [Double]
    /// Where it came from (file name), for messages.
    public var name: String

    /// Drops non-finite pairs, sorts by energy and nudges repeated energies up by 0.0005 eV, as
    /// Larch's `remove_nans2` and `remove_dups` do. Throws with fewer than 3 usable points.
    public init(energy: [Double], mu: [Double], name: String = "spectrum") throws {
        guard energy.count == mu.count else {
            throw LaueError(.invalidFormat, file: name, "\(energy.count) energies but \(mu.count) mu values")
        }
        var pairs = zip(energy, mu).filter { $0.0.isFinite && $0.1.isFinite }
        guard pairs.count >= 3 else { throw LaueError(.missingData, file: name, "fewer than 3 finite (energy, mu) points") }
        // Values far outside physics would overflow the fits (squares, exponentials): refuse them.
        if let (k, p) = pairs.enumerated().first(where: { !(Spectrum.energyRange ~= $0.element.0) }).map({ ($0.0, $0.1) }) {
            throw LaueError(.invalidFormat, file: name, item: "point \(k + 1)",
                            "energy \(p.0) eV outside \(Spectrum.energyRange.lowerBound)...\(Spectrum.energyRange.upperBound) eV")
        }
        if let (k, p) = pairs.enumerated().first(where: { abs($0.element.1) > Spectrum.maximumMu }).map({ ($0.0, $0.1) }) {
            throw LaueError(.invalidFormat, file: name, item: "point \(k + 1)", "mu \(p.1) beyond ±\(Spectrum.maximumMu)")
        }
        if !zip(pairs, pairs.dropFirst()).allSatisfy({ $0.0.0 <= $0.1.0 }) { pairs.sort { $0.0 < $1.0 } }
        var e = pairs.map(\.0)
        for i in 1..<e.count where e[i] <= e[i - 1] { e[i] = e[i - 1] + Spectrum.tinyEnergy }
        self.energy = e
        self.mu = pairs.map(\.1)
        self.name = name
    }

    /// Larch's TINY_ENERGY.
    public static let tinyEnergy = 0.0005
    /// Energies accepted, eV (X-ray absorption edges lie between ~0.1 keV and 0.2 MeV).
    public static let energyRange: ClosedRange<Double> = 1...1e6
    /// Largest |mu| accepted (absorbance or count ratios; beyond this a file is broken).
    public static let maximumMu = 1e15

    public var count: Int { energy.count }

    /// mu linearly interpolated at `energies` (held at the end values outside the measured range).
    public func resampled(to energies: [Double]) -> Spectrum {
        var s = self
        s.mu = LarchMath.interp(energies, energy, mu)
        s.energy = energies
        return s
    }
}

extension Spectrum {
    /// Reads a spectrum file: XDI (by its `# XDI/` first line) or plain columns.
    public static func read(path: String) throws -> Spectrum {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LaueError(.unreadable, file: path, "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("# XDI/") { return try readXDI(text: text, name: path) }
        return try readColumns(text: text, name: path)
    }

    /// Two (or more) whitespace- or comma-separated columns, energy (eV) then mu; `#` lines and a
    /// non-numeric header line are skipped. Energies in keV (all below 100) are converted to eV.
    public static func readColumns(text: String, name: String) throws -> Spectrum {
        var e: [Double] = [], m: [Double] = []
        for (n, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).compactMap { Double($0) }
            guard fields.count >= 2 else {
                if e.isEmpty { continue }           // a column header
                throw LaueError(.invalidFormat, file: name, item: "line \(n + 1)", "expected two numbers (energy, mu)")
            }
            e.append(fields[0]); m.append(fields[1])
        }
        if let last = e.max(), last < 100 { e = e.map { $0 * 1000 } }
        return try Spectrum(energy: e, mu: m, name: name)
    }

    /// XDI 1.0: columns named by `# Column.N:` lines. mu is taken from a `mutrans`/`mu`/`xmu` column,
    /// else ln(i0/itrans) (transmission), else ifluor/i0 (fluorescence).
    public static func readXDI(text: String, name: String) throws -> Spectrum {
        var columns: [String: Int] = [:]
        var rows: [[Double]] = []
        var energyUnit = "eV"
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if body.lowercased().hasPrefix("column."), let colon = body.firstIndex(of: ":") {
                    let index = Int(body[body.index(body.startIndex, offsetBy: 7)..<colon].trimmingCharacters(in: .whitespaces)) ?? 0
                    let words = body[body.index(after: colon)...].split(separator: " ").map { String($0).lowercased() }
                    if let label = words.first, index >= 1 { columns[label] = index - 1 }
                    if words.first == "energy", words.count > 1 { energyUnit = words[1] }
                }
                continue
            }
            if line.isEmpty { continue }
            let values = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }
            if !values.isEmpty { rows.append(values) }
        }
        guard let ie = columns["energy"] else { throw LaueError(.missingData, file: name, "XDI: no energy column") }
        func column(_ i: Int) throws -> [Double] {
            try rows.enumerated().map { (n, r) in
                guard i < r.count else { throw LaueError(.invalidFormat, file: name, item: "data row \(n + 1)", "missing column \(i + 1)") }
                return r[i]
            }
        }
        var energy = try column(ie)
        if energyUnit == "kev" { energy = energy.map { $0 * 1000 } }
        let mu: [Double]
        if let i = ["mutrans", "mu", "xmu", "mufluor", "normtrans"].compactMap({ columns[$0] }).first {
            mu = try column(i)
        } else if let i0 = columns["i0"], let it = columns["itrans"] ?? columns["i1"] {
            mu = zip(try column(i0), try column(it)).map { log($0 / $1) }
        } else if let i0 = columns["i0"], let f = columns["ifluor"] ?? columns["if"] {
            mu = zip(try column(f), try column(i0)).map { $0 / $1 }
        } else {
            throw LaueError(.missingData, file: name, "XDI: no mu column and no i0 with itrans or ifluor")
        }
        return try Spectrum(energy: energy, mu: mu, name: name)
    }
}
