/* Drives libsimdoptim.so through its C API end to end, as a C99 engine would: create (from
 * options and from a YAML config), write parameters and gradients through the storage pointers,
 * step, schedule, clip, checkpoint, and every kind of misuse, which must fail with the right
 * status and a message instead of crashing.
 *
 * Usage: test_capi <scratch folder> */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simdoptim/simdoptim.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* The call must return `expected`; a failure must leave a message. */
#define EXPECT_STATUS(expected, call)                                                              \
  do {                                                                                             \
    simdoptim_status rc_ = (call);                                                                 \
    if (rc_ != (expected)) {                                                                       \
      ++failures;                                                                                  \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, __LINE__, \
              #call, simdoptim_status_name(rc_), simdoptim_status_name(expected),                  \
              simdoptim_last_error());                                                             \
    } else if (rc_ != SIMDOPTIM_OK && simdoptim_last_error()[0] == '\0') {                         \
      ++failures;                                                                                  \
      fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__, __LINE__, #call);          \
    }                                                                                              \
  } while (0)

#define OK(call) EXPECT_STATUS(SIMDOPTIM_OK, call)

static int close_to(double a, double b, double tol) {
  return fabs(a - b) <= tol * (1.0 + fabs(b));
}

static const char* scratch = ".";

static void path_in_scratch(char* out, size_t size, const char* name) {
  snprintf(out, size, "%s/%s", scratch, name);
}

/* ---- version and names ---- */

static void test_version(void) {
  char expected[64];
  size_t count = 0, i;
  int found = 0;
  snprintf(expected, sizeof expected, "%d.%d.%d", SIMDOPTIM_VERSION_MAJOR, SIMDOPTIM_VERSION_MINOR,
           SIMDOPTIM_VERSION_PATCH);
  CHECK(strcmp(simdoptim_version(), expected) == 0);
  CHECK(simdoptim_version_number() == SIMDOPTIM_VERSION_NUMBER);
  OK(simdoptim_optimizer_name_count(&count));
  CHECK(count >= 3);
  for (i = 0; i < count; ++i) {
    const char* name = NULL;
    OK(simdoptim_optimizer_name_at(i, &name));
    if (name != NULL && strcmp(name, "adamw") == 0) found = 1;
  }
  CHECK(found);
  {
    const char* name = NULL;
    EXPECT_STATUS(SIMDOPTIM_ERROR_OUT_OF_RANGE, simdoptim_optimizer_name_at(count, &name));
    CHECK(name == NULL);
  }
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_name_count(NULL));
  CHECK(strcmp(simdoptim_status_name(SIMDOPTIM_ERROR_SIZE_MISMATCH),
               "SIMDOPTIM_ERROR_SIZE_MISMATCH") == 0);
}

/* ---- SGD created from options: storage pointers, step, zero_grad ---- */

static const int64_t kWeightShape[2] = {3, 4};
static const int64_t kBiasShape[1] = {4};
static const int64_t kFrozenShape[1] = {2};

static simdoptim_optimizer* make_sgd(double lr) {
  simdoptim_param_spec params[3];
  simdoptim_option options[1];
  simdoptim_runtime runtime;
  simdoptim_optimizer* opt = NULL;
  params[0].name = "fc.weight";
  params[0].shape = kWeightShape;
  params[0].ndim = 2;
  params[0].requires_grad = 1;
  params[1].name = "frozen.embedding";
  params[1].shape = kFrozenShape;
  params[1].ndim = 1;
  params[1].requires_grad = 0;
  params[2].name = "fc.bias";
  params[2].shape = kBiasShape;
  params[2].ndim = 1;
  params[2].requires_grad = 1;
  options[0].key = "lr";
  options[0].value = lr;
  runtime.isa = "scalar";
  runtime.num_threads = 1;
  OK(simdoptim_optimizer_create("sgd", options, 1, params, 3, &runtime, &opt));
  return opt;
}

