# The optimizer test: PyTorch values, a double reference, every device, fused and unfused,
# state across devices, save/load. Links the static library for the internal constructor.
add_executable(test_optim test_optim.c test_util.c)
target_compile_options(test_optim PRIVATE -Wall -Wextra -Wpedantic)
target_include_directories(test_optim PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
target_link_libraries(test_optim PRIVATE lamina_static PkgConfig::CMOCKA m)
add_test(NAME optim COMMAND test_optim)
if(COMMAND lamina_test_env)
  lamina_test_env(optim)
endif()
