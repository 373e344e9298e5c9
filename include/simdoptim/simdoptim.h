/* simdoptim C API: a stable C ABI over the C++ library, for engines written in C, Rust, Go,
 * Python (ctypes/cffi) and anything else with a C FFI. Compiles as C99 and as C++.
 *
 * Conventions
 * - Every function returns a simdoptim_status; SIMDOPTIM_OK (0) is success. On failure the
 *   outputs are left untouched and simdoptim_last_error() returns a message naming the problem
 *   (thread-local; valid until the next failing call on the same thread).
 * - Null handles or output pointers, out-of-range indices and wrong sizes are errors, never
 *   crashes. No C++ exception crosses this boundary.
 * - Handles are opaque. An optimizer handle owns its arenas; the pointers to parameter and
 *   gradient storage it hands out stay valid until the optimizer is destroyed (adding a param
 *   group never moves them). A scheduler keeps its optimizer alive: destroying the optimizer
 *   handle first is allowed, the memory goes when the last handle does.
 * - Parameters are numbered 0..n-1 over all param groups in order (group 0's tensors first).
 *   Parameters given with requires_grad == 0 are not part of the optimizer (torch: frozen).
 * - Every handle has a single owner, who destroys it exactly once: a handle destroyed twice,
 *   or used after its destroy call, is undefined behaviour (as free() twice), which the
 *   library cannot detect. Set the pointer to NULL after destroying it; destroying NULL is a
 *   no-op.
 * - Handles are not thread-safe: use one handle from one thread at a time.
 * Full guide: docs/c_api.md. */
#ifndef SIMDOPTIM_SIMDOPTIM_H
#define SIMDOPTIM_SIMDOPTIM_H

#include <stddef.h>
#include <stdint.h>

#define SIMDOPTIM_VERSION_MAJOR 0
#define SIMDOPTIM_VERSION_MINOR 1
#define SIMDOPTIM_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons. */
#define SIMDOPTIM_VERSION_NUMBER \
  (SIMDOPTIM_VERSION_MAJOR * 10000 + SIMDOPTIM_VERSION_MINOR * 100 + SIMDOPTIM_VERSION_PATCH)

#if defined(SIMDOPTIM_C_BUILDING)
#define SIMDOPTIM_API __attribute__((visibility("default")))
#else
#define SIMDOPTIM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The result of every call. */
typedef enum simdoptim_status {
  SIMDOPTIM_OK = 0,
  /* A handle or pointer argument is NULL. */
  SIMDOPTIM_ERROR_NULL_POINTER = 1,
  /* A bad option, option value, name, shape, config or scheduler kind. */
  SIMDOPTIM_ERROR_INVALID_ARGUMENT = 2,
  /* A parameter or group index (or a name) that does not exist. */
  SIMDOPTIM_ERROR_OUT_OF_RANGE = 3,
  /* A buffer whose length does not match the tensor or is too short. */
  SIMDOPTIM_ERROR_SIZE_MISMATCH = 4,
  /* The call does not apply to this object (e.g. step() of LBFGS, which needs a closure). */
  SIMDOPTIM_ERROR_UNSUPPORTED = 5,
  /* A checkpoint file is unreadable, corrupted or does not match; the object is unchanged. */
  SIMDOPTIM_ERROR_CHECKPOINT = 6,
  /* A failure at run time: an I/O error, a non-finite norm with error_if_nonfinite. */
  SIMDOPTIM_ERROR_RUNTIME = 7,
  /* The closure passed to simdoptim_optimizer_step_closure returned non-zero. */
  SIMDOPTIM_ERROR_CALLBACK = 8,
  SIMDOPTIM_ERROR_OUT_OF_MEMORY = 9,
  /* A bug: please report it with the message. */
  SIMDOPTIM_ERROR_INTERNAL = 10
} simdoptim_status;

