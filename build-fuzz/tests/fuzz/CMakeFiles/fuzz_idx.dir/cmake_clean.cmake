file(REMOVE_RECURSE
  "CMakeFiles/fuzz_idx.dir/fuzz_idx.cpp.o"
  "CMakeFiles/fuzz_idx.dir/fuzz_idx.cpp.o.d"
  "fuzz_idx"
  "fuzz_idx.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/fuzz_idx.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
