# Empty dependencies file for cnn.
# This may be replaced when dependencies are built.
