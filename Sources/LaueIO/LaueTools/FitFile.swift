import Foundation
import LaueCore

/// A LaueTools `.fit` result: per grain, the orientation matrix UB (q = UB * B0 * hkl, LaueTools frame)
/// and the table of indexed spots; plus the detector parameters used.
public struct LaueToolsFit: Sendable {
    public struct Grain: Sendable {
        public var material: String
        public var grainIndex: Int
        public var meanDeviation: Double?
        public var columns: [String]
        public var rows: [[Double]]
        public var ub: Mat3?
        public var b0: Mat3?
        /// Deviatoric strain in the crystal frame, in units of 1e-3 (as LaueTools prints it).
        public var deviatoricStrain: Mat3?
        /// The same in LaueTools' sample2 frame (40° sample tilt), 1e-3.
        public var deviatoricStrainSample: Mat3?
        public var eulerAngles: [Double]?

        public init(material: String, grainIndex: Int = 0, meanDeviation: Double? = nil, columns: [String],
                    rows: [[Double]], ub: Mat3?, b0: Mat3? = nil, deviatoricStrain: Mat3? = nil, deviatoricStrainSample: Mat3? = nil,
                    eulerAngles: [Double]? = nil) {
            self.material = material; self.grainIndex = grainIndex; self.meanDeviation = meanDeviation
            self.columns = columns; self.rows = rows; self.ub = ub; self.b0 = b0
            self.deviatoricStrain = deviatoricStrain; self.deviatoricStrainSample = deviatoricStrainSample; self.eulerAngles = eulerAngles
        }

        public func column(_ name: String) -> [Double]? {
            guard let i = columns.firstIndex(of: name) else { return nil }
            return rows.map { $0[i] }
        }

        /// Miller indices of the rows.
        public var hkls: [HKL] {
            guard let h = column("h"), let k = column("k"), let l = column("l") else { return [] }
            return (0..<h.count).map { HKL(Int(h[$0].rounded()), Int(k[$0].rounded()), Int(l[$0].rounded())) }
        }
    }

    public var grains: [Grain]
    /// [dd, xcen, ycen, xbet, xgam].
    public var detectorParameters: [Double]?
    public var pixelSize: Double?
    /// (rows, cols).
    public var frameDimensions: [Int]?
    public var detectorLabel: String?

    public init(grains: [Grain], detectorParameters: [Double]? = nil, pixelSize: Double? = nil,
                frameDimensions: [Int]? = nil, detectorLabel: String? = nil) {
        self.grains = grains; self.detectorParameters = detectorParameters; self.pixelSize = pixelSize
        self.frameDimensions = frameDimensions; self.detectorLabel = detectorLabel
    }

    /// The calibration recorded in the file, when complete.
    public var calibration: DetectorCalibration? {
        guard let p = detectorParameters, p.count >= 5, let ps = pixelSize else { return nil }
        let dims = frameDimensions ?? []
        let known = LaueToolsCalibration.knownDetectors[detectorLabel ?? ""]
        return DetectorCalibration(distance: p[0], xcen: p[1], ycen: p[2], xbet: p[3], xgam: p[4], pixelSize: ps,
                                   width: dims.count == 2 ? dims[1] : (known?.width ?? 0),
                                   height: dims.count == 2 ? dims[0] : (known?.height ?? 0),
                                   detectorLabel: detectorLabel ?? "")
    }

    /// Largest |h|, |k|, |l| a spot table may hold.
    public static let maximumIndex = 1000

    public static func read(path: String) throws -> LaueToolsFit {
        try parse(readTextFile(path), source: path)
    }

    static func numbers(_ line: String) -> [Double] {
        line.replacingOccurrences(of: "#", with: " ").replacingOccurrences(of: "[", with: " ")
            .replacingOccurrences(of: "]", with: " ").replacingOccurrences(of: "(", with: " ")
            .replacingOccurrences(of: ")", with: " ").replacingOccurrences(of: ",", with: " ")
            .split(separator: " ").compactMap { Double($0) }
    }

