# bench_transformer: the Transformer layer, attention and GPT training, lamina beside PyTorch.
# Included from bench/CMakeLists.txt; needs the GPT example (examples/gpt.cmake).
if(TARGET gpt_example)
  add_executable(bench_transformer ${CMAKE_CURRENT_LIST_DIR}/bench_transformer.c ${CMAKE_CURRENT_LIST_DIR}/step_counts.c)
  target_compile_options(bench_transformer PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
  target_compile_definitions(bench_transformer PRIVATE LAMINA_BENCH_TORCH="${CMAKE_CURRENT_LIST_DIR}/bench_transformer.py")
  target_include_directories(bench_transformer PRIVATE ${PROJECT_SOURCE_DIR}/examples)
  target_link_libraries(bench_transformer PRIVATE gpt_example ${CMAKE_DL_LIBS})
endif()