/* An optimizer with its param groups and arenas (C++: simdoptim::Optimizer). */
typedef struct simdoptim_optimizer simdoptim_optimizer;
/* A learning-rate scheduler driving one optimizer (C++: simdoptim::Scheduler). */
typedef struct simdoptim_scheduler simdoptim_scheduler;

/* A parameter to register (torch: an item of named_parameters()). Values start at zero; write
 * them through simdoptim_optimizer_param_data or simdoptim_optimizer_set_param. */
typedef struct simdoptim_param_spec {
  /* Unique name, e.g. "layers.0.attn.qkv.weight" (NUL-terminated, copied). */
  const char* name;
  /* ndim dimensions (may be NULL when ndim == 0: a scalar). */
  const int64_t* shape;
  size_t ndim;
  /* 0 leaves the parameter out (frozen). */
  int requires_grad;
} simdoptim_param_spec;

/* One option: a group option ("lr", "weight_decay", "beta1", flags as 0/1, ...) or a scheduler
 * argument ("step_size", "gamma", ...). */
typedef struct simdoptim_option {
  const char* key;
  double value;
} simdoptim_option;

/* How an optimizer runs. Zero-initialise for the defaults. */
typedef struct simdoptim_runtime {
  /* "scalar", "sse2", "avx2", "avx512", "neon"; NULL or "" for the default (SIMDOPTIM_ISA or the
   * best supported one). An unsupported set is SIMDOPTIM_ERROR_INVALID_ARGUMENT. */
  const char* isa;
  /* Worker threads; 0 for SIMDOPTIM_NUM_THREADS when set, else all cores. */
  int num_threads;
} simdoptim_runtime;

/* A closure for simdoptim_optimizer_step_closure: re-evaluates the loss, writes the gradients,
 * stores the loss in *loss and returns 0 (non-zero aborts the step). */
typedef int (*simdoptim_closure)(void* user_data, double* loss);

/* ---- library ---- */

/* "0.1.0": the version of the loaded library (compare with SIMDOPTIM_VERSION_* to detect a
 * header/library mismatch). Never NULL. */
SIMDOPTIM_API const char* simdoptim_version(void);
/* SIMDOPTIM_VERSION_NUMBER of the loaded library. */
SIMDOPTIM_API int simdoptim_version_number(void);
/* The message of the last failing call on this thread, or "" when none failed. Never NULL. */
SIMDOPTIM_API const char* simdoptim_last_error(void);
/* A fixed name for a status ("SIMDOPTIM_ERROR_OUT_OF_RANGE"). Never NULL. */
SIMDOPTIM_API const char* simdoptim_status_name(simdoptim_status status);
/* The number of optimizer names simdoptim_optimizer_create accepts, and the i-th (sorted). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_name_count(size_t* count);
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_name_at(size_t index, const char** name);

/* ---- optimizer: lifetime ---- */

/* Creates optimizer `name` ("adamw", "sgd", ...) with torch's defaults overridden by
 * `options`, and one param group holding the params with requires_grad != 0 (torch:
 * torch.optim.AdamW(params, lr=..., ...)); with none, SIMDOPTIM_ERROR_INVALID_ARGUMENT (torch:
 * "optimizer got an empty parameter list"). `runtime` may be NULL. */
SIMDOPTIM_API simdoptim_status
simdoptim_optimizer_create(const char* name, const simdoptim_option* options, size_t num_options,
                           const simdoptim_param_spec* params, size_t num_params,
                           const simdoptim_runtime* runtime, simdoptim_optimizer** out);
