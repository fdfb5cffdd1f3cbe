file(REMOVE_RECURSE
  "CMakeFiles/fuzz_checkpoint.dir/fuzz_checkpoint.cpp.o"
  "CMakeFiles/fuzz_checkpoint.dir/fuzz_checkpoint.cpp.o.d"
  "fuzz_checkpoint"
  "fuzz_checkpoint.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/fuzz_checkpoint.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
