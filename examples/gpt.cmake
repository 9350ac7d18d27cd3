# The GPT programs (gpt_sort, gpt_chars) on the shared model (gpt.c) and trainer
# (gpt_train.c), and their short CI runs. Included from examples/CMakeLists.txt.
add_library(gpt_example STATIC ${CMAKE_CURRENT_LIST_DIR}/gpt.c ${CMAKE_CURRENT_LIST_DIR}/gpt_train.c)
target_compile_options(gpt_example PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
target_compile_definitions(gpt_example PUBLIC _POSIX_C_SOURCE=200809L)
target_link_libraries(gpt_example PUBLIC lamina m)
foreach(prog gpt_sort)
  add_executable(${prog} ${CMAKE_CURRENT_LIST_DIR}/${prog}.c)
  target_compile_options(${prog} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
  target_link_libraries(${prog} PRIVATE gpt_example)
endforeach()