/* Creates the optimizer of a YAML training config (TRAIN.OPTIMIZER.NAME, BASE_LR, WEIGHT_DECAY,
 * PARAM_OVERRIDES, LAYER_DECAY, ...; docs/config.md) with the recipe's param groups (C++:
 * build_optimizer). Frozen params are left out. `runtime` may be NULL. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_create_from_config(
    const char* yaml_config, const simdoptim_param_spec* params, size_t num_params,
    const simdoptim_runtime* runtime, simdoptim_optimizer** out);
/* Adds a param group (torch: add_param_group) with the optimizer's defaults overridden by
 * `options`. Existing data pointers stay valid; the new params are numbered after the old. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_add_param_group(
    simdoptim_optimizer* optimizer, const simdoptim_param_spec* params, size_t num_params,
    const simdoptim_option* options, size_t num_options);
/* Element types of a group's arrays (C++: simdoptim::DType). */
typedef enum simdoptim_dtype {
  SIMDOPTIM_F32 = 0,
  SIMDOPTIM_BF16 = 1,
  SIMDOPTIM_F16 = 2,
  SIMDOPTIM_Q8 = 3 /* state only: 8-bit block-quantized, one fp32 scale per 256 values */
} simdoptim_dtype;

/* How a param group stores its arrays (C++: StorageOptions; docs/precision.md). Zero-initialise
 * for fp32 everywhere. */
typedef struct simdoptim_storage {
  simdoptim_dtype param; /* SIMDOPTIM_F32, _BF16 or _F16 */
  simdoptim_dtype grad;  /* SIMDOPTIM_F32, _BF16 or _F16 */
  simdoptim_dtype state; /* SIMDOPTIM_F32, _BF16 or _Q8 */
  /* Non-zero with 16-bit params: fp32 master weights, the params written from them each step. */
  int master_weights;
  /* Non-zero with bf16 params and no master weights: stochastic rounding, keyed by seed. */
  int stochastic_rounding;
  uint64_t seed;
} simdoptim_storage;

/* simdoptim_optimizer_add_param_group with the group's arrays stored as `storage` says (NULL:
 * fp32). A combination that is not supported, or 16-bit storage for an optimizer that is not
 * elementwise, is SIMDOPTIM_ERROR_INVALID_ARGUMENT. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_add_param_group_storage(
    simdoptim_optimizer* optimizer, const simdoptim_param_spec* params, size_t num_params,
    const simdoptim_option* options, size_t num_options, const simdoptim_storage* storage);
/* Releases the handle; call it once per handle (single owner). NULL is allowed (and does
 * nothing). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_destroy(simdoptim_optimizer* optimizer);

/* ---- optimizer: properties ---- */

/* Optimizer name ("adamw"); the string lives as long as the optimizer. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_name(const simdoptim_optimizer* optimizer,
                                                        const char** name);
/* The instruction set its kernels run ("avx2"); a static string. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_isa(const simdoptim_optimizer* optimizer,
                                                       const char** isa);
/* Its worker thread count. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_num_threads(const simdoptim_optimizer* optimizer,
                                                               int* num_threads);
/* Whether stored optimizer state below FLT_MIN (1.2e-38) becomes zero: 1 (the default) keeps
 * late-training steps as fast as early ones, 0 keeps torch's subnormal values. */
SIMDOPTIM_API simdoptim_status
simdoptim_optimizer_set_flush_subnormal_state(simdoptim_optimizer* optimizer, int on);
SIMDOPTIM_API simdoptim_status
simdoptim_optimizer_flush_subnormal_state(const simdoptim_optimizer* optimizer, int* on);
/* skip_if_nonfinite mode (AMP's found_inf): with on != 0 a step first checks the gradients it
 * reads (the optimizer's, or the engine's buffers given to simdoptim_optimizer_step_grads and
 * _step_grads16, times their scale) and, if one is NaN or infinite, changes nothing: parameters,
 * state and step counts stay as they were. Off by default, as torch. */
SIMDOPTIM_API simdoptim_status
simdoptim_optimizer_set_skip_if_nonfinite(simdoptim_optimizer* optimizer, int on);
/* *skipped = 1 when the last step was skipped for a non-finite gradient, else 0. */
SIMDOPTIM_API simdoptim_status
simdoptim_optimizer_last_step_skipped(const simdoptim_optimizer* optimizer, int* skipped);

/* ---- optimizer: param groups and their options ---- */

