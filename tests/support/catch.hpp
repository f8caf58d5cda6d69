// Catch2 v3 where it is found, else the v2 single header (Debian 12 ships 2.13).
// Tests use only the macros both versions share.
#ifndef MP_TEST_SUPPORT_CATCH_HPP
#define MP_TEST_SUPPORT_CATCH_HPP

#if __has_include(<catch2/catch_all.hpp>)
#    include <catch2/catch_all.hpp>
#else
#    include <catch2/catch.hpp>
#endif

#endif