static void test_sgd_end_to_end(void) {
  simdoptim_optimizer* opt = make_sgd(0.5);
  size_t n = 0, numel = 0, index = 99, group = 99, ndim = 0, i;
  const char* name = NULL;
  const int64_t* shape = NULL;
  float *w = NULL, *gw = NULL, *b = NULL, *gb = NULL;
  int threads = 0, present = -1;
  const char* isa = NULL;
  float values[12];
  if (opt == NULL) return;

  OK(simdoptim_optimizer_name(opt, &name));
  CHECK(name != NULL && strcmp(name, "sgd") == 0);
  OK(simdoptim_optimizer_isa(opt, &isa));
  CHECK(isa != NULL && strcmp(isa, "scalar") == 0);
  OK(simdoptim_optimizer_num_threads(opt, &threads));
  CHECK(threads == 1);
  {
    int flush = -1;
    OK(simdoptim_optimizer_flush_subnormal_state(opt, &flush));
    CHECK(flush == 1); /* on by default */
    OK(simdoptim_optimizer_set_flush_subnormal_state(opt, 0));
    OK(simdoptim_optimizer_flush_subnormal_state(opt, &flush));
    CHECK(flush == 0);
    OK(simdoptim_optimizer_set_flush_subnormal_state(opt, 1));
    CHECK(simdoptim_optimizer_flush_subnormal_state(opt, NULL) == SIMDOPTIM_ERROR_NULL_POINTER);
  }

  /* The frozen parameter is not part of the optimizer. */
  OK(simdoptim_optimizer_num_params(opt, &n));
  CHECK(n == 2);
  OK(simdoptim_optimizer_param_index(opt, "fc.bias", &index));
  CHECK(index == 1);
  EXPECT_STATUS(SIMDOPTIM_ERROR_OUT_OF_RANGE,
                simdoptim_optimizer_param_index(opt, "frozen.embedding", &index));
  OK(simdoptim_optimizer_param_info(opt, 0, &name, &shape, &ndim, &group));
  CHECK(strcmp(name, "fc.weight") == 0);
  CHECK(ndim == 2 && shape[0] == 3 && shape[1] == 4 && group == 0);

  OK(simdoptim_optimizer_param_data(opt, 0, &w, &numel));
  CHECK(numel == 12);
  OK(simdoptim_optimizer_grad_data(opt, 0, &gw, &numel));
  CHECK(numel == 12);
  OK(simdoptim_optimizer_param_data(opt, 1, &b, &numel));
  CHECK(numel == 4);
  OK(simdoptim_optimizer_grad_data(opt, 1, &gb, &numel));
  CHECK(w != NULL && gw != NULL && b != NULL && gb != NULL);
  OK(simdoptim_optimizer_has_grad(opt, 0, &present));
  CHECK(present == 1);

  /* p -= lr * g with exactly representable values. */
  for (i = 0; i < 12; ++i) values[i] = (float)i;
  OK(simdoptim_optimizer_set_param(opt, 0, values, 12));
  for (i = 0; i < 12; ++i) gw[i] = 1.0f;
  for (i = 0; i < 4; ++i) {
    b[i] = 1.0f;
    gb[i] = -2.0f;
  }
  OK(simdoptim_optimizer_step(opt));
  for (i = 0; i < 12; ++i) CHECK(w[i] == (float)i - 0.5f);
  for (i = 0; i < 4; ++i) CHECK(b[i] == 2.0f);

  /* zero_grad(set_to_none=0): zero-filled, still present, so a step changes nothing. */
  OK(simdoptim_optimizer_zero_grad(opt, 0));
  CHECK(gw[0] == 0.0f && gb[3] == 0.0f);
  OK(simdoptim_optimizer_has_grad(opt, 1, &present));
  CHECK(present == 1);

  /* zero_grad(set_to_none=1): absent, so the step skips the tensor even with a gradient value
   * written through the old pointer; marking it present makes the step use it. */
  OK(simdoptim_optimizer_zero_grad(opt, 1));
  OK(simdoptim_optimizer_has_grad(opt, 0, &present));
  CHECK(present == 0);
  gw[0] = 1.0f;
  OK(simdoptim_optimizer_step(opt));
  CHECK(w[0] == -0.5f);
  OK(simdoptim_optimizer_set_has_grad(opt, 0, 1));
  OK(simdoptim_optimizer_step(opt));
  CHECK(w[0] == -1.0f);
  CHECK(b[0] == 2.0f); /* bias still absent */

  /* set_grad copies and marks present. */
  for (i = 0; i < 4; ++i) values[i] = 2.0f;
  OK(simdoptim_optimizer_set_grad(opt, 1, values, 4));
  OK(simdoptim_optimizer_has_grad(opt, 1, &present));
  CHECK(present == 1);

  /* Options: read, write, refuse a bad value or key and keep the old value. */
  {
    double lr = 0.0;
    OK(simdoptim_optimizer_get_option(opt, 0, "lr", &lr));
    CHECK(lr == 0.5);
    OK(simdoptim_optimizer_set_option(opt, 0, "lr", 0.25));
    EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                  simdoptim_optimizer_set_option(opt, 0, "lr", -1.0));
    EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                  simdoptim_optimizer_set_option(opt, 0, "betas", 0.9));
    OK(simdoptim_optimizer_get_option(opt, 0, "lr", &lr));
    CHECK(lr == 0.25);
    EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                  simdoptim_optimizer_get_option(opt, 0, "no_such_option", &lr));
    EXPECT_STATUS(SIMDOPTIM_ERROR_OUT_OF_RANGE, simdoptim_optimizer_get_option(opt, 1, "lr", &lr));
    OK(simdoptim_optimizer_step(opt));
    CHECK(b[0] == 1.5f);
  }

  /* A second group: numbered after the first, old pointers unchanged. */
  {
    simdoptim_param_spec extra;
    simdoptim_option wd;
    size_t groups = 0, size = 0;
    const int64_t extra_shape[1] = {5};
    float* w_again = NULL;
    extra.name = "head.weight";
    extra.shape = extra_shape;
    extra.ndim = 1;
    extra.requires_grad = 1;
    wd.key = "weight_decay";
    wd.value = 0.1;
    OK(simdoptim_optimizer_add_param_group(opt, &extra, 1, &wd, 1));
    OK(simdoptim_optimizer_num_groups(opt, &groups));
    CHECK(groups == 2);
    OK(simdoptim_optimizer_group_size(opt, 1, &size));
    CHECK(size == 1);
    OK(simdoptim_optimizer_num_params(opt, &n));
    CHECK(n == 3);
    OK(simdoptim_optimizer_param_info(opt, 2, &name, NULL, NULL, &group));
    CHECK(strcmp(name, "head.weight") == 0 && group == 1);
    OK(simdoptim_optimizer_param_data(opt, 0, &w_again, &numel));
    CHECK(w_again == w);
    /* A duplicate name is refused and adds nothing. */
    EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                  simdoptim_optimizer_add_param_group(opt, &extra, 1, NULL, 0));
    OK(simdoptim_optimizer_num_params(opt, &n));
    CHECK(n == 3);
  }
  OK(simdoptim_optimizer_destroy(opt));
}

/* ---- misuse: every call fails cleanly ---- */

static void test_errors(void) {
  simdoptim_optimizer* opt = make_sgd(0.1);
  simdoptim_optimizer* none = NULL;
  float* data = NULL;
  size_t numel = 0, n = 0;
  float values[12] = {0};
  simdoptim_param_spec p;
  const int64_t bad_shape[1] = {-3};
  simdoptim_option bad;
  simdoptim_runtime runtime;
  if (opt == NULL) return;

  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_step(NULL));
  CHECK(strstr(simdoptim_last_error(), "optimizer") != NULL);
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_zero_grad(NULL, 0));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_num_params(NULL, &n));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_num_params(opt, NULL));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_scheduler_step(NULL));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_save(opt, NULL));
  OK(simdoptim_optimizer_destroy(NULL));
  OK(simdoptim_scheduler_destroy(NULL));

  /* Out of range indices; the outputs stay untouched. */
  EXPECT_STATUS(SIMDOPTIM_ERROR_OUT_OF_RANGE,
                simdoptim_optimizer_param_data(opt, 2, &data, &numel));
  CHECK(data == NULL && numel == 0);
  EXPECT_STATUS(SIMDOPTIM_ERROR_OUT_OF_RANGE,
                simdoptim_optimizer_grad_data(opt, 1000, &data, &numel));
  EXPECT_STATUS(SIMDOPTIM_ERROR_OUT_OF_RANGE, simdoptim_optimizer_set_has_grad(opt, 7, 1));
  CHECK(strstr(simdoptim_last_error(), "7") != NULL);

  /* Wrong sizes. */
  EXPECT_STATUS(SIMDOPTIM_ERROR_SIZE_MISMATCH, simdoptim_optimizer_set_param(opt, 0, values, 11));
  CHECK(strstr(simdoptim_last_error(), "fc.weight") != NULL);
  EXPECT_STATUS(SIMDOPTIM_ERROR_SIZE_MISMATCH, simdoptim_optimizer_set_grad(opt, 1, values, 12));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_set_param(opt, 1, NULL, 4));

  /* Bad creation arguments. */
  p.name = "w";
  p.shape = bad_shape;
  p.ndim = 1;
  p.requires_grad = 1;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create("sgd", NULL, 0, &p, 1, NULL, &none));
  CHECK(none == NULL);
  p.shape = kBiasShape;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create("adamx", NULL, 0, &p, 1, NULL, &none));
  CHECK(strstr(simdoptim_last_error(), "adamx") != NULL);
  bad.key = "momentun";
  bad.value = 0.9;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create("sgd", &bad, 1, &p, 1, NULL, &none));
  CHECK(strstr(simdoptim_last_error(), "momentun") != NULL);
  bad.key = "lr";
  bad.value = -0.1;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create("adamw", &bad, 1, &p, 1, NULL, &none));
  runtime.isa = "avx9000";
  runtime.num_threads = 0;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create("sgd", NULL, 0, &p, 1, &runtime, &none));
  runtime.isa = NULL;
  runtime.num_threads = -2;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create("sgd", NULL, 0, &p, 1, &runtime, &none));
  runtime.num_threads = 0;
  p.requires_grad = 0; /* every param frozen: nothing to train */
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create("sgd", NULL, 0, &p, 1, NULL, &none));
  CHECK(strstr(simdoptim_last_error(), "empty parameter list") != NULL);
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create("sgd", NULL, 0, NULL, 0, NULL, &none));
  p.requires_grad = 1;
  p.name = NULL;
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER,
                simdoptim_optimizer_create("sgd", NULL, 0, &p, 1, NULL, &none));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER,
                simdoptim_optimizer_create("sgd", NULL, 0, NULL, 1, NULL, &none));
  CHECK(none == NULL);

  /* LBFGS needs a closure. */
  p.name = "x";
  OK(simdoptim_optimizer_create("lbfgs", NULL, 0, &p, 1, NULL, &none));
  OK(simdoptim_optimizer_grad_data(none, 0, &data, &numel));
  EXPECT_STATUS(SIMDOPTIM_ERROR_UNSUPPORTED, simdoptim_optimizer_step(none));
  OK(simdoptim_optimizer_destroy(none));

  /* A success does not clear the message, a failure replaces it; it is per thread. */
  OK(simdoptim_optimizer_step(opt));
  CHECK(simdoptim_last_error()[0] != '\0');
  OK(simdoptim_optimizer_destroy(opt));
}