SIMDOPTIM_API simdoptim_status simdoptim_optimizer_num_groups(const simdoptim_optimizer* optimizer,
                                                              size_t* count);
/* Number of parameters of group `group`. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_group_size(const simdoptim_optimizer* optimizer,
                                                              size_t group, size_t* count);
/* A group option (torch: param_groups[group][key]; betas are "beta1"/"beta2"). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_get_option(const simdoptim_optimizer* optimizer,
                                                              size_t group, const char* key,
                                                              double* value);
/* Sets a group option after checking it (torch: param_groups[group][key] = value). Keys: the
 * optimizer's options, "initial_lr" and "lr_scale". */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_set_option(simdoptim_optimizer* optimizer,
                                                              size_t group, const char* key,
                                                              double value);

/* ---- optimizer: parameters and gradients ---- */

/* Total number of parameters over all groups. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_num_params(const simdoptim_optimizer* optimizer,
                                                              size_t* count);
/* The index of the parameter called `name`. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_param_index(const simdoptim_optimizer* optimizer,
                                                               const char* name, size_t* index);
/* Name, shape and group of parameter `index`; the name and shape live as long as the
 * optimizer. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_param_info(const simdoptim_optimizer* optimizer,
                                                              size_t index, const char** name,
                                                              const int64_t** shape, size_t* ndim,
                                                              size_t* group);
/* The parameter's contiguous float32 storage and its element count. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_param_data(simdoptim_optimizer* optimizer,
                                                              size_t index, float** data,
                                                              size_t* numel);
/* The gradient's contiguous float32 storage and its element count. Marks the gradient present
 * (zero-filled first when it was absent), as writing torch's p.grad. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_grad_data(simdoptim_optimizer* optimizer,
                                                             size_t index, float** data,
                                                             size_t* numel);
/* The element types of the parameter and of its gradient (either pointer may be NULL). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_param_dtype(const simdoptim_optimizer* optimizer,
                                                               size_t index, simdoptim_dtype* param,
                                                               simdoptim_dtype* grad);
/* A 16-bit parameter's storage (bf16 or fp16 bits; with master weights the copy each step
 * writes); an fp32 parameter is SIMDOPTIM_ERROR_UNSUPPORTED, as param_data of a 16-bit one. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_param_data16(simdoptim_optimizer* optimizer,
                                                                size_t index, uint16_t** data,
                                                                size_t* numel);
/* A 16-bit gradient's storage; marks it present as simdoptim_optimizer_grad_data. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_grad_data16(simdoptim_optimizer* optimizer,
                                                               size_t index, uint16_t** data,
                                                               size_t* numel);
/* The fp32 master weights of a parameter with master weights (else SIMDOPTIM_ERROR_UNSUPPORTED). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_master_param_data(simdoptim_optimizer* optimizer,
                                                                     size_t index, float** data,
                                                                     size_t* numel);
/* Copies `numel` values into the parameter; numel must equal its element count. 16-bit
 * parameters get them rounded to nearest-even (with master weights: the master weights get the
 * values and the 16-bit parameters their rounding). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_set_param(simdoptim_optimizer* optimizer,
                                                             size_t index, const float* values,
                                                             size_t numel);
/* Copies `numel` values into the gradient and marks it present; numel must equal its count.
 * 16-bit gradients get them rounded to nearest-even. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_set_grad(simdoptim_optimizer* optimizer,
                                                            size_t index, const float* values,
                                                            size_t numel);
/* Marks the gradient present (1) or absent (0, torch: p.grad is None) without touching it, for
 * engines that keep the grad_data pointers across steps. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_set_has_grad(simdoptim_optimizer* optimizer,
                                                                size_t index, int present);
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_has_grad(const simdoptim_optimizer* optimizer,
                                                            size_t index, int* present);

/* ---- optimizer: stepping ---- */

