import Foundation
import LaueCore
import LaueIO

/// What produced a run's results (docs/scan-pipeline.md, "Provenance"): LaueMap's version, the scan
/// and how it was read, every setting of the peak search, indexing and classifier, the calibration,
/// the full material and a checksum of the input list (file, position and frame of every pattern).
///
/// run.json holds it with the command line and times of every invocation (`invocations`);
/// results.h5 holds it as JSON at `/entry/provenance` without the invocations, so that the
/// results.h5 of a run resumed after a kill is byte-identical to that of an uninterrupted run.
public enum Provenance {
    /// The deterministic provenance of a run of `settings` over `manifest` read from `source`.
    public static func record(settings: ScanSettings, source: ScanSource, manifest: ScanManifest) -> [String: Any] {
        [
            "lauemap_version": LaueMapInfo.version,
            "scan": ["path": source.path, "layout": manifest.layout.rawValue, "options": source.options],
            "inputs": inputs(manifest),
            "material": material(settings.material),
            "other_phases": settings.otherPhases.map(material),
            "calibration": reflect(settings.calibration),
            "side_detectors": zip(manifest.sideDetectors, settings.sideCalibrations).map { d, c -> [String: Any] in
                ["id": d.id, "calibration_file": d.calibrationPath ?? NSNull(), "calibration": reflect(c)]
            },
            "settings": [
                "peak_search": reflect(settings.peakOptions),
                "indexing": reflect(settings.indexingOptions),
                "classifier": reflect(settings.classifierOptions),
                "scan_guided_indexing": settings.neighbourIndexing.map { reflect($0) } ?? NSNull(),
            ] as [String: Any],
        ]
    }

    /// Pattern count and the CRC-32 of the input list, one line "label,x_um,y_um,frame[,side labels]" per pattern.
    static func inputs(_ manifest: ScanManifest) -> [String: Any] {
        var text = ""
        for p in manifest.patterns {
            text += "\(p.label),\(p.xUm),\(p.yUm),\(p.frame)" + p.sides.map { ",\($0.label)" }.joined() + "\n"
        }
        return ["patterns": manifest.patterns.count, "list_crc32": Checksum.crc32(text),
                "list": "label,x_um,y_um,frame[,side frame labels] per pattern, one line each"]
    }

    /// The material as defined: name, lattice, space group and atoms.
    static func material(_ m: Material) -> [String: Any] {
        let l = m.lattice
        return [
            "name": m.name,
            "lattice": ["a_angstrom": l.a, "b_angstrom": l.b, "c_angstrom": l.c, "alpha_deg": l.alpha, "beta_deg": l.beta, "gamma_deg": l.gamma],
            "space_group": ["number": m.spaceGroup.number, "hermann_mauguin": m.spaceGroup.hermannMauguin],
            "atoms": m.atoms.map { a -> [String: Any] in
                ["element": "\(a.element)", "x": a.position.x, "y": a.position.y, "z": a.position.z, "occupancy": a.occupancy, "b_iso": a.bIso]
            },
        ]
    }

    /// The material a run recorded (`material(_:)`'s object, run.json `provenance.material`), read back.
    public static func material(from object: [String: Any], source: String) throws -> Material {
        let l = object["lattice"] as? [String: Any] ?? [:]
        let lattice = ["a_angstrom", "b_angstrom", "c_angstrom", "alpha_deg", "beta_deg", "gamma_deg"].map { l[$0] ?? NSNull() }
        let group = object["space_group"] as? [String: Any] ?? [:]
        let atoms = (object["atoms"] as? [[String: Any]] ?? []).map { a -> [String: Any] in
            ["element": a["element"] ?? NSNull(), "xyz": [a["x"] ?? NSNull(), a["y"] ?? NSNull(), a["z"] ?? NSNull()],
             "occupancy": a["occupancy"] ?? 1, "b_iso": a["b_iso"] ?? 0]
        }
        let file: [String: Any] = ["name": object["name"] ?? "material", "lattice": lattice,
                                   "space_group": group["hermann_mauguin"] ?? group["number"] ?? NSNull(), "atoms": atoms]
        return try Material(json: try JSONSerialization.data(withJSONObject: file), source: source)
    }

    /// A settings value as JSON: numbers, booleans and text as they are, ranges as [low, high],
    /// optionals as the value or null, structures as objects of their stored properties (by name),
    /// anything else as its description. Non-finite numbers become text.
    public static func reflect(_ value: Any, depth: Int = 0) -> Any {
        switch value {
        case let v as Double: return v.isFinite ? v : "\(v)"
        case let v as Float: return v.isFinite ? Double(v) : "\(v)"
        case let v as Int: return v
        case let v as UInt64: return v
        case let v as Bool: return v
        case let v as String: return v
        case let r as ClosedRange<Double>: return [reflect(r.lowerBound), reflect(r.upperBound)]
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let child = mirror.children.first else { return NSNull() }
            return reflect(child.value, depth: depth)
        case .collection, .set:
            return depth < 4 ? mirror.children.map { reflect($0.value, depth: depth + 1) } : "\(value)"
        case .struct, .class:
            guard depth < 4, !mirror.children.isEmpty else { return "\(value)" }
            var out: [String: Any] = [:]
            for child in mirror.children { if let label = child.label { out[label] = reflect(child.value, depth: depth + 1) } }
            return out
        default:
            return "\(value)"
        }
    }

    /// JSON text of `object`, keys sorted (the same settings give the same bytes).
    public static func text(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Now, as ISO 8601 UTC text.
    static func now() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return f.string(from: Date())
    }
}
