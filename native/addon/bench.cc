// bench.cc — the engine benchmark's native loop: load a model, process a
// prompt of N tokens in one call (matrix-matrix kernels), then decode M tokens
// one at a time with greedy choice (matrix-vector kernels), timing each phase.
// The prompt can be processed several times (promptRuns, a fresh context each)
// and every decoded token is timed, so callers see the run-to-run spread.
// No sampling or streaming overhead: this measures the engine itself. Also the
// machine's limits come from the profiler's probes (profiler.cc: machineLimits).
//
// Peak RSS is reported twice: for the whole run (load, prompt, decode) and for
// the decode phase alone, against the target for it (file size + KV
// cache + 64 MiB). The decode peak is the kernel's high-water mark (VmHWM)
// reset after the prompt: the context first drops its prompt-sized buffers
// (hy_llama_context_trim, what the first decode step would do before any
// work), then "5" written to /proc/self/clear_refs sets VmHWM to the RSS of
// that moment, and VmHWM after the last decoded token is the decode peak. The
// RSS right after the prompt, before the trim, is reported too. Where
// clear_refs cannot be written, the decode peak falls back to VmRSS sampled
// after every decoded token (a lower bound) and decodePeakRssMethod says so.
#include "addon.h"
#include "async_job.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "core/internal.h"
#include "profiler/read_probe.h"
#include "runtime/model.h"
}

namespace {

// A "Vm...:   123 kB" line of /proc/self/status in bytes; 0 when unreadable.
uint64_t ProcStatusBytes(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  size_t len = strlen(key);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, len) == 0 && line[len] == ':') {
      unsigned long long v = 0;
      if (sscanf(line + len + 1, "%llu", &v) == 1) kb = v;
      break;
    }
  fclose(f);
  return kb * 1024;
}

// Reset the process's RSS high-water mark (VmHWM) to its current RSS; false
// (with the reason in *why) when the kernel does not allow it.
bool ResetRssHighWater(std::string *why) {
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && write(fd, "5", 1) == 1;
  if (!ok) *why = std::string("clear_refs: ") + strerror(errno);
  if (fd >= 0) close(fd);
  return ok;
}

// Resident bytes of the mapping [base, base + size), and how many of them are
// mapped with 2 MiB entries (FilePmdMapped), from /proc/self/smaps. Decode
// reads every weight each token, and weights in 4 KiB pages cost it a TLB miss
// per page: a file the page cache holds in small folios (just written, or
// partly reclaimed and read back in pieces) decoded tinyllama 4-12% slower
// than one read back whole (docs/troubleshooting.md). False when smaps is
// unreadable or has no such mapping.
// Repacked weights (pool blocks) count the same way, from the areas that
// hold them (AnonHugePages): the copies sit together in the pool, in areas
// of their own once advised to use 2 MiB pages.
bool WeightPageSizes(const std::vector<std::pair<uintptr_t, uintptr_t>> &ranges, uint64_t *resident, uint64_t *huge) {
  FILE *f = fopen("/proc/self/smaps", "re");
  if (!f) return false;
  char line[512];
  bool inside = false, found = false;
  *resident = *huge = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char dash;
    if (sscanf(line, "%lx%c%lx ", &lo, &dash, &hi) == 3 && dash == '-') {  // a mapping's header line
      inside = false;  // the kernel may keep one mapping as several areas
      for (const auto &r : ranges) inside = inside || (lo < r.second && hi > r.first);
      found = found || inside;
      continue;
    }
    unsigned long long kb;
    if (!inside) continue;
    if (sscanf(line, "Rss: %llu kB", &kb) == 1) *resident += kb * 1024;
    else if (sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1) *huge += kb * 1024;
    else if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) *huge += kb * 1024;
  }
  fclose(f);
  return found;
}

// The share of the machine's CPU time the hypervisor gave to other guests
// ("steal" in /proc/stat, summed over the CPUs) between Start() and Share();
// -1 where /proc/stat is unreadable or no clock tick passed. On a virtual
// machine whose host is oversubscribed a vCPU is descheduled now and then,
// and a decode whose threads meet at a barrier every product waits for the
// descheduled one: 34% steal halved the tinyllama decode here while a
// bandwidth probe (best of a few short passes) read almost as fast as on a
// quiet host.
class StealMeter {
 public:
  void Start() { ok_ = Read(&steal_, &total_); }
  double Share() const {
    uint64_t steal = 0, total = 0;
    if (!ok_ || !Read(&steal, &total) || total <= total_) return -1;
    return (double)(steal - steal_) / (double)(total - total_);
  }