/* torch's zero_grad(set_to_none): set_to_none != 0 marks every gradient absent (skipped by step
 * until written through grad_data/set_grad or set_has_grad), 0 zero-fills the present ones. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_zero_grad(simdoptim_optimizer* optimizer,
                                                             int set_to_none);
/* One step over every parameter whose gradient is present (torch: optimizer.step()). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_step(simdoptim_optimizer* optimizer);
/* torch's step(closure): calls `closure` (as often as the optimizer needs: LBFGS evaluates it
 * several times) and steps; *loss (may be NULL) receives the first loss. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_step_closure(simdoptim_optimizer* optimizer,
                                                                simdoptim_closure closure,
                                                                void* user_data, double* loss);

/* One step that reads each gradient in place from the engine's own buffers, in the same fused
 * pass as simdoptim_optimizer_step: grads[i] points to parameter i's numel contiguous float32
 * values (any alignment; nothing past them is read), NULL for no gradient (skipped, torch: grad
 * is None); count must equal simdoptim_optimizer_num_params. grads = NULL with count = 0 steps
 * over the optimizer's own gradients instead. Every gradient is read as g * grad_scale rounded to
 * float32 (1.0f: unchanged). Bitwise equal to copying the gradients in with set_grad (absent
 * ones set_has_grad 0), scaling them and stepping. The optimizer's own gradients and presence
 * flags are neither read nor changed, except by LAMB, LARS and Adafactor, which copy the
 * gradients into their storage first; LBFGS fails with SIMDOPTIM_ERROR_UNSUPPORTED. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_step_grads(simdoptim_optimizer* optimizer,
                                                              const float* const* grads,
                                                              size_t count, float grad_scale);
/* The ZeRO-Offload step (C++: step with StepGrads::external16 and param_out): fp32 master
 * weights and state stay here, 16-bit gradients come in and 16-bit parameters go out, in one
 * pass. grads[i] points to parameter i's numel contiguous values of grad_dtype (SIMDOPTIM_BF16 or
 * SIMDOPTIM_F16; any alignment), NULL for no gradient; count must equal num_params. grads = NULL
 * with count = 0 steps over the optimizer's own gradients instead. Each gradient is read as
 * g * grad_scale. params_out[i], when not NULL, receives parameter i's new values rounded to
 * nearest-even from its master weights (numel values of its group's param dtype; nothing past
 * them is written), and the optimizer's own 16-bit copy of it is left as it was; it needs a group
 * with master weights. params_out = NULL with out_count = 0: the optimizer's own copies.
 * Bitwise equal to copying the gradients into the optimizer's 16-bit gradients and stepping.
 * Elementwise optimizers only (else SIMDOPTIM_ERROR_INVALID_ARGUMENT). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_step_grads16(
    simdoptim_optimizer* optimizer, const uint16_t* const* grads, size_t count,
    simdoptim_dtype grad_dtype, float grad_scale, uint16_t* const* params_out, size_t out_count);

/* ---- gradient clipping (torch.nn.utils) ---- */

/* clip_grad_norm_ over every present gradient: norm_type 2.0 is the usual choice (INFINITY for
 * max |g|); *total_norm (may be NULL) receives the norm before clipping. error_if_nonfinite != 0
 * makes a NaN/Inf norm SIMDOPTIM_ERROR_RUNTIME with the gradients untouched. */
SIMDOPTIM_API simdoptim_status simdoptim_clip_grad_norm(simdoptim_optimizer* optimizer,
                                                        double max_norm, double norm_type,
                                                        int error_if_nonfinite, double* total_norm);
/* simdoptim_clip_grad_norm then a step, fused: the norm is one read of the gradients and the
 * step multiplies each gradient by the clip coefficient as it reads it, so the gradients are not
 * modified. Bitwise equal to simdoptim_clip_grad_norm then simdoptim_optimizer_step. grads and
 * count as simdoptim_optimizer_step_grads (NULL, 0: the optimizer's own gradients). */
SIMDOPTIM_API simdoptim_status simdoptim_clip_grad_norm_and_step(simdoptim_optimizer* optimizer,
                                                                 double max_norm, double norm_type,
                                                                 int error_if_nonfinite,
                                                                 const float* const* grads,
                                                                 size_t count, double* total_norm);
