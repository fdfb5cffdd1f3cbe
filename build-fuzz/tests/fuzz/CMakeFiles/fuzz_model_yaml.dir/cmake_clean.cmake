file(REMOVE_RECURSE
  "CMakeFiles/fuzz_model_yaml.dir/fuzz_model_yaml.cpp.o"
  "CMakeFiles/fuzz_model_yaml.dir/fuzz_model_yaml.cpp.o.d"
  "fuzz_model_yaml"
  "fuzz_model_yaml.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/fuzz_model_yaml.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
