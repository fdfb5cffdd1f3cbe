file(REMOVE_RECURSE
  "CMakeFiles/cnn.dir/apps/cnn/bench.cpp.o"
  "CMakeFiles/cnn.dir/apps/cnn/bench.cpp.o.d"
  "CMakeFiles/cnn.dir/apps/cnn/eval.cpp.o"
  "CMakeFiles/cnn.dir/apps/cnn/eval.cpp.o.d"
  "CMakeFiles/cnn.dir/apps/cnn/export.cpp.o"
  "CMakeFiles/cnn.dir/apps/cnn/export.cpp.o.d"
  "CMakeFiles/cnn.dir/apps/cnn/main.cpp.o"
  "CMakeFiles/cnn.dir/apps/cnn/main.cpp.o.d"
  "CMakeFiles/cnn.dir/apps/cnn/predict.cpp.o"
  "CMakeFiles/cnn.dir/apps/cnn/predict.cpp.o.d"
  "CMakeFiles/cnn.dir/apps/cnn/summary.cpp.o"
  "CMakeFiles/cnn.dir/apps/cnn/summary.cpp.o.d"
  "CMakeFiles/cnn.dir/apps/cnn/train.cpp.o"
  "CMakeFiles/cnn.dir/apps/cnn/train.cpp.o.d"
  "cnn"
  "cnn.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/cnn.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
