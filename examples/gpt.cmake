# The GPT programs (gpt_sort, gpt_chars) on the shared model (gpt.c) and trainer
# (gpt_train.c), and their short CI runs. Included from examples/CMakeLists.txt.
add_library(gpt_example STATIC ${CMAKE_CURRENT_LIST_DIR}/gpt.c ${CMAKE_CURRENT_LIST_DIR}/gpt_train.c)
target_compile_options(gpt_example PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
target_compile_definitions(gpt_example PUBLIC _POSIX_C_SOURCE=200809L)
target_link_libraries(gpt_example PUBLIC lamina m)
foreach(prog gpt_sort gpt_chars)
  add_executable(${prog} ${CMAKE_CURRENT_LIST_DIR}/${prog}.c)
  target_compile_options(${prog} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
  target_link_libraries(${prog} PRIVATE gpt_example)
endforeach()

if(LAMINA_BUILD_TESTS)
  set(GPT_WORK ${CMAKE_CURRENT_BINARY_DIR}/gpt_tests)
  set(GPT_ENV "POCL_CACHE_DIR=${CMAKE_BINARY_DIR}/cache/pocl;LAMINA_CACHE_DIR=${CMAKE_BINARY_DIR}/cache/lamina")
  file(MAKE_DIRECTORY ${GPT_WORK})
  set(GPT_TEST ${CMAKE_CURRENT_LIST_DIR}/gpt_test.sh)
  # Short versions: the sorting GPT as configured, a small character GPT on 300 kB of text.
  set(GPT_CHARS_SMALL --limit 300000 --n-layer 2 --n-head 2 --n-embd 32 --block-size 32 --batch 8 --eval-batches 1
      --sample 40 --eval-every 1000)
  add_test(NAME gpt_sort_short COMMAND bash ${GPT_TEST} falls $<TARGET_FILE:gpt_sort> ${GPT_WORK}/sort_short
           --steps 12 --batch 32 --min-acc 0)
  add_test(NAME gpt_sort_agreement COMMAND bash ${GPT_TEST} agreement $<TARGET_FILE:gpt_sort> ${GPT_WORK}/sort_agree
           --steps 3 --min-acc 0)
  add_test(NAME gpt_chars_short COMMAND bash ${GPT_TEST} falls $<TARGET_FILE:gpt_chars> ${GPT_WORK}/chars_short
           --steps 30 --lr 3e-3 ${GPT_CHARS_SMALL})
  add_test(NAME gpt_chars_agreement COMMAND bash ${GPT_TEST} agreement $<TARGET_FILE:gpt_chars> ${GPT_WORK}/chars_agree
           --steps 3 ${GPT_CHARS_SMALL})
  set(gpt_tests gpt_sort_short gpt_sort_agreement gpt_chars_short gpt_chars_agreement)
  set_tests_properties(${gpt_tests} PROPERTIES RUN_SERIAL TRUE ENVIRONMENT "${GPT_ENV}" SKIP_RETURN_CODE 77)
endif()

# The GPT against its PyTorch twin (tests/test_gpt.c; references by examples/gpt_twin.py).
if(LAMINA_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  add_executable(test_gpt ${PROJECT_SOURCE_DIR}/tests/test_gpt.c ${PROJECT_SOURCE_DIR}/tests/test_util.c
                 ${PROJECT_SOURCE_DIR}/tests/reference_file.c)
  target_compile_options(test_gpt PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  target_include_directories(test_gpt PRIVATE ${PROJECT_SOURCE_DIR}/tests ${CMAKE_CURRENT_LIST_DIR})
  target_compile_definitions(test_gpt PRIVATE LAMINA_TEST_REFERENCE_DIR="${PROJECT_SOURCE_DIR}/tests/reference")
  target_link_libraries(test_gpt PRIVATE gpt_example PkgConfig::CMOCKA cjson m)
  add_test(NAME gpt COMMAND test_gpt)
  set_tests_properties(gpt PROPERTIES RUN_SERIAL TRUE ENVIRONMENT "${GPT_ENV}")
endif()
if(TARGET gpt_sort)   # the agreement runs compare the first OpenCL device with cpu, the default without a GPU
  set_property(TEST gpt_sort_agreement gpt_chars_agreement APPEND PROPERTY ENVIRONMENT "LAMINA_DEVICE=opencl")
endif()
