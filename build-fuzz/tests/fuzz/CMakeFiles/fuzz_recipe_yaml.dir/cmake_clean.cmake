file(REMOVE_RECURSE
  "CMakeFiles/fuzz_recipe_yaml.dir/fuzz_recipe_yaml.cpp.o"
  "CMakeFiles/fuzz_recipe_yaml.dir/fuzz_recipe_yaml.cpp.o.d"
  "fuzz_recipe_yaml"
  "fuzz_recipe_yaml.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/fuzz_recipe_yaml.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
