
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt-harden/apps/cnn/bench.cpp" "CMakeFiles/cnn.dir/apps/cnn/bench.cpp.o" "gcc" "CMakeFiles/cnn.dir/apps/cnn/bench.cpp.o.d"
  "/work/wt-harden/apps/cnn/eval.cpp" "CMakeFiles/cnn.dir/apps/cnn/eval.cpp.o" "gcc" "CMakeFiles/cnn.dir/apps/cnn/eval.cpp.o.d"
  "/work/wt-harden/apps/cnn/export.cpp" "CMakeFiles/cnn.dir/apps/cnn/export.cpp.o" "gcc" "CMakeFiles/cnn.dir/apps/cnn/export.cpp.o.d"
  "/work/wt-harden/apps/cnn/main.cpp" "CMakeFiles/cnn.dir/apps/cnn/main.cpp.o" "gcc" "CMakeFiles/cnn.dir/apps/cnn/main.cpp.o.d"
  "/work/wt-harden/apps/cnn/predict.cpp" "CMakeFiles/cnn.dir/apps/cnn/predict.cpp.o" "gcc" "CMakeFiles/cnn.dir/apps/cnn/predict.cpp.o.d"
  "/work/wt-harden/apps/cnn/summary.cpp" "CMakeFiles/cnn.dir/apps/cnn/summary.cpp.o" "gcc" "CMakeFiles/cnn.dir/apps/cnn/summary.cpp.o.d"
  "/work/wt-harden/apps/cnn/train.cpp" "CMakeFiles/cnn.dir/apps/cnn/train.cpp.o" "gcc" "CMakeFiles/cnn.dir/apps/cnn/train.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt-harden/build-fuzz/CMakeFiles/cnnlib.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
