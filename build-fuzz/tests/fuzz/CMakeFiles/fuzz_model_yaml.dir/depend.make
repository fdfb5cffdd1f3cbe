# Empty dependencies file for fuzz_model_yaml.
# This may be replaced when dependencies are built.
