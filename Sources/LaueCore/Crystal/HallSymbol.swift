import Foundation

/// Parser for Hall's concise space-group symbols (Hall, Acta Cryst. A37 (1981) 517-525;
/// erratum A37 (1981) 921), e.g. "-F 4vw 2vw 3" or "P 31 2 (0 0 4)".
enum HallSymbol {
    /// Lattice centring translations in twelfths.
    static func centring(_ letter: Character) -> [[Int]]? {
        switch letter {
        case "P": return [[0, 0, 0]]
        case "A": return [[0, 0, 0], [0, 6, 6]]
        case "B": return [[0, 0, 0], [6, 0, 6]]
        case "C": return [[0, 0, 0], [6, 6, 0]]
        case "I": return [[0, 0, 0], [6, 6, 6]]
        case "R": return [[0, 0, 0], [8, 4, 4], [4, 8, 8]]
        case "S": return [[0, 0, 0], [4, 4, 8], [8, 8, 4]]
        case "T": return [[0, 0, 0], [4, 8, 4], [8, 4, 8]]
        case "F": return [[0, 0, 0], [0, 6, 6], [6, 0, 6], [6, 6, 0]]
        default: return nil
        }
    }

    /// Translation symbols in twelfths.
    static func translationSymbol(_ c: Character) -> [Int]? {
        switch c {
        case "a": return [6, 0, 0]
        case "b": return [0, 6, 0]
        case "c": return [0, 0, 6]
        case "n": return [6, 6, 6]
        case "u": return [3, 0, 0]
        case "v": return [0, 3, 0]
        case "w": return [0, 0, 3]
        case "d": return [3, 3, 3]
        default: return nil
        }
    }

    /// N-fold rotation about z (N = 1, 2, 3, 4, 6), row-major, hexagonal axes for 3 and 6.
    static func rotationAboutZ(_ n: Int) -> [Int] {
        switch n {
        case 2: return [-1, 0, 0, 0, -1, 0, 0, 0, 1]
        case 3: return [0, -1, 0, 1, -1, 0, 0, 0, 1]
        case 4: return [0, -1, 0, 1, 0, 0, 0, 0, 1]
        case 6: return [1, -1, 0, 1, 0, 0, 0, 0, 1]
        default: return [1, 0, 0, 0, 1, 0, 0, 0, 1]
        }
    }

    /// Re-expresses a matrix given for axis z about axis x or y by cyclic permutation of coordinates.
    static func permuted(_ m: [Int], toAxis axis: Character) -> [Int] {
        let sigma: [Int]
        switch axis {
        case "x": sigma = [2, 0, 1]
        case "y": sigma = [1, 2, 0]
        default: return m
        }
        var r = [Int](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { r[i * 3 + j] = m[sigma[i] * 3 + sigma[j]] } }
        return r
    }

    /// Two-fold rotations along face diagonals: ' (a-b for principal axis z) and " (a+b).
    static func faceDiagonal(_ symbol: Character, principal: Character) -> [Int] {
        let m = symbol == "'" ? [0, -1, 0, -1, 0, 0, 0, 0, -1] : [0, 1, 0, 1, 0, 0, 0, 0, -1]
        return permuted(m, toAxis: principal)
    }