 private:
  static bool Read(uint64_t *steal, uint64_t *total) {
    FILE *f = fopen("/proc/stat", "re");
    if (!f) return false;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8) return false;
    *steal = v[7];
    *total = 0;
    for (unsigned long long x : v) *total += x;
    return true;
  }
  bool ok_ = false;
  uint64_t steal_ = 0, total_ = 0;
};

// The longest stretch of memory that holds nothing but layer weights (the
// layers' tensors merged where only alignment padding separates them, in the
// mapping, or the page rounding of pool blocks when they are repacked):
// every byte of it is read by each decoded token, so it is resident after a
// decode, unlike the token embeddings, of which a token reads one row.
void LayerWeightsSpan(const hy_llama_weights &w, const uint8_t **begin, size_t *bytes) {
  std::vector<std::pair<const uint8_t *, const uint8_t *>> parts;
  for (uint32_t l = 0; l < w.n_layer; l++)
    for (int t = 0; t < HY_L_COUNT; t++)
      if (const hy_tensor *x = w.layers[l].t[t]) {
        const uint8_t *d = static_cast<const uint8_t *>(x->data);
        parts.emplace_back(d, d + x->n_bytes);
      }
  std::sort(parts.begin(), parts.end());
  *begin = nullptr;
  *bytes = 0;
  for (size_t i = 0; i < parts.size();) {
    const uint8_t *from = parts[i].first, *to = parts[i].second;
    for (i++; i < parts.size() && parts[i].first <= to + 4096; i++) to = std::max(to, parts[i].second);
    if ((size_t)(to - from) > *bytes) *begin = from, *bytes = (size_t)(to - from);
  }
}

