# Warning and sanitizer flags, applied PRIVATE to our own tests, examples and
# benchmarks only: never to the library target that users link.
function(multiprocessing_developer_flags target)
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        target_compile_options(${target} PRIVATE
            -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow)
        if(MULTIPROCESSING_WARNINGS_AS_ERRORS)
            target_compile_options(${target} PRIVATE -Werror)
        endif()
    endif()
    if(MULTIPROCESSING_SANITIZE)
        string(REPLACE ";" "," _san "${MULTIPROCESSING_SANITIZE}")
        target_compile_options(${target} PRIVATE
            -fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
        target_link_options(${target} PRIVATE -fsanitize=${_san})
    endif()
endfunction()
