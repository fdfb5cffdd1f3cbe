
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt-harden/tests/config/test_expression.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_expression.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_expression.cpp.o.d"
  "/work/wt-harden/tests/config/test_layer_args.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_layer_args.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_layer_args.cpp.o.d"
  "/work/wt-harden/tests/config/test_max_unpool.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_max_unpool.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_max_unpool.cpp.o.d"
  "/work/wt-harden/tests/config/test_model_hostile.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_model_hostile.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_model_hostile.cpp.o.d"
  "/work/wt-harden/tests/config/test_model_init.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_model_init.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_model_init.cpp.o.d"
  "/work/wt-harden/tests/config/test_model_spec.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_model_spec.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_model_spec.cpp.o.d"
  "/work/wt-harden/tests/config/test_model_splice.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_model_splice.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_model_splice.cpp.o.d"
  "/work/wt-harden/tests/config/test_recipe.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_recipe.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_recipe.cpp.o.d"
  "/work/wt-harden/tests/config/test_recipe_optim.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_recipe_optim.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_recipe_optim.cpp.o.d"
  "/work/wt-harden/tests/config/test_recipe_transforms.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_recipe_transforms.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_recipe_transforms.cpp.o.d"
  "/work/wt-harden/tests/config/test_shipped_configs.cpp" "tests/CMakeFiles/cnn_tests.dir/config/test_shipped_configs.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/config/test_shipped_configs.cpp.o.d"
  "/work/wt-harden/tests/core/test_core.cpp" "tests/CMakeFiles/cnn_tests.dir/core/test_core.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/core/test_core.cpp.o.d"
  "/work/wt-harden/tests/data/test_cifar10.cpp" "tests/CMakeFiles/cnn_tests.dir/data/test_cifar10.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/data/test_cifar10.cpp.o.d"
  "/work/wt-harden/tests/data/test_decode.cpp" "tests/CMakeFiles/cnn_tests.dir/data/test_decode.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/data/test_decode.cpp.o.d"
  "/work/wt-harden/tests/data/test_decode_hostile.cpp" "tests/CMakeFiles/cnn_tests.dir/data/test_decode_hostile.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/data/test_decode_hostile.cpp.o.d"
  "/work/wt-harden/tests/data/test_loader.cpp" "tests/CMakeFiles/cnn_tests.dir/data/test_loader.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/data/test_loader.cpp.o.d"
  "/work/wt-harden/tests/data/test_loader_alloc.cpp" "tests/CMakeFiles/cnn_tests.dir/data/test_loader_alloc.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/data/test_loader_alloc.cpp.o.d"
  "/work/wt-harden/tests/data/test_mnist.cpp" "tests/CMakeFiles/cnn_tests.dir/data/test_mnist.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/data/test_mnist.cpp.o.d"
  "/work/wt-harden/tests/data/test_transform_reference.cpp" "tests/CMakeFiles/cnn_tests.dir/data/test_transform_reference.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/data/test_transform_reference.cpp.o.d"
  "/work/wt-harden/tests/data/test_transforms.cpp" "tests/CMakeFiles/cnn_tests.dir/data/test_transforms.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/data/test_transforms.cpp.o.d"
  "/work/wt-harden/tests/export/test_bn_fold.cpp" "tests/CMakeFiles/cnn_tests.dir/export/test_bn_fold.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/export/test_bn_fold.cpp.o.d"
  "/work/wt-harden/tests/export/test_onnx_export.cpp" "tests/CMakeFiles/cnn_tests.dir/export/test_onnx_export.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/export/test_onnx_export.cpp.o.d"
  "/work/wt-harden/tests/graph/test_net.cpp" "tests/CMakeFiles/cnn_tests.dir/graph/test_net.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/graph/test_net.cpp.o.d"
  "/work/wt-harden/tests/io/test_atomic_file.cpp" "tests/CMakeFiles/cnn_tests.dir/io/test_atomic_file.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/io/test_atomic_file.cpp.o.d"
  "/work/wt-harden/tests/io/test_load_weights.cpp" "tests/CMakeFiles/cnn_tests.dir/io/test_load_weights.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/io/test_load_weights.cpp.o.d"
  "/work/wt-harden/tests/io/test_npy.cpp" "tests/CMakeFiles/cnn_tests.dir/io/test_npy.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/io/test_npy.cpp.o.d"
  "/work/wt-harden/tests/io/test_safetensors.cpp" "tests/CMakeFiles/cnn_tests.dir/io/test_safetensors.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/io/test_safetensors.cpp.o.d"
  "/work/wt-harden/tests/io/test_safetensors_hostile.cpp" "tests/CMakeFiles/cnn_tests.dir/io/test_safetensors_hostile.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/io/test_safetensors_hostile.cpp.o.d"
  "/work/wt-harden/tests/kernels/test_activation.cpp" "tests/CMakeFiles/cnn_tests.dir/kernels/test_activation.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/kernels/test_activation.cpp.o.d"
  "/work/wt-harden/tests/kernels/test_depthwise.cpp" "tests/CMakeFiles/cnn_tests.dir/kernels/test_depthwise.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/kernels/test_depthwise.cpp.o.d"
  "/work/wt-harden/tests/kernels/test_gemm.cpp" "tests/CMakeFiles/cnn_tests.dir/kernels/test_gemm.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/kernels/test_gemm.cpp.o.d"
  "/work/wt-harden/tests/kernels/test_im2col.cpp" "tests/CMakeFiles/cnn_tests.dir/kernels/test_im2col.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/kernels/test_im2col.cpp.o.d"
  "/work/wt-harden/tests/kernels/test_pool.cpp" "tests/CMakeFiles/cnn_tests.dir/kernels/test_pool.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/kernels/test_pool.cpp.o.d"
  "/work/wt-harden/tests/kernels/test_row_conv.cpp" "tests/CMakeFiles/cnn_tests.dir/kernels/test_row_conv.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/kernels/test_row_conv.cpp.o.d"
  "/work/wt-harden/tests/kernels/test_softmax.cpp" "tests/CMakeFiles/cnn_tests.dir/kernels/test_softmax.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/kernels/test_softmax.cpp.o.d"
  "/work/wt-harden/tests/layers/test_conv_linear.cpp" "tests/CMakeFiles/cnn_tests.dir/layers/test_conv_linear.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/layers/test_conv_linear.cpp.o.d"
  "/work/wt-harden/tests/layers/test_gradcheck_selftest.cpp" "tests/CMakeFiles/cnn_tests.dir/layers/test_gradcheck_selftest.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/layers/test_gradcheck_selftest.cpp.o.d"
  "/work/wt-harden/tests/layers/test_layer_gradcheck.cpp" "tests/CMakeFiles/cnn_tests.dir/layers/test_layer_gradcheck.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/layers/test_layer_gradcheck.cpp.o.d"
  "/work/wt-harden/tests/layers/test_lrn_adaptive_dropout2d.cpp" "tests/CMakeFiles/cnn_tests.dir/layers/test_lrn_adaptive_dropout2d.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/layers/test_lrn_adaptive_dropout2d.cpp.o.d"
  "/work/wt-harden/tests/layers/test_shortcut_relu6.cpp" "tests/CMakeFiles/cnn_tests.dir/layers/test_shortcut_relu6.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/layers/test_shortcut_relu6.cpp.o.d"
  "/work/wt-harden/tests/layers/test_simple_layers.cpp" "tests/CMakeFiles/cnn_tests.dir/layers/test_simple_layers.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/layers/test_simple_layers.cpp.o.d"
  "/work/wt-harden/tests/layers/test_torch_parity.cpp" "tests/CMakeFiles/cnn_tests.dir/layers/test_torch_parity.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/layers/test_torch_parity.cpp.o.d"
  "/work/wt-harden/tests/main.cpp" "tests/CMakeFiles/cnn_tests.dir/main.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/main.cpp.o.d"
  "/work/wt-harden/tests/models/test_zoo.cpp" "tests/CMakeFiles/cnn_tests.dir/models/test_zoo.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/models/test_zoo.cpp.o.d"
  "/work/wt-harden/tests/models/test_zoo_inception_densenet.cpp" "tests/CMakeFiles/cnn_tests.dir/models/test_zoo_inception_densenet.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/models/test_zoo_inception_densenet.cpp.o.d"
  "/work/wt-harden/tests/optim/test_optimizers.cpp" "tests/CMakeFiles/cnn_tests.dir/optim/test_optimizers.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/optim/test_optimizers.cpp.o.d"
  "/work/wt-harden/tests/optim/test_schedule.cpp" "tests/CMakeFiles/cnn_tests.dir/optim/test_schedule.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/optim/test_schedule.cpp.o.d"
  "/work/wt-harden/tests/optim/test_sgd.cpp" "tests/CMakeFiles/cnn_tests.dir/optim/test_sgd.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/optim/test_sgd.cpp.o.d"
  "/work/wt-harden/tests/parity/test_train_step_parity.cpp" "tests/CMakeFiles/cnn_tests.dir/parity/test_train_step_parity.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/parity/test_train_step_parity.cpp.o.d"
  "/work/wt-harden/tests/train/test_checkpoint_integrity.cpp" "tests/CMakeFiles/cnn_tests.dir/train/test_checkpoint_integrity.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/train/test_checkpoint_integrity.cpp.o.d"
  "/work/wt-harden/tests/train/test_evaluator.cpp" "tests/CMakeFiles/cnn_tests.dir/train/test_evaluator.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/train/test_evaluator.cpp.o.d"
  "/work/wt-harden/tests/train/test_heads.cpp" "tests/CMakeFiles/cnn_tests.dir/train/test_heads.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/train/test_heads.cpp.o.d"
  "/work/wt-harden/tests/train/test_resume.cpp" "tests/CMakeFiles/cnn_tests.dir/train/test_resume.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/train/test_resume.cpp.o.d"
  "/work/wt-harden/tests/train/test_trainer.cpp" "tests/CMakeFiles/cnn_tests.dir/train/test_trainer.cpp.o" "gcc" "tests/CMakeFiles/cnn_tests.dir/train/test_trainer.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt-harden/build-fuzz/CMakeFiles/cnnlib.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
