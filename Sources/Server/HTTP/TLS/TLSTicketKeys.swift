import COpenSSL
import Glibc
import Synchronization

/// The process's session-ticket keys: OpenSSL's ticket-key callback encrypts new tickets with the current key and
/// still accepts tickets of the previous one (and renews them), so a ticket stays good for one to two rotation
/// intervals.
///
/// Rotation is lazy, on the clock: the first ticket issued after `rotationInterval` has passed makes a new key and
/// keeps the old one as previous. No timer is needed, and a server without TLS traffic makes no keys. The keys live
/// in memory only (a restart forgets them: resumed clients fall back to a full handshake) and are shared by every
/// `TLSContext`, so a certificate reload keeps tickets working. Thread-safe: a `Mutex` guards the ring.
enum TLSTicketKeys {
    /// One ticket key: a 16-byte name sent in the ticket, an AES-256-CBC key and an HMAC-SHA256 key.
    struct Key {
        /// 16 random bytes at the head of each ticket, so the callback finds the key again.
        var name: [UInt8]
        /// The AES-256-CBC key (32 bytes).
        var cipherKey: [UInt8]
        /// The HMAC-SHA256 key (32 bytes).
        var macKey: [UInt8]
        /// When it was made (monotonic seconds).
        var created: Double

        /// A random key made now.
        static func random(at time: Double) -> Key {
            Key(name: randomBytes(16), cipherKey: randomBytes(32), macKey: randomBytes(32), created: time)
        }
    }

    private struct Ring {
        var current: Key?
        var previous: Key?
        var rotationInterval: Double = 3600
    }

    private static let ring = Mutex(Ring())

    /// Seconds between two rotations (`serve --tls-ticket-rotation`); the next ticket issued uses the new value.
    static func setRotationInterval(_ seconds: Double) {
        ring.withLock { $0.rotationInterval = seconds }
    }

    /// The key for a new ticket, rotating first when the current one is older than the interval.
    static func keyForNewTicket(now: Double) -> Key {
        ring.withLock { ring in
            if let current = ring.current, now - current.created < ring.rotationInterval { return current }
            ring.previous = ring.current
            let key = Key.random(at: now)
            ring.current = key
            return key
        }
    }

    /// The key named `name` and whether it is the current one; nil when the ticket's key was rotated away.
    static func key(named name: UnsafePointer<UInt8>) -> (key: Key, isCurrent: Bool)? {
        ring.withLock { ring in
            let matches = { (key: Key) in key.name.withUnsafeBufferPointer { memcmp($0.baseAddress!, name, 16) == 0 } }
            if let current = ring.current, matches(current) { return (current, true) }
            if let previous = ring.previous, matches(previous) { return (previous, false) }
            return nil
        }
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&bytes, Int32(count)) == 1, "RAND_bytes failed")
        return bytes
    }

    /// Sets `mac` to HMAC-SHA256 with `key`; false on failure.
    static func setMAC(_ mac: OpaquePointer?, key: [UInt8]) -> Bool {
        var key = key
        return key.withUnsafeMutableBytes { keyBytes in
            "key".withCString { keyName in
                "digest".withCString { digestName in
                    "SHA256".withCString { digest in
                        var params = [
                            OSSL_PARAM_construct_octet_string(keyName, keyBytes.baseAddress, keyBytes.count),
                            OSSL_PARAM_construct_utf8_string(digestName, UnsafeMutablePointer(mutating: digest), 0),
                            OSSL_PARAM_construct_end()
                        ]
                        return EVP_MAC_CTX_set_params(mac, &params) == 1
                    }
                }
            }
        }
    }

    /// `SSL_CTX_set_tlsext_ticket_key_evp_cb`'s callback: 1 = use this key, 2 = accepted but issue a new ticket
    /// (old key), 0 = unknown key (full handshake), -1 = error.
    static let callback:
        @convention(c) (
            OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?,
            OpaquePointer?, OpaquePointer?, Int32
        ) -> Int32 = { _, name, iv, cipher, mac, encrypt in
            guard let name, let iv else { return -1 }
            if encrypt == 1 {
                let key = keyForNewTicket(now: monotonicNow())
                key.name.withUnsafeBufferPointer { name.update(from: $0.baseAddress!, count: 16) }
                guard RAND_bytes(iv, 16) == 1,
                    EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nil, key.cipherKey, iv) == 1,
                    setMAC(mac, key: key.macKey)
                else { return -1 }
                return 1
            }
            guard let (key, isCurrent) = key(named: UnsafePointer(name)) else { return 0 }
            guard setMAC(mac, key: key.macKey),
                EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nil, key.cipherKey, iv) == 1
            else {
                return -1
            }
            return isCurrent ? 1 : 2
        }
}
