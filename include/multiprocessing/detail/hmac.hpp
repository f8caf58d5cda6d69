// multiprocessing-cpp: Python's multiprocessing for C++.
// SPDX-License-Identifier: MIT
//
// The HMAC behind Listener/Client authentication (Python's
// hmac.new(authkey, message, 'md5')), from OpenSSL's libcrypto. Compiled in
// when MULTIPROCESSING_HAS_OPENSSL is 1: the CMake target sets it and links
// OpenSSL::Crypto when OpenSSL is found (option MULTIPROCESSING_WITH_OPENSSL);
// without CMake, define it and link -lcrypto. Without it, everything works
// except an authkey, which throws. Not part of the public API.
#ifndef MULTIPROCESSING_DETAIL_HMAC_HPP
#define MULTIPROCESSING_DETAIL_HMAC_HPP

#include <multiprocessing/config.hpp>
#include <multiprocessing/exceptions.hpp>

#include <climits>
#include <string>
#include <string_view>

#if defined(MULTIPROCESSING_HAS_OPENSSL) && MULTIPROCESSING_HAS_OPENSSL
#    include <openssl/crypto.h>
#    include <openssl/evp.h>
#    include <openssl/hmac.h>
#endif

namespace multiprocessing::detail {

/// Whether authkey challenges are available in this build.
inline constexpr bool have_hmac =
#if defined(MULTIPROCESSING_HAS_OPENSSL) && MULTIPROCESSING_HAS_OPENSSL
    true;
#else
    false;
#endif

/// HMAC-MD5 of `message` under `key` (what Python 3.11's
/// deliver_challenge/answer_challenge use). Throws ProcessError when the
/// build has no OpenSSL, AuthenticationError if OpenSSL fails.
inline std::string hmac_md5(std::string_view key, std::string_view message) {
#if defined(MULTIPROCESSING_HAS_OPENSSL) && MULTIPROCESSING_HAS_OPENSSL
    if (key.size() > static_cast<std::size_t>(INT_MAX)) {
        throw AuthenticationError("authkey is too long");
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (::HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(message.data()), message.size(), out,
               &len) == nullptr) {
        throw AuthenticationError("HMAC-MD5 failed (OpenSSL)");
    }
    return std::string(reinterpret_cast<const char*>(out), len);
#else
    (void)key;
    (void)message;
    throw ProcessError(
        "authkey: this build of multiprocessing-cpp has no HMAC; link OpenSSL "
        "(CMake: MULTIPROCESSING_WITH_OPENSSL=ON with libssl-dev installed; otherwise "
        "-DMULTIPROCESSING_HAS_OPENSSL=1 -lcrypto)");
#endif
}

/// Compares two byte strings in time independent of where they differ.
inline bool equal_digests(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
#if defined(MULTIPROCESSING_HAS_OPENSSL) && MULTIPROCESSING_HAS_OPENSSL
    return ::CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
#else
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
    }
    return diff == 0;
#endif
}

}  // namespace multiprocessing::detail

#endif  // MULTIPROCESSING_DETAIL_HMAC_HPP
