/* edgeq public C API.
 *
 * A model (edgeq_model) is an immutable, loaded `.edgeq` file: its weights are used in
 * place from the mapped file. A session (edgeq_session) holds everything one inference
 * needs: the planned arena, prepared ops and kernel choices.
 *
 * Threading: a loaded model may be shared by any number of sessions, created and run
 * on different threads at the same time; the model is never written after loading
 * and a session keeps its own reference to it, so edgeq_model_release() may be called
 * while sessions still use the model. One session must not be used by two threads at
 * once.
 *
 * Errors: every fallible call returns an edgeq_status; edgeq_last_error() gives the
 * message of the last failure on the calling thread (it names the tensor or node for
 * model errors). No C++ exception crosses this interface.
 *
 * Typical use:
 *   edgeq_model* model;  edgeq_session* session;
 *   if (edgeq_model_load_file("net.edgeq", &model) != EDGEQ_OK) { puts(edgeq_last_error()); ... }
 *   edgeq_session_create(model, NULL, &session);
 *   edgeq_session_set_input_f32(session, 0, pixels, pixel_count);
 *   edgeq_session_run(session);
 *   edgeq_session_get_output_f32(session, 0, scores, score_count);
 *   edgeq_session_destroy(session);  edgeq_model_release(model);
 */
#ifndef EDGEQ_EDGEQ_H_
#define EDGEQ_EDGEQ_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum edgeq_status {
  EDGEQ_OK = 0,
  EDGEQ_INVALID_ARGUMENT = 1, /* null pointer, bad index, wrong size or shape */
  EDGEQ_INVALID_MODEL = 2,    /* malformed, corrupt or inconsistent model */
  EDGEQ_UNSUPPORTED = 3,      /* valid but not supported by this build or CPU */
  EDGEQ_IO_ERROR = 4,         /* file missing or unreadable */
  EDGEQ_OUT_OF_MEMORY = 5,
  EDGEQ_INTERNAL = 6
} edgeq_status;

/* EDGEQ_S32 / EDGEQ_S64 graph inputs hold integers (token ids, attention masks): set
 * them with _set_input_s64 / _s32 (or _raw), not _f32. EDGEQ_BOOL inputs (a padding
 * mask) hold one byte per element: set them with _set_input_s64 / _s32 (non-zero is
 * true) or _raw (bytes, non-zero true). */
typedef enum edgeq_dtype {
  EDGEQ_F32 = 0,
  EDGEQ_S8 = 1,
  EDGEQ_U8 = 2,
  EDGEQ_S32 = 3,
  EDGEQ_S64 = 4,
  EDGEQ_BOOL = 5
} edgeq_dtype;

typedef struct edgeq_model edgeq_model;
typedef struct edgeq_session edgeq_session;

/* Session options. Initialize with edgeq_session_options_init() before setting fields.
 *
 * num_threads: 1 (the default) runs on the calling thread with no pool; 0 means one
 * thread per online core; a negative count is EDGEQ_INVALID_ARGUMENT. A count above
 * 4 per online core is capped there, not refused: results never depend on the thread
 * count and threads beyond the cores only take turns on them, so the cap costs
 * nothing, while thousands of threads would exhaust the machine's. When the threads
 * cannot be created (address-space or thread limits), edgeq_session_create returns
 * EDGEQ_OUT_OF_MEMORY. */
typedef struct edgeq_session_options {
  uint32_t struct_size; /* sizeof(edgeq_session_options), for compatibility */
  int32_t num_threads;  /* 1: no thread pool; 0: one per core; at most 4 per core */
  const char* isa;      /* kernel level to force ("ref"), or NULL for the best the CPU has */
} edgeq_session_options;

/* Describes a graph input or output. Pointers stay valid while the session lives. */
typedef struct edgeq_tensor_info {
  const char* name;
  edgeq_dtype dtype;
  int32_t rank;
  const int32_t* shape;
  size_t num_elements;
  size_t byte_size;
  int32_t num_scales; /* 0 for float tensors, 1 for per-tensor quantization */
  const float* scales;
  const int32_t* zero_points;
} edgeq_tensor_info;

/* Message of the last failed call on this thread ("" if none). */
const char* edgeq_last_error(void);
const char* edgeq_status_string(edgeq_status status);
const char* edgeq_version(void);

/* Loading. _file maps the file (or reads it into aligned memory where mapping fails);
 * _memory copies the bytes. Both verify the file completely.
 *
 * A mapped file must not change while the model or any session made from it lives:
 * weights are read in place from the mapping, and if the file is truncated (or
 * rewritten in place) meanwhile, touching a page it no longer has raises SIGBUS, which
 * kills the process (inside edgeq_session_create or edgeq_session_run, say). This is a
 * property of mapped files that no status can report. Replace a model file by writing
 * a new file and renaming it over the old one (as the edgeq tool does): the mapping
 * keeps the old file. An application that cannot rule out in-place changes loads with
 * edgeq_model_load_memory: it copies the bytes (the model's size in memory) and is
 * then independent of the file. */
