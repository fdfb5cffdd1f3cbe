file(REMOVE_RECURSE
  "CMakeFiles/fuzz_cifar10.dir/fuzz_cifar10.cpp.o"
  "CMakeFiles/fuzz_cifar10.dir/fuzz_cifar10.cpp.o.d"
  "fuzz_cifar10"
  "fuzz_cifar10.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/fuzz_cifar10.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