class BenchJob : public AsyncJob {
 public:
  BenchJob(std::string path, int threads, uint32_t prompt, uint32_t gen, uint32_t batch, uint32_t prompt_runs,
           bool repack)
      : path_(std::move(path)), threads_(threads), prompt_(prompt), gen_(gen), batch_(batch),
        prompt_runs_(prompt_runs < 1 ? 1 : prompt_runs), repack_(repack) {}
  ~BenchJob() override {
    if (ctx_) hy_llama_context_free(ctx_);
    if (model_) hy_model_dispose(model_);
  }
  hyperion_status Execute() override {
    hy_model_params mp{};
    mp.threads = threads_;
    mp.batch_size = batch_;
    mp.repack_weights = repack_ ? 1 : 0;
    uint64_t t0 = hy_clock_monotonic_ns();
    hyperion_status s = hy_model_load(path_.c_str(), &mp, &model_);
    if (s) return s;
    load_ms_ = (double)(hy_clock_monotonic_ns() - t0) / 1e6;
    const hy_llama_hparams &hp = model_->llama->hp;
    hy_llama_context_params cp{prompt_ + gen_, batch_ ? batch_ : 512, 0, (uint32_t)hy_threadpool_size(model_->pool)};
    if ((s = hy_llama_context_create(model_->llama, &cp, &ctx_))) return s;
    std::vector<int32_t> tokens(prompt_);
    for (uint32_t i = 0; i < prompt_; i++) tokens[i] = (int32_t)((i * 7919u + 1u) % hp.n_vocab);
    std::vector<float> logits(hp.n_vocab);
    // the prompt is processed prompt_runs_ times, each in a fresh context, so
    // the run-to-run spread is measured; the last context goes on decoding
    for (uint32_t run = 0; run < prompt_runs_; run++) {
      if (run > 0) {
        hy_llama_context_free(ctx_);
        ctx_ = nullptr;
        if ((s = hy_llama_context_create(model_->llama, &cp, &ctx_))) return s;
      }
      StealMeter steal;
      steal.Start();
      t0 = hy_clock_monotonic_ns();
      if ((s = hy_llama_decode(ctx_, model_->pool, tokens.data(), prompt_, logits.data(), 0, nullptr))) return s;
      prompt_runs_ms_.push_back((double)(hy_clock_monotonic_ns() - t0) / 1e6);
      prompt_steal_ = steal.Share();
    }
    prompt_ms_ = prompt_runs_ms_.empty() ? 0 : prompt_runs_ms_.back();
    // peak RSS: the whole run so far, then from here on for the decode alone
    uint64_t prompt_hwm = ProcStatusBytes("VmHWM");
    post_prompt_rss_ = (double)ProcStatusBytes("VmRSS");
    if ((s = hy_llama_context_trim(ctx_))) return s;
    std::string why;
    bool reset = ResetRssHighWater(&why);
    rss_method_ = reset ? "VmHWM reset by clear_refs after the prompt"
                        : "VmRSS sampled after each decoded token (lower bound; " + why + ")";
    uint64_t sampled = ProcStatusBytes("VmRSS");
    StealMeter steal;
    steal.Start();
    const uint64_t g0 = hy_clock_monotonic_ns();
    for (uint32_t i = 0; i < gen_; i++) {
      int32_t best = 0;
      for (uint32_t v = 1; v < hp.n_vocab; v++) if (logits[v] > logits[best]) best = (int32_t)v;
      t0 = hy_clock_monotonic_ns();
      if ((s = hy_llama_decode(ctx_, model_->pool, &best, 1, logits.data(), 0, nullptr))) return s;
      token_ms_.push_back((double)(hy_clock_monotonic_ns() - t0) / 1e6);
      if (!reset) {
        uint64_t now = ProcStatusBytes("VmRSS");
        if (now > sampled) sampled = now;
      }
    }
    gen_ms_ = (double)(hy_clock_monotonic_ns() - g0) / 1e6;
    decode_steal_ = steal.Share();
    uint64_t resident = 0, huge = 0;
    std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
    const uintptr_t map = (uintptr_t)hy_gguf_bytes(model_->llama->gguf);
    ranges.emplace_back(map, map + hy_gguf_file_size(model_->llama->gguf));
    for (uint32_t i = 0; i < model_->llama->n_repacked; i++) {
      const hy_tensor &t = model_->llama->repacked[i];
      ranges.emplace_back((uintptr_t)t.data, (uintptr_t)t.data + t.n_bytes);
    }
    if (WeightPageSizes(ranges, &resident, &huge)) {
      weights_resident_ = (double)resident;
      weights_huge_ = (double)huge;
    }
    // how fast the memory under the weights streams, read the way the machine
    // probe reads fresh memory: a VM's page cache can sit on slower memory
    const uint8_t *span = nullptr;
    size_t span_bytes = 0;
    LayerWeightsSpan(model_->llama->w, &span, &span_bytes);
    weights_read_gbps_ = hy_roofline_read_bandwidth(span, span_bytes, hy_threadpool_size(model_->pool), 4);
    uint64_t decode_peak = reset ? ProcStatusBytes("VmHWM") : sampled;
    decode_peak_rss_ = (double)decode_peak;
    peak_rss_ = (double)(prompt_hwm > decode_peak ? prompt_hwm : decode_peak);
    // bytes of weights one decoded token reads: every matrix once, one embedding row
    const hy_llama_weights &w = model_->llama->w;
    weight_bytes_per_token_ = (double)w.output->n_bytes + (double)w.token_embd->row_bytes + (double)w.output_norm->n_bytes;
    for (uint32_t l = 0; l < w.n_layer; l++)
      for (int t = 0; t < HY_L_COUNT; t++)
        if (w.layers[l].t[t]) weight_bytes_per_token_ += (double)w.layers[l].t[t]->n_bytes;
    // cache bytes one decoded token's attention reads: the K and V rows of every
    // position so far, in every layer; decode step i sees prompt + i + 1 positions,
    // so the mean over the run is at prompt + (gen + 1) / 2 positions
    kv_read_bytes_per_token_ =
        gen_ ? (double)hy_llama_kv_bytes(&hp, 1, HY_KV_CACHE_F16) * ((double)prompt_ + (gen_ + 1) / 2.0) : 0.0;
    kv_bytes_ = (double)hy_llama_kv_bytes(&hp, prompt_ + gen_, HY_KV_CACHE_F16);
    file_bytes_ = (double)hy_gguf_file_size(model_->llama->gguf);
    decode_rss_target_ = file_bytes_ + kv_bytes_ + 64.0 * 1024 * 1024;
    return HYPERION_OK;
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("loadMs", load_ms_);
    o.Set("repackedBytes", (double)model_->llama->repacked_bytes);
    o.Set("promptTokens", prompt_);
    o.Set("promptMs", prompt_ms_);
    o.Set("genTokens", gen_);
    o.Set("genMs", gen_ms_);
    o.Set("weightBytesPerToken", weight_bytes_per_token_);
    o.Set("kvReadBytesPerToken", kv_read_bytes_per_token_);
    o.Set("kvBytes", kv_bytes_);
    o.Set("fileBytes", file_bytes_);
    o.Set("threads", hy_threadpool_size(model_->pool));
    auto list = [&](const std::vector<double> &v) {
      Napi::Array a = Napi::Array::New(env, v.size());
      for (size_t i = 0; i < v.size(); i++) a.Set((uint32_t)i, v[i]);
      return a;
    };
    o.Set("promptRunsMs", list(prompt_runs_ms_));
    o.Set("tokenMs", list(token_ms_));
    if (peak_rss_ > 0) o.Set("peakRssBytes", peak_rss_);  // 0: /proc unreadable; the caller falls back
    o.Set("postPromptRssBytes", post_prompt_rss_);
    o.Set("decodePeakRssBytes", decode_peak_rss_);
    o.Set("decodePeakRssMethod", rss_method_);
    o.Set("decodeRssTargetBytes", decode_rss_target_);
    o.Set("decodeRssTargetHolds", decode_peak_rss_ > 0 && decode_peak_rss_ <= decode_rss_target_);
    if (weights_read_gbps_ > 0) o.Set("weightsReadGbps", weights_read_gbps_);
    if (prompt_steal_ >= 0) o.Set("promptStealShare", prompt_steal_);  // absent where /proc/stat is unreadable
    if (decode_steal_ >= 0) o.Set("decodeStealShare", decode_steal_);
    if (weights_resident_ > 0) {  // absent where /proc/self/smaps is unreadable
      o.Set("weightsResidentBytes", weights_resident_);
      o.Set("weightsHugePageBytes", weights_huge_);
    }
    return o;
  }

