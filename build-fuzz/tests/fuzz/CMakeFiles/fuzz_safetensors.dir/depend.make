# Empty dependencies file for fuzz_safetensors.
# This may be replaced when dependencies are built.
