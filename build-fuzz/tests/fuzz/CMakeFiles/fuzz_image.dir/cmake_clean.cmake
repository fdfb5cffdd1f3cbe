file(REMOVE_RECURSE
  "CMakeFiles/fuzz_image.dir/fuzz_image.cpp.o"
  "CMakeFiles/fuzz_image.dir/fuzz_image.cpp.o.d"
  "fuzz_image"
  "fuzz_image.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/fuzz_image.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
