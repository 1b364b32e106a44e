import Foundation
import LaueCore

/// Status codes of the C functions (docs/python.md, `include/lauemap.h`): 0 success, else the kind of
/// `LaueError` (1-based, in `LaueError.Kind` order) or `internalFailure`.
enum Status {
    static let ok: Int32 = 0
    static let kinds: [LaueError.Kind] = [.unreadable, .invalidFormat, .unsupported, .missingData, .invalidArgument,
                                          .unknownMaterial, .numerical, .external]
    static let internalFailure: Int32 = 99

    static func code(_ kind: LaueError.Kind) -> Int32 { Int32((kinds.firstIndex(of: kind) ?? 98) + 1) }
}

/// Runs `body`; any error becomes a status code and, in the caller's buffer `error` of `capacity`
/// bytes, a JSON object {"kind", "file", "item", "reason", "message"} (truncated to fit, always
/// NUL-terminated). Never traps on bad input: every argument is checked before use.
func guarded(_ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int64, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return Status.ok
    } catch let e as LaueError {
        report(["kind": e.kind.rawValue, "file": e.file ?? NSNull(), "item": e.item ?? NSNull(), "reason": e.reason, "message": e.description],
               to: buffer, capacity)
        return Status.code(e.kind)
    } catch {
        report(["kind": "internal", "file": NSNull(), "item": NSNull(), "reason": "\(error)", "message": "\(error)"], to: buffer, capacity)
        return Status.internalFailure
    }
}

private func report(_ object: [String: Any], to buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int64) {
    guard let buffer, capacity > 0 else { return }
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    let bytes = [UInt8](data)
    let count = min(bytes.count, Int(clamping: capacity) - 1)
    for k in 0..<count { buffer[k] = CChar(bitPattern: bytes[k]) }
    buffer[count] = 0
}

/// A C string argument: nil for a NULL pointer, an error naming `name` for invalid UTF-8.
func text(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String? {
    guard let pointer else { return nil }
    guard let s = String(validatingCString: pointer) else { throw LaueError(.invalidArgument, "\(name) is not valid UTF-8") }
    return s
}

/// A required C string argument.
func required(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let s = try text(pointer, name), !s.isEmpty else { throw LaueError(.invalidArgument, "\(name) is required") }
    return s
}

/// A malloc'ed copy of `s` for an out-parameter (the caller frees it with `lauemap_free`).
func give(_ s: String, to out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) throws {
    guard let out else { throw LaueError(.invalidArgument, "the output pointer is NULL") }
    guard let copy = strdup(s) else { throw LaueError(.numerical, "out of memory") }
    out.pointee = copy
}

/// A JSON document as text (sorted keys, as the command-line tool prints it).
func jsonText(_ object: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
}

/// The options object of a call: `{}` for NULL or empty text; unknown keys are refused, naming the known.
func options(_ pointer: UnsafePointer<CChar>?, known: [String]) throws -> [String: Any] {
    guard let t = try text(pointer, "options"), !t.trimmingCharacters(in: .whitespaces).isEmpty else { return [:] }
    guard let object = (try? JSONSerialization.jsonObject(with: Data(t.utf8))) as? [String: Any] else {
        throw LaueError(.invalidArgument, "options: not a JSON object: \(t.prefix(80))")
    }
    if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
        throw LaueError(.invalidArgument, "options: unknown key \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
    }
    return object.filter { !($0.value is NSNull) }
}

/// Typed access to an options object, with errors naming the key.
struct Options {
    var values: [String: Any]

    func double(_ key: String) throws -> Double? {
        guard let v = values[key] else { return nil }
        guard let n = v as? NSNumber, !Options.isBoolean(v), n.doubleValue.isFinite else { throw LaueError(.invalidArgument, "options: \(key) must be a finite number") }
        return n.doubleValue
    }

    /// Whether a JSON value is `true`/`false` rather than a number. (On Linux a JSON 0 or 1 also casts
    /// to `Bool`, so `is Bool` refused the numbers 0 and 1; a boolean's NSNumber has type "c".)
    static func isBoolean(_ v: Any) -> Bool {
        if let n = v as? NSNumber { return String(cString: n.objCType) == "c" }
        return v is Bool
    }

    func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let d = try double(key) else { return nil }
        guard d.rounded() == d, d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw LaueError(.invalidArgument, "options: \(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(d)
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = values[key] else { return nil }
        guard Options.isBoolean(v), let b = v as? Bool else { throw LaueError(.invalidArgument, "options: \(key) must be true or false") }
        return b
    }

    func string(_ key: String) throws -> String? {
        guard let v = values[key] else { return nil }
        guard let s = v as? String else { throw LaueError(.invalidArgument, "options: \(key) must be text") }
        return s
    }

    func strings(_ key: String, limit: Int) throws -> [String]? {
        guard let v = values[key] else { return nil }
        guard let a = v as? [Any], a.count <= limit, a.allSatisfy({ $0 is String }) else {
            throw LaueError(.invalidArgument, "options: \(key) must be a list of at most \(limit) texts")
        }
        return a.map { $0 as! String }
    }

    func numbers(_ key: String, count: Int) throws -> [Double]? {
        guard let v = values[key] else { return nil }
        guard let a = v as? [Any], a.count == count, a.allSatisfy({ ($0 as? NSNumber).map { $0.doubleValue.isFinite } == true }) else {
            throw LaueError(.invalidArgument, "options: \(key) must be \(count) finite numbers")
        }
        return a.map { ($0 as! NSNumber).doubleValue }
    }
}

/// Objects that are costly to build (indexers and their angle tables, pattern processors) and not
/// thread-safe, kept per key for later calls: a call takes one (or builds one) and gives it back, so
/// concurrent calls never share one.
final class Pool<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [String: [T]] = [:]
    /// Keys in order of last use (the least recently used first).
    private var recent: [String] = []
    /// At most this many idle objects per key, and idle objects of at most `keys` keys (calls with
    /// ever new options or frame sizes must not hold every object they built).
    static var limit: Int { 4 }
    static var keys: Int { 6 }

    func use<R>(_ key: String, build: () throws -> T, _ body: (T) throws -> R) throws -> R {
        lock.lock()
        let taken = free[key]?.popLast()
        lock.unlock()
        let object = try taken ?? build()
        defer {
            lock.lock()
            recent.removeAll { $0 == key }
            recent.append(key)
            if free[key, default: []].count < Pool.limit { free[key, default: []].append(object) }
            while recent.count > Pool.keys { free[recent.removeFirst()] = nil }
            lock.unlock()
        }
        return try body(object)
    }
}

