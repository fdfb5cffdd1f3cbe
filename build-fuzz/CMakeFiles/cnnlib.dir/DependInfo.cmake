
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt-harden/lib/config/any_config.cpp" "CMakeFiles/cnnlib.dir/lib/config/any_config.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/any_config.cpp.o.d"
  "/work/wt-harden/lib/config/expression.cpp" "CMakeFiles/cnnlib.dir/lib/config/expression.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/expression.cpp.o.d"
  "/work/wt-harden/lib/config/layer_args.cpp" "CMakeFiles/cnnlib.dir/lib/config/layer_args.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/layer_args.cpp.o.d"
  "/work/wt-harden/lib/config/model_expand.cpp" "CMakeFiles/cnnlib.dir/lib/config/model_expand.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/model_expand.cpp.o.d"
  "/work/wt-harden/lib/config/model_init.cpp" "CMakeFiles/cnnlib.dir/lib/config/model_init.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/model_init.cpp.o.d"
  "/work/wt-harden/lib/config/model_spec.cpp" "CMakeFiles/cnnlib.dir/lib/config/model_spec.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/model_spec.cpp.o.d"
  "/work/wt-harden/lib/config/overrides.cpp" "CMakeFiles/cnnlib.dir/lib/config/overrides.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/overrides.cpp.o.d"
  "/work/wt-harden/lib/config/recipe.cpp" "CMakeFiles/cnnlib.dir/lib/config/recipe.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/recipe.cpp.o.d"
  "/work/wt-harden/lib/config/recipe_transforms.cpp" "CMakeFiles/cnnlib.dir/lib/config/recipe_transforms.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/recipe_transforms.cpp.o.d"
  "/work/wt-harden/lib/config/yaml_util.cpp" "CMakeFiles/cnnlib.dir/lib/config/yaml_util.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/config/yaml_util.cpp.o.d"
  "/work/wt-harden/lib/core/banner.cpp" "CMakeFiles/cnnlib.dir/lib/core/banner.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/core/banner.cpp.o.d"
  "/work/wt-harden/lib/core/error.cpp" "CMakeFiles/cnnlib.dir/lib/core/error.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/core/error.cpp.o.d"
  "/work/wt-harden/lib/core/interrupt.cpp" "CMakeFiles/cnnlib.dir/lib/core/interrupt.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/core/interrupt.cpp.o.d"
  "/work/wt-harden/lib/core/memory_budget.cpp" "CMakeFiles/cnnlib.dir/lib/core/memory_budget.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/core/memory_budget.cpp.o.d"
  "/work/wt-harden/lib/core/parallel.cpp" "CMakeFiles/cnnlib.dir/lib/core/parallel.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/core/parallel.cpp.o.d"
  "/work/wt-harden/lib/core/rng.cpp" "CMakeFiles/cnnlib.dir/lib/core/rng.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/core/rng.cpp.o.d"
  "/work/wt-harden/lib/core/tensor.cpp" "CMakeFiles/cnnlib.dir/lib/core/tensor.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/core/tensor.cpp.o.d"
  "/work/wt-harden/lib/core/workspace.cpp" "CMakeFiles/cnnlib.dir/lib/core/workspace.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/core/workspace.cpp.o.d"
  "/work/wt-harden/lib/data/cifar10.cpp" "CMakeFiles/cnnlib.dir/lib/data/cifar10.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/cifar10.cpp.o.d"
  "/work/wt-harden/lib/data/dataset.cpp" "CMakeFiles/cnnlib.dir/lib/data/dataset.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/dataset.cpp.o.d"
  "/work/wt-harden/lib/data/decode.cpp" "CMakeFiles/cnnlib.dir/lib/data/decode.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/decode.cpp.o.d"
  "/work/wt-harden/lib/data/image_folder.cpp" "CMakeFiles/cnnlib.dir/lib/data/image_folder.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/image_folder.cpp.o.d"
  "/work/wt-harden/lib/data/image_ops.cpp" "CMakeFiles/cnnlib.dir/lib/data/image_ops.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/image_ops.cpp.o.d"
  "/work/wt-harden/lib/data/load.cpp" "CMakeFiles/cnnlib.dir/lib/data/load.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/load.cpp.o.d"
  "/work/wt-harden/lib/data/loader.cpp" "CMakeFiles/cnnlib.dir/lib/data/loader.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/loader.cpp.o.d"
  "/work/wt-harden/lib/data/loader_bench.cpp" "CMakeFiles/cnnlib.dir/lib/data/loader_bench.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/loader_bench.cpp.o.d"
  "/work/wt-harden/lib/data/mnist.cpp" "CMakeFiles/cnnlib.dir/lib/data/mnist.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/mnist.cpp.o.d"
  "/work/wt-harden/lib/data/transforms.cpp" "CMakeFiles/cnnlib.dir/lib/data/transforms.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/data/transforms.cpp.o.d"
  "/work/wt-harden/lib/export/bn_fold.cpp" "CMakeFiles/cnnlib.dir/lib/export/bn_fold.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/export/bn_fold.cpp.o.d"
  "/work/wt-harden/lib/export/onnx_export.cpp" "CMakeFiles/cnnlib.dir/lib/export/onnx_export.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/export/onnx_export.cpp.o.d"
  "/work/wt-harden/lib/export/onnx_ops.cpp" "CMakeFiles/cnnlib.dir/lib/export/onnx_ops.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/export/onnx_ops.cpp.o.d"
  "/work/wt-harden/lib/export/state_dict_export.cpp" "CMakeFiles/cnnlib.dir/lib/export/state_dict_export.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/export/state_dict_export.cpp.o.d"
  "/work/wt-harden/lib/graph/memory_plan.cpp" "CMakeFiles/cnnlib.dir/lib/graph/memory_plan.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/graph/memory_plan.cpp.o.d"
  "/work/wt-harden/lib/graph/net.cpp" "CMakeFiles/cnnlib.dir/lib/graph/net.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/graph/net.cpp.o.d"
  "/work/wt-harden/lib/io/atomic_file.cpp" "CMakeFiles/cnnlib.dir/lib/io/atomic_file.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/io/atomic_file.cpp.o.d"
  "/work/wt-harden/lib/io/npy.cpp" "CMakeFiles/cnnlib.dir/lib/io/npy.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/io/npy.cpp.o.d"
  "/work/wt-harden/lib/io/safetensors.cpp" "CMakeFiles/cnnlib.dir/lib/io/safetensors.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/io/safetensors.cpp.o.d"
  "/work/wt-harden/lib/io/summary_report.cpp" "CMakeFiles/cnnlib.dir/lib/io/summary_report.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/io/summary_report.cpp.o.d"
  "/work/wt-harden/lib/kernels/activation.cpp" "CMakeFiles/cnnlib.dir/lib/kernels/activation.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/kernels/activation.cpp.o.d"
  "/work/wt-harden/lib/kernels/adaptive_pool.cpp" "CMakeFiles/cnnlib.dir/lib/kernels/adaptive_pool.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/kernels/adaptive_pool.cpp.o.d"
  "/work/wt-harden/lib/kernels/depthwise.cpp" "CMakeFiles/cnnlib.dir/lib/kernels/depthwise.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/kernels/depthwise.cpp.o.d"
  "/work/wt-harden/lib/kernels/gemm.cpp" "CMakeFiles/cnnlib.dir/lib/kernels/gemm.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/kernels/gemm.cpp.o.d"
  "/work/wt-harden/lib/kernels/im2col.cpp" "CMakeFiles/cnnlib.dir/lib/kernels/im2col.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/kernels/im2col.cpp.o.d"
  "/work/wt-harden/lib/kernels/lrn.cpp" "CMakeFiles/cnnlib.dir/lib/kernels/lrn.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/kernels/lrn.cpp.o.d"
  "/work/wt-harden/lib/kernels/pool.cpp" "CMakeFiles/cnnlib.dir/lib/kernels/pool.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/kernels/pool.cpp.o.d"
  "/work/wt-harden/lib/kernels/softmax.cpp" "CMakeFiles/cnnlib.dir/lib/kernels/softmax.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/kernels/softmax.cpp.o.d"
  "/work/wt-harden/lib/layers/activations.cpp" "CMakeFiles/cnnlib.dir/lib/layers/activations.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/activations.cpp.o.d"
  "/work/wt-harden/lib/layers/adaptive_pool.cpp" "CMakeFiles/cnnlib.dir/lib/layers/adaptive_pool.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/adaptive_pool.cpp.o.d"
  "/work/wt-harden/lib/layers/batchnorm.cpp" "CMakeFiles/cnnlib.dir/lib/layers/batchnorm.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/batchnorm.cpp.o.d"
  "/work/wt-harden/lib/layers/conv2d.cpp" "CMakeFiles/cnnlib.dir/lib/layers/conv2d.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/conv2d.cpp.o.d"
  "/work/wt-harden/lib/layers/conv_common.cpp" "CMakeFiles/cnnlib.dir/lib/layers/conv_common.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/conv_common.cpp.o.d"
  "/work/wt-harden/lib/layers/conv_transpose.cpp" "CMakeFiles/cnnlib.dir/lib/layers/conv_transpose.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/conv_transpose.cpp.o.d"
  "/work/wt-harden/lib/layers/dropout.cpp" "CMakeFiles/cnnlib.dir/lib/layers/dropout.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/dropout.cpp.o.d"
  "/work/wt-harden/lib/layers/dropout2d.cpp" "CMakeFiles/cnnlib.dir/lib/layers/dropout2d.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/dropout2d.cpp.o.d"
  "/work/wt-harden/lib/layers/init.cpp" "CMakeFiles/cnnlib.dir/lib/layers/init.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/init.cpp.o.d"
  "/work/wt-harden/lib/layers/linear.cpp" "CMakeFiles/cnnlib.dir/lib/layers/linear.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/linear.cpp.o.d"
  "/work/wt-harden/lib/layers/lrn.cpp" "CMakeFiles/cnnlib.dir/lib/layers/lrn.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/lrn.cpp.o.d"
  "/work/wt-harden/lib/layers/merge.cpp" "CMakeFiles/cnnlib.dir/lib/layers/merge.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/merge.cpp.o.d"
  "/work/wt-harden/lib/layers/pool2d.cpp" "CMakeFiles/cnnlib.dir/lib/layers/pool2d.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/pool2d.cpp.o.d"
  "/work/wt-harden/lib/layers/registry.cpp" "CMakeFiles/cnnlib.dir/lib/layers/registry.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/registry.cpp.o.d"
  "/work/wt-harden/lib/layers/relu6.cpp" "CMakeFiles/cnnlib.dir/lib/layers/relu6.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/relu6.cpp.o.d"
  "/work/wt-harden/lib/layers/reshape.cpp" "CMakeFiles/cnnlib.dir/lib/layers/reshape.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/reshape.cpp.o.d"
  "/work/wt-harden/lib/layers/shortcut.cpp" "CMakeFiles/cnnlib.dir/lib/layers/shortcut.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/layers/shortcut.cpp.o.d"
  "/work/wt-harden/lib/optim/adam.cpp" "CMakeFiles/cnnlib.dir/lib/optim/adam.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/optim/adam.cpp.o.d"
  "/work/wt-harden/lib/optim/lsuv.cpp" "CMakeFiles/cnnlib.dir/lib/optim/lsuv.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/optim/lsuv.cpp.o.d"
  "/work/wt-harden/lib/optim/optimizer.cpp" "CMakeFiles/cnnlib.dir/lib/optim/optimizer.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/optim/optimizer.cpp.o.d"
  "/work/wt-harden/lib/optim/rmsprop.cpp" "CMakeFiles/cnnlib.dir/lib/optim/rmsprop.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/optim/rmsprop.cpp.o.d"
  "/work/wt-harden/lib/optim/schedule.cpp" "CMakeFiles/cnnlib.dir/lib/optim/schedule.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/optim/schedule.cpp.o.d"
  "/work/wt-harden/lib/optim/sgd.cpp" "CMakeFiles/cnnlib.dir/lib/optim/sgd.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/optim/sgd.cpp.o.d"
  "/work/wt-harden/lib/train/bench.cpp" "CMakeFiles/cnnlib.dir/lib/train/bench.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/train/bench.cpp.o.d"
  "/work/wt-harden/lib/train/checkpoint.cpp" "CMakeFiles/cnnlib.dir/lib/train/checkpoint.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/train/checkpoint.cpp.o.d"
  "/work/wt-harden/lib/train/class_names.cpp" "CMakeFiles/cnnlib.dir/lib/train/class_names.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/train/class_names.cpp.o.d"
  "/work/wt-harden/lib/train/evaluator.cpp" "CMakeFiles/cnnlib.dir/lib/train/evaluator.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/train/evaluator.cpp.o.d"
  "/work/wt-harden/lib/train/loss.cpp" "CMakeFiles/cnnlib.dir/lib/train/loss.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/train/loss.cpp.o.d"
  "/work/wt-harden/lib/train/trainer.cpp" "CMakeFiles/cnnlib.dir/lib/train/trainer.cpp.o" "gcc" "CMakeFiles/cnnlib.dir/lib/train/trainer.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