/* clip_grad_value_: clamps every present gradient element to [-clip_value, clip_value]. */
SIMDOPTIM_API simdoptim_status simdoptim_clip_grad_value(simdoptim_optimizer* optimizer,
                                                         double clip_value);

/* ---- optimizer: weight averaging (docs/averaging.md) ---- */

/* Keeps an average of the parameters, updated in every following step's own pass (C++:
 * Optimizer::set_averaging). `mode`: "none", "ema" (timm's ModelEmaV2), "swa" (torch's
 * AveragedModel running mean) or "lookahead" (timm's Lookahead). Options (any order, each at
 * most once): "decay" (EMA, default 0.9998), "warmup" (EMA, 0/1: decay min(decay, (1+t)/(10+t))),
 * "start" and "every" (EMA and SWA: update at steps start, start + every, ...; defaults 1, 1),
 * "alpha" and "k" (Lookahead; 0.5, 6), "fused" (0: a second pass, the same bits; default 1),
 * "dtype" (the average's storage, a simdoptim_dtype value; default SIMDOPTIM_F32), "v3" (EMA,
 * 0/1: timm's ModelEmaV3 decay, with "warmup" its power warmup) with "update_after_step" (0),
 * "gamma" (1), "power" (2/3) and "min_decay" (0). The averages start as the current
 * parameters. A bad mode, key or value is SIMDOPTIM_ERROR_INVALID_ARGUMENT. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_set_averaging(simdoptim_optimizer* optimizer,
                                                                 const char* mode,
                                                                 const simdoptim_option* options,
                                                                 size_t num_options);
/* Sets the EMA decay of the following updates (a decay chosen per step), in [0, 1]. */
SIMDOPTIM_API simdoptim_status
simdoptim_optimizer_set_averaging_decay(simdoptim_optimizer* optimizer, double decay);
/* Averaging updates made since set_averaging (torch: AveragedModel.n_averaged). */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_n_averaged(const simdoptim_optimizer* optimizer,
                                                              int64_t* count);
/* The averaged copy of parameter `index`: contiguous float32 storage and its element count;
 * SIMDOPTIM_ERROR_OUT_OF_RANGE when averaging is off, SIMDOPTIM_ERROR_UNSUPPORTED when the
 * average is 16-bit. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_averaged_data(simdoptim_optimizer* optimizer,
                                                                 size_t index, float** data,
                                                                 size_t* numel);
/* The same for an average stored as bf16 or fp16 ("dtype"); an fp32 one is
 * SIMDOPTIM_ERROR_UNSUPPORTED. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_averaged_data16(simdoptim_optimizer* optimizer,
                                                                   size_t index, uint16_t** data,
                                                                   size_t* numel);
/* Exchanges every parameter with its average in place (evaluate, then call it again to swap
 * back); data pointers stay valid. SIMDOPTIM_ERROR_UNSUPPORTED when averaging is off. */
SIMDOPTIM_API simdoptim_status
simdoptim_optimizer_swap_averaged_params(simdoptim_optimizer* optimizer);

/* ---- checkpoints (docs/checkpoint_format.md) ---- */

/* Writes the optimizer's state, parameters included, to `path` atomically. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_save(simdoptim_optimizer* optimizer,
                                                        const char* path);
/* Restores a checkpoint of an optimizer of the same kind and parameters (strict match);
 * SIMDOPTIM_ERROR_CHECKPOINT leaves the optimizer unchanged. */
SIMDOPTIM_API simdoptim_status simdoptim_optimizer_load(simdoptim_optimizer* optimizer,
                                                        const char* path);

/* ---- schedulers ---- */