/// The key of a file's current content for the pools: path, size and modification time.
func fileKey(_ path: String) -> String {
    let a = try? FileManager.default.attributesOfItem(atPath: path)
    let size = (a?[.size] as? NSNumber)?.int64Value ?? -1
    let time = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    return "\(path)|\(size)|\(time)"
}

/// Pixel sample types of image buffers, in `PixelType.allCases` order (the `dtype` codes of the C API).
func pixelType(_ code: Int32) throws -> PixelType {
    guard code >= 0, Int(code) < PixelType.allCases.count else {
        throw LaueError(.invalidArgument, "dtype code \(code) (0-\(PixelType.allCases.count - 1): \(PixelType.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    return PixelType.allCases[Int(code)]
}

/// Largest frame accepted from a caller's buffer (pixels): 2^28, 16 times a 4096² detector.
let maximumPixels = 1 << 28

/// A frame's pixel array kept between calls of the same size (`frames`): a call then writes into
/// memory already mapped instead of faulting in a new 16 MB array per 2048² frame.
final class FrameBuffer {
    var pixels: [Float] = []
}

let frames = Pool<FrameBuffer>()

/// A frame from a caller's row-major buffer of `width` x `height` samples of type `dtype`, passed to
/// `body` (its pixels live in a pooled buffer: `body` must not keep the image).
func withImage<R>(_ pixels: UnsafeRawPointer?, _ dtype: Int32, _ width: Int64, _ height: Int64, _ body: (LaueImage) throws -> R) throws -> R {
    guard let pixels else { throw LaueError(.invalidArgument, "the pixel buffer is NULL") }
    guard width > 0, height > 0, width <= Int64(maximumPixels), height <= Int64(maximumPixels), width * height <= Int64(maximumPixels) else {
        throw LaueError(.invalidArgument, "frame size \(width) x \(height) (each side >= 1, at most \(maximumPixels) pixels)")
    }
    let type = try pixelType(dtype)
    let n = Int(width * height)
    return try frames.use("\(n)", build: { FrameBuffer() }) { buffer in
        if buffer.pixels.count != n { buffer.pixels = [Float](repeating: 0, count: n) }
        buffer.pixels.withUnsafeMutableBufferPointer { out in convert(pixels, type, n, into: out) }
        let result = try body(LaueImage(width: Int(width), height: Int(height), pixels: buffer.pixels, pixelType: type))
        return result
    }
}

/// Converts `n` samples of `type` at `pixels` to floats.
private func convert(_ pixels: UnsafeRawPointer, _ type: PixelType, _ n: Int, into out: UnsafeMutableBufferPointer<Float>) {
    func copy<T: BinaryInteger>(_: T.Type) {
        let p = pixels.assumingMemoryBound(to: T.self)
        for k in 0..<n { out[k] = Float(p[k]) }
    }
    switch type {
    case .uint8: copy(UInt8.self)
    case .uint16: copy(UInt16.self)
    case .uint32: copy(UInt32.self)
    case .int16: copy(Int16.self)
    case .int32: copy(Int32.self)
    case .float32: _ = memcpy(out.baseAddress!, pixels, n * MemoryLayout<Float>.size)
    case .float64:
    let p = pixels.assumingMemoryBound(to: Double.self)
    for k in 0..<n { out[k] = Float(p[k]) }
    }
}
