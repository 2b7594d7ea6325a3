import CEvent
import Glibc

/// Owns one libevent `evbuffer` used as a connection's output queue. Loop thread only.
///
/// `EVBUFFER_FLAG_DRAINS_TO_FD` is set so `evbuffer_add_file` segments go out with sendfile instead of being read
/// into memory.
final class EventBuffer {
    /// The `struct evbuffer *`.
    let pointer: OpaquePointer

    /// An empty buffer that drains to a socket.
    init() throws {
        guard let buffer = evbuffer_new() else { throw HTTPServerError(call: "evbuffer_new", message: "returned NULL") }
        evbuffer_set_flags(buffer, UInt64(EVBUFFER_FLAG_DRAINS_TO_FD))
        pointer = buffer
    }

    /// Bytes (including file segments) still queued.
    var count: Int { evbuffer_get_length(pointer) }

    /// Appends a copy of `bytes`.
    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = evbuffer_add(pointer, $0.baseAddress, $0.count) }
    }

    /// Appends a copy of `bytes`.
    func append(_ bytes: UnsafeRawBufferPointer) {
        _ = evbuffer_add(pointer, bytes.baseAddress, bytes.count)
    }

    /// Appends `length` bytes of `fd` from `offset` as a sendfile segment; the buffer then owns `fd`.
    /// Returns false (and closes `fd`) on failure.
    func appendFile(fd: Int32, offset: Int64, length: Int64) -> Bool {
        if evbuffer_add_file(pointer, fd, offset, length) == 0 { return true }
        close(fd)
        return false
    }

    /// Appends `length` bytes of `fd` from `offset` as bytes read now (for small bodies: the head and body then
    /// leave in one `writev`, one segment, instead of a `writev` and a `sendfile`). Always closes `fd`; returns
    /// false when the file could not be read or ended early.
    func appendContents(fd: Int32, offset: Int64, length: Int) -> Bool {
        defer { close(fd) }
        return appendRead(fd: fd, offset: offset, length: length)
    }

    /// Appends `length` bytes of `fd` from `offset`, read now; leaves `fd` open. False when the file could not be
    /// read or ended early (nothing is appended then).
    func appendRead(fd: Int32, offset: Int64, length: Int) -> Bool {
        var vector = iovec()  // libevent's evbuffer_iovec is iovec here
        guard evbuffer_reserve_space(pointer, length, &vector, 1) == 1, let base = vector.iov_base else { return false }
        var done = 0
        while done < length {
            let n = pread(fd, base + done, length - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }  // nothing committed: the reserved space is dropped
            done += n
        }
        vector.iov_len = length
        return evbuffer_commit_space(pointer, &vector, 1) == 0
    }

    /// The first `min(count, limit)` bytes made contiguous (copied together when they span chunks), for `SSL_write`;
    /// nil when empty. Only for buffers without file segments.
    func contiguousPrefix(limit: Int) -> UnsafeRawBufferPointer? {
        let length = min(count, limit)
        guard length > 0, let start = evbuffer_pullup(pointer, length) else { return nil }
        return UnsafeRawBufferPointer(start: start, count: length)
    }

    /// Drops the first `length` bytes (written elsewhere).
    func drain(_ length: Int) { evbuffer_drain(pointer, length) }

    /// Writes as much as the socket takes; returns bytes written, or -1 with `errno` set.
    func write(to fd: Int32) -> Int { Int(evbuffer_write(pointer, fd)) }

    deinit { evbuffer_free(pointer) }
}
