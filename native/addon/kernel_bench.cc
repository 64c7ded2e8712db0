// kernel_bench.cc — kernel micro-benchmarks (benchmark and test use only).
//
// kernelBenchCreate(spec) prepares the buffers of one kernel call once (from
// the Hyperion pool, tag "test") and returns a handle; kernelBenchRun(handle)
// makes one call of that kernel on the calling thread, through the kernel
// dispatch tables (kernels/kernels.h), so the instruction set in use is the
// one the runtime uses and a JS benchmark library can time each call
// (kernelBenchRun(handle, calls) makes `calls` calls as one sample, for
// kernels too short to time one by one); kernelBenchFree(handle) releases the
// handle and its buffers (a handle never freed is released when its
// environment ends: its worker thread, or the process, exits).
// Synchronous by design: a call takes microseconds to tens of milliseconds and
// the timing loop is in JS.
//
// Ops (spec.op):
//   matvec     y = W x for one token: W [rows, cols] of spec.type, x quantized
//              to the type's activation format. spec.copies identical copies
//              of W (or as many as cover spec.coldBytes) are cycled through,
//              one per call, so with enough copies the weights come from DRAM
//              as in decode.
//   matmul     Y = W X for spec.tokens tokens (prompt processing), with the
//              kernel's scratch block.
//   rmsnorm    out = rmsnorm(x) * w over spec.n floats
//   rope       rotate spec.heads heads of spec.headDim floats (n_rot = headDim)
//   softmax    in place over spec.n floats
//   swiglu     out = silu(gate) * up over spec.n floats
//   attention  one decode step of every head over spec.ctx positions of an F16
//              KV cache with spec.kvHeads heads (scores, softmax, values), as
//              the engine runs it: the cache head-major, and the query heads
//              that share a KV head through the grouped kernels
//   quantize   spec.n floats to activation format spec.type (q8_0 or q8_K)
// Each handle reports the bytes one call moves and the flops it does, the
// counting rules being those of docs/benchmarks.md.
#include "addon.h"

#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
#include "core/internal.h"
#include "hyperion_memory.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
// quant.h checks its block layouts with C11's _Static_assert; C++ spells it static_assert
#define _Static_assert static_assert
#include "kernels/quant.h"
#undef _Static_assert
#include "kernels/types.h"
}

namespace {

enum class Op { kMatvec, kMatmul, kRmsnorm, kRope, kSoftmax, kSwiglu, kAttention, kQuantize };

struct OpName {
  const char *name;
  Op op;
  hy_kernel_group group;
};
const OpName kOps[] = {
    {"matvec", Op::kMatvec, HY_KGROUP_MATMUL},     {"matmul", Op::kMatmul, HY_KGROUP_MATMUL},
    {"rmsnorm", Op::kRmsnorm, HY_KGROUP_OPS},      {"rope", Op::kRope, HY_KGROUP_OPS},
    {"softmax", Op::kSoftmax, HY_KGROUP_OPS},      {"swiglu", Op::kSwiglu, HY_KGROUP_OPS},
    {"attention", Op::kAttention, HY_KGROUP_ATTENTION}, {"quantize", Op::kQuantize, HY_KGROUP_QUANT},
};

// The buffers never exceed this in total (a benchmark, not a stress test).
constexpr uint64_t kMaxBytes = 4ull << 30;

// Fill the error record (field named) and return code.
hyperion_status Fail(hyperion_status code, const char *field, const char *suggestion, const char *message) {
  hy_field fields[] = {HY_TXT("field", field)};
  return hy_error_raise(code, __FILE__, __LINE__, suggestion, fields, 1, "kernel benchmark: %s", message);
}

struct KernelBench {
  Op op = Op::kMatvec;
  hy_kernel_group group = HY_KGROUP_MATMUL;
  uint32_t type = 0;
  int wt = -1;
  int64_t rows = 0, cols = 0, tokens = 1, n = 0, heads = 0, kv_heads = 0, head_dim = 0, ctx = 0;
  uint32_t copies = 1, next = 0;
  uint64_t cold_bytes = 0;
  // buffers (all from the pool, tag "test"; owned through `blocks`)
  uint8_t *w = nullptr;       // [copies][rows, row_bytes]
  size_t row_bytes = 0, matrix_bytes = 0;
  uint8_t *xq = nullptr;      // [tokens, xq_row_bytes]
  size_t xq_row_bytes = 0;
  void *scratch = nullptr;
  float *a = nullptr, *b = nullptr, *out = nullptr, *cos_t = nullptr, *sin_t = nullptr;
  uint16_t *k = nullptr, *v = nullptr;  // [kv_heads, ctx, head_dim] F16 (the engine's layout)
  std::vector<void *> blocks;
  uint64_t allocated = 0;
  double bytes_per_call = 0, flops_per_call = 0;
  bool freed = false;

