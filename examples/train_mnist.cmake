# train_mnist: the main training job, and its tests. Included from examples/CMakeLists.txt.
add_executable(train_mnist ${CMAKE_CURRENT_LIST_DIR}/train_mnist.c ${CMAKE_CURRENT_LIST_DIR}/train_mnist_options.c
  ${CMAKE_CURRENT_LIST_DIR}/train_mnist_models.c ${CMAKE_CURRENT_LIST_DIR}/train_mnist_svg.c
  ${CMAKE_CURRENT_LIST_DIR}/train_mnist_checkpoint.c)
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
  foreach(case determinism resume resume_schedule fashion agreement cnn bad_input)
    add_test(NAME train_mnist_${case}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/train_mnist_test.sh ${case} $<TARGET_FILE:train_mnist>
              ${TRAIN_MNIST_WORK}/${case} ${PROJECT_SOURCE_DIR}/data)
  endforeach()
  set_tests_properties(train_mnist_short train_mnist_determinism train_mnist_resume train_mnist_resume_schedule
    train_mnist_fashion train_mnist_agreement train_mnist_cnn train_mnist_bad_input
    PROPERTIES RUN_SERIAL TRUE ENVIRONMENT "${TRAIN_MNIST_ENV}")
  set_tests_properties(train_mnist_agreement train_mnist_fashion PROPERTIES SKIP_RETURN_CODE 77)
endif()

# Distributed runs (2 MPI ranks): agreement with one process, resume, bad input, a dying
# rank; the checkpoint journal in one process. ci/dist.sh says their time budget.
if(LAMINA_BUILD_TESTS)
  set(TRAIN_MNIST_DIST_CASES journal)
  if(LAMINA_MPI)
    list(APPEND TRAIN_MNIST_DIST_CASES agreement resume mismatch rank_dies)
  endif()
  foreach(case ${TRAIN_MNIST_DIST_CASES})
    add_test(NAME train_mnist_dist_${case}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/train_mnist_dist_test.sh ${case} $<TARGET_FILE:train_mnist>
              ${TRAIN_MNIST_WORK}/dist_${case} ${PROJECT_SOURCE_DIR}/data ${PROJECT_SOURCE_DIR}/tests/mpirun.sh)
    set_tests_properties(train_mnist_dist_${case} PROPERTIES RUN_SERIAL TRUE TIMEOUT 300 LABELS dist
      ENVIRONMENT "${TRAIN_MNIST_ENV};POCL_SEED_CACHE=${CMAKE_BINARY_DIR}/cache/pocl")
  endforeach()
  if(LAMINA_MPI)   # the same agreement on the default device (POCL when there is one)
    add_test(NAME train_mnist_dist_agreement_default
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/train_mnist_dist_test.sh agreement $<TARGET_FILE:train_mnist>
              ${TRAIN_MNIST_WORK}/dist_agreement_default ${PROJECT_SOURCE_DIR}/data ${PROJECT_SOURCE_DIR}/tests/mpirun.sh "")
    set_tests_properties(train_mnist_dist_agreement_default PROPERTIES RUN_SERIAL TRUE TIMEOUT 300 LABELS dist
      ENVIRONMENT "${TRAIN_MNIST_ENV};POCL_SEED_CACHE=${CMAKE_BINARY_DIR}/cache/pocl")
  endif()
endif()
# The agreement runs compare the first OpenCL device with cpu (cpu is the default without a GPU).
if(TEST train_mnist_agreement)
  set_property(TEST train_mnist_agreement APPEND PROPERTY ENVIRONMENT "LAMINA_DEVICE=opencl")
endif()
if(TEST train_mnist_dist_agreement_default)
  set_property(TEST train_mnist_dist_agreement_default APPEND PROPERTY ENVIRONMENT "LAMINA_DEVICE=opencl")
endif()
