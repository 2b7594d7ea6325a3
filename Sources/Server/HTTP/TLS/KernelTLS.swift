import Glibc

/// Whether large file bodies over TLS may go out through kernel TLS (`SSL_sendfile`), as `serve --tls-ktls` says.
public enum KernelTLSMode: String, Sendable, CaseIterable {
    /// Use kernel TLS when the kernel offers the `tls` ULP; otherwise read the file in pieces and `SSL_write` them.
    case auto
    /// Never use kernel TLS.
    case off

    /// True when the kernel lists `tls` in `/proc/sys/net/ipv4/tcp_available_ulp` (the `tls` module is loaded).
    public static var kernelOffersTLS: Bool {
        let fd = open("/proc/sys/net/ipv4/tcp_available_ulp", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return false }
        return buffer[..<n].split(whereSeparator: { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 })
            .contains { Array($0) == Array("tls".utf8) }
    }
}
