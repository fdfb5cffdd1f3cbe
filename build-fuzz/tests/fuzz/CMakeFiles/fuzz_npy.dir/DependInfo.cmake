
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt-harden/tests/fuzz/fuzz_npy.cpp" "tests/fuzz/CMakeFiles/fuzz_npy.dir/fuzz_npy.cpp.o" "gcc" "tests/fuzz/CMakeFiles/fuzz_npy.dir/fuzz_npy.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt-harden/build-fuzz/CMakeFiles/cnnlib.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