/* ---- Adam against a double-precision reference ---- */

static void test_adamw_matches_reference(void) {
  const int64_t shape[1] = {37}; /* not a multiple of any vector width */
  simdoptim_param_spec p;
  simdoptim_option options[3];
  simdoptim_optimizer* opt = NULL;
  float *w = NULL, *g = NULL;
  double ref[37], m[37], v[37];
  size_t numel = 0, i;
  int t;
  const double lr = 1e-2, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  p.name = "w";
  p.shape = shape;
  p.ndim = 1;
  p.requires_grad = 1;
  options[0].key = "lr";
  options[0].value = lr;
  options[1].key = "weight_decay";
  options[1].value = wd;
  options[2].key = "eps";
  options[2].value = eps;
  OK(simdoptim_optimizer_create("adamw", options, 3, &p, 1, NULL, &opt));
  if (opt == NULL) return;
  OK(simdoptim_optimizer_param_data(opt, 0, &w, &numel));
  OK(simdoptim_optimizer_grad_data(opt, 0, &g, &numel));
  for (i = 0; i < 37; ++i) {
    w[i] = (float)(0.1 * (double)i - 1.0);
    ref[i] = w[i];
    m[i] = v[i] = 0.0;
  }
  for (t = 1; t <= 5; ++t) {
    const double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
    for (i = 0; i < 37; ++i) {
      const double grad = sin((double)(i + 1) * t);
      g[i] = (float)grad;
      ref[i] *= 1.0 - lr * wd;
      m[i] = b1 * m[i] + (1.0 - b1) * (double)g[i];
      v[i] = b2 * v[i] + (1.0 - b2) * (double)g[i] * (double)g[i];
      ref[i] -= lr / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
    }
    OK(simdoptim_optimizer_step(opt));
  }
  /* float32 arithmetic vs double: a few ulps of values of order 1. */
  for (i = 0; i < 37; ++i) CHECK(close_to(w[i], ref[i], 1e-5));
  OK(simdoptim_optimizer_destroy(opt));
}

/* ---- from a YAML config: the recipe's groups ---- */

static void test_from_config(void) {
  const char* yaml =
      "TRAIN:\n"
      "  BASE_LR: 0.001\n"
      "  WEIGHT_DECAY: 0.05\n"
      "  OPTIMIZER:\n"
      "    NAME: adamw\n"
      "    BETAS: [0.9, 0.95]\n";
  const int64_t wshape[2] = {4, 4}, bshape[1] = {4};
  simdoptim_param_spec params[3];
  simdoptim_optimizer* opt = NULL;
  size_t groups = 0, n = 0;
  double value = 0.0;
  const char* name = NULL;
  params[0].name = "fc.weight";
  params[0].shape = wshape;
  params[0].ndim = 2;
  params[0].requires_grad = 1;
  params[1].name = "fc.bias";
  params[1].shape = bshape;
  params[1].ndim = 1;
  params[1].requires_grad = 1;
  params[2].name = "stem.weight";
  params[2].shape = wshape;
  params[2].ndim = 2;
  params[2].requires_grad = 0;
  OK(simdoptim_optimizer_create_from_config(yaml, params, 3, NULL, &opt));
  if (opt == NULL) return;
  OK(simdoptim_optimizer_name(opt, &name));
  CHECK(strcmp(name, "adamw") == 0);
  OK(simdoptim_optimizer_num_groups(opt, &groups));
  CHECK(groups == 2);
  OK(simdoptim_optimizer_num_params(opt, &n));
  CHECK(n == 2);
  OK(simdoptim_optimizer_get_option(opt, 0, "weight_decay", &value));
  CHECK(value == 0.05);
  OK(simdoptim_optimizer_get_option(opt, 1, "weight_decay", &value));
  CHECK(value == 0.0);
  OK(simdoptim_optimizer_get_option(opt, 0, "beta2", &value));
  CHECK(value == 0.95);
  /* The recipe's scheduler from the same kind of config: linear warmup from WARMUP_LR. */
  {
    const char* sched_yaml =
        "TRAIN:\n"
        "  EPOCHS: 10\n"
        "  WARMUP_EPOCHS: 2\n"
        "  BASE_LR: 0.001\n"
        "  WARMUP_LR: 0.0\n"
        "  MIN_LR: 0.0\n"
        "  LR_SCHEDULER:\n"
        "    NAME: cosine\n";
    simdoptim_scheduler* sched = NULL;
    double lr = -1.0, last[2] = {0.0, 0.0};
    size_t count = 0;
    OK(simdoptim_scheduler_create_from_config(opt, sched_yaml, 5, &sched));
    if (sched != NULL) {
      OK(simdoptim_scheduler_step(sched));
      OK(simdoptim_scheduler_get_last_lr(sched, last, 2, &count));
      CHECK(count == 2 && last[0] == last[1]);
      OK(simdoptim_optimizer_get_option(opt, 0, "lr", &lr));
      CHECK(close_to(lr, 0.001 / 10.0, 1e-12)); /* t = 1 of a 10-step warmup */
      OK(simdoptim_scheduler_destroy(sched));
    }
    EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                  simdoptim_scheduler_create_from_config(opt, sched_yaml, 0, &sched));
  }
  OK(simdoptim_optimizer_destroy(opt));

  /* A typo in a key is refused, naming it. */
  EXPECT_STATUS(
      SIMDOPTIM_ERROR_INVALID_ARGUMENT,
      simdoptim_optimizer_create_from_config("TRAIN:\n  BASE_LRR: 1\n", params, 3, NULL, &opt));
  CHECK(strstr(simdoptim_last_error(), "BASE_LRR") != NULL);
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_create_from_config("TRAIN: [", params, 3, NULL, &opt));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER,
                simdoptim_optimizer_create_from_config(NULL, params, 3, NULL, &opt));
}

/* ---- schedulers ---- */

