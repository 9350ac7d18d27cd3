# train_mnist: the main training job, and its tests. Included from examples/CMakeLists.txt.
add_executable(train_mnist ${CMAKE_CURRENT_LIST_DIR}/train_mnist.c ${CMAKE_CURRENT_LIST_DIR}/train_mnist_options.c
  ${CMAKE_CURRENT_LIST_DIR}/train_mnist_models.c ${CMAKE_CURRENT_LIST_DIR}/train_mnist_svg.c)
target_compile_options(train_mnist PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
target_compile_definitions(train_mnist PRIVATE _POSIX_C_SOURCE=200809L LAMINA_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
target_link_libraries(train_mnist PRIVATE lamina)

if(LAMINA_BUILD_TESTS)
  set(TRAIN_MNIST_WORK ${CMAKE_CURRENT_BINARY_DIR}/train_mnist_tests)
  set(TRAIN_MNIST_ENV "POCL_CACHE_DIR=${CMAKE_BINARY_DIR}/cache/pocl;LAMINA_CACHE_DIR=${CMAKE_BINARY_DIR}/cache/lamina")
  file(MAKE_DIRECTORY ${TRAIN_MNIST_WORK} ${CMAKE_BINARY_DIR}/cache/pocl ${CMAKE_BINARY_DIR}/cache/lamina)
  # A short run on the default device must learn something.
  add_test(NAME train_mnist_short
    COMMAND train_mnist --epochs 2 --limit 2000 --min-test-acc 0.85 --csv ${TRAIN_MNIST_WORK}/short.csv
            --svg ${TRAIN_MNIST_WORK}/short.svg)
  # Determinism, resume equivalence and bad input, through a wrapper script.
  foreach(case determinism resume resume_schedule fashion agreement bad_input)
    add_test(NAME train_mnist_${case}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/train_mnist_test.sh ${case} $<TARGET_FILE:train_mnist>
              ${TRAIN_MNIST_WORK}/${case} ${PROJECT_SOURCE_DIR}/data)
  endforeach()
  set_tests_properties(train_mnist_short train_mnist_determinism train_mnist_resume train_mnist_resume_schedule
    train_mnist_fashion train_mnist_agreement train_mnist_bad_input
    PROPERTIES RUN_SERIAL TRUE ENVIRONMENT "${TRAIN_MNIST_ENV}")
  set_tests_properties(train_mnist_agreement train_mnist_fashion PROPERTIES SKIP_RETURN_CODE 77)
endif()
