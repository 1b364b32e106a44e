import Foundation

/// The one error type of LaueMap: what went wrong, where (file, and item inside it), and why.
///
/// Readers, parsers and commands throw it; the command-line tool prints `description` as one line,
/// and the scan pipeline turns it into a row with its reason.
public struct LaueError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case unreadable       // the file cannot be opened or read
        case invalidFormat    // the content does not follow the format
        case unsupported      // a valid file with a feature LaueMap does not handle
        case missingData      // a required dataset, column or field is absent
        case invalidArgument  // a value given by the caller is out of range
        case unknownMaterial
        case numerical        // a computation failed (singular matrix, no convergence)
        case external         // an external program (a batch scheduler) failed or refused
    }

    public var kind: Kind
    /// The file concerned, if any.
    public var file: String?
    /// The item inside the file (dataset path, line, page, pattern), if any.
    public var item: String?
    public var reason: String

    public init(_ kind: Kind, file: String? = nil, item: String? = nil, _ reason: String) {
        self.kind = kind; self.file = file; self.item = item; self.reason = reason
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let item { parts.append(item) }
        parts.append(reason)
        return parts.joined(separator: ": ")
    }

    /// A field of a file as quoted in an error reason: at most 40 characters (a hostile or mistaken
    /// file must not make a message megabytes long).
    public static func excerpt(_ text: String) -> String { text.count <= 40 ? text : String(text.prefix(37)) + "..." }

    /// The same error attributed to a file (keeps an existing file name).
    public func inFile(_ path: String) -> LaueError {
        var e = self
        if e.file == nil { e.file = path }
        return e
    }
}
