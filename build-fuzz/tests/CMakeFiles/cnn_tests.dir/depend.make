# Empty dependencies file for cnn_tests.
# This may be replaced when dependencies are built.
