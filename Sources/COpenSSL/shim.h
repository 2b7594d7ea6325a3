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
#endif
