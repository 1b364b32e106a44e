import CHDF5
import Foundation
import LaueCore

/// Swift numeric types HDF5 can read into and write from (HDF5 converts between types on read).
public protocol HDF5Numeric: Numeric, Sendable {
    static var hdf5Type: hid_t { get }
}
extension Float: HDF5Numeric { public static var hdf5Type: hid_t { chdf5_native_float() } }
extension Double: HDF5Numeric { public static var hdf5Type: hid_t { chdf5_native_double() } }
extension UInt8: HDF5Numeric { public static var hdf5Type: hid_t { chdf5_native_uint8() } }
extension UInt16: HDF5Numeric { public static var hdf5Type: hid_t { chdf5_native_uint16() } }
extension UInt32: HDF5Numeric { public static var hdf5Type: hid_t { chdf5_native_uint32() } }
extension Int32: HDF5Numeric { public static var hdf5Type: hid_t { chdf5_native_int32() } }
extension Int64: HDF5Numeric { public static var hdf5Type: hid_t { chdf5_native_int64() } }

/// An open HDF5 file (libhdf5). Objects are addressed by absolute paths such as "/entry1/data/data".
/// Errors name the file and the object.
public final class HDF5File {
    public enum Mode { case read, readWrite, create }

    public let path: String
    let id: hid_t
    private var isClosed = false
    /// Held around every call into libhdf5: Debian's library is built without thread safety, so two
    /// threads (scan workers, tests, callers of the C ABI) must never be inside it at once.
    static let library = NSRecursiveLock()

