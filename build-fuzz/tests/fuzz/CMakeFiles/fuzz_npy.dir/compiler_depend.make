# Empty compiler generated dependencies file for fuzz_npy.
# This may be replaced when dependencies are built.