edgeq_status edgeq_model_load_file(const char* path, edgeq_model** model);
edgeq_status edgeq_model_load_memory(const void* data, size_t size, edgeq_model** model);
void edgeq_model_release(edgeq_model* model);

void edgeq_session_options_init(edgeq_session_options* options);
edgeq_status edgeq_session_create(const edgeq_model* model, const edgeq_session_options* options,
                                  edgeq_session** session);
void edgeq_session_destroy(edgeq_session* session);

size_t edgeq_session_input_count(const edgeq_session* session);
size_t edgeq_session_output_count(const edgeq_session* session);
edgeq_status edgeq_session_input_info(const edgeq_session* session, size_t index, edgeq_tensor_info* info);
edgeq_status edgeq_session_output_info(const edgeq_session* session, size_t index, edgeq_tensor_info* info);
edgeq_status edgeq_session_find_input(const edgeq_session* session, const char* name, size_t* index);
edgeq_status edgeq_session_find_output(const edgeq_session* session, const char* name, size_t* index);

/* Inputs. _f32 takes float values and quantizes them for a quantized input; _raw takes
 * the tensor's own dtype (int8, uint8 or float) and its exact byte size. `count` is
 * the number of elements and must equal the tensor's.
 *
 * NaN and infinities, at every kernel level and thread count:
 *  - Float tensors propagate them as IEEE arithmetic does: a NaN reaches every output
 *    element that depends on it, through every op (ReLU, clamps and max pooling of a
 *    NaN give NaN; softmax over a NaN gives NaN for the whole slice), and infinities
 *    follow float arithmetic (inf - inf and 0 * inf give NaN). XNNPACK, which runs the
 *    float ops at the optimized levels, maps NaN to its output clamp's bound, so a run
 *    whose float inputs hold a NaN or an infinity runs the float ops on the reference
 *    kernels instead; its finite outputs may then differ from an all-finite run's by
 *    the few float roundings that separate the two. A dynamically quantized fully
 *    connected layer computes an input row holding a NaN or an infinity in float.
 *  - Quantizing a float (_set_input_f32 on an int8 or uint8 input, or a Quantize op
 *    inside the model) gives the zero point for NaN, the type's maximum for +inf and
 *    its minimum for -inf (finite values saturate the same way). Everything after that
 *    is integer arithmetic. */
edgeq_status edgeq_session_set_input_f32(edgeq_session* session, size_t index, const float* data, size_t count);
edgeq_status edgeq_session_set_input_raw(edgeq_session* session, size_t index, const void* data, size_t bytes);

/* Integer and bool inputs (EDGEQ_S32, EDGEQ_S64, EDGEQ_BOOL: token ids, masks): `count`
 * values converted to the input's dtype (bool: non-zero is true); a value outside int32 for an EDGEQ_S32 input, a float or
 * quantized input, or a wrong count is EDGEQ_INVALID_ARGUMENT naming the tensor. */
edgeq_status edgeq_session_set_input_s64(edgeq_session* session, size_t index, const int64_t* data, size_t count);
edgeq_status edgeq_session_set_input_s32(edgeq_session* session, size_t index, const int32_t* data, size_t count);

/* Runs the model. The arena reuses an input's memory once the last op reading it has
 * run, so set every input again before each run. Index inputs are checked as the run reaches the op that uses them:
 * a Gather index outside its table (negative, or >= the table's rows) stops the run
 * with EDGEQ_INVALID_ARGUMENT and a message naming the node and the index tensor; the
 * outputs are then undefined. Nothing is ever read outside a table. */
edgeq_status edgeq_session_run(edgeq_session* session);

/* Outputs. _f32 dequantizes a quantized output; _raw copies the tensor's own bytes. */
edgeq_status edgeq_session_get_output_f32(const edgeq_session* session, size_t index, float* data, size_t count);
edgeq_status edgeq_session_get_output_raw(const edgeq_session* session, size_t index, void* data, size_t bytes);
/* The values of an EDGEQ_S32, EDGEQ_S64 or EDGEQ_BOOL (0 / 1) output as int64. */
edgeq_status edgeq_session_get_output_s64(const edgeq_session* session, size_t index, int64_t* data, size_t count);

/* Bytes of the planned arena (all intermediate tensors) of this session. */
size_t edgeq_session_arena_bytes(const edgeq_session* session);

/* Time and memory of a model and of a session, for apps that budget start-up and
 * resident memory. The weights of conv / fully connected / depthwise nodes run packed
 * in each kernel level's layout; those packed weights belong to the model: the first
 * session on a level packs them (unless the file carries them pre-packed for it:
 * `edgeq pack`, `edgeq convert --pack`, used in place from the mapped file) and every
 * other session of the model, on any thread, shares them. So N sessions of one model
 * hold one packed copy (packed_bytes below) plus N times their own (arena_bytes +
 * own_bytes). Set struct_size to the struct's size before the call. */
