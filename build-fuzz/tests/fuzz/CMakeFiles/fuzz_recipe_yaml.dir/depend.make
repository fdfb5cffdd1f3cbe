# Empty dependencies file for fuzz_recipe_yaml.
# This may be replaced when dependencies are built.