  ~KernelBench() { Release(); }
  void Release() {
    for (void *p : blocks) hyperionFree(p);
    blocks.clear();
    allocated = 0;
    freed = true;
  }
  // A 64-byte aligned block from the pool; NULL with the error record filled.
  void *Take(uint64_t bytes) {
    if (bytes == 0) bytes = 64;
    if (bytes > kMaxBytes || allocated + bytes > kMaxBytes) {
      Fail(HYPERION_INVALID_ARGUMENT, "spec", "use a smaller shape or fewer copies", "buffers would exceed 4 GiB");
      return nullptr;
    }
    void *p = hyperionAllocAligned((size_t)bytes, 64, HYPERION_TAG_TEST);
    if (p) {
      blocks.push_back(p);
      allocated += bytes;
    }
    return p;
  }
};

hyperion_status LastCode() { return hyperionGetLastError()->code; }

// A deterministic pseudo-random float in [-0.5, 0.5) * scale.
struct Lcg {
  uint32_t s = 1;
  float Next(float scale) {
    s = s * 1664525u + 1013904223u;
    return ((float)(s >> 8) / 16777216.0f - 0.5f) * scale;
  }
  void Fill(float *x, int64_t count, float scale) {
    for (int64_t i = 0; i < count; i++) x[i] = Next(scale);
  }
};

// ---- preparation, one function per family of ops ----

// Weights: 64 distinct quantized rows repeated (contents do not change the
// speed of these kernels), copied `copies` times; activations quantized once.
hyperion_status PrepareMatrix(KernelBench &kb, Lcg &rng) {
  const hy_type_info *info = hy_type_get(kb.type);
  kb.wt = hy_wtype_of(kb.type);
  if (!info || kb.wt < 0)
    return Fail(HYPERION_MODEL_UNSUPPORTED, "spec.type", "use f32, f16, bf16, q8_0, q4_0, q4_K, q5_K or q6_K",
                "no matrix kernels for this type");
  if (kb.cols % info->block_size != 0)
    return Fail(HYPERION_INVALID_ARGUMENT, "spec.cols", nullptr, "cols must be a multiple of the type's block size");
  kb.row_bytes = hy_type_row_bytes(kb.type, (uint64_t)kb.cols);
  kb.matrix_bytes = kb.row_bytes * (size_t)kb.rows;
  if (kb.cold_bytes > 0 && kb.op == Op::kMatvec) {  // enough copies to cover cold_bytes, so calls miss the caches
    const uint64_t want = (kb.cold_bytes + kb.matrix_bytes - 1) / kb.matrix_bytes;
    kb.copies = (uint32_t)(want < 1 ? 1 : want > 4096 ? 4096 : want);
  }
  if (kb.matrix_bytes / kb.row_bytes != (size_t)kb.rows || kb.matrix_bytes > kMaxBytes / kb.copies)
    return Fail(HYPERION_INVALID_ARGUMENT, "spec.copies", "use a smaller shape or fewer copies", "the weight copies would exceed 4 GiB");
  const int64_t proto_rows = kb.rows < 64 ? kb.rows : 64;
  std::vector<float> f((size_t)kb.cols);
  auto *proto = static_cast<uint8_t *>(kb.Take(kb.row_bytes * (uint64_t)proto_rows));
  if (!proto) return LastCode();
  for (int64_t r = 0; r < proto_rows; r++) {
    rng.Fill(f.data(), kb.cols, 0.05f);
    hy_quantize_row(kb.type, f.data(), proto + kb.row_bytes * (size_t)r, kb.cols);
  }
  kb.w = static_cast<uint8_t *>(kb.Take((uint64_t)kb.matrix_bytes * kb.copies));
  if (!kb.w) return LastCode();
  for (uint32_t c = 0; c < kb.copies; c++)
    for (int64_t r = 0; r < kb.rows; r++)
      memcpy(kb.w + kb.matrix_bytes * c + kb.row_bytes * (size_t)r, proto + kb.row_bytes * (size_t)(r % proto_rows), kb.row_bytes);
  kb.xq_row_bytes = hy_activation_row_bytes(kb.type, kb.cols);
  kb.xq = static_cast<uint8_t *>(kb.Take((uint64_t)kb.xq_row_bytes * (uint64_t)kb.tokens));
  kb.out = static_cast<float *>(kb.Take(sizeof(float) * (uint64_t)kb.rows * (uint64_t)kb.tokens));
  if (!kb.xq || !kb.out) return LastCode();
  for (int64_t t = 0; t < kb.tokens; t++) {
    rng.Fill(f.data(), kb.cols, 1.0f);
    hyperion_status s = hy_quantize_activations(kb.type, f.data(), kb.xq + kb.xq_row_bytes * (size_t)t, kb.cols);
    if (s) return s;
  }
  if (kb.op == Op::kMatmul) {
    const size_t want = hy_matmul_table()->matmul_scratch(kb.wt, kb.cols, kb.tokens);
    if (want && !(kb.scratch = kb.Take(want))) return LastCode();
  }
  // bytes: the weights once, the activations and the results; flops: a
  // multiply and an add per weight and token
  kb.bytes_per_call = (double)kb.matrix_bytes + (double)kb.xq_row_bytes * kb.tokens + 4.0 * kb.rows * kb.tokens;
  kb.flops_per_call = 2.0 * kb.rows * kb.cols * kb.tokens;
  return HYPERION_OK;
}

hyperion_status PrepareVectors(KernelBench &kb, Lcg &rng) {
  const int64_t n = kb.op == Op::kRope ? kb.heads * kb.head_dim : kb.n;
  kb.a = static_cast<float *>(kb.Take(sizeof(float) * (uint64_t)n));
  kb.b = static_cast<float *>(kb.Take(sizeof(float) * (uint64_t)n));
  kb.out = static_cast<float *>(kb.Take(sizeof(float) * (uint64_t)n));
  if (!kb.a || !kb.b || !kb.out) return LastCode();
  rng.Fill(kb.a, n, 4.0f);
  rng.Fill(kb.b, n, 4.0f);
  switch (kb.op) {
    case Op::kRmsnorm:  // read x and w, write out; square-accumulate, scale, weight
      kb.bytes_per_call = 12.0 * n;
      kb.flops_per_call = 4.0 * n;
      break;
    case Op::kSoftmax:  // read and write x; max, subtract, exp, sum, scale (exp counted as one)
      kb.bytes_per_call = 8.0 * n;
      kb.flops_per_call = 5.0 * n;
      break;
    case Op::kSwiglu:  // read gate and up, write out; silu (exp, add, divide) and the product
      kb.bytes_per_call = 12.0 * n;
      kb.flops_per_call = 5.0 * n;
      break;
    case Op::kRope: {  // read and write x, read the angle table; 4 mul + 2 add per pair
      kb.cos_t = static_cast<float *>(kb.Take(sizeof(float) * (uint64_t)kb.head_dim / 2));
      kb.sin_t = static_cast<float *>(kb.Take(sizeof(float) * (uint64_t)kb.head_dim / 2));
      if (!kb.cos_t || !kb.sin_t) return LastCode();
      hy_rope_params p{};
      p.freq_base = 10000.0f;
      p.freq_scale = 1.0f;
      p.attn_factor = 1.0f;
      hy_rope_cache(kb.cos_t, kb.sin_t, kb.head_dim, 17, &p);
      kb.bytes_per_call = 8.0 * n + 4.0 * kb.head_dim;
      kb.flops_per_call = 3.0 * n;
      break;
    }
    case Op::kQuantize: {  // read x, write the blocks; abs-max, scale, round per element
      if (kb.type != HY_TYPE_Q8_0 && kb.type != HY_TYPE_Q8_K)
        return Fail(HYPERION_INVALID_ARGUMENT, "spec.type", "use q8_0 or q8_K", "quantize produces an activation format (q8_0 or q8_K)");
      const hy_type_info *info = hy_type_get(kb.type);
      if (n % info->block_size)
        return Fail(HYPERION_INVALID_ARGUMENT, "spec.n", nullptr, "n must be a multiple of the type's block size");
      const size_t qb = hy_type_row_bytes(kb.type, (uint64_t)n);
      if (!(kb.xq = static_cast<uint8_t *>(kb.Take(qb)))) return LastCode();
      kb.bytes_per_call = 4.0 * n + (double)qb;
      kb.flops_per_call = 3.0 * n;
      break;
    }
    default:
      break;
  }
  return HYPERION_OK;
}

hyperion_status PrepareAttention(KernelBench &kb, Lcg &rng) {
  if (kb.heads % kb.kv_heads)
    return Fail(HYPERION_INVALID_ARGUMENT, "spec.kvHeads", nullptr, "kvHeads must divide heads");
  const uint64_t cache = (uint64_t)kb.ctx * (uint64_t)kb.kv_heads * (uint64_t)kb.head_dim;
  kb.k = static_cast<uint16_t *>(kb.Take(2 * cache));
  kb.v = static_cast<uint16_t *>(kb.Take(2 * cache));
  kb.a = static_cast<float *>(kb.Take(sizeof(float) * (uint64_t)(kb.heads * kb.head_dim)));    // q
  kb.out = static_cast<float *>(kb.Take(sizeof(float) * (uint64_t)(kb.heads * kb.head_dim)));  // out
  const uint64_t group = (uint64_t)(kb.heads / kb.kv_heads);
  kb.b = static_cast<float *>(kb.Take(sizeof(float) * group * (uint64_t)kb.ctx));  // scores of one KV head's group
  if (!kb.k || !kb.v || !kb.a || !kb.out || !kb.b) return LastCode();
  std::vector<float> row((size_t)kb.head_dim);
  const hy_attn_kernels *at = hy_attn();
  for (int64_t r = 0; r < kb.ctx * kb.kv_heads; r++) {
    rng.Fill(row.data(), (int64_t)row.size(), 2.0f);
    at->store_f16(kb.k + (size_t)r * row.size(), row.data(), (int64_t)row.size());
    rng.Fill(row.data(), (int64_t)row.size(), 2.0f);
    at->store_f16(kb.v + (size_t)r * row.size(), row.data(), (int64_t)row.size());
  }
  rng.Fill(kb.a, kb.heads * kb.head_dim, 1.0f);
  // the keys and values (F16) read once per KV head, every query of its group
  // using them; 2 flops per element and query head for the scores and 2 for
  // the values
  kb.bytes_per_call = 4.0 * (double)kb.ctx * (double)kb.head_dim * (double)kb.kv_heads + 8.0 * kb.heads * kb.head_dim;
  kb.flops_per_call = 4.0 * (double)kb.ctx * (double)kb.head_dim * (double)kb.heads + 5.0 * kb.ctx * kb.heads;
  return HYPERION_OK;
}

// ---- one call ----

void RunOnce(KernelBench &kb) {
  switch (kb.op) {
    case Op::kMatvec: {
      const uint8_t *w = kb.w + kb.matrix_bytes * kb.next;
      kb.next = kb.next + 1 == kb.copies ? 0 : kb.next + 1;
      hy_matmul_table()->matvec[kb.wt](w, kb.row_bytes, kb.cols, kb.xq, kb.out, 0, kb.rows);
      break;
    }
    case Op::kMatmul:
      hy_matmul_table()->matmul[kb.wt](kb.w, kb.row_bytes, kb.cols, kb.xq, kb.xq_row_bytes, kb.tokens, kb.out, kb.rows, 0,
                                       kb.rows, kb.scratch);
      break;
    case Op::kRmsnorm:
      hy_ops()->rmsnorm(kb.out, kb.a, kb.b, kb.n, 1e-5f);
      break;
    case Op::kRope:
      // rotates in place; the values drift but stay finite (a rotation keeps the norm)
      hy_ops()->rope(kb.a, kb.heads, kb.head_dim, kb.head_dim, kb.cos_t, kb.sin_t);
      break;
    case Op::kSoftmax:
      memcpy(kb.out, kb.a, sizeof(float) * (size_t)kb.n);  // softmax works in place: start from the same input
      hy_ops()->softmax(kb.out, kb.n);
      break;
    case Op::kSwiglu:
      hy_ops()->silu_mul(kb.out, kb.a, kb.b, kb.n);
      break;
    case Op::kAttention: {  // as attention_items in llama.c, for one token
      const int64_t group = kb.heads / kb.kv_heads, hd = kb.head_dim;
      const size_t stride = (size_t)hd * 2, head_rows = (size_t)kb.ctx * (size_t)hd;
      const float scale = 1.0f / sqrtf((float)hd);
      for (int64_t kvh = 0; kvh < kb.kv_heads; kvh++) {
        const size_t q_off = (size_t)(kvh * group * hd);
        hy_attn_group(kb.out + q_off, (size_t)hd, kb.a + q_off, (size_t)hd, group, kb.k + (size_t)kvh * head_rows,
                      kb.v + (size_t)kvh * head_rows, HY_TYPE_F16, stride, hd, kb.ctx, scale, kb.b, (size_t)kb.ctx);
      }
      break;
    }
    case Op::kQuantize:
      if (kb.type == HY_TYPE_Q8_0) hy_quant()->quantize_q8_0(kb.a, kb.xq, kb.n);
      else hy_quant()->quantize_q8_K(kb.a, kb.xq, kb.n);
      break;
  }
}

// ---- the JS functions ----

int64_t SpecInt(Napi::Object spec, const char *key, int64_t fallback) {
  Napi::Value v = spec.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}

uint32_t TypeByName(const std::string &name) {
  for (uint32_t id = 0; id < 64; id++) {
    const hy_type_info *info = hy_type_get(id);
    if (info && info->name && strcasecmp(info->name, name.c_str()) == 0) return id;
  }
  return UINT32_MAX;
}

// Handles are numbers naming a live KernelBench in this table, not
// Externals: Node keeps a record per External that is only freed when the
// External is garbage-collected, so handles alive at exit showed up as leaks
// under LeakSanitizer (npm run test:asan-addon). Each entry is deleted by
// kernelBenchFree or, if never freed, by its environment's cleanup hook.
std::mutex g_handles_mu;
std::unordered_map<uint32_t, KernelBench *> g_handles;
uint32_t g_next_handle = 1;

void DeleteHandle(void *arg) {
  const uint32_t id = (uint32_t)(uintptr_t)arg;
  KernelBench *kb = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_handles_mu);
    auto it = g_handles.find(id);
    if (it == g_handles.end()) return;
    kb = it->second;
    g_handles.erase(it);
  }
  delete kb;
}