    public init(path: String, mode: Mode = .read) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        chdf5_silence()
        self.path = path
        let P = chdf5_p_default()
        switch mode {
        case .create:
            let access = chdf5_fapl_strong_close()
            defer { if access >= 0 { H5Pclose(access) } }
            id = H5Fcreate(path, chdf5_acc_trunc(), P, access >= 0 ? access : P)
            if id < 0 { throw LaueError(.unreadable, file: path, "cannot create HDF5 file") }
        case .read, .readWrite:
            try InputFile.requireRegular(path)
            guard H5Fis_hdf5(path) > 0 else {
                throw LaueError(.invalidFormat, file: path, "not an HDF5 file (or truncated)")
            }
            id = H5Fopen(path, mode == .read ? chdf5_acc_rdonly() : chdf5_acc_rdwr(), P)
            if id < 0 { throw LaueError(.unreadable, file: path, "cannot open HDF5 file") }
        }
    }

    deinit {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        if !isClosed { H5Fclose(id) }
    }

    /// Writes everything still buffered and closes the file, throwing when the data did not reach
    /// the disk (a full disk, a failing device): a file written by LaueMap is complete or reported.
    /// Further calls do nothing; the file must not be used after. Errors name `name` (default: the
    /// file's path).
    public func close(reportingAs name: String? = nil) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard !isClosed else { return }
        isClosed = true
        let flushed = H5Fflush(id, H5F_SCOPE_LOCAL)
        let closed = H5Fclose(id)
        guard flushed >= 0, closed >= 0 else {
            throw LaueError(.unreadable, file: name ?? path, "cannot write the file to disk: \(DiskSpace.describe(folderOf: path))")
        }
    }

    /// Creates the HDF5 file `path` atomically: `body` fills a temporary file next to it, which is
    /// closed (every byte written, or an error) and only then renamed onto `path`.
    public static func create(atomically path: String, _ body: (HDF5File) throws -> Void) throws {
        try AtomicFile.write(to: path) { temp in
            let file = try HDF5File(path: temp, mode: .create)
            do {
                try body(file)
            } catch {
                try? file.close()
                throw error
            }
            try file.close(reportingAs: path)
        }
    }

    func error(_ object: String, _ reason: String, _ kind: LaueError.Kind = .invalidFormat) -> LaueError {
        LaueError(kind, file: path, item: object, reason)
    }

    /// A failed write, with the disk's state when it is full.
    func writeError(_ object: String, _ reason: String) -> LaueError {
        LaueError(.unreadable, file: path, item: object, reason + DiskSpace.noteIfFull(folderOf: path))
    }

    /// Whether an object (group or dataset) exists at `object`.
    public func exists(_ object: String) -> Bool {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        var prefix = ""
        for part in object.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(id, prefix, chdf5_p_default()) <= 0 { return false }
        }
        return true
    }

    /// Names of the members of a group.
    public func children(of group: String = "/") throws -> [String] {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard group == "/" || exists(group) else { throw error(group, "group not found", .missingData) }
        let g = H5Gopen2(id, group, chdf5_p_default())
        guard g >= 0 else { throw error(group, "not a group") }
        defer { H5Gclose(g) }
        var info = H5G_info_t()
        guard H5Gget_info(g, &info) >= 0 else { throw error(group, "cannot list the group") }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default())
            guard n > 0 else { continue }
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            _ = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, chdf5_p_default())
            names.append(buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return names
    }

    /// Whether the object is a dataset (false for groups or missing objects).
    public func isDataset(_ object: String) -> Bool {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard exists(object) else { return false }
        var info = H5O_info_t()
        guard H5Oget_info_by_name1(id, object, &info, chdf5_p_default()) >= 0 else { return false }
        return info.type == H5O_TYPE_DATASET
    }

    func openDataset(_ name: String) throws -> hid_t {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard exists(name) else { throw error(name, "dataset not found", .missingData) }
        let d = H5Dopen2(id, name, chdf5_p_default())
        guard d >= 0 else { throw error(name, "not a dataset") }
        return d
    }

    /// Dimensions of a dataset (empty for a scalar).
    public func shape(of dataset: String) throws -> [Int] {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        return try shape(dataset: d, name: dataset)
    }

    func shape(dataset d: hid_t, name: String) throws -> [Int] {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let space = H5Dget_space(d)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw error(name, "cannot read the dataspace") }
        guard rank <= 32 else { throw error(name, "rank \(rank): not a dataset LaueMap reads", .invalidFormat) }
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        _ = H5Sget_simple_extent_dims(space, &dims, nil)
        guard rank > 0 else { return [] }
        // Sizes come from the file: checked before any conversion or allocation.
        guard dims.allSatisfy({ $0 <= hsize_t(Int32.max) }) else {
            throw error(name, "declares dimensions \(dims.map(String.init).joined(separator: " x ")): larger than any data LaueMap reads", .invalidFormat)
        }
        return dims.map { Int($0) }
    }

    /// Largest dataset (or frame) read into memory, bytes.
    public static let maximumReadBytes = 1 << 30

    /// Elements of `dims`, checked for overflow and against `maximumReadBytes` (a small file may declare
    /// 2^31 x 2^31 elements).
    func elementCount(_ dims: [Int], elementSize: Int, name: String) throws -> Int {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        var n = 1
        for d in dims {
            let (m, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else { throw error(name, "declares more elements than memory can hold", .invalidFormat) }
            n = m
        }
        guard n <= HDF5File.maximumReadBytes / max(elementSize, 1) else {
            throw error(name, "declares \(n) elements (\(dims.map(String.init).joined(separator: " x "))): more than the \(HDF5File.maximumReadBytes >> 20) MiB LaueMap reads at once", .invalidFormat)
        }
        return n
    }

    /// The pixel type that best describes a numeric dataset's stored type.
    public func storedType(of dataset: String) throws -> PixelType {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let t = H5Dget_type(d)
        defer { H5Tclose(t) }
        let size = H5Tget_size(t)
        switch H5Tget_class(t) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(t) == H5T_SGN_2
            switch (size, signed) {
            case (1, false): return .uint8
            case (2, false): return .uint16
            case (2, true): return .int16
            case (4, false): return .uint32
            case (4, true): return .int32
            default: throw error(dataset, "unsupported integer size \(size * 8) bits", .unsupported)
            }
        case H5T_FLOAT: return size == 4 ? .float32 : .float64
        default: throw error(dataset, "not a numeric dataset", .unsupported)
        }
    }

    /// Reads a whole numeric dataset, converted to `T`.
    public func read<T: HDF5Numeric>(_ dataset: String, as: T.Type = T.self) throws -> (values: [T], shape: [Int]) {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let dims = try shape(dataset: d, name: dataset)
        let count = try elementCount(dims, elementSize: MemoryLayout<T>.stride, name: dataset)
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: count) { buf, n in
            status = count == 0 ? 0 : H5Dread(d, T.hdf5Type, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), buf.baseAddress)
            if status < 0 { buf.initialize(repeating: .zero) }
            n = count
        }
        guard status >= 0 else { throw error(dataset, "cannot read (not numeric, or corrupt)") }
        return (values, dims)
    }

    /// Reads frame `index` along the first axis of a dataset of rank >= 2 (e.g. image `index` of a
    /// [frames, rows, cols] stack), converted to `T`.
    public func readSlice<T: HDF5Numeric>(_ dataset: String, index: Int, as: T.Type = T.self) throws -> (values: [T], shape: [Int]) {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let dims = try shape(dataset: d, name: dataset)
        guard dims.count >= 2 else { throw error(dataset, "rank \(dims.count): no frames to slice") }
        guard index >= 0 && index < dims[0] else {
            throw error(dataset, "frame \(index) does not exist (the stack holds \(dims[0]))", .invalidArgument)
        }
        let fileSpace = H5Dget_space(d)
        defer { H5Sclose(fileSpace) }
        var start = [hsize_t](repeating: 0, count: dims.count)
        start[0] = hsize_t(index)
        var count = dims.map { hsize_t($0) }
        count[0] = 1
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil) >= 0 else {
            throw error(dataset, "cannot select frame \(index)")
        }
        let sliceShape = Array(dims.dropFirst())
        let n = try elementCount(sliceShape, elementSize: MemoryLayout<T>.stride, name: dataset)
        let memDims = sliceShape.map { hsize_t($0) }
        let memSpace = H5Screate_simple(Int32(memDims.count), memDims, nil)
        defer { H5Sclose(memSpace) }
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: n) { buf, m in
            status = H5Dread(d, T.hdf5Type, memSpace, fileSpace, chdf5_p_default(), buf.baseAddress)
            if status < 0 { buf.initialize(repeating: .zero) }
            m = n
        }
        guard status >= 0 else { throw error(dataset, "cannot read frame \(index) (corrupt or truncated)") }
        return (values, sliceShape)
    }

    /// Reads a dataset of strings (fixed or variable length).
    public func readStrings(_ dataset: String) throws -> [String] {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let ftype = H5Dget_type(d)
        defer { H5Tclose(ftype) }
        guard H5Tget_class(ftype) == H5T_STRING else { throw error(dataset, "not a string dataset") }
        let count = try elementCount(try shape(dataset: d, name: dataset), elementSize: 64, name: dataset)
        if H5Tis_variable_str(ftype) > 0 {
            let mtype = H5Tcopy(chdf5_c_s1())
            defer { H5Tclose(mtype) }
            H5Tset_size(mtype, chdf5_variable())
            H5Tset_cset(mtype, H5Tget_cset(ftype))   // HDF5 does not convert between character sets
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Dread(d, mtype, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &ptrs) >= 0 else {
                throw error(dataset, "cannot read strings")
            }
            let out = ptrs.map { $0.map { String(cString: $0) } ?? "" }
            let space = H5Dget_space(d)
            H5Dvlen_reclaim(mtype, space, chdf5_p_default(), &ptrs)
            H5Sclose(space)
            return out
        }
        let size = H5Tget_size(ftype)
        var buf = [CChar](repeating: 0, count: size * count + 1)
        guard H5Dread(d, ftype, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &buf) >= 0 else {
            throw error(dataset, "cannot read strings")
        }
        return (0..<count).map { i in
            let bytes = buf[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
    }

    /// Reads a scalar or 1-element dataset as text (numbers are formatted), for metadata.
    public func readScalarText(_ dataset: String) throws -> String {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        if let s = try? readStrings(dataset), let first = s.first { return first }
        let (v, _) = try read(dataset, as: Double.self)
        guard let first = v.first else { throw error(dataset, "empty dataset") }
        return v.count == 1 ? String(first) : v.map { String($0) }.joined(separator: " ")
    }

    // MARK: writing

    /// Creates a group and any missing parents.
    public func createGroup(_ group: String) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        var prefix = ""
        for part in group.split(separator: "/") {
            prefix += "/" + part
            if !exists(prefix) {
                // No modification times in object headers: the same content gives the same bytes.
                let gcpl = H5Pcreate(chdf5_p_group_create())
                defer { H5Pclose(gcpl) }
                _ = H5Pset_obj_track_times(gcpl, false)
                let g = H5Gcreate2(id, prefix, chdf5_p_default(), gcpl, chdf5_p_default())
                guard g >= 0 else { throw error(prefix, "cannot create group", .unreadable) }
                H5Gclose(g)
            }
        }
    }

    private func ensureParent(_ object: String) throws {
        let parent = (object as NSString).deletingLastPathComponent
        if parent != "/" && !parent.isEmpty { try createGroup(parent) }
    }

    /// Creates a numeric dataset of the given shape (optionally chunked and gzip-compressed) without
    /// writing data; fill it with `writeSlice` or `write`.
    public func createDataset<T: HDF5Numeric>(_ dataset: String, type: T.Type, shape: [Int], chunk: [Int]? = nil,
                                              gzipLevel: Int? = nil) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        try ensureParent(dataset)
        let dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), dims, nil)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(chdf5_p_dataset_create())
        defer { H5Pclose(dcpl) }
        _ = H5Pset_obj_track_times(dcpl, false)
        if let chunk {
            let c = zip(chunk, shape).map { hsize_t(max(1, min($0, $1))) }
            _ = H5Pset_chunk(dcpl, Int32(c.count), c)
            if let level = gzipLevel { _ = H5Pset_deflate(dcpl, UInt32(level)) }
        }
        let d = H5Dcreate2(id, dataset, T.hdf5Type, space, chdf5_p_default(), dcpl, chdf5_p_default())
        guard d >= 0 else { throw error(dataset, "cannot create dataset", .unreadable) }
        H5Dclose(d)
    }

    /// Writes a whole numeric dataset (created if absent).
    public func write<T: HDF5Numeric>(_ values: [T], shape: [Int]? = nil, to dataset: String, chunk: [Int]? = nil,
                                      gzipLevel: Int? = nil) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let dims = shape ?? [values.count]
        guard dims.reduce(1, *) == values.count else {
            throw error(dataset, "shape \(dims) does not match \(values.count) values", .invalidArgument)
        }
        if !exists(dataset) { try createDataset(dataset, type: T.self, shape: dims, chunk: chunk, gzipLevel: gzipLevel) }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let st = values.withUnsafeBufferPointer {
            H5Dwrite(d, T.hdf5Type, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
        }
        guard st >= 0 else { throw writeError(dataset, "cannot write") }
    }

    /// Writes frame `index` along the first axis of an existing dataset.
    public func writeSlice<T: HDF5Numeric>(_ values: [T], to dataset: String, index: Int) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let dims = try shape(dataset: d, name: dataset)
        let sliceCount = dims.dropFirst().reduce(1, *)
        guard dims.count >= 2, index >= 0, index < dims[0], values.count == sliceCount else {
            throw error(dataset, "frame \(index) of \(values.count) values does not fit shape \(dims)", .invalidArgument)
        }
        let fileSpace = H5Dget_space(d)
        defer { H5Sclose(fileSpace) }
        var start = [hsize_t](repeating: 0, count: dims.count)
        start[0] = hsize_t(index)
        var count = dims.map { hsize_t($0) }
        count[0] = 1
        _ = H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
        let memDims = dims.dropFirst().map { hsize_t($0) }
        let memSpace = H5Screate_simple(Int32(memDims.count), memDims, nil)
        defer { H5Sclose(memSpace) }
        let st = values.withUnsafeBufferPointer {
            H5Dwrite(d, T.hdf5Type, memSpace, fileSpace, chdf5_p_default(), $0.baseAddress)
        }
        guard st >= 0 else { throw writeError(dataset, "cannot write frame \(index)") }
    }

    /// Writes `count` slices along the first axis, starting at `offset` (row-major values).
    public func writeSlices<T: HDF5Numeric>(_ values: [T], to dataset: String, offset: Int, count: Int) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard count > 0 else { return }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let dims = try shape(dataset: d, name: dataset)
        let per = dims.dropFirst().reduce(1, *)
        guard dims.count >= 1, offset >= 0, offset + count <= dims[0], values.count == count * per else {
            throw error(dataset, "\(count) slices at \(offset) do not fit shape \(dims)", .invalidArgument)
        }
        let fileSpace = H5Dget_space(d)
        defer { H5Sclose(fileSpace) }
        var start = [hsize_t](repeating: 0, count: dims.count)
        start[0] = hsize_t(offset)
        var n = dims.map { hsize_t($0) }
        n[0] = hsize_t(count)
        _ = H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, n, nil)
        let memSpace = H5Screate_simple(Int32(n.count), n, nil)
        defer { H5Sclose(memSpace) }
        let st = values.withUnsafeBufferPointer {
            H5Dwrite(d, T.hdf5Type, memSpace, fileSpace, chdf5_p_default(), $0.baseAddress)
        }
        guard st >= 0 else { throw writeError(dataset, "cannot write slices at \(offset)") }
    }

    /// Writes `values` into an existing 1-D dataset starting at `offset` (streamed tables).
    public func writeRange<T: HDF5Numeric>(_ values: [T], to dataset: String, offset: Int) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard !values.isEmpty else { return }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let dims = try shape(dataset: d, name: dataset)
        guard dims.count == 1, offset >= 0, offset + values.count <= dims[0] else {
            throw error(dataset, "\(values.count) values at \(offset) do not fit shape \(dims)", .invalidArgument)
        }
        let fileSpace = H5Dget_space(d)
        defer { H5Sclose(fileSpace) }
        let start = [hsize_t(offset)], count = [hsize_t(values.count)]
        _ = H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
        let memSpace = H5Screate_simple(1, count, nil)
        defer { H5Sclose(memSpace) }
        let st = values.withUnsafeBufferPointer {
            H5Dwrite(d, T.hdf5Type, memSpace, fileSpace, chdf5_p_default(), $0.baseAddress)
        }
        guard st >= 0 else { throw writeError(dataset, "cannot write values at \(offset)") }
    }

    private func variableStringType() -> hid_t {
        let t = H5Tcopy(chdf5_c_s1())
        H5Tset_size(t, chdf5_variable())
        H5Tset_cset(t, H5T_CSET_UTF8)
        return t
    }

    private func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { ptrs.forEach { free($0) } }
        return body(ptrs.map { UnsafePointer($0) })
    }

    /// Writes a 1-D dataset of variable-length UTF-8 strings (h5py reads them as str with `.asstr()`).
    public func writeStrings(_ strings: [String], to dataset: String) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        try ensureParent(dataset)
        let t = variableStringType()
        defer { H5Tclose(t) }
        var dims = [hsize_t(strings.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(chdf5_p_dataset_create())
        defer { H5Pclose(dcpl) }
        _ = H5Pset_obj_track_times(dcpl, false)
        let d = H5Dcreate2(id, dataset, t, space, chdf5_p_default(), dcpl, chdf5_p_default())
        guard d >= 0 else { throw error(dataset, "cannot create string dataset", .unreadable) }
        defer { H5Dclose(d) }
        let st = withCStrings(strings) { ptrs in
            ptrs.withUnsafeBufferPointer { H5Dwrite(d, t, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress) }
        }
        guard st >= 0 else { throw writeError(dataset, "cannot write strings") }
    }

    /// Creates a 1-D dataset of `count` variable-length UTF-8 strings, chunked, to be filled with
    /// `writeStrings(_:to:offset:)` (streamed tables).
    public func createStringDataset(_ dataset: String, count: Int, chunk: Int = 16384) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        try ensureParent(dataset)
        let t = variableStringType()
        defer { H5Tclose(t) }
        var dims = [hsize_t(count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(chdf5_p_dataset_create())
        defer { H5Pclose(dcpl) }
        _ = H5Pset_obj_track_times(dcpl, false)
        var c = [hsize_t(max(1, min(chunk, count)))]
        _ = H5Pset_chunk(dcpl, 1, &c)
        let d = H5Dcreate2(id, dataset, t, space, chdf5_p_default(), dcpl, chdf5_p_default())
        guard d >= 0 else { throw error(dataset, "cannot create string dataset", .unreadable) }
        H5Dclose(d)
    }

    /// Writes strings into an existing 1-D string dataset starting at `offset`.
    public func writeStrings(_ strings: [String], to dataset: String, offset: Int) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard !strings.isEmpty else { return }
        let d = try openDataset(dataset)
        defer { H5Dclose(d) }
        let dims = try shape(dataset: d, name: dataset)
        guard dims.count == 1, offset >= 0, offset + strings.count <= dims[0] else {
            throw error(dataset, "\(strings.count) strings at \(offset) do not fit shape \(dims)", .invalidArgument)
        }
        let t = variableStringType()
        defer { H5Tclose(t) }
        let fileSpace = H5Dget_space(d)
        defer { H5Sclose(fileSpace) }
        let start = [hsize_t(offset)], count = [hsize_t(strings.count)]
        _ = H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
        let memSpace = H5Screate_simple(1, count, nil)
        defer { H5Sclose(memSpace) }
        let st = withCStrings(strings) { ptrs in
            ptrs.withUnsafeBufferPointer { H5Dwrite(d, t, memSpace, fileSpace, chdf5_p_default(), $0.baseAddress) }
        }
        guard st >= 0 else { throw writeError(dataset, "cannot write strings at \(offset)") }
    }

    private func openObject(_ object: String) throws -> hid_t {
        guard object == "/" || exists(object) else { throw error(object, "object not found", .missingData) }
        let o = H5Oopen(id, object, chdf5_p_default())
        guard o >= 0 else { throw error(object, "cannot open object") }
        return o
    }

    /// Creates attribute `name` on `object` (replacing any existing one) of type `t`, a scalar when
    /// `count` is nil, else a 1-D array of `count` elements, and writes it with `write`.
    private func setAttribute(_ name: String, on object: String, type t: hid_t, count: Int?, _ write: (hid_t) -> herr_t) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let o = try openObject(object)
        defer { H5Oclose(o) }
        if H5Aexists(o, name) > 0 { H5Adelete(o, name) }
        var dims = [hsize_t(count ?? 1)]
        let space = count == nil ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let a = H5Acreate2(o, name, t, space, chdf5_p_default(), chdf5_p_default())
        guard a >= 0 else { throw error(object, "cannot create attribute \(name)", .unreadable) }
        defer { H5Aclose(a) }
        guard write(a) >= 0 else { throw error(object, "cannot write attribute \(name)", .unreadable) }
    }

    /// Sets a string attribute (replacing any existing one).
    public func setAttribute(_ name: String, _ value: String, on object: String = "/") throws {
        try setAttribute(name, strings: [value], on: object, scalar: true)
    }

    /// Sets an attribute holding an array of strings (NeXus `axes`), replacing any existing one.
    public func setAttribute(_ name: String, strings values: [String], on object: String = "/", scalar: Bool = false) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        let t = variableStringType()
        defer { H5Tclose(t) }
        try setAttribute(name, on: object, type: t, count: scalar ? nil : values.count) { a in
            withCStrings(values) { ptrs in ptrs.withUnsafeBufferPointer { H5Awrite(a, t, $0.baseAddress) } }
        }
    }

    /// Sets an integer attribute (a scalar when `values` has one element).
    public func setAttribute(_ name: String, integers values: [Int32], on object: String = "/") throws {
        try setAttribute(name, on: object, type: chdf5_native_int32(), count: values.count == 1 ? nil : values.count) { a in
            values.withUnsafeBufferPointer { H5Awrite(a, chdf5_native_int32(), $0.baseAddress) }
        }
    }

    /// Makes `path` a second name (an HDF5 hard link) of the existing object `target`: the data is
    /// stored once and reachable by both names.
    public func link(_ target: String, as path: String) throws {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard exists(target) else { throw error(target, "object not found", .missingData) }
        try ensureParent(path)
        guard H5Lcreate_hard(id, target, id, path, chdf5_p_default(), chdf5_p_default()) >= 0 else {
            throw error(path, "cannot link to \(target)", .unreadable)
        }
    }

    /// Sets a numeric attribute (a scalar when `values` has one element).
    public func setAttribute(_ name: String, _ values: [Double], on object: String = "/") throws {
        try setAttribute(name, on: object, type: chdf5_native_double(), count: values.count == 1 ? nil : values.count) { a in
            values.withUnsafeBufferPointer { H5Awrite(a, chdf5_native_double(), $0.baseAddress) }
        }
    }

    /// Reads a string attribute, or nil.
    /// The most values a numeric attribute is read with.
    public static let maximumAttributeValues: Int64 = 1 << 20

    public func stringAttribute(_ name: String, of object: String = "/") -> String? {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard let o = try? openObject(object) else { return nil }
        defer { H5Oclose(o) }
        guard H5Aexists(o, name) > 0 else { return nil }
        let a = H5Aopen(o, name, chdf5_p_default())
        defer { H5Aclose(a) }
        let ftype = H5Aget_type(a)
        defer { H5Tclose(ftype) }
        guard H5Tget_class(ftype) == H5T_STRING else { return nil }
        if H5Tis_variable_str(ftype) > 0 {
            let t = variableStringType()
            H5Tset_cset(t, H5Tget_cset(ftype))
            defer { H5Tclose(t) }
            var p: UnsafeMutablePointer<CChar>? = nil
            guard H5Aread(a, t, &p) >= 0, let p else { return nil }
            defer { free(p) }
            return String(cString: p)
        }
        let size = H5Tget_size(ftype)
        var buf = [CChar](repeating: 0, count: size + 1)
        guard H5Aread(a, ftype, &buf) >= 0 else { return nil }
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Whether `object` has an attribute `name` (of any type).
    public func hasAttribute(_ name: String, of object: String = "/") -> Bool {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard let o = try? openObject(object) else { return false }
        defer { H5Oclose(o) }
        return H5Aexists(o, name) > 0
    }

    /// Reads a numeric attribute, or nil (also for one of more than `maximumAttributeValues` values: a
    /// file's attribute extent is not trusted with an allocation).
    public func numericAttribute(_ name: String, of object: String = "/") -> [Double]? {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        guard let o = try? openObject(object) else { return nil }
        defer { H5Oclose(o) }
        guard H5Aexists(o, name) > 0 else { return nil }
        let a = H5Aopen(o, name, chdf5_p_default())
        defer { H5Aclose(a) }
        let space = H5Aget_space(a)
        let points = H5Sget_simple_extent_npoints(space)
        H5Sclose(space)
        guard points >= 0, points <= HDF5File.maximumAttributeValues else { return nil }
        let n = max(1, Int(points))
        var values = [Double](repeating: 0, count: n)
        guard H5Aread(a, chdf5_native_double(), &values) >= 0 else { return nil }
        return values
    }

    /// Flushes buffers to disk.
    public func flush() {
        HDF5File.library.lock(); defer { HDF5File.library.unlock() }
        H5Fflush(id, H5F_SCOPE_GLOBAL)
    }
}
