# cmake -DCXX=... -DSOURCE=... -DINCLUDE=... -DEXPECT=<regex> -P check_compile_fail.cmake
# Succeeds when SOURCE fails to compile and the diagnostics match EXPECT.
execute_process(
    COMMAND ${CXX} -std=c++17 -fsyntax-only -I${INCLUDE} ${SOURCE}
    RESULT_VARIABLE _rc
    OUTPUT_VARIABLE _out
    ERROR_VARIABLE _out)
if(_rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected")
endif()
if(NOT _out MATCHES "${EXPECT}")
    message(FATAL_ERROR "${SOURCE} was rejected without the expected message '${EXPECT}':\n${_out}")
endif()
message(STATUS "${SOURCE}: rejected as expected")