typedef struct edgeq_model_stats {
  uint32_t struct_size;   /* sizeof(edgeq_model_stats), set by the caller */
  double load_seconds;    /* edgeq_model_load_file / _memory */
  size_t file_bytes;      /* the file (mapped) or its copy */
  size_t packed_bytes;    /* weights the model packed so far, shared by all its sessions */
  size_t prepacked_bytes; /* weights pre-packed in the file for this build's layouts (in place) */
  size_t packed_layers;   /* (node, layout) pairs packed or found pre-packed so far */
} edgeq_model_stats;
edgeq_status edgeq_model_get_stats(const edgeq_model* model, edgeq_model_stats* stats);

typedef struct edgeq_session_stats {
  uint32_t struct_size;  /* sizeof(edgeq_session_stats), set by the caller */
  double create_seconds; /* edgeq_session_create, packing included when it packed */
  size_t arena_bytes;    /* as edgeq_session_arena_bytes */
  size_t own_bytes;      /* allocated for this session alone (op tables, conv tile offsets) */
} edgeq_session_stats;
edgeq_status edgeq_session_get_stats(const edgeq_session* session, edgeq_session_stats* stats);

/* ---- Calibration on the device: a float model -> an int8 model, with no importer.
 *
 *   edgeq_calibrator* cal;
 *   edgeq_calibrator_create(float_model, NULL, &cal);
 *   for each representative batch: edgeq_calibrator_add_batch(cal, inputs, input_count);
 *   edgeq_calibration_options o; edgeq_calibration_options_init(&o); o.method = "histogram";
 *   edgeq_calibrator_write(cal, &o, "model_int8.edgeq");   (then load it as any model)
 *   edgeq_calibrator_destroy(cal);
 *
 * Statistics of every activation are kept per tensor (min/max, moving average,
 * histogram), so edgeq_calibrator_write may be called again with other options, and
 * edgeq_calibrator_save_stats / _load_stats cache them in a file.
 *
 * Files are written complete or not at all: to a temporary file in the same directory,
 * renamed over `path` when complete, removed on any failure (EDGEQ_IO_ERROR). A write
 * past the process's file size limit raises SIGXFSZ, which kills the process unless
 * it ignores the signal (then the write fails with an error); edgeq leaves signal
 * dispositions to the application. */
typedef struct edgeq_calibrator edgeq_calibrator;

typedef struct edgeq_calibration_options {
  uint32_t struct_size;   /* sizeof(edgeq_calibration_options) */
  const char* method;     /* "minmax" (default), "ema", "histogram", "percentile", "entropy", "mse" */
  int32_t per_channel;    /* 1 (default): per-channel int8 weights; 0: per tensor */
  edgeq_dtype act_dtype;  /* EDGEQ_U8 (default) or EDGEQ_S8 activations */
  double percentile;      /* "percentile": the percentile kept (default 99.999) */
  const char* exclude;    /* comma-separated node names kept in float, or NULL */
} edgeq_calibration_options;

void edgeq_calibration_options_init(edgeq_calibration_options* options);
/* session_options: threads and ISA of the float runs (NULL: defaults). */
edgeq_status edgeq_calibrator_create(const edgeq_model* float_model, const edgeq_session_options* session_options,
                                     edgeq_calibrator** calibrator);
/* One batch: inputs[i] holds graph input i as float32 in the input's shape. */
edgeq_status edgeq_calibrator_add_batch(edgeq_calibrator* calibrator, const float* const* inputs,
                                        size_t input_count);
/* One batch of a model with integer inputs (a BERT encoder's int64 input_ids,
 * attention_mask, token_type_ids): inputs[i] holds graph input i in its shape, `count`
 * elements of `dtype`: EDGEQ_F32 for a float input, EDGEQ_S64 or EDGEQ_S32 for an
 * integer one. A wrong count, dtype or number of inputs is EDGEQ_INVALID_ARGUMENT
 * naming the input; an id outside an embedding table fails naming the Gather node,
 * and the batch is not counted. */
typedef struct edgeq_input_buffer {
  const void* data;
  edgeq_dtype dtype;
  size_t count;
} edgeq_input_buffer;
edgeq_status edgeq_calibrator_add_batch_typed(edgeq_calibrator* calibrator, const edgeq_input_buffer* inputs,
                                              size_t input_count);
edgeq_status edgeq_calibrator_save_stats(const edgeq_calibrator* calibrator, const char* path);
edgeq_status edgeq_calibrator_load_stats(edgeq_calibrator* calibrator, const char* path);
edgeq_status edgeq_calibrator_write(const edgeq_calibrator* calibrator, const edgeq_calibration_options* options,
                                    const char* path);
void edgeq_calibrator_destroy(edgeq_calibrator* calibrator);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EDGEQ_EDGEQ_H_ */