KernelBench *Unwrap(const Napi::CallbackInfo &info) {
  if (!info[0].IsNumber()) return nullptr;
  double id = info[0].As<Napi::Number>().DoubleValue();
  if (!(id >= 1 && id <= 4294967295.0)) return nullptr;
  std::lock_guard<std::mutex> lock(g_handles_mu);
  auto it = g_handles.find((uint32_t)id);
  return it == g_handles.end() ? nullptr : it->second;
}

Napi::Value Create(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return ThrowInvalidArgument(env, "spec", "spec must be an object");
  Napi::Object spec = info[0].As<Napi::Object>();
  if (!spec.Get("op").IsString()) return ThrowInvalidArgument(env, "spec.op", "spec.op must be a string");
  const std::string op = spec.Get("op").As<Napi::String>().Utf8Value();
  auto kb = std::make_unique<KernelBench>();
  bool known = false;
  for (const OpName &o : kOps)
    if (op == o.name) {
      kb->op = o.op;
      kb->group = o.group;
      known = true;
    }
  if (!known) return ThrowInvalidArgument(env, "spec.op", "spec.op must be matvec, matmul, rmsnorm, rope, softmax, swiglu, attention or quantize");
  if (spec.Get("type").IsString()) kb->type = TypeByName(spec.Get("type").As<Napi::String>().Utf8Value());
  else if (kb->op == Op::kMatvec || kb->op == Op::kMatmul || kb->op == Op::kQuantize)
    return ThrowInvalidArgument(env, "spec.type", "spec.type must name a tensor type");
  if (kb->type == UINT32_MAX) return ThrowInvalidArgument(env, "spec.type", "spec.type is not a known tensor type");
  // sizes: each bounded so products below stay far from overflow
  constexpr int64_t kMaxDim = 1 << 20;
  struct Dim { const char *key, *field; int64_t *dst; int64_t fallback; } dims[] = {
      {"rows", "spec.rows", &kb->rows, 0},        {"cols", "spec.cols", &kb->cols, 0},
      {"tokens", "spec.tokens", &kb->tokens, 1},  {"n", "spec.n", &kb->n, 0},
      {"heads", "spec.heads", &kb->heads, 0},     {"kvHeads", "spec.kvHeads", &kb->kv_heads, 0},
      {"headDim", "spec.headDim", &kb->head_dim, 0}, {"ctx", "spec.ctx", &kb->ctx, 0}};
  for (const Dim &d : dims) {
    *d.dst = SpecInt(spec, d.key, d.fallback);
    if (*d.dst < 0 || *d.dst > kMaxDim) return ThrowInvalidArgument(env, d.field, "spec sizes must be in [0, 1048576]");
  }
  const int64_t copies = SpecInt(spec, "copies", 1);
  if (copies < 1 || copies > 4096) return ThrowInvalidArgument(env, "spec.copies", "spec.copies must be in [1, 4096]");
  kb->copies = (uint32_t)copies;
  const int64_t cold = SpecInt(spec, "coldBytes", 0);
  if (cold < 0 || (uint64_t)cold > kMaxBytes) return ThrowInvalidArgument(env, "spec.coldBytes", "spec.coldBytes must be in [0, 4 GiB]");
  kb->cold_bytes = (uint64_t)cold;
  if (kb->op == Op::kMatmul && kb->tokens < 2) return ThrowInvalidArgument(env, "spec.tokens", "matmul needs spec.tokens >= 2");
  if (kb->op != Op::kMatmul) kb->tokens = 1;

  Lcg rng;
  hyperion_status s = HYPERION_OK;
  switch (kb->op) {
    case Op::kMatvec:
    case Op::kMatmul:
      if (kb->rows < 1 || kb->cols < 1) return ThrowInvalidArgument(env, "spec.rows", "rows and cols must be >= 1");
      s = PrepareMatrix(*kb, rng);
      break;
    case Op::kRope:
      if (kb->heads < 1 || kb->head_dim < 2 || kb->head_dim % 2)
        return ThrowInvalidArgument(env, "spec.headDim", "rope needs heads >= 1 and an even headDim");
      s = PrepareVectors(*kb, rng);
      break;
    case Op::kAttention:
      if (kb->heads < 1 || kb->kv_heads < 1 || kb->head_dim < 1 || kb->ctx < 1)
        return ThrowInvalidArgument(env, "spec.ctx", "attention needs heads, kvHeads, headDim and ctx >= 1");
      s = PrepareAttention(*kb, rng);
      break;
    default:
      if (kb->n < 1) return ThrowInvalidArgument(env, "spec.n", "spec.n must be >= 1");
      s = PrepareVectors(*kb, rng);
      break;
  }
  if (s != HYPERION_OK) return ThrowLastError(env);
  KernelBench *raw = kb.release();
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(g_handles_mu);
    id = g_next_handle++;
    if (g_next_handle == 0) g_next_handle = 1;
    g_handles[id] = raw;
  }
  napi_add_env_cleanup_hook(env, DeleteHandle, (void *)(uintptr_t)id);
  return Napi::Number::New(env, id);
}

