import Dispatch
import Shared

/// Feeds an upload's `StreamingHasher` on a serial queue of its own, so SHA-512 runs on a second core while the
/// event loop receives and writes the next blocks.
///
/// Hashing on the loop thread, one after the other with `recv` and `write`, held a 1 GiB PUT to about 0.4 of
/// `openssl dgst -sha512`. Blocks are copied into a small ring (a copy costs a tenth of hashing them), because the
/// caller's buffer is reused as soon as `update` returns. Memory is bounded: `update` waits when all `slotCount`
/// slots are in flight, the same backpressure a slow disk write gives. Small uploads (`threaded: false`) are hashed
/// inline: for them a thread hop costs more than it saves.
///
/// `@unchecked Sendable` because its state is split by thread: `filled`, `current` and the slot being filled belong
/// to the caller (one at a time; `FileSystemUpload` serialises calls with its lock); the hasher and slots handed to
/// `queue` belong to the queue until it signals `free`; `finish` waits for the queue (`sync`), which orders all of it.
///
/// Every slot taken from `free` is given back before the pipeline goes away: libdispatch kills the process (SIGILL)
/// when a semaphore is released with a count below its initial value, and an upload that fails or is dropped
/// halfway (a full disk, a client gone) still holds the slot it was filling.
final class HashPipeline: @unchecked Sendable {
    /// Bytes per slot: the HTTP layer's read size, so a full read is one hand-off.
    static let slotSize = 256 * 1024
    /// Slots in the ring (memory per upload: `slotCount * slotSize`).
    static let slotCount = 4

    private let hasher: StreamingHasher
    private let threaded: Bool
    private let queue = DispatchQueue(label: "tooltool.upload-hash")
    private let free = DispatchSemaphore(value: HashPipeline.slotCount)
    private let ring: UnsafeMutableRawBufferPointer
    private var current = 0
    private var filled = 0
    private var waitingForSlot = true

    /// A pipeline for `algorithm`; `threaded` false hashes inline.
    /// Uploads at least this large hash on a second core; smaller ones do not repay the hand-offs.
    static let threadedThreshold: Int64 = 4 * 1024 * 1024

    /// A hasher for an upload of `expectedSize` bytes: threaded from `threadedThreshold` on.
    convenience init(algorithm: HashAlgorithm, expectedSize: Int64) {
        self.init(algorithm: algorithm, threaded: expectedSize >= Self.threadedThreshold)
    }

    init(algorithm: HashAlgorithm, threaded: Bool) {
        hasher = StreamingHasher(algorithm: algorithm)
        self.threaded = threaded
        ring =
            threaded
            ? .allocate(byteCount: Self.slotCount * Self.slotSize, alignment: 64)
            : UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    deinit {
        // Every queued block holds `self`, so none is pending here and each has signalled its slot; only the slot
        // being filled (taken, never handed off) is still out.
        if !waitingForSlot { free.signal() }
        ring.deallocate()
    }

    /// Adds bytes to the digest (maybe later, on the queue); the caller may reuse `bytes` once this returns.
    func update(_ bytes: UnsafeRawBufferPointer) {
        guard threaded else {
            hasher.update(bytes)
            return
        }
        var offset = 0
        while offset < bytes.count {
            if waitingForSlot {
                free.wait()
                waitingForSlot = false
            }
            let n = min(Self.slotSize - filled, bytes.count - offset)
            let start = current * Self.slotSize + filled
            UnsafeMutableRawBufferPointer(rebasing: ring[start..<(start + n)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
            filled += n
            offset += n
            if filled == Self.slotSize { handOff() }
        }
    }

    /// Ends the computation (after every queued block) and returns the digest.
    func finish() -> Digest {
        if threaded && filled > 0 { handOff() }
        return threaded ? queue.sync { hasher.finish() } : hasher.finish()
    }

    /// Queues the current slot for hashing and moves to the next one.
    private func handOff() {
        let start = current * Self.slotSize, count = filled
        queue.async {
            self.hasher.update(UnsafeRawBufferPointer(rebasing: self.ring[start..<(start + count)]))
            self.free.signal()
        }
        current = (current + 1) % Self.slotCount
        filled = 0
        waitingForSlot = true
    }
}
