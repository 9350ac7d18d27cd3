/* Fault injection (build option LAMINA_FAULT_INJECTION, tests only): force-included into every
 * library file, it routes each host allocation and each OpenCL/CLBlast call that can fail
 * through a counter, and the call chosen by lam_fault_arm fails (NULL, an OpenCL error, a
 * CLBlast error), once. tests/test_fault.c sweeps it over training steps. */
#ifndef LAM_CORE_FAULT_H
#define LAM_CORE_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl.h>
#include <clblast_c.h>

#include "lamina/error.h"

/* The n-th counted call from now fails (n >= 1); 0 disarms. */
LAM_API void lam_fault_arm(int64_t n);
/* Counted calls since the process started, and whether the armed failure happened. */
LAM_API int64_t lam_fault_count(void);
LAM_API bool lam_fault_fired(void);

void *lam_fault_malloc(size_t n);
void *lam_fault_calloc(size_t n, size_t size);
void *lam_fault_realloc(void *p, size_t n);
void *lam_fault_aligned_alloc(size_t align, size_t n);
char *lam_fault_strdup(const char *s);
cl_mem lam_fault_clCreateBuffer(cl_context c, cl_mem_flags f, size_t n, void *host, cl_int *err);
cl_int lam_fault_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *offset,
                                        const size_t *global, const size_t *local, cl_uint nwait,
                                        const cl_event *wait, cl_event *ev);
cl_int lam_fault_clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool block, size_t off, size_t n, void *p,
                                     cl_uint nwait, const cl_event *wait, cl_event *ev);
cl_int lam_fault_clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool block, size_t off, size_t n,
                                      const void *p, cl_uint nwait, const cl_event *wait, cl_event *ev);
cl_int lam_fault_clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t so, size_t dof, size_t n,
                                     cl_uint nwait, const cl_event *wait, cl_event *ev);
cl_int lam_fault_clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern, size_t ps, size_t off,
                                     size_t n, cl_uint nwait, const cl_event *wait, cl_event *ev);
cl_kernel lam_fault_clCreateKernel(cl_program p, const char *name, cl_int *err);
/* CLBlast: the armed call fails before reaching it. */
bool lam_fault_clblast(void);

#ifndef LAM_FAULT_NO_MACROS
#define malloc lam_fault_malloc
#define calloc lam_fault_calloc
#define realloc lam_fault_realloc
#define aligned_alloc lam_fault_aligned_alloc
#define strdup lam_fault_strdup
#define clCreateBuffer lam_fault_clCreateBuffer
#define clEnqueueNDRangeKernel lam_fault_clEnqueueNDRangeKernel
#define clEnqueueReadBuffer lam_fault_clEnqueueReadBuffer
#define clEnqueueWriteBuffer lam_fault_clEnqueueWriteBuffer
#define clEnqueueCopyBuffer lam_fault_clEnqueueCopyBuffer
#define clEnqueueFillBuffer lam_fault_clEnqueueFillBuffer
#define clCreateKernel lam_fault_clCreateKernel
#define CLBlastSgemm(...) (lam_fault_clblast() ? CLBlastInsufficientMemoryTemp : CLBlastSgemm(__VA_ARGS__))
#define CLBlastSgemmStridedBatched(...) \
    (lam_fault_clblast() ? CLBlastInsufficientMemoryTemp : CLBlastSgemmStridedBatched(__VA_ARGS__))
#define CLBlastHgemm(...) (lam_fault_clblast() ? CLBlastInsufficientMemoryTemp : CLBlastHgemm(__VA_ARGS__))
#define CLBlastHgemmStridedBatched(...) \
    (lam_fault_clblast() ? CLBlastInsufficientMemoryTemp : CLBlastHgemmStridedBatched(__VA_ARGS__))
#endif

#endif
