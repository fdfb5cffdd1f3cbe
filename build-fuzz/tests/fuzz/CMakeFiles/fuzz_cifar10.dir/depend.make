# Empty dependencies file for fuzz_cifar10.
# This may be replaced when dependencies are built.
