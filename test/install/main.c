/* Loads a .edgeq model through the installed C API, runs it on zeros and prints the
 * first output's shape and values. Exit status 0 only if every call succeeds. */
#include <edgeq/edgeq.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: consumer model.edgeq\n");
    return 2;
  }
  edgeq_model* model = NULL;
  edgeq_session* session = NULL;
  if (edgeq_model_load_file(argv[1], &model) != EDGEQ_OK || edgeq_session_create(model, NULL, &session) != EDGEQ_OK) {
    fprintf(stderr, "consumer: %s\n", edgeq_last_error());
    return 1;
  }
  for (size_t i = 0; i < edgeq_session_input_count(session); ++i) {
    edgeq_tensor_info info;
    edgeq_session_input_info(session, i, &info);
    float* zeros = calloc(info.num_elements, sizeof(float));
    if (!zeros || edgeq_session_set_input_f32(session, i, zeros, info.num_elements) != EDGEQ_OK) return 1;
    free(zeros);
  }
  if (edgeq_session_run(session) != EDGEQ_OK) return 1;
  edgeq_tensor_info out;
  edgeq_session_output_info(session, 0, &out);
  float* y = malloc(out.num_elements * sizeof(float));
  if (!y || edgeq_session_get_output_f32(session, 0, y, out.num_elements) != EDGEQ_OK) return 1;
  printf("output '%s' rank %d, %zu elements, first %g\n", out.name, out.rank, out.num_elements, y[0]);
  free(y);
  edgeq_session_destroy(session);
  edgeq_model_release(model);
  return 0;
}
