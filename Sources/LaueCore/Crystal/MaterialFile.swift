import Foundation

extension Material {
    /// Builds a material from the JSON material-file format (docs/file-formats.md):
    ///
    ///     { "name": "LiCoO2",
    ///       "lattice": { "a": 2.8156, "c": 14.0516, "gamma": 120 },   // or [a, b, c, alpha, beta, gamma]
    ///       "space_group": "R-3m",                                      // number, H-M or Hall symbol
    ///       "atoms": [ { "element": "Co", "xyz": [0, 0, 0] },
    ///                  { "element": "O", "xyz": [0, 0, 0.2396], "occupancy": 1, "b_iso": 0.5 } ] }
    ///
    /// Omitted lattice lengths default to `a`, omitted angles to 90 degrees.
    public init(json data: Data, source: String? = nil) throws {
        func bad(_ why: String) -> LaueError { LaueError(.invalidFormat, file: source, why) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw bad("not a JSON object")
        }
        func number(_ v: Any?) -> Double? {
            if let d = v as? Double { return d }
            if let i = v as? Int { return Double(i) }
            return nil
        }
        let name = root["name"] as? String ?? (source.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? "material")
        let lattice: Lattice
        switch root["lattice"] {
        case let list as [Any]:
            let v = list.compactMap(number)
            guard v.count == 6, list.count == 6 else { throw bad("\"lattice\" must hold six numbers a, b, c, alpha, beta, gamma") }
            lattice = Lattice(a: v[0], b: v[1], c: v[2], alpha: v[3], beta: v[4], gamma: v[5])
        case let obj as [String: Any]:
            guard let a = number(obj["a"]) else { throw bad("\"lattice\" needs \"a\"") }
            lattice = Lattice(a: a, b: number(obj["b"]) ?? a, c: number(obj["c"]) ?? a,
                              alpha: number(obj["alpha"]) ?? 90, beta: number(obj["beta"]) ?? 90,
                              gamma: number(obj["gamma"]) ?? 90)
        default:
            throw bad("missing \"lattice\"")
        }
        let sg: SpaceGroup
        do {
            if let n = root["space_group"] as? Int { sg = try SpaceGroup(number: n) }
            else if let s = root["space_group"] as? String { sg = try SpaceGroup.named(s) }
            else { throw bad("missing \"space_group\"") }
        } catch let e as LaueError { throw LaueError(e.kind, file: source, e.reason) }
        guard let atomList = root["atoms"] as? [[String: Any]], !atomList.isEmpty else {
            throw bad("missing \"atoms\" (a list of {\"element\", \"xyz\"})")
        }
        var atoms: [Atom] = []
        for (i, a) in atomList.enumerated() {
            guard let symbol = a["element"] as? String else { throw bad("atom \(i + 1) has no \"element\"") }
            guard let xyzList = a["xyz"] as? [Any], xyzList.count == 3 else {
                throw bad("atom \(i + 1) needs \"xyz\": three fractional coordinates")
            }
            let xyz = xyzList.compactMap(number)
            guard xyz.count == 3 else { throw bad("atom \(i + 1) has non-numeric coordinates") }
            let element: Element
            do { element = try Element.named(symbol) } catch { throw bad("atom \(i + 1): unknown element \"\(symbol)\"") }
            atoms.append(Atom(element, xyz[0], xyz[1], xyz[2],
                              occupancy: number(a["occupancy"]) ?? 1, bIso: number(a["b_iso"]) ?? 0))
        }
        do {
            try self.init(name: name, lattice: lattice, spaceGroup: sg, atoms: atoms)
        } catch let e as LaueError { throw LaueError(e.kind, file: source, e.reason) }
    }
}