static void test_scheduler(void) {
  simdoptim_optimizer* opt = make_sgd(0.1);
  simdoptim_scheduler* sched = NULL;
  simdoptim_option args[3];
  double lrs[2] = {0.0, 0.0}, lr = 0.0;
  size_t count = 0;
  const char* kind = NULL;
  int k;
  const double expected[6] = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025};
  if (opt == NULL) return;

  args[0].key = "step_size";
  args[0].value = 2;
  args[1].key = "gamma";
  args[1].value = 0.5;
  OK(simdoptim_scheduler_create(opt, "StepLR", args, 2, &sched));
  if (sched == NULL) return;
  OK(simdoptim_scheduler_kind(sched, &kind));
  CHECK(strcmp(kind, "StepLR") == 0);
  for (k = 0; k < 6; ++k) {
    OK(simdoptim_scheduler_get_last_lr(sched, lrs, 2, &count));
    CHECK(count == 1);
    CHECK(close_to(lrs[0], expected[k], 1e-15));
    OK(simdoptim_optimizer_get_option(opt, 0, "lr", &lr));
    CHECK(close_to(lr, expected[k], 1e-15));
    OK(simdoptim_optimizer_step(opt));
    OK(simdoptim_scheduler_step(sched));
  }
  /* Asking for the count only, then a too-small buffer. */
  count = 0;
  OK(simdoptim_scheduler_get_last_lr(sched, NULL, 0, &count));
  CHECK(count == 1);
  EXPECT_STATUS(SIMDOPTIM_ERROR_SIZE_MISMATCH,
                simdoptim_scheduler_get_last_lr(sched, lrs, 0, &count));

  /* Checkpoint round trip: save at step 6, step on, load, and the next lr repeats. StepLR's
   * recursive form reads the group's lr, so the optimizer is restored too (as in torch). */
  {
    char path[1024], opt_path[1024];
    double after_save = 0.0, after_load = 0.0;
    path_in_scratch(path, sizeof path, "capi_scheduler.ckpt");
    path_in_scratch(opt_path, sizeof opt_path, "capi_scheduler_optimizer.ckpt");
    OK(simdoptim_scheduler_save(sched, path));
    OK(simdoptim_optimizer_save(opt, opt_path));
    OK(simdoptim_scheduler_step(sched));
    OK(simdoptim_scheduler_get_last_lr(sched, &after_save, 1, &count));
    OK(simdoptim_scheduler_step(sched));
    OK(simdoptim_scheduler_step(sched));
    OK(simdoptim_scheduler_load(sched, path));
    OK(simdoptim_optimizer_load(opt, opt_path));
    OK(simdoptim_scheduler_step(sched));
    OK(simdoptim_scheduler_get_last_lr(sched, &after_load, 1, &count));
    CHECK(after_save == after_load);
  }

  /* The scheduler keeps the optimizer alive after its handle is gone. */
  OK(simdoptim_optimizer_destroy(opt));
  OK(simdoptim_scheduler_step(sched));
  OK(simdoptim_scheduler_destroy(sched));

  /* Refusals leave the optimizer's lr alone. */
  opt = make_sgd(0.1);
  if (opt == NULL) return;
  sched = NULL;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_scheduler_create(opt, "StepLRR", args, 2, &sched));
  args[2].key = "gama";
  args[2].value = 0.5;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_scheduler_create(opt, "StepLR", args, 3, &sched));
  CHECK(strstr(simdoptim_last_error(), "gama") != NULL);
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_scheduler_create(opt, "StepLR", args + 1, 1, &sched));
  CHECK(strstr(simdoptim_last_error(), "step_size") != NULL);
  args[0].value = 2.5;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_scheduler_create(opt, "StepLR", args, 2, &sched));
  CHECK(sched == NULL);
  /* A constructor that refuses its arguments after writing initial_lr leaves no trace. */
  args[0].key = "max_lr";
  args[0].value = 1.0;
  args[1].key = "total_steps";
  args[1].value = 10;
  args[2].key = "pct_start";
  args[2].value = 2.0;
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_scheduler_create(opt, "OneCycleLR", args, 3, &sched));
  OK(simdoptim_optimizer_get_option(opt, 0, "lr", &lr));
  CHECK(lr == 0.1);
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_get_option(opt, 0, "initial_lr", &lr));

  /* A list argument repeats its key. */
  args[0].key = "milestones";
  args[0].value = 1;
  args[1].key = "milestones";
  args[1].value = 3;
  OK(simdoptim_scheduler_create(opt, "MultiStepLR", args, 2, &sched));
  for (k = 0; k < 3; ++k) OK(simdoptim_scheduler_step(sched));
  OK(simdoptim_scheduler_get_last_lr(sched, lrs, 2, &count));
  CHECK(close_to(lrs[0], 0.001, 1e-12));
  OK(simdoptim_scheduler_destroy(sched));
  OK(simdoptim_optimizer_destroy(opt));
}

/* ---- clipping ---- */

static void test_clip(void) {
  simdoptim_optimizer* opt = make_sgd(0.1);
  float g[12] = {0}, b[4] = {0};
  float* gw = NULL;
  size_t numel = 0;
  double norm = 0.0;
  if (opt == NULL) return;
  g[0] = 3.0f;
  b[0] = 4.0f;
  OK(simdoptim_optimizer_set_grad(opt, 0, g, 12));
  OK(simdoptim_optimizer_set_grad(opt, 1, b, 4));
  OK(simdoptim_clip_grad_norm(opt, 1.0, 2.0, 0, &norm));
  CHECK(close_to(norm, 5.0, 1e-7));
  OK(simdoptim_optimizer_grad_data(opt, 0, &gw, &numel));
  CHECK(close_to(gw[0], 0.6, 1e-6));
  OK(simdoptim_clip_grad_value(opt, 0.5));
  CHECK(gw[0] == 0.5f);
  gw[1] = (float)NAN;
  EXPECT_STATUS(SIMDOPTIM_ERROR_RUNTIME, simdoptim_clip_grad_norm(opt, 1.0, 2.0, 1, &norm));
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_clip_grad_norm(opt, 1.0, -1.0, 0, NULL));
  OK(simdoptim_optimizer_destroy(opt));
}

/* ---- optimizer checkpoints ---- */

