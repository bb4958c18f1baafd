# libFuzzer build (CONFLUX_FUZZ=ON). Included by the top-level CMakeLists.txt
# before any library is added, so every library the targets link is built
# with coverage instrumentation and the same sanitizers as the targets; only
# the fuzz targets link libFuzzer's main (fuzz/CMakeLists.txt).
# Use a build directory of its own (tests/fuzz/run_smoke.sh uses build-fuzz/):
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang-14 \
#         -DCMAKE_CXX_COMPILER=clang++-14 -DCONFLUX_FUZZ=ON -DCONFLUX_BUILD_TESTS=OFF
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "CONFLUX_FUZZ needs clang for libFuzzer; configure a separate build directory with "
                      "-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 (docs/FUZZING.md)")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
add_subdirectory(${CMAKE_CURRENT_LIST_DIR} ${CMAKE_BINARY_DIR}/fuzz)
