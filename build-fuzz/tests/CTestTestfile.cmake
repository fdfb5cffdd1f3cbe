# CMake generated Testfile for 
# Source directory: /work/wt-harden/tests
# Build directory: /work/wt-harden/build-fuzz/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/wt-harden/build-fuzz/tests/cnn_tests_include-98e47c4.cmake")
add_test([=[cli.test_checkpoint_faults]=] "bash" "/work/wt-harden/tests/cli/test_checkpoint_faults.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_checkpoint_faults]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_data_errors]=] "bash" "/work/wt-harden/tests/cli/test_data_errors.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_data_errors]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_errors]=] "bash" "/work/wt-harden/tests/cli/test_errors.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_errors]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_export_onnx]=] "bash" "/work/wt-harden/tests/cli/test_export_onnx.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_export_onnx]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_export_safetensors]=] "bash" "/work/wt-harden/tests/cli/test_export_safetensors.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_export_safetensors]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_hostile_inputs]=] "bash" "/work/wt-harden/tests/cli/test_hostile_inputs.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_hostile_inputs]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_imagenet_smoke]=] "bash" "/work/wt-harden/tests/cli/test_imagenet_smoke.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_imagenet_smoke]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_mnist_train]=] "bash" "/work/wt-harden/tests/cli/test_mnist_train.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_mnist_train]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_parity]=] "bash" "/work/wt-harden/tests/cli/test_parity.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_parity]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_predict]=] "bash" "/work/wt-harden/tests/cli/test_predict.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_predict]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_resume]=] "bash" "/work/wt-harden/tests/cli/test_resume.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_resume]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_signal]=] "bash" "/work/wt-harden/tests/cli/test_signal.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_signal]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
add_test([=[cli.test_summary]=] "bash" "/work/wt-harden/tests/cli/test_summary.sh" "/work/wt-harden/build-fuzz/cnn" "/work/wt-harden")
set_tests_properties([=[cli.test_summary]=] PROPERTIES  SKIP_RETURN_CODE "77" TIMEOUT "600" WORKING_DIRECTORY "/work/wt-harden/build-fuzz" _BACKTRACE_TRIPLES "/work/wt-harden/tests/CMakeLists.txt;27;add_test;/work/wt-harden/tests/CMakeLists.txt;0;")
subdirs("fuzz")