/* Creates scheduler `kind` on `optimizer` with the arguments `options` (torch's keyword names;
 * a list argument repeats its key in order). Kinds and keys (required ones marked *):
 *   StepLR: step_size*, gamma, last_epoch          MultiStepLR: milestones* (repeated), gamma,
 *   ExponentialLR: gamma*, last_epoch                            last_epoch
 *   CosineAnnealingLR: T_max*, eta_min, last_epoch
 *   CosineAnnealingWarmRestarts: T_0*, T_mult, eta_min, last_epoch
 *   ConstantLR: factor, total_iters, last_epoch    LinearLR: start_factor, end_factor,
 *   PolynomialLR: total_iters, power, last_epoch             total_iters, last_epoch
 *   OneCycleLR: max_lr* (repeated: one or one per group), total_steps or epochs and
 *               steps_per_epoch, pct_start, anneal_linear (0/1), cycle_momentum (0/1),
 *               base_momentum, max_momentum, div_factor, final_div_factor, three_phase (0/1),
 *               last_epoch
 *   SWALR (torch.optim.swa_utils): swa_lr* (repeated: one or one per group), anneal_epochs,
 *               anneal_linear (0/1), last_epoch
 *   CosineLRScheduler (timm): t_initial*, lr_min, cycle_mul, cycle_decay, cycle_limit,
 *               warmup_t, warmup_lr_init, warmup_prefix (0/1), t_in_epochs (0/1), k_decay
 * Integer arguments must be whole numbers. Construction writes the initial lr into the groups,
 * as torch. */
SIMDOPTIM_API simdoptim_status simdoptim_scheduler_create(simdoptim_optimizer* optimizer,
                                                          const char* kind,
                                                          const simdoptim_option* options,
                                                          size_t num_options,
                                                          simdoptim_scheduler** out);
/* Creates the recipe's per-iteration scheduler of a YAML training config
 * (TRAIN.LR_SCHEDULER.NAME, EPOCHS, WARMUP_EPOCHS, BASE_LR, WARMUP_LR, MIN_LR, ...;
 * docs/lr_scheduler.md, "build_scheduler") with `steps_per_epoch` iterations per epoch (C++:
 * build_scheduler). Call simdoptim_scheduler_step after every optimizer step. */
SIMDOPTIM_API simdoptim_status
simdoptim_scheduler_create_from_config(simdoptim_optimizer* optimizer, const char* yaml_config,
                                       int64_t steps_per_epoch, simdoptim_scheduler** out);
/* Releases the handle; call it once per handle (single owner). NULL is allowed (and does
 * nothing). */
SIMDOPTIM_API simdoptim_status simdoptim_scheduler_destroy(simdoptim_scheduler* scheduler);
/* The scheduler's kind as torch spells it ("StepLR"); lives as long as the scheduler. */
SIMDOPTIM_API simdoptim_status simdoptim_scheduler_kind(const simdoptim_scheduler* scheduler,
                                                        const char** kind);
/* Advances the schedule by one step and writes the groups' lr (torch: scheduler.step()). */
SIMDOPTIM_API simdoptim_status simdoptim_scheduler_step(simdoptim_scheduler* scheduler);
/* torch's get_last_lr(): *count receives the number of groups; when `lrs` is not NULL, the first
 * min(count, capacity) values are written and capacity < count is SIMDOPTIM_ERROR_SIZE_MISMATCH
 * (with *count set, so the caller can size its buffer). */
SIMDOPTIM_API simdoptim_status simdoptim_scheduler_get_last_lr(const simdoptim_scheduler* scheduler,
                                                               double* lrs, size_t capacity,
                                                               size_t* count);
/* Writes the scheduler's state to `path` atomically (docs/checkpoint_format.md). */
SIMDOPTIM_API simdoptim_status simdoptim_scheduler_save(const simdoptim_scheduler* scheduler,
                                                        const char* path);
/* Restores a state saved from a scheduler of the same kind and arguments. */
SIMDOPTIM_API simdoptim_status simdoptim_scheduler_load(simdoptim_scheduler* scheduler,
                                                        const char* path);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SIMDOPTIM_SIMDOPTIM_H */