static void test_checkpoint(void) {
  simdoptim_optimizer* opt = make_sgd(0.1);
  simdoptim_optimizer* other = NULL;
  char path[1024], bad_path[1024];
  float* w = NULL;
  float* g = NULL;
  size_t numel = 0, i;
  float saved[12];
  FILE* f;
  if (opt == NULL) return;
  path_in_scratch(path, sizeof path, "capi_optimizer.ckpt");
  path_in_scratch(bad_path, sizeof bad_path, "capi_garbage.ckpt");
  OK(simdoptim_optimizer_param_data(opt, 0, &w, &numel));
  OK(simdoptim_optimizer_grad_data(opt, 0, &g, &numel));
  for (i = 0; i < 12; ++i) {
    w[i] = (float)i;
    g[i] = 1.0f;
  }
  OK(simdoptim_optimizer_step(opt));
  memcpy(saved, w, sizeof saved);
  OK(simdoptim_optimizer_save(opt, path));
  OK(simdoptim_optimizer_step(opt));
  CHECK(w[0] != saved[0]);
  OK(simdoptim_optimizer_load(opt, path));
  CHECK(memcmp(w, saved, sizeof saved) == 0);

  /* Garbage, a missing file and another optimizer's checkpoint are refused cleanly. */
  f = fopen(bad_path, "wb");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs("not a checkpoint", f);
    fclose(f);
  }
  EXPECT_STATUS(SIMDOPTIM_ERROR_CHECKPOINT, simdoptim_optimizer_load(opt, bad_path));
  CHECK(memcmp(w, saved, sizeof saved) == 0);
  path_in_scratch(bad_path, sizeof bad_path, "no_such_dir/x.ckpt");
  EXPECT_STATUS(SIMDOPTIM_ERROR_CHECKPOINT, simdoptim_optimizer_load(opt, bad_path));
  EXPECT_STATUS(SIMDOPTIM_ERROR_RUNTIME, simdoptim_optimizer_save(opt, bad_path));
  {
    simdoptim_param_spec p;
    p.name = "fc.weight";
    p.shape = kWeightShape;
    p.ndim = 2;
    p.requires_grad = 1;
    OK(simdoptim_optimizer_create("adam", NULL, 0, &p, 1, NULL, &other));
    EXPECT_STATUS(SIMDOPTIM_ERROR_CHECKPOINT, simdoptim_optimizer_load(other, path));
    OK(simdoptim_optimizer_destroy(other));
  }
  OK(simdoptim_optimizer_destroy(opt));
}

/* ---- step with a closure (LBFGS) ---- */

typedef struct quadratic {
  simdoptim_optimizer* opt;
  int calls;
  int fail_on_call;
} quadratic;

/* loss = sum (x_i - 3)^2, gradient 2 (x_i - 3). */
static int quadratic_closure(void* user_data, double* loss) {
  quadratic* q = (quadratic*)user_data;
  float *x = NULL, *g = NULL;
  size_t numel = 0, i;
  double sum = 0.0;
  ++q->calls;
  if (q->calls == q->fail_on_call) return 42;
  if (simdoptim_optimizer_param_data(q->opt, 0, &x, &numel) != SIMDOPTIM_OK) return 1;
  if (simdoptim_optimizer_grad_data(q->opt, 0, &g, &numel) != SIMDOPTIM_OK) return 1;
  for (i = 0; i < numel; ++i) {
    const double d = (double)x[i] - 3.0;
    sum += d * d;
    g[i] = (float)(2.0 * d);
  }
  *loss = sum;
  return 0;
}

static void test_closure(void) {
  const int64_t shape[1] = {5};
  simdoptim_param_spec p;
  simdoptim_option strong;
  quadratic q;
  float* x = NULL;
  size_t numel = 0, i;
  double loss = -1.0;
  p.name = "x";
  p.shape = shape;
  p.ndim = 1;
  p.requires_grad = 1;
  strong.key = "strong_wolfe";
  strong.value = 1;
  q.opt = NULL;
  q.calls = 0;
  q.fail_on_call = 0;
  OK(simdoptim_optimizer_create("lbfgs", &strong, 1, &p, 1, NULL, &q.opt));
  if (q.opt == NULL) return;
  OK(simdoptim_optimizer_step_closure(q.opt, quadratic_closure, &q, &loss));
  CHECK(close_to(loss, 45.0, 1e-12)); /* 5 * 3^2 at x = 0 */
  OK(simdoptim_optimizer_param_data(q.opt, 0, &x, &numel));
  for (i = 0; i < numel; ++i) CHECK(fabs(x[i] - 3.0f) < 1e-4);
  CHECK(q.calls > 1);

  q.calls = 0;
  q.fail_on_call = 1;
  EXPECT_STATUS(SIMDOPTIM_ERROR_CALLBACK,
                simdoptim_optimizer_step_closure(q.opt, quadratic_closure, &q, &loss));
  CHECK(strstr(simdoptim_last_error(), "42") != NULL);
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER,
                simdoptim_optimizer_step_closure(q.opt, NULL, &q, &loss));
  OK(simdoptim_optimizer_destroy(q.opt));
}

/* ---- gradients in the engine's buffers, scaled steps, clip + step fused ---- */

static void test_step_grads(void) {
  simdoptim_optimizer* ref = make_sgd(0.5);
  simdoptim_optimizer* sub = make_sgd(0.5);
  /* The engine's gradients, one float into their arrays (not 64-byte aligned). */
  float weight_grad[13], bias_grad[5], values[12];
  const float* grads[2];
  float *w_ref = NULL, *w_sub = NULL, *b_ref = NULL, *b_sub = NULL;
  size_t numel = 0, i;
  int step, present = -1;
  double norm_ref = -1.0, norm_sub = -2.0;
  if (ref == NULL || sub == NULL) return;
  OK(simdoptim_optimizer_param_data(ref, 0, &w_ref, &numel));
  OK(simdoptim_optimizer_param_data(sub, 0, &w_sub, &numel));
  OK(simdoptim_optimizer_param_data(ref, 1, &b_ref, &numel));
  OK(simdoptim_optimizer_param_data(sub, 1, &b_sub, &numel));
  for (i = 0; i < 12; ++i) values[i] = (float)i * 0.25f;
  OK(simdoptim_optimizer_set_param(ref, 0, values, 12));
  OK(simdoptim_optimizer_set_param(sub, 0, values, 12));
  for (i = 0; i < 13; ++i) weight_grad[i] = (float)i * 0.3f - 1.0f;
  for (i = 0; i < 5; ++i) bias_grad[i] = 2.0f - (float)i;
  grads[0] = weight_grad + 1;
  grads[1] = bias_grad + 1;

  for (step = 0; step < 3; ++step) {
    /* Step 1 leaves the bias without a gradient (torch: grad is None). */
    grads[1] = step == 1 ? NULL : bias_grad + 1;
    OK(simdoptim_optimizer_set_grad(ref, 0, weight_grad + 1, 12));
    if (grads[1] != NULL)
      OK(simdoptim_optimizer_set_grad(ref, 1, bias_grad + 1, 4));
    else
      OK(simdoptim_optimizer_set_has_grad(ref, 1, 0));
    if (step == 0) {
      OK(simdoptim_optimizer_step(ref));
      OK(simdoptim_optimizer_step_grads(sub, grads, 2, 1.0f));
    } else {
      /* max_norm 1 clips these gradients. */
      OK(simdoptim_clip_grad_norm(ref, 1.0, 2.0, 0, &norm_ref));
      OK(simdoptim_optimizer_step(ref));
      OK(simdoptim_clip_grad_norm_and_step(sub, 1.0, 2.0, 0, grads, 2, &norm_sub));
      CHECK(memcmp(&norm_ref, &norm_sub, sizeof norm_ref) == 0);
    }
    CHECK(memcmp(w_ref, w_sub, 12 * sizeof(float)) == 0);
    CHECK(memcmp(b_ref, b_sub, 4 * sizeof(float)) == 0);
  }
  /* The engine's gradients left the optimizer's own presence flags alone (never set on sub). */
  OK(simdoptim_optimizer_has_grad(sub, 0, &present));
  CHECK(present == 0);

  /* The optimizer's own gradients, scaled: SGD moves p by -lr * g * scale. */
  OK(simdoptim_optimizer_set_param(sub, 0, values, 12));
  for (i = 0; i < 12; ++i) values[i] = 1.0f;
  OK(simdoptim_optimizer_set_grad(sub, 0, values, 12));
  OK(simdoptim_optimizer_set_has_grad(sub, 1, 0));
  OK(simdoptim_optimizer_step_grads(sub, NULL, 0, 0.5f));
  CHECK(w_sub[4] == 1.0f - 0.25f);

  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_step_grads(sub, grads, 1, 1.0f));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_step_grads(sub, NULL, 2, 1.0f));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_step_grads(NULL, grads, 2, 1.0f));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER,
                simdoptim_clip_grad_norm_and_step(NULL, 1.0, 2.0, 0, NULL, 0, NULL));
  simdoptim_optimizer_destroy(ref);
  simdoptim_optimizer_destroy(sub);
}

