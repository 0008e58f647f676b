# Shared build rules for every module, test and benchmark.

# Warnings every target gets; CI builds with EI8_WERROR=ON.
function(ei8_set_warnings target)
  # Designated initializers leave the other members at their defaults: that is intended, so
  # -Wmissing-field-initializers is off.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion
                                           -Wno-missing-field-initializers)
  # GCC 12 reports -Wrestrict false positives inside libstdc++ for `"lit" + std::string`
  # (GCC bug 105329); the warning stays on for other compilers.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(EI8_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# ei8_module(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# Defines the library target ei8_<name> (alias ei8::<name>) whose headers are included as
# "ei8/<name>/header.h" from src/.
function(ei8_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(ei8_${name} STATIC ${ARG_SOURCES})
  add_library(ei8::${name} ALIAS ei8_${name})
  target_include_directories(ei8_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(ei8_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  ei8_set_warnings(ei8_${name})
  # Linked into the Python module (a shared object): -fPIC instead of Debian's default -fPIE,
  # with -fno-semantic-interposition so that GCC still inlines and binds calls within the
  # library as it does for an executable. Programs and tests keep their flags.
  if(EI8_PYTHON_MODULE)
    set_target_properties(ei8_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(ei8_${name} PRIVATE -fno-semantic-interposition)
    endif()
  endif()
endfunction()

# ei8_test(<name> SOURCES ... DEPS ...): one GoogleTest program per module, discovered by ctest.
function(ei8_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE EI8_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
                                             EI8_BINARY_DIR="${PROJECT_BINARY_DIR}")
  ei8_set_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
endfunction()
