import Foundation
import LaueCore

/// LaueTools detector calibration files (`.det`) and the calibration trailer of `.cor` peak lists.
///
/// A `.det` file starts with one line `dd, xcen, ycen, xbet, xgam, pixelsize, dim1, dim2` where
/// (dim1, dim2) = (rows, columns), followed by free text and optional `# key : value` lines
/// (CCDLabel, framedim, ...).
public enum LaueToolsCalibration {
    /// Frame size and pixel size of the detectors LaueTools names (`dict_CCD`), for files that omit them.
    public static let knownDetectors: [String: (width: Int, height: Int, pixelSize: Double)] = [
        "MARCCD165": (2048, 2048, 0.079142),
        "sCMOS": (2016, 2018, 0.0734),
        "sCMOS_fliplr": (2016, 2018, 0.0734),
        "PRINCETON": (2048, 2048, 0.079),
    ]

    public static func readDet(path: String) throws -> DetectorCalibration {
        try parseDet(readTextFile(path), source: path)
    }

    public static func parseDet(_ text: String, source: String? = nil) throws -> DetectorCalibration {
        let lines = text.components(separatedBy: .newlines)
        guard let firstIndex = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw LaueError(.invalidFormat, file: source, "empty calibration file")
        }
        let first = lines[firstIndex]
        let fields = first.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
            .split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
        let numbers = fields.compactMap(Double.init)
        guard numbers.count == fields.count, numbers.count >= 5 else {
            throw LaueError(.invalidFormat, file: source, item: "line \(firstIndex + 1)",
                            "expected 'dd, xcen, ycen, xbet, xgam, pixelsize, dim1, dim2', found \"\(first.prefix(80))\"")
        }
        var keys: [String: String] = [:]
        for line in lines where line.hasPrefix("#") {
            let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
            if let colon = body.firstIndex(of: ":") {
                keys[body[..<colon].trimmingCharacters(in: .whitespaces)] =
                    body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let label = keys["CCDLabel"] ?? ""
        let known = knownDetectors[label]
        var pixel = numbers.count > 5 ? numbers[5] : (known?.pixelSize ?? 0)
        if let p = keys["pixelsize"].flatMap(Double.init), numbers.count <= 5 { pixel = p }
        func side(_ v: Double, _ name: String) throws -> Int {
            guard let n = InputFile.integer(v, in: 1...InputFile.maximumFrameSide) else {
                throw LaueError(.invalidFormat, file: source, item: name, "\(v) is not a frame size in pixels (1-\(InputFile.maximumFrameSide))")
            }
            return n
        }
        var height = numbers.count > 6 ? try side(numbers[6], "dim1") : (known?.height ?? 0)
        var width = numbers.count > 7 ? try side(numbers[7], "dim2") : (known?.width ?? 0)
        if let text = keys["framedim"], let dims = try parseFrameDimensions(text, source: source) { (height, width) = dims }
        let calib = DetectorCalibration(distance: numbers[0], xcen: numbers[1], ycen: numbers[2], xbet: numbers[3],
                                        xgam: numbers[4], pixelSize: pixel, width: width, height: height,
                                        detectorLabel: label, azimuth: try azimuth(keys, source: source))
        do { try calib.validate() } catch let e as LaueError { throw LaueError(.invalidFormat, file: source, e.reason) }
        return calib
    }

    /// LaueTools' `kf_direction` values LaueMap reads, as detector azimuths (degrees about the beam
    /// from the top position; `DetectorCalibration.azimuth`). Transmission (`X>0`) and back reflection
    /// (`X<0`) use other detector formulas and are refused.
    public static let kfDirections: [String: Double] = ["Z>0": 0, "Y>0": 90, "Y<0": -90]

    /// The detector azimuth of a `.det` file: its `azimuth` key (LaueMap's, any angle), else its
    /// `kf_direction`, else 0 (top).
    static func azimuth(_ keys: [String: String], source: String?) throws -> Double {
        if let text = keys["azimuth"] {
            guard let a = Double(text), a.isFinite, abs(a) <= DetectorCalibration.maximumTilt else {
                throw LaueError(.invalidFormat, file: source, item: "azimuth", "'\(LaueError.excerpt(text))' is not an angle in degrees (at most \(DetectorCalibration.maximumTilt) in size)")
            }
            return a
        }
        guard let kf = keys["kf_direction"] else { return 0 }
        guard let a = kfDirections[kf] else {
            throw LaueError(.invalidFormat, file: source, item: "kf_direction",
                            "'\(LaueError.excerpt(kf))' is not a reflection geometry LaueMap reads (\(kfDirections.keys.sorted().joined(separator: ", ")))")
        }
        return a
    }

    /// "framedim: (2048, 2048)" as (dim1, dim2); nil when it does not hold two numbers, an error when
    /// they are not frame sizes.
    static func parseFrameDimensions(_ s: String, source: String?) throws -> (Int, Int)? {
        let v = s.split(whereSeparator: { !"0123456789.eE+-naifNAIF".contains($0) }).compactMap { Double($0) }
        guard v.count == 2 else { return nil }
        guard let a = InputFile.integer(v[0], in: 1...InputFile.maximumFrameSide),
              let b = InputFile.integer(v[1], in: 1...InputFile.maximumFrameSide) else {
            throw LaueError(.invalidFormat, file: source, item: "framedim", "\(s) is not a frame size in pixels (1-\(InputFile.maximumFrameSide))")
        }
        return (a, b)
    }

    /// Writes a `.det` file that LaueTools' `readCalib_det_file` reads, atomically.
    public static func writeDet(_ c: DetectorCalibration, material: String = "", orientation: Mat3? = nil, to path: String) throws {
        var s = String(format: "%.5f, %.4f, %.4f, %.7f, %.7f, %.8f, %d, %d\n", c.distance, c.xcen, c.ycen, c.xbet, c.xgam,
                       c.pixelSize, c.height, c.width)
        s += "Sample-Detector distance(IM), xO, yO, angle1, angle2, pixelsize, dim1, dim2\n"
        s += "Calibration written by LaueMap\n"
        if let m = orientation {
            s += "Orientation Matrix:\n"
            s += "[" + m.rows.map { "[" + $0.map { String(format: "%.7f", $0) }.joined(separator: ",") + "]" }.joined(separator: ",") + "]\n"
        }
        if !material.isEmpty { s += "# Material : \(material)\n" }
        s += "# dd : \(c.distance)\n# xcen : \(c.xcen)\n# ycen : \(c.ycen)\n# xbet : \(c.xbet)\n# xgam : \(c.xgam)\n"
        s += "# pixelsize : \(c.pixelSize)\n# xpixelsize : \(c.pixelSize)\n# ypixelsize : \(c.pixelSize)\n"
        if !c.detectorLabel.isEmpty { s += "# CCDLabel : \(c.detectorLabel)\n" }
        s += "# framedim : (\(c.height), \(c.width))\n"
        // LaueTools' name for the geometry when it has one; the exact angle in LaueMap's own key.
        s += "# kf_direction : \(kfDirections.first { $0.value == c.azimuth }?.key ?? (c.azimuth > 0 ? "Y>0" : "Y<0"))\n"
        if c.azimuth != 0 { s += "# azimuth : \(c.azimuth)\n" }
        try AtomicFile.write(s, to: path)
    }

    /// Reads the `# Calibration parameters` trailer of a LaueTools `.cor` file. The frame size is not
    /// stored there: it comes from `framedim` if present, else from the detector label, else from
    /// `frameSize` (for example the image's own size).
    public static func readCorCalibration(path: String, frameSize: (width: Int, height: Int)? = nil) throws -> DetectorCalibration {
        let text = try readTextFile(path)
        var keys: [String: String] = [:]
        for line in text.components(separatedBy: .newlines) where line.hasPrefix("#") {
            let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
            if let colon = body.firstIndex(of: ":") {
                keys[body[..<colon].trimmingCharacters(in: .whitespaces)] =
                    body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        func value(_ k: String) throws -> Double {
            guard let v = keys[k].flatMap(Double.init) else {
                throw LaueError(.missingData, file: path, "no '\(k)' in the calibration trailer")
            }
            return v
        }
        let label = keys["CCDLabel"] ?? ""
        var width = frameSize?.width ?? knownDetectors[label]?.width ?? 0
        var height = frameSize?.height ?? knownDetectors[label]?.height ?? 0
        if let text = keys["framedim"], let dims = try parseFrameDimensions(text, source: path) { (height, width) = dims }
        guard width > 0 && height > 0 else {
            throw LaueError(.missingData, file: path, "the frame size is not in the file: give the image or a .det")
        }
        let calib = DetectorCalibration(distance: try value("dd"), xcen: try value("xcen"), ycen: try value("ycen"),
                                        xbet: try value("xbet"), xgam: try value("xgam"), pixelSize: try value("pixelsize"),
                                        width: width, height: height, detectorLabel: label)
        do { try calib.validate() } catch let e as LaueError { throw LaueError(.invalidFormat, file: path, e.reason) }
        return calib
    }

    /// Reads a calibration from a `.det`, or from the trailer of a `.cor`, by extension.
    public static func read(path: String, frameSize: (width: Int, height: Int)? = nil) throws -> DetectorCalibration {
        if (path as NSString).pathExtension.lowercased() == "cor" {
            return try readCorCalibration(path: path, frameSize: frameSize)
        }
        return try readDet(path: path)
    }
}