/* SWALR, linear over 2 steps from lr 0.1 to 0.05: torch's sequence is 0.1, 0.075, 0.05, 0.05. */
static void test_swalr(void) {
  simdoptim_optimizer* opt = make_sgd(0.1);
  simdoptim_scheduler* sched = NULL;
  simdoptim_option args[3] = {{"swa_lr", 0.05}, {"anneal_epochs", 2}, {"anneal_linear", 1}};
  const double expected[4] = {0.1, 0.075, 0.05, 0.05};
  double lr = 0.0;
  size_t count = 0;
  int k;
  if (opt == NULL) return;
  OK(simdoptim_scheduler_create(opt, "SWALR", args, 3, &sched));
  for (k = 0; sched != NULL && k < 4; ++k) {
    OK(simdoptim_scheduler_get_last_lr(sched, &lr, 1, &count));
    CHECK(close_to(lr, expected[k], 1e-15));
    OK(simdoptim_scheduler_step(sched));
  }
  OK(simdoptim_scheduler_destroy(sched));
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_scheduler_create(opt, "SWALR", args + 1, 2, &sched));
  CHECK(strstr(simdoptim_last_error(), "swa_lr") != NULL);
  OK(simdoptim_optimizer_destroy(opt));
}

/* EMA in the step: SGD lr 0.5 from w = 1 with g = 1 gives w = 0.5, the EMA (decay 0.5) 0.75. */
static void test_averaging(void) {
  simdoptim_optimizer* opt = make_sgd(0.5);
  simdoptim_option ema[2] = {{"decay", 0.5}, {"every", 1}};
  simdoptim_option bad[1] = {{"decy", 0.5}};
  float *w = NULL, *g = NULL, *avg = NULL;
  size_t numel = 0, k;
  int64_t count = -1;
  if (opt == NULL) return;
  EXPECT_STATUS(SIMDOPTIM_ERROR_OUT_OF_RANGE,
                simdoptim_optimizer_averaged_data(opt, 0, &avg, &numel));
  EXPECT_STATUS(SIMDOPTIM_ERROR_UNSUPPORTED, simdoptim_optimizer_swap_averaged_params(opt));
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_set_averaging(opt, "emaa", ema, 2));
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_set_averaging(opt, "ema", bad, 1));
  CHECK(strstr(simdoptim_last_error(), "decy") != NULL);
  OK(simdoptim_optimizer_param_data(opt, 0, &w, &numel));
  for (k = 0; k < numel; ++k) w[k] = 1.0f;
  OK(simdoptim_optimizer_set_averaging(opt, "ema", ema, 2));
  OK(simdoptim_optimizer_grad_data(opt, 0, &g, &numel));
  for (k = 0; k < numel; ++k) g[k] = 1.0f;
  OK(simdoptim_optimizer_step(opt));
  OK(simdoptim_optimizer_n_averaged(opt, &count));
  CHECK(count == 1);
  OK(simdoptim_optimizer_averaged_data(opt, 0, &avg, &numel));
  CHECK(numel == 12 && w[0] == 0.5f && avg[0] == 0.75f && avg[11] == 0.75f);
  OK(simdoptim_optimizer_swap_averaged_params(opt));
  CHECK(w[0] == 0.75f && avg[0] == 0.5f);
  OK(simdoptim_optimizer_swap_averaged_params(opt));
  CHECK(w[0] == 0.5f);
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_set_averaging_decay(opt, 2.0));
  /* A bf16 average, from w = 0.5: the next step gives w = 0, the average 0.25 (bf16 0x3e80). */
  {
    simdoptim_option bf16[2] = {{"decay", 0.5}, {"dtype", SIMDOPTIM_BF16}};
    simdoptim_option bad_dtype[1] = {{"dtype", 7}};
    uint16_t* avg16 = NULL;
    EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                  simdoptim_optimizer_set_averaging(opt, "ema", bad_dtype, 1));
    OK(simdoptim_optimizer_set_averaging(opt, "ema", bf16, 2));
    EXPECT_STATUS(SIMDOPTIM_ERROR_UNSUPPORTED,
                  simdoptim_optimizer_averaged_data(opt, 0, &avg, &numel));
    OK(simdoptim_optimizer_averaged_data16(opt, 0, &avg16, &numel));
    CHECK(numel == 12 && avg16[0] == 0x3f00);
    OK(simdoptim_optimizer_grad_data(opt, 0, &g, &numel));
    for (k = 0; k < numel; ++k) g[k] = 1.0f;
    OK(simdoptim_optimizer_step(opt));
    CHECK(w[0] == 0.0f && avg16[0] == 0x3e80 && avg16[11] == 0x3e80);
  }
  OK(simdoptim_optimizer_destroy(opt));
}

/* ---- 16-bit storage ---- */

