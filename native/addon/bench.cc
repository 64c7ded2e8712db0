// bench.cc — the engine benchmark's native loop: load a model, process a
// prompt of N tokens in one call (matrix-matrix kernels), then decode M tokens
// one at a time with greedy choice (matrix-vector kernels), timing each phase.
// The prompt can be processed several times (promptRuns, a fresh context each)
// and every decoded token is timed, so callers see the run-to-run spread.
// No sampling or streaming overhead: this measures the engine itself. Also the
// machine's limits come from the profiler's probes (profiler.cc: machineLimits).
#include "addon.h"
#include "async_job.h"

#include <string>
#include <vector>

extern "C" {
#include "core/internal.h"
#include "runtime/model.h"
}

namespace {

class BenchJob : public AsyncJob {
 public:
  BenchJob(std::string path, int threads, uint32_t prompt, uint32_t gen, uint32_t batch, uint32_t prompt_runs)
      : path_(std::move(path)), threads_(threads), prompt_(prompt), gen_(gen), batch_(batch),
        prompt_runs_(prompt_runs < 1 ? 1 : prompt_runs) {}
  ~BenchJob() override {
    if (ctx_) hy_llama_context_free(ctx_);
    if (model_) hy_model_dispose(model_);
  }
  hyperion_status Execute() override {
    hy_model_params mp{};
    mp.threads = threads_;
    mp.batch_size = batch_;
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
      t0 = hy_clock_monotonic_ns();
      if ((s = hy_llama_decode(ctx_, model_->pool, tokens.data(), prompt_, logits.data(), 0, nullptr))) return s;
      prompt_runs_ms_.push_back((double)(hy_clock_monotonic_ns() - t0) / 1e6);
    }
    prompt_ms_ = prompt_runs_ms_.empty() ? 0 : prompt_runs_ms_.back();
    const uint64_t g0 = hy_clock_monotonic_ns();
    for (uint32_t i = 0; i < gen_; i++) {
      int32_t best = 0;
      for (uint32_t v = 1; v < hp.n_vocab; v++) if (logits[v] > logits[best]) best = (int32_t)v;
      t0 = hy_clock_monotonic_ns();
      if ((s = hy_llama_decode(ctx_, model_->pool, &best, 1, logits.data(), 0, nullptr))) return s;
      token_ms_.push_back((double)(hy_clock_monotonic_ns() - t0) / 1e6);
    }
    gen_ms_ = (double)(hy_clock_monotonic_ns() - g0) / 1e6;
    // bytes of weights one decoded token reads: every matrix once, one embedding row
    const hy_llama_weights &w = model_->llama->w;
    weight_bytes_per_token_ = (double)w.output->n_bytes + (double)w.token_embd->row_bytes + (double)w.output_norm->n_bytes;
    for (uint32_t l = 0; l < w.n_layer; l++)
      for (int t = 0; t < HY_L_COUNT; t++)
        if (w.layers[l].t[t]) weight_bytes_per_token_ += (double)w.layers[l].t[t]->n_bytes;
    kv_bytes_ = (double)hy_llama_kv_bytes(&hp, prompt_ + gen_, HY_KV_CACHE_F16);
    file_bytes_ = (double)hy_gguf_file_size(model_->llama->gguf);
    return HYPERION_OK;
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("loadMs", load_ms_);
    o.Set("promptTokens", prompt_);
    o.Set("promptMs", prompt_ms_);
    o.Set("genTokens", gen_);
    o.Set("genMs", gen_ms_);
    o.Set("weightBytesPerToken", weight_bytes_per_token_);
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
    return o;
  }

 private:
  std::string path_;
  int threads_;
  uint32_t prompt_, gen_, batch_, prompt_runs_;
  std::vector<double> prompt_runs_ms_, token_ms_;  // per prompt run, per decoded token
  hy_model *model_ = nullptr;
  hy_llama_context *ctx_ = nullptr;
  double load_ms_ = 0, prompt_ms_ = 0, gen_ms_ = 0, weight_bytes_per_token_ = 0, kv_bytes_ = 0, file_bytes_ = 0;
};

Napi::Value BenchEngine(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ThrowInvalidArgument(env, "path", "path must be a string");
  Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  auto num = [&](const char *k, uint32_t d) { return o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().Uint32Value() : d; };
  return StartAsyncJob(env, std::make_unique<BenchJob>(info[0].As<Napi::String>().Utf8Value(), (int)num("threads", 0),
                                                       num("promptTokens", 512), num("genTokens", 128), num("batchSize", 512),
                                                       num("promptRuns", 1)),
                       "hyperion-bench");
}

}  // namespace

void RegisterBench(Napi::Env env, Napi::Object exports) {
  exports.Set("benchEngine", Napi::Function::New(env, BenchEngine, "benchEngine"));
  RegisterKernelBench(env, exports);
}
