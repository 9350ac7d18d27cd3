# bench_train: MNIST training step and the chapter MLP's forward, lamina vs PyTorch.
# Included from bench/CMakeLists.txt.
add_executable(bench_train ${CMAKE_CURRENT_LIST_DIR}/bench_train.c ${CMAKE_CURRENT_LIST_DIR}/step_counts.c)
target_compile_options(bench_train PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
target_compile_definitions(bench_train PRIVATE _POSIX_C_SOURCE=200809L
  LAMINA_TORCH_REFERENCE="${PROJECT_SOURCE_DIR}/../shared/bench/torch_reference.py")
target_link_libraries(bench_train PRIVATE lamina m ${CMAKE_DL_LIBS})