 private:
  std::string path_;
  int threads_;
  uint32_t prompt_, gen_, batch_, prompt_runs_;
  bool repack_;
  std::vector<double> prompt_runs_ms_, token_ms_;  // per prompt run, per decoded token
  hy_model *model_ = nullptr;
  hy_llama_context *ctx_ = nullptr;
  double load_ms_ = 0, prompt_ms_ = 0, gen_ms_ = 0, weight_bytes_per_token_ = 0, kv_read_bytes_per_token_ = 0, kv_bytes_ = 0, file_bytes_ = 0;
  double peak_rss_ = 0, post_prompt_rss_ = 0, decode_peak_rss_ = 0, decode_rss_target_ = 0;
  double weights_resident_ = 0, weights_huge_ = 0;  // the model mapping after the decode, and its 2 MiB-mapped part
  double weights_read_gbps_ = 0;  // streaming read rate of the layer weights' memory after the decode
  double prompt_steal_ = -1, decode_steal_ = -1;  // share of CPU time stolen by the host (last prompt run, decode)
  std::string rss_method_;
};

Napi::Value BenchEngine(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  auto num = [&](const char *k, uint32_t d) { return o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().Uint32Value() : d; };
  return StartAsyncJob(env, std::make_unique<BenchJob>(info[0].As<Napi::String>().Utf8Value(), (int)num("threads", 0),
                                                       num("promptTokens", 512), num("genTokens", 128), num("batchSize", 512),
                                                       num("promptRuns", 1),
                                                       !o.Get("repackWeights").IsBoolean() ||
                                                           o.Get("repackWeights").As<Napi::Boolean>().Value()),
                       "hyperion-bench");
}

}  // namespace

void RegisterBench(Napi::Env env, Napi::Object exports) {
  exports.Set("benchEngine", Napi::Function::New(env, BenchEngine, "benchEngine"));
  RegisterKernelBench(env, exports);
}