    static func parse(_ symbol: String) throws -> [SymmetryOperation] {
        let fail = { (why: String) in LaueError(.invalidArgument, "Hall symbol \"\(symbol)\": \(why)") }
        var text = symbol.trimmingCharacters(in: .whitespaces)
        // Optional change of basis "(vx vy vz)": an origin shift in twelfths.
        var shift: [Int]? = nil
        if let open = text.firstIndex(of: "(") {
            guard let close = text.firstIndex(of: ")"), close > open else { throw fail("unbalanced parenthesis") }
            let inner = text[text.index(after: open)..<close].split(separator: " ").compactMap { Int($0) }
            guard inner.count == 3 else { throw fail("only an origin shift (vx vy vz) is supported") }
            shift = inner
            text = String(text[..<open]).trimmingCharacters(in: .whitespaces)
        }
        var tokens = text.split(separator: " ").map(String.init)
        guard !tokens.isEmpty else { throw fail("empty") }
        var lattice = tokens.removeFirst()
        let centrosymmetric = lattice.hasPrefix("-")
        if centrosymmetric { lattice.removeFirst() }
        guard lattice.count == 1, let centres = centring(Character(lattice.uppercased())) else {
            throw fail("unknown lattice symbol \(lattice)")
        }
        guard tokens.count <= 4 else { throw fail("too many matrix symbols") }

        var generators: [SymmetryOperation] = centres.map { SymmetryOperation(rotation: SymmetryOperation.identity.rotation, translation12: $0) }
        if centrosymmetric { generators.append(SymmetryOperation.identity.inverted) }

        var previousOrder = 0
        var previousAxis: Character = "z"
        for (index, token) in tokens.enumerated() {
            var chars = Array(token)
            let improper = chars.first == "-"
            if improper { chars.removeFirst() }
            guard let first = chars.first, let order = Int(String(first)), [1, 2, 3, 4, 6].contains(order) else {
                throw fail("bad matrix symbol \(token)")
            }
            chars.removeFirst()
            var screw = 0
            if let c = chars.first, let s = Int(String(c)) {
                guard s > 0 && s < order else { throw fail("bad screw component in \(token)") }
                screw = s
                chars.removeFirst()
            }
            var axis: Character? = nil
            if let c = chars.first, "xyz'\"*".contains(c) { axis = c; chars.removeFirst() }
            var translation = [0, 0, 0]
            for c in chars {
                guard let t = translationSymbol(c) else { throw fail("bad translation symbol '\(c)' in \(token)") }
                translation = zip(translation, t).map(+)
            }
            // Default axes (Hall 1981, section 3).
            if axis == nil {
                switch index {
                case 0: axis = "z"
                case 1 where order == 2: axis = (previousOrder == 2 || previousOrder == 4) ? "x" : "'"
                case 2 where order == 3: axis = "*"
                default: axis = order == 1 ? "z" : nil
                }
            }
            guard let ax = axis else { throw fail("cannot infer the axis of \(token)") }
            var rotation: [Int]
            switch ax {
            case "x", "y", "z": rotation = permuted(rotationAboutZ(order), toAxis: ax)
            case "'", "\"":
                guard order == 2 else { throw fail("face-diagonal axis needs a 2-fold in \(token)") }
                rotation = faceDiagonal(ax, principal: previousAxis)
            default:
                guard order == 3 else { throw fail("body-diagonal axis needs a 3-fold in \(token)") }
                rotation = [0, 0, 1, 1, 0, 0, 0, 1, 0]
            }
            if screw > 0 {
                let t = 12 * screw / order
                switch ax {
                case "x": translation[0] += t
                case "y": translation[1] += t
                case "z": translation[2] += t
                default: throw fail("screw component needs a principal axis in \(token)")
                }
            }
            if improper { rotation = rotation.map { -$0 } }
            generators.append(SymmetryOperation(rotation: rotation, translation12: translation))
            previousOrder = order
            if "xyz".contains(ax) { previousAxis = ax }
        }

        var ops = try closure(of: generators, symbol: symbol)
        if let v = shift {
            // Origin shift: W' = W, t' = t + (I - W) v.
            ops = ops.map { op in
                var t = op.translation12
                for i in 0..<3 {
                    t[i] += v[i] - (0..<3).reduce(0) { $0 + op.rotation[i * 3 + $1] * v[$1] }
                }
                return SymmetryOperation(rotation: op.rotation, translation12: t)
            }
        }
        return ops
    }

    /// All products of the generators, translations modulo the cell.
    static func closure(of generators: [SymmetryOperation], symbol: String) throws -> [SymmetryOperation] {
        var ops: [SymmetryOperation] = [.identity]
        var seen: Set<SymmetryOperation> = [.identity]
        var index = 0
        while index < ops.count {
            let a = ops[index]
            for g in generators {
                let p = g * a
                if seen.insert(p).inserted {
                    ops.append(p)
                    if ops.count > 192 {
                        throw LaueError(.invalidArgument, "Hall symbol \"\(symbol)\": generators do not close into a space group")
                    }
                }
            }
            index += 1
        }
        return ops
    }
}