    public static func parse(_ text: String, source: String? = nil) throws -> LaueToolsFit {
        let lines = text.components(separatedBy: .newlines)
        var fit = LaueToolsFit(grains: [])
        var current: Grain? = nil
        var inTable = false
        func matrix(at i: Int) throws -> Mat3 {
            let vals = (1...3).flatMap { i + $0 < lines.count ? numbers(lines[i + $0]) : [] }
            guard vals.count == 9 else {
                throw LaueError(.invalidFormat, file: source, item: "line \(i + 1)", "expected a 3x3 matrix after \"\(lines[i])\"")
            }
            guard vals.allSatisfy({ $0.isFinite && abs($0) < 1e6 }) else {
                throw LaueError(.invalidFormat, file: source, item: "line \(i + 1)", "the matrix after \"\(lines[i])\" holds non-finite or absurd values")
            }
            return Mat3(vals)
        }
        func next(_ i: Int) -> String {
            i + 1 < lines.count ? lines[i + 1].replacingOccurrences(of: "#", with: "").trimmingCharacters(in: .whitespaces) : ""
        }
        var i = 0
        while i < lines.count {
            let line = lines[i].trimmingCharacters(in: .whitespaces)
            let bare = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            if bare.hasPrefix("Number of indexed spots") {
                if let g = current { fit.grains.append(g) }
                current = Grain(material: "", grainIndex: fit.grains.count, columns: [], rows: [], ub: nil)
                inTable = false
            } else if line.hasPrefix("#") || line.isEmpty {
                inTable = false
                if current == nil && (bare.hasPrefix("UB matrix") || bare.hasPrefix("spot_index")) {
                    current = Grain(material: "", columns: [], rows: [], ub: nil)
                }
                if bare.hasPrefix("Element") { current?.material = next(i); i += 1 }
                else if bare.hasPrefix("grainIndex") {
                    let previous = current?.grainIndex ?? 0
                    current?.grainIndex = Int(next(i).replacingOccurrences(of: "G_", with: "")) ?? previous
                    i += 1
                }
                else if bare.hasPrefix("Mean Deviation") || bare.hasPrefix("Mean Pixel Deviation") {
                    current?.meanDeviation = Double(bare.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "")
                }
                else if bare.hasPrefix("spot_index") || bare.hasPrefix("spot#") {
                    current?.columns = bare.split(separator: " ").map(String.init)
                    inTable = true
                }
                else if bare.hasPrefix("UB matrix") { current?.ub = try matrix(at: i); i += 3 }
                else if bare.hasPrefix("B0 matrix") { current?.b0 = try matrix(at: i); i += 3 }
                else if bare.hasPrefix("deviatoric strain in direct crystal frame") {
                    current?.deviatoricStrain = try matrix(at: i); i += 3
                }
                else if bare.hasPrefix("deviatoric strain in sample2 frame") {
                    current?.deviatoricStrainSample = try matrix(at: i); i += 3
                }
                else if bare.hasPrefix("Euler angles") { current?.eulerAngles = numbers(next(i)); i += 1 }
                else if bare.hasPrefix("DetectorParameters") { fit.detectorParameters = numbers(next(i)); i += 1 }
                else if bare.hasPrefix("pixelsize") { fit.pixelSize = numbers(next(i)).first; i += 1 }
                else if bare.hasPrefix("Frame dimensions") {
                    let dims = numbers(next(i)).map { InputFile.integer($0, in: 1...InputFile.maximumFrameSide) }
                    guard dims.allSatisfy({ $0 != nil }) else {
                        throw LaueError(.invalidFormat, file: source, item: "Frame dimensions (line \(i + 2))",
                                        "\(next(i)) is not a frame size in pixels (1-\(InputFile.maximumFrameSide))")
                    }
                    fit.frameDimensions = dims.map { $0! }
                    i += 1
                }
                else if bare.hasPrefix("CCDLabel") { fit.detectorLabel = next(i); i += 1 }
            } else if inTable, let columns = current?.columns {
                let v = numbers(line)
                guard v.count == columns.count else {
                    throw LaueError(.invalidFormat, file: source, item: "line \(i + 1)",
                                    "expected \(columns.count) numbers in the spot table, found \(v.count)")
                }
                // Miller indices must be integers a crystal can have.
                for name in ["h", "k", "l"] {
                    if let c = columns.firstIndex(of: name), InputFile.integer(v[c], in: -LaueToolsFit.maximumIndex...LaueToolsFit.maximumIndex) == nil {
                        throw LaueError(.invalidFormat, file: source, item: "line \(i + 1)", "\(name) = \(v[c]) is not a Miller index")
                    }
                }
                current?.rows.append(v)     // in place: no copy of the table per row
            }
            i += 1
        }
        if let g = current { fit.grains.append(g) }
        guard !fit.grains.isEmpty, fit.grains.contains(where: { $0.ub != nil }) else {
            throw LaueError(.invalidFormat, file: source, "no '#UB matrix in q= (UB) B0 G*' block: not a LaueTools .fit file")
        }
        return fit
    }

