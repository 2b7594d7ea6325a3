// OpenSSL libcrypto (EVP digests, HMAC, random bytes, constant-time compare) and libssl.
#ifndef TOOLTOOL_COPENSSL_SHIM_H
#define TOOLTOOL_COPENSSL_SHIM_H
#include <sys/types.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/sha.h>

/// SHA-256 of `count` bytes in one call, on a context on the stack. `EVP_Digest` allocates, initialises and frees an
/// `EVP_MD_CTX` and looks the implementation up in the providers every time (8,000 instructions for a 64-byte
/// token, against a few hundred for the hashing itself), and OpenSSL 3's one-shot `SHA256` goes through that same
/// lookup. The low-level calls are deprecated in OpenSSL 3 in favour of EVP, and stay in 3.x.
static inline void tt_sha256(const void *data, size_t count, unsigned char *out) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, count);
    SHA256_Final(out, &context);
    OPENSSL_cleanse(&context, sizeof context);
#pragma GCC diagnostic pop
}
#endif
