import Synchronization

/// A contiguous, 64-byte aligned buffer of `Float32` values shared by tensors.
///
/// Storage is immutable once a tensor that owns it has been handed out; the only mutation path is
/// `Tensor.withMutableStorage`, which copies first unless the storage is uniquely referenced.
/// Large buffers come from `StoragePool`, so a training loop that allocates the same shapes every
/// step reuses memory instead of page-faulting fresh pages in.
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` uninitialized floats.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        pointer = StoragePool.shared.allocate(count)
    }

    /// Allocates `count` floats set to `value`.
    public convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.update(repeating: value, count: count)
    }

    /// Copies `values` into a new storage.
    public convenience init<C: Collection>(copying values: C) where C.Element == Float {
        self.init(uninitializedCount: values.count)
        var i = 0
        for v in values { pointer[i] = v; i += 1 }
    }

    deinit { StoragePool.shared.release(pointer, count: count) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A deep copy.
    public func copy() -> TensorStorage {
        let s = TensorStorage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }
}

/// A size-bucketed cache of large float buffers (≥ 64 KiB), capped in total size.
///
/// Training allocates the same activation shapes every step; returning freed buffers to the
/// system and faulting fresh zeroed pages in on the next step cost ~15–20% of a step. Buffers are
/// reused only for the exact element count, so the cache never holds more than the largest
/// working set it has seen, bounded by `capacityBytes`.
public final class StoragePool: Sendable {
    public static let shared = StoragePool(capacityBytes: 2 << 30)
    static let minimumPooledCount = 16 * 1024

    /// Free buffers by element count, as addresses (pointers are not `Sendable`).
    struct State { var free: [Int: [UInt]] = [:]; var cachedBytes = 0 }
    private let state = Mutex(State())
    public let capacityBytes: Int

    public init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count >= Self.minimumPooledCount {
            let reused = state.withLock { s -> UInt? in
                guard let p = s.free[count]?.popLast() else { return nil }
                s.cachedBytes -= count * 4
                return p
            }
            if let reused, let p = UnsafeMutablePointer<Float>(bitPattern: reused) { return p }
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func release(_ p: UnsafeMutablePointer<Float>, count: Int) {
        if count >= Self.minimumPooledCount {
            let address = UInt(bitPattern: p)
            let kept = state.withLock { s -> Bool in
                guard s.cachedBytes + count * 4 <= capacityBytes else { return false }
                s.free[count, default: []].append(address)
                s.cachedBytes += count * 4
                return true
            }
            if kept { return }
        }
        UnsafeMutableRawPointer(p).deallocate()
    }

    /// Bytes currently cached (not in use by any tensor).
    public var cachedBytes: Int { state.withLock { $0.cachedBytes } }

    /// Returns every cached buffer to the system.
    public func trim() {
        let all = state.withLock { s -> [UInt] in
            defer { s.free = [:]; s.cachedBytes = 0 }
            return s.free.values.flatMap { $0 }
        }
        for a in all { UnsafeMutableRawPointer(bitPattern: a)?.deallocate() }
    }
}
