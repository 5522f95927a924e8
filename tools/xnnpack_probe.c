// Runs one int8 convolution through XNNPACK, for tools/arm_cycle_model.py: under
// qemu-user with `-d exec`, the translated blocks it executes show which of the
// library's (stripped) microkernels XNNPACK picked for that kind of layer on the
// emulated CPU. Prints the library's load address first.
//
//   xnnpack_probe gemm|igemm|dw3s1|dw3s2|dw5s1|dw5s2
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: xnnpack_probe gemm|igemm|dw3s1|dw3s2|dw5s1|dw5s2\n");
    return 2;
  }
  const char* what = argv[1];
  uint32_t k = 1, s = 1, groups = 1;
  size_t cin = 64, cout = 64, hw = 16;
  if (strcmp(what, "igemm") == 0) {
    k = 3;
  } else if (strncmp(what, "dw", 2) == 0 && strlen(what) == 5) {
    k = (uint32_t)(what[2] - '0');
    s = (uint32_t)(what[4] - '0');
    groups = 96;
    cin = cout = 1;
  } else if (strcmp(what, "gemm") != 0) {
    fprintf(stderr, "xnnpack_probe: unknown layer kind %s\n", what);
    return 2;
  }
  if (xnn_initialize(NULL) != xnn_status_success) {
    fprintf(stderr, "xnnpack_probe: xnn_initialize failed\n");
    return 1;
  }
  Dl_info info;
  if (dladdr((void*)&xnn_initialize, &info) == 0) return 1;
  printf("base %p\n", info.dli_fbase);
  fflush(stdout);
  const size_t oc = groups * cout, ic = groups * cin, taps = (size_t)k * k;
  int8_t* w = calloc(oc * taps * cin, 1);
  int32_t* bias = calloc(oc, sizeof(int32_t));
  float* scale = malloc(oc * sizeof(float));
  int8_t* x = calloc(hw * hw * ic, 1);
  int8_t* y = calloc(hw * hw * oc, 1);
  if (!w || !bias || !scale || !x || !y) return 1;
  for (size_t i = 0; i < oc * taps * cin; ++i) w[i] = (int8_t)(i * 7);
  for (size_t i = 0; i < oc; ++i) scale[i] = 0.01f;
  const uint32_t pad = k / 2;
  xnn_operator_t op = NULL;
  if (xnn_create_convolution2d_nhwc_qc8(pad, pad, pad, pad, k, k, s, s, 1, 1, groups, cin, cout, ic, oc, 0, 0.5f,
                                        scale, w, bias, 0, 0.5f, -128, 127, 0, &op) != xnn_status_success ||
      xnn_setup_convolution2d_nhwc_qc8(op, 1, hw, hw, x, y, NULL) != xnn_status_success ||
      xnn_run_operator(op, NULL) != xnn_status_success) {
    fprintf(stderr, "xnnpack_probe: the %s convolution failed\n", what);
    return 1;
  }
  xnn_delete_operator(op);
  printf("done %s\n", what);
  return 0;
}
