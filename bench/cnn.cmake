# bench_cnn: CNN training steps, conv2d layers and memory, lamina beside PyTorch (torch_cnn.py).
# Included from bench/CMakeLists.txt.
add_executable(bench_cnn ${CMAKE_CURRENT_LIST_DIR}/bench_cnn.c ${CMAKE_CURRENT_LIST_DIR}/step_counts.c)
target_compile_options(bench_cnn PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
target_include_directories(bench_cnn PRIVATE ${PROJECT_SOURCE_DIR}/examples)
target_compile_definitions(bench_cnn PRIVATE _POSIX_C_SOURCE=200809L
  LAMINA_TORCH_CNN="${CMAKE_CURRENT_LIST_DIR}/torch_cnn.py")
target_link_libraries(bench_cnn PRIVATE lamina PkgConfig::OPENBLAS m ${CMAKE_DL_LIBS})