Napi::Value Run(const Napi::CallbackInfo &info) {
  KernelBench *kb = Unwrap(info);
  if (!kb) return ThrowInvalidArgument(info.Env(), "handle", "not a kernel benchmark handle");
  if (kb->freed) return ThrowInvalidArgument(info.Env(), "handle", "the kernel benchmark was freed");
  // calls: how many calls this sample makes (default 1), so sub-microsecond
  // kernels are timed over a few microseconds rather than against the timer
  int64_t calls = info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : 1;
  if (calls < 1 || calls > 1000000) return ThrowInvalidArgument(info.Env(), "calls", "calls must be in [1, 1000000]");
  for (int64_t i = 0; i < calls; i++) RunOnce(*kb);
  return info.Env().Undefined();
}

Napi::Value Describe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  KernelBench *kb = Unwrap(info);
  if (!kb) return ThrowInvalidArgument(env, "handle", "not a kernel benchmark handle");
  Napi::Object o = Napi::Object::New(env);
  o.Set("bytesPerCall", kb->bytes_per_call);
  o.Set("flopsPerCall", kb->flops_per_call);
  o.Set("allocatedBytes", (double)kb->allocated);
  o.Set("matrixBytes", (double)kb->matrix_bytes);
  o.Set("copies", kb->copies);
  hyperion_isa isa = HYPERION_ISA_SCALAR;
  const char *group_names[] = {"vec", "quant", "matmul", "ops", "attention"};
  hyperionGetKernelIsa(group_names[kb->group], &isa);
  o.Set("group", group_names[kb->group]);
  o.Set("isa", hyperionIsaName(isa));
  o.Set("freed", kb->freed);
  return o;
}

Napi::Value Free(const Napi::CallbackInfo &info) {
  KernelBench *kb = Unwrap(info);
  if (!kb) return ThrowInvalidArgument(info.Env(), "handle", "not a kernel benchmark handle (or freed already)");
  void *arg = (void *)(uintptr_t)(uint32_t)info[0].As<Napi::Number>().DoubleValue();
  napi_remove_env_cleanup_hook(info.Env(), DeleteHandle, arg);
  DeleteHandle(arg);
  return info.Env().Undefined();
}

}  // namespace

void RegisterKernelBench(Napi::Env env, Napi::Object exports) {
  exports.Set("kernelBenchCreate", Napi::Function::New(env, Create, "kernelBenchCreate"));
  exports.Set("kernelBenchRun", Napi::Function::New(env, Run, "kernelBenchRun"));
  exports.Set("kernelBenchDescribe", Napi::Function::New(env, Describe, "kernelBenchDescribe"));
  exports.Set("kernelBenchFree", Napi::Function::New(env, Free, "kernelBenchFree"));
}
