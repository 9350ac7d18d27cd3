# Scale-out tests: the gradient-ready hook, data parallel over devices and over MPI ranks.
# Included from tests/CMakeLists.txt.
lamina_add_test(grad_hook test_grad_hook.c)
