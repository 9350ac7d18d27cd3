/* lamina — neural networks out of modules, in C, on any OpenCL device or the host.
 *
 * A five-minute tour:
 *
 *   #include <lamina.h>
 *
 *   lam_device *dev = lam_device_get(NULL);          // LAMINA_DEVICE, else a GPU, else cpu
 *   lam_scope_begin();                               // temporaries made below die at scope end
 *   lam_tensor *x = lam_rand(LAM_SHAPE(2, 20), dev); // uniform [0, 1), seeded by lam_manual_seed
 *   lam_tensor *w = lam_randn(LAM_SHAPE(20, 10), dev);
 *   lam_tensor *y = lam_relu(lam_matmul(x, w));      // ops enqueue and return at once
 *   printf("%f\n", lam_item(lam_sum(y)));            // reading waits for the device
 *   lam_scope_end();
 *
 * Every function that returns a new tensor hands it to the innermost scope. To keep a
 * tensor past its scope, call lam_keep(t) and later lam_release(t).
 *
 * Errors never abort: a function that fails returns NULL (or a status) and leaves a
 * message in lam_last_error(). An op handed NULL returns NULL and keeps the first
 * error, so a chain of calls reports its root cause.
 *
 * The parts, each a header of its own:
 *   lamina/error.h    status codes and messages
 *   lamina/device.h   devices, their properties and memory pools
 *   lamina/tensor.h   tensors: creation, reading, views, ownership
 *   lamina/ops.h      maths on tensors
 *   lamina/autograd.h gradients: requires_grad, backward, no_grad, gradcheck
 *   lamina/module.h   modules: classes, children, parameters, device moves, save/load
 *   lamina/state_dict.h  state_dicts in memory, non-strict and prefixed loads, safetensors
 *   lamina/nn.h       layers (Linear, Sequential, activations) and initializers
 *   lamina/optim.h    SGD, Adam, AdamW; parameter groups, schedules, clipping, checkpoints
 *   lamina/data.h     IDX (MNIST) files, datasets, shuffled batches, flat or image-shaped
 *   lamina/profile.h  per-op time per device: a table, a Chrome trace (LAMINA_PROFILE, LAMINA_TRACE)
 *   lamina/parallel.h data parallel over the devices of one process
 *   lamina/dist.h     data parallel training over processes and machines (Open MPI)
 */
#ifndef LAMINA_H
#define LAMINA_H

#include "lamina/error.h"
#include "lamina/device.h"
#include "lamina/tensor.h"
#include "lamina/ops.h"
#include "lamina/autograd.h"
#include "lamina/module.h"
#include "lamina/state_dict.h"
#include "lamina/nn.h"
#include "lamina/optim.h"
#include "lamina/data.h"
#include "lamina/profile.h"
#include "lamina/parallel.h"
#include "lamina/dist.h"

#endif
