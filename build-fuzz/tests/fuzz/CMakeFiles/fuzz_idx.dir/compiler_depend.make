# Empty compiler generated dependencies file for fuzz_idx.
# This may be replaced when dependencies are built.
