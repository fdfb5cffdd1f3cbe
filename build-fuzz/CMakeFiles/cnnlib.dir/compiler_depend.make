# Empty compiler generated dependencies file for cnnlib.
# This may be replaced when dependencies are built.