static float from_bf16(uint16_t h) {
  const uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static void test_storage(void) {
  const int64_t shape[1] = {6};
  simdoptim_param_spec a = {"a", shape, 1, 1}, b = {"b", shape, 1, 1};
  simdoptim_storage storage;
  simdoptim_optimizer* opt = NULL;
  simdoptim_dtype param = SIMDOPTIM_F32, grad = SIMDOPTIM_F32;
  float values[6], grads[6], *data = NULL, *master = NULL;
  uint16_t *half = NULL, *half_grad = NULL;
  size_t numel = 0, i;
  OK(simdoptim_optimizer_create("adamw", NULL, 0, &a, 1, NULL, &opt));
  if (opt == NULL) return;
  memset(&storage, 0, sizeof storage);
  storage.state = SIMDOPTIM_F16; /* not supported */
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_add_param_group_storage(opt, &b, 1, NULL, 0, &storage));
  storage.param = SIMDOPTIM_BF16;
  storage.grad = SIMDOPTIM_BF16;
  storage.state = SIMDOPTIM_BF16;
  storage.master_weights = 1;
  OK(simdoptim_optimizer_add_param_group_storage(opt, &b, 1, NULL, 0, &storage));
  OK(simdoptim_optimizer_param_dtype(opt, 1, &param, &grad));
  CHECK(param == SIMDOPTIM_BF16 && grad == SIMDOPTIM_BF16);
  EXPECT_STATUS(SIMDOPTIM_ERROR_UNSUPPORTED, simdoptim_optimizer_param_data(opt, 1, &data, &numel));
  EXPECT_STATUS(SIMDOPTIM_ERROR_UNSUPPORTED,
                simdoptim_optimizer_param_data16(opt, 0, &half, &numel));
  EXPECT_STATUS(SIMDOPTIM_ERROR_UNSUPPORTED,
                simdoptim_optimizer_master_param_data(opt, 0, &master, &numel));
  for (i = 0; i < 6; ++i) {
    values[i] = 1.0f + (float)i / 3.0f;
    grads[i] = 0.5f - (float)i;
  }
  OK(simdoptim_optimizer_set_param(opt, 1, values, 6));
  OK(simdoptim_optimizer_set_grad(opt, 1, grads, 6));
  OK(simdoptim_optimizer_param_data16(opt, 1, &half, &numel));
  OK(simdoptim_optimizer_grad_data16(opt, 1, &half_grad, &numel));
  OK(simdoptim_optimizer_master_param_data(opt, 1, &master, &numel));
  CHECK(numel == 6);
  if (half == NULL || master == NULL || half_grad == NULL) return;
  for (i = 0; i < 6; ++i) {
    CHECK(master[i] == values[i]);
    CHECK(fabsf(from_bf16(half[i]) - values[i]) <= values[i] / 256.0f);
    CHECK(fabsf(from_bf16(half_grad[i]) - grads[i]) <= fabsf(grads[i]) / 256.0f);
  }
  OK(simdoptim_optimizer_set_has_grad(opt, 0, 0));
  OK(simdoptim_optimizer_step(opt));
  /* The master weights moved (AdamW's first step moves each by about lr), and the bf16
   * parameters are their rounding. */
  for (i = 0; i < 6; ++i) {
    CHECK(master[i] != values[i]);
    CHECK(fabsf(from_bf16(half[i]) - master[i]) <= master[i] / 256.0f);
  }
  /* Clamping the bf16 gradients 0.5, -0.5, ..., -4.5 to +-0.25 (bf16 0x3e80, 0xbe80). */
  OK(simdoptim_clip_grad_value(opt, 0.25));
  for (i = 0; i < 6; ++i) CHECK(half_grad[i] == (i == 0 ? 0x3e80 : 0xbe80));
  OK(simdoptim_optimizer_destroy(opt));
}

/* ---- the offload step: 16-bit gradients in, 16-bit parameters out ---- */

/* AdamW with an fp32 parameter "f" [2] (group 0, index 0) and a group of 16-bit parameters of
 * `dtype`, "w" [6] and "b" [3] (indices 1 and 2), with or without fp32 master weights. */
static simdoptim_optimizer* make_half_adamw(simdoptim_dtype dtype, int master_weights) {
  static const int64_t shapes[3] = {2, 6, 3};
  const simdoptim_param_spec f = {"f", shapes, 1, 1};
  const simdoptim_param_spec half[2] = {{"w", shapes + 1, 1, 1}, {"b", shapes + 2, 1, 1}};
  const simdoptim_option lr = {"lr", 0.01};
  simdoptim_storage storage;
  simdoptim_optimizer* opt = NULL;
  float values[6];
  size_t i;
  memset(&storage, 0, sizeof storage);
  storage.param = dtype;
  storage.grad = dtype;
  storage.master_weights = master_weights;
  OK(simdoptim_optimizer_create("adamw", &lr, 1, &f, 1, NULL, &opt));
  if (opt == NULL) return NULL;
  OK(simdoptim_optimizer_add_param_group_storage(opt, half, 2, &lr, 1, &storage));
  for (i = 0; i < 6; ++i) values[i] = 0.75f - (float)i / 7.0f;
  OK(simdoptim_optimizer_set_param(opt, 1, values, 6));
  OK(simdoptim_optimizer_set_param(opt, 2, values, 3));
  return opt;
}

/* Gradients from the engine's 16-bit buffers and parameters into its buffers give the bits of
 * the same gradients in the optimizer's own 16-bit gradients and a plain step. */
static void test_step_grads16_dtype(simdoptim_dtype dtype) {
  simdoptim_optimizer* ref = make_half_adamw(dtype, 1);
  simdoptim_optimizer* sub = make_half_adamw(dtype, 1);
  simdoptim_optimizer* plain = make_half_adamw(dtype, 0);
  /* The engine's buffers, one element into their arrays (not aligned), a sentinel after. */
  uint16_t w_grad[7], b_grad[4], w_out[8];
  uint16_t *w_ref = NULL, *b_ref = NULL, *w_sub = NULL, *b_sub = NULL, *arena = NULL;
  uint16_t w_sub_before[6];
  const uint16_t* grads[3] = {NULL, w_grad + 1, b_grad + 1};
  uint16_t* outs[3] = {NULL, w_out + 1, NULL}; /* b: the optimizer's own copy */
  float grad[6], *master_ref = NULL, *master_sub = NULL;
  size_t numel = 0, i;
  int step;
  if (ref == NULL || sub == NULL || plain == NULL) return;
  OK(simdoptim_optimizer_param_data16(ref, 1, &w_ref, &numel));
  OK(simdoptim_optimizer_param_data16(ref, 2, &b_ref, &numel));
  OK(simdoptim_optimizer_param_data16(sub, 1, &w_sub, &numel));
  OK(simdoptim_optimizer_param_data16(sub, 2, &b_sub, &numel));
  if (w_ref == NULL || b_ref == NULL || w_sub == NULL || b_sub == NULL) return;
  memcpy(w_sub_before, w_sub, sizeof w_sub_before);
  memset(w_out, 0xAB, sizeof w_out);
  for (step = 0; step < 3; ++step) {
    for (i = 0; i < 6; ++i) grad[i] = ((float)i - 2.5f) / (float)(3 + step);
    /* The reference's gradients, rounded into its arena; the engine's buffers get their bits. */
    OK(simdoptim_optimizer_set_has_grad(ref, 0, 0));
    OK(simdoptim_optimizer_set_grad(ref, 1, grad, 6));
    OK(simdoptim_optimizer_grad_data16(ref, 1, &arena, &numel));
    if (arena == NULL) return;
    memcpy(w_grad + 1, arena, 6 * sizeof(uint16_t));
    /* Step 1 leaves the bias without a gradient (torch: grad is None). */
    grads[2] = step == 1 ? NULL : b_grad + 1;
    if (step == 1) {
      OK(simdoptim_optimizer_set_has_grad(ref, 2, 0));
    } else {
      OK(simdoptim_optimizer_set_grad(ref, 2, grad + 3, 3));
      OK(simdoptim_optimizer_grad_data16(ref, 2, &arena, &numel));
      if (arena == NULL) return;
      memcpy(b_grad + 1, arena, 3 * sizeof(uint16_t));
    }
    OK(simdoptim_optimizer_step(ref));
    OK(simdoptim_optimizer_step_grads16(sub, grads, 3, dtype, 1.0f, outs, 3));
    OK(simdoptim_optimizer_master_param_data(ref, 1, &master_ref, &numel));
    OK(simdoptim_optimizer_master_param_data(sub, 1, &master_sub, &numel));
    if (master_ref == NULL || master_sub == NULL) return;
    CHECK(memcmp(master_ref, master_sub, 6 * sizeof(float)) == 0);
    CHECK(memcmp(w_ref, w_out + 1, 6 * sizeof(uint16_t)) == 0);
    CHECK(memcmp(b_ref, b_sub, 3 * sizeof(uint16_t)) == 0);
    /* The output went to the engine's buffer only. */
    CHECK(memcmp(w_sub, w_sub_before, sizeof w_sub_before) == 0);
    CHECK(w_out[0] == 0xABAB && w_out[7] == 0xABAB);
    CHECK(memcmp(w_ref, w_sub_before, sizeof w_sub_before) != 0);
  }
  /* The optimizer's own 16-bit gradients, scaled, with the parameters in its own copies. */
  OK(simdoptim_optimizer_set_has_grad(sub, 0, 0));
  OK(simdoptim_optimizer_set_grad(sub, 1, grad, 6));
  OK(simdoptim_optimizer_set_has_grad(sub, 2, 0));
  OK(simdoptim_optimizer_step_grads16(sub, NULL, 0, dtype, 0.5f, NULL, 0));
  CHECK(memcmp(w_sub, w_sub_before, sizeof w_sub_before) != 0);

  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_step_grads16(sub, grads, 3, SIMDOPTIM_F32, 1.0f, NULL, 0));
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_step_grads16(sub, grads, 2, dtype, 1.0f, NULL, 0));
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_step_grads16(sub, grads, 3, dtype, 1.0f, outs, 2));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER,
                simdoptim_optimizer_step_grads16(sub, NULL, 3, dtype, 1.0f, NULL, 0));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER,
                simdoptim_optimizer_step_grads16(sub, grads, 3, dtype, 1.0f, NULL, 3));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER,
                simdoptim_optimizer_step_grads16(NULL, grads, 3, dtype, 1.0f, NULL, 0));
  /* Parameter outputs need master weights. */
  EXPECT_STATUS(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                simdoptim_optimizer_step_grads16(plain, grads, 3, dtype, 1.0f, outs, 3));
  CHECK(strstr(simdoptim_last_error(), "master weights") != NULL);
  OK(simdoptim_optimizer_step_grads16(plain, grads, 3, dtype, 1.0f, NULL, 0));
  simdoptim_optimizer_destroy(ref);
  simdoptim_optimizer_destroy(sub);
  simdoptim_optimizer_destroy(plain);
}