    /// Writes the file in the layout of LaueTools' indexing output (`IOLaueTools.writefitfile`), which
    /// LaueTools' own readers parse, atomically.
    public func write(to path: String, peakListName: String = "", software: String = "LaueMap") throws {
        func mat(_ m: Mat3, _ digits: Int) -> String {
            let rows = m.rows.map { "[" + $0.map { String(format: "%.\(digits)f", $0) }.joined(separator: " ") + "]" }
            return "#[" + rows[0] + "\n# " + rows[1] + "\n# " + rows[2] + "]\n"
        }
        let date = DateFormatter.localizedString(from: Date(), dateStyle: .medium, timeStyle: .medium)
        var s = ""
        for g in grains {
            s += "#Strain and Orientation Refinement from experimental file: \(peakListName)\n"
            s += "#File created at \(date) with \(software)\n"
            s += "#Number of indexed spots: \(g.rows.count)\n"
            s += "#Element\n#\(g.material)\n#grainIndex\n#G_\(g.grainIndex)\n"
            if let d = g.meanDeviation { s += String(format: "#Mean Deviation(pixel): %.3f\n", d) }
            s += "##" + g.columns.joined(separator: " ") + "\n"
            for r in g.rows { s += r.map { String(format: "%.6f", $0) }.joined(separator: " ") + "\n" }
            if let ub = g.ub { s += "#UB matrix in q= (UB) B0 G* \n" + mat(ub, 9) }
            if let b0 = g.b0 {
                s += "#B0 matrix in q= UB (B0) G*\n" + mat(b0, 8)
                if let ub = g.ub {
                    s += "#UBB0 matrix in q= (UB B0) G* i.e. recip. basis vectors are columns in LT frame: astar = UBB0[:,0], bstar = UBB0[:,1], cstar = UBB0[:,2]. (abcstar as columns on xyzlab1, xlab1 = ui, ui = unit vector along incident beam)\n"
                    s += mat(ub * b0, 8)
                }
            }
            if let e = g.eulerAngles { s += "#Euler angles phi theta psi (deg)\n#[" + e.map { String(format: "%.3f", $0) }.joined(separator: " ") + "]\n" }
            if let d = g.deviatoricStrain { s += "#deviatoric strain in direct crystal frame (10-3 unit)\n" + mat(d, 2) }
            if let d = g.deviatoricStrainSample { s += "#deviatoric strain in sample2 frame (10-3 unit)\n" + mat(d, 2) }
        }
        if let label = detectorLabel { s += "#CCDLabel\n#\(label)\n" }
        if let p = detectorParameters { s += "#DetectorParameters\n#[" + p.map { String($0) }.joined(separator: ", ") + "]\n" }
        if let ps = pixelSize { s += "#pixelsize\n#\(ps)\n" }
        if let d = frameDimensions, d.count == 2 { s += "#Frame dimensions\n#[\(Double(d[0])), \(Double(d[1]))]\n" }
        try AtomicFile.write(s, to: path)
    }
}
