file(REMOVE_RECURSE
  "CMakeFiles/fuzz_safetensors.dir/fuzz_safetensors.cpp.o"
  "CMakeFiles/fuzz_safetensors.dir/fuzz_safetensors.cpp.o.d"
  "fuzz_safetensors"
  "fuzz_safetensors.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/fuzz_safetensors.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
