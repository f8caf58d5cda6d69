# pkg-config --cflags must point at the installed headers (run with -P).
execute_process(
    COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${PC_DIR} ${PKG_CONFIG} --cflags --libs multiprocessing-cpp
    OUTPUT_VARIABLE _out RESULT_VARIABLE _rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "pkg-config failed (${_rc}): ${_out}")
endif()
string(REGEX MATCH "-I([^ ]+)" _ "${_out}")
if(NOT EXISTS "${CMAKE_MATCH_1}/multiprocessing.hpp")
    message(FATAL_ERROR "pkg-config --cflags gave '${_out}': no multiprocessing.hpp there")
endif()
message(STATUS "pkg-config ok: ${_out}")