/* skip_if_nonfinite reads the engine's buffers the step reads (fp32 or 16-bit), not the
 * optimizer's own gradients: a NaN or Inf there skips the step, which then changes nothing. */
static void test_skip_nonfinite_dtype(simdoptim_dtype dtype) {
  simdoptim_optimizer* opt = make_half_adamw(dtype, 1);
  const uint16_t one = dtype == SIMDOPTIM_BF16 ? 0x3f80 : 0x3c00;
  const uint16_t bad[2] = {dtype == SIMDOPTIM_BF16 ? 0x7fc0 : 0x7e00,  /* NaN */
                           dtype == SIMDOPTIM_BF16 ? 0xff80 : 0xfc00}; /* -Inf */
  uint16_t w_grad[6], b_grad[3], w_out[6], w_out_before[6];
  const uint16_t* grads[3] = {NULL, w_grad, b_grad};
  uint16_t* outs[3] = {NULL, w_out, NULL};
  float f_grad[2] = {0.5f, -0.5f}, nan_grads[6], master_before[6], f_before[2];
  const float* grads32[3] = {f_grad, NULL, NULL};
  float *master = NULL, *f = NULL;
  size_t numel = 0, i, k;
  int skipped = -1;
  if (opt == NULL) return;
  OK(simdoptim_optimizer_master_param_data(opt, 1, &master, &numel));
  OK(simdoptim_optimizer_param_data(opt, 0, &f, &numel));
  if (master == NULL || f == NULL) return;
  OK(simdoptim_optimizer_set_skip_if_nonfinite(opt, 1));
  /* The optimizer's own gradients are NaN: the steps below do not read them. */
  for (i = 0; i < 6; ++i) nan_grads[i] = (float)NAN;
  OK(simdoptim_optimizer_set_grad(opt, 0, nan_grads, 2));
  OK(simdoptim_optimizer_set_grad(opt, 1, nan_grads, 6));
  for (i = 0; i < 6; ++i) w_grad[i] = one;
  for (i = 0; i < 3; ++i) b_grad[i] = one;
  OK(simdoptim_optimizer_step_grads16(opt, grads, 3, dtype, 1.0f, outs, 3));
  OK(simdoptim_optimizer_last_step_skipped(opt, &skipped));
  CHECK(skipped == 0);
  OK(simdoptim_optimizer_step_grads(opt, grads32, 3, 1.0f));
  OK(simdoptim_optimizer_last_step_skipped(opt, &skipped));
  CHECK(skipped == 0);
  memcpy(master_before, master, sizeof master_before);
  memcpy(f_before, f, sizeof f_before);
  memcpy(w_out_before, w_out, sizeof w_out_before);
  for (k = 0; k < 2; ++k) {
    b_grad[2] = bad[k]; /* the last element of the last tensor */
    OK(simdoptim_optimizer_step_grads16(opt, grads, 3, dtype, 1.0f, outs, 3));
    OK(simdoptim_optimizer_last_step_skipped(opt, &skipped));
    CHECK(skipped == 1);
    CHECK(memcmp(master, master_before, sizeof master_before) == 0);
    CHECK(memcmp(w_out, w_out_before, sizeof w_out_before) == 0);
  }
  b_grad[2] = one;
  f_grad[1] = (float)INFINITY;
  OK(simdoptim_optimizer_step_grads(opt, grads32, 3, 1.0f));
  OK(simdoptim_optimizer_last_step_skipped(opt, &skipped));
  CHECK(skipped == 1);
  CHECK(memcmp(f, f_before, sizeof f_before) == 0);
  /* Finite again: the step runs. */
  OK(simdoptim_optimizer_step_grads16(opt, grads, 3, dtype, 1.0f, outs, 3));
  OK(simdoptim_optimizer_last_step_skipped(opt, &skipped));
  CHECK(skipped == 0);
  CHECK(memcmp(master, master_before, sizeof master_before) != 0);
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_last_step_skipped(opt, NULL));
  EXPECT_STATUS(SIMDOPTIM_ERROR_NULL_POINTER, simdoptim_optimizer_set_skip_if_nonfinite(NULL, 1));
  simdoptim_optimizer_destroy(opt);
}

static void test_step_grads16(void) {
  test_step_grads16_dtype(SIMDOPTIM_BF16);
  test_step_grads16_dtype(SIMDOPTIM_F16);
  test_skip_nonfinite_dtype(SIMDOPTIM_BF16);
  test_skip_nonfinite_dtype(SIMDOPTIM_F16);
}

int main(int argc, char** argv) {
  if (argc > 1) scratch = argv[1];
  test_version();
  test_sgd_end_to_end();
  test_errors();
  test_adamw_matches_reference();
  test_from_config();
  test_scheduler();
  test_swalr();
  test_averaging();
  test_clip();
  test_checkpoint();
  test_closure();
  test_step_grads();
  test_storage();
  test_step_grads16();
  if (failures != 0) {
    fprintf(stderr, "test_capi: %d check(s) failed\n", failures);
    return 1;
  }
  printf("test_capi: all checks passed\n");
  return 0;
}
