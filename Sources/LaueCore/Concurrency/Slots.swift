import Foundation

/// Per-index result slots written by parallel workers (each index by exactly one worker). Every
/// access holds the lock: a mutating access to the array from two threads at once is a data race
/// (ThreadSanitizer saw one when a writer went through `withUnsafeMutableBufferPointer`).
public final class Slots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T?]
    public init(count: Int) { items = [T?](repeating: nil, count: count) }
    public func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
    public func get(_ i: Int) -> T? { lock.lock(); defer { lock.unlock() }; return items[i] }
    /// Every slot in order (nil where no worker wrote).
    public var all: [T?] { lock.lock(); defer { lock.unlock() }; return items }
}
