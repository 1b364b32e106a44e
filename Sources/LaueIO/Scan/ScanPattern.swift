import Foundation

/// One pattern of a scan: where its image is and where the beam was.
public struct ScanPattern: Sendable, Hashable {
    /// Position in the scan (0-based, file order).
    public var index: Int
    /// The `file` field as written in scan.csv (or "scan.h5#k" for an HDF5 stack).
    public var label: String
    /// Absolute path of the image file.
    public var path: String
    /// Frame inside the file (HDF5 stack index, TIFF page).
    public var frame: Int
    /// HDF5 dataset of the frames (nil: the reader's default, `/entry1/data/data`).
    public var dataset: String?
    public var xUm: Double
    public var yUm: Double
    /// Why the pattern cannot be placed on the map (an unreadable or non-finite stage position), or
    /// nil. Such a pattern is a `failed` row with this reason; its position is NaN and its frame is
    /// never read, so it changes no other row.
    public var problem: String?
    /// The frames of the side detectors at this point (`ScanManifest.sideDetectors`, in that order),
    /// indexed jointly with this one; a side frame with a `problem` is missing and left out.
    public var sides: [ScanPattern] = []

    public init(index: Int, label: String, path: String, frame: Int, xUm: Double, yUm: Double, problem: String? = nil,
                dataset: String? = nil) {
        self.index = index; self.label = label; self.path = path; self.frame = frame; self.xUm = xUm; self.yUm = yUm
        self.problem = problem; self.dataset = dataset
    }
}
