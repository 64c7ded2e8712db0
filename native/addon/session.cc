// session.cc — NativeSession and NativeRequest for JS.
//
// Each session owns one native thread (not libuv's pool) that runs its jobs
// in order: generation requests and resets. A request hands its pieces to JS
// through a bounded queue: the generating thread waits when the queue is full
// (JS is not consuming), so nothing is buffered without bound. When the queue
// goes from "JS has seen everything" to "there is something new", one call
// through the request's thread-safe function tells JS, which then takes
// everything queued in one go (NativeRequest.take).
//
// Stopping: the request's atomic flag is set from the main thread (abort:
// AbortSignal, dispose) or from the runtime's timer thread (timeoutMs); the
// generating thread notices it between turns, while waiting for a turn or for
// queue room, and inside forward passes between work chunks.
#include "addon.h"
#include "addon_objects.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include "core/internal.h"
#include "hyperion_profiler.h"
#include "runtime/deadline.h"
#include "runtime/generate.h"
}

namespace {

constexpr size_t kQueueCapacity = 32;  // pieces waiting for JS at most

struct Candidate {
  int32_t token;
  std::string text;
  float logprob;
  float sampling_probability;
};

struct Piece {
  uint32_t index;
  int32_t token;
  std::string text;
  float logprob;
  std::vector<Candidate> candidates;
};

// Whether a thread-safe function still exists. Node finalizes and frees one
// when its environment is torn down (a worker terminated) even while a thread
// still holds it (see async_job.cc), so the generating thread calls or
// releases it only under this lock and only before the finalizer has run.
struct TsfnLife {
  std::mutex lock;
  bool gone = false;      // the finalizer ran
  bool released = false;  // this side let go (Release, or a call answered napi_closing)
};

// Call (when call) and then, when release, let go of tsfn, unless it is gone
// or already let go. napi_closing also counts as let go (the function is
// being torn down: no further calls, no Release). Returns whether the call
// went through (true when none was asked).
bool CallGuarded(Napi::ThreadSafeFunction &tsfn, TsfnLife &life, bool call, bool release) {
  std::lock_guard<std::mutex> hold(life.lock);
  if (life.gone || life.released) return !call;
  if (call && tsfn.NonBlockingCall() != napi_ok) {
    life.released = true;
    return false;
  }
  if (release) {
    tsfn.Release();
    life.released = true;
  }
  return true;
}

struct Request {
  // Set on the main thread before the job is queued; read-only afterwards.
  std::vector<int32_t> prompt;  // a prompt given as ids
  std::string prompt_text;      // a text prompt: tokenized on the generating thread
  bool has_text = false;
  hy_generate_params params{};
  std::vector<std::string> stops;
  std::vector<const char *> stop_ptrs;
  std::vector<size_t> stop_lens;
  std::vector<hy_logit_bias> bias;
  bool logprobs = false;
  const hy_tokenizer *tok = nullptr;
  uint64_t start_ns = 0;
  Napi::ThreadSafeFunction tsfn;
  bool tsfn_alive = true;  // main thread only: cleared by the tsfn's finalizer
  std::shared_ptr<TsfnLife> tsfn_life = std::make_shared<TsfnLife>();  // the generating thread's view
  hy_deadline deadline{};
  bool has_deadline = false;

  atomic_int flag{0};  // 0, or the status that stops the request

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Piece> queue;
  bool notify_pending = false;  // a call to JS is on its way and JS has not taken since
  bool finished = false;
  hyperion_status status = HYPERION_OK;
  hyperion_error error{};
  hy_generate_stats stats{};
  char *profile_json = nullptr;  // with profile: the summary, until take() hands it to JS

  ~Request() { hyperionFree(profile_json); }

  void Abort(int code) {
    int expected = 0;
    flag.compare_exchange_strong(expected, code);
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  }
};

// Called on the generating thread for every piece.
hyperion_status Emit(void *user, const hy_generate_piece *p) {
  Request *r = static_cast<Request *>(user);
  Piece piece{p->index, p->token, std::string(p->text, p->len), p->logprob, {}};
  for (uint32_t i = 0; i < p->n_candidates; i++) {
    const hy_sample_candidate &c = p->candidates[i];
    char buf[256];
    size_t len = 0;
    std::string text;
    if (hy_tokenizer_token_to_piece(r->tok, c.token, HY_DETOK_RENDER_SPECIAL, buf, sizeof buf, &len) == HYPERION_OK)
      text.assign(buf, len);
    piece.candidates.push_back({c.token, std::move(text), c.logprob, c.probability});
  }
  bool call;
  {
    std::unique_lock<std::mutex> lock(r->mu);
    while (r->queue.size() >= kQueueCapacity) {
      if (r->flag.load()) return HY_RAISE(HYPERION_ABORTED, nullptr, "aborted while waiting for the consumer");
      // the timer thread sets the flag without a notify: look again soon
      r->cv.wait_for(lock, std::chrono::milliseconds(5));
    }
    r->queue.push_back(std::move(piece));
    call = !r->notify_pending;
    r->notify_pending = true;
  }
  if (call && !CallGuarded(r->tsfn, *r->tsfn_life, true, false)) {  // the environment is closing
    r->Abort(HYPERION_DISPOSED);
    return HY_RAISE(HYPERION_ABORTED, nullptr, "JavaScript is gone");
  }
  return HYPERION_OK;
}

void Finish(Request *r, hyperion_status s, const hy_generate_stats &stats) {
  if (r->has_deadline) hy_deadline_disarm(&r->deadline);
  bool call;
  {
    std::lock_guard<std::mutex> lock(r->mu);
    r->status = s;
    if (s != HYPERION_OK) r->error = *hyperionGetLastError();
    r->stats = stats;
    r->stats.profile_json = nullptr;
    r->profile_json = stats.profile_json;  // the request owns it now
    r->finished = true;
    call = !r->notify_pending;
    r->notify_pending = true;
  }
  CallGuarded(r->tsfn, *r->tsfn_life, call, true);
}

struct Job {
  enum Kind { kGenerate, kReset } kind;
  std::shared_ptr<Request> request;
};

struct SessionCore {
  hy_session *session = nullptr;  // touched by the worker thread only (after creation)
  uint32_t n_ctx = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;
  std::shared_ptr<Request> current;
  bool closing = false;
  Napi::ThreadSafeFunction closed;  // resolves dispose()'s promise; may be empty
  std::shared_ptr<TsfnLife> closed_life = std::make_shared<TsfnLife>();
  bool has_closed = false;
  std::atomic<uint32_t> cached{0};  // tokens in the cache, for JS
};

// A text prompt becomes ids here, on the generating thread, so a long prompt
// never holds the main thread: parsed for special tokens (a chat template's
// markers become their tokens), with the vocabulary's BOS first when it asks
// for one and the text does not start with it.
// The ids go to a pool block (tag tokenizer): a failed allocation is a typed
// error and the session's memory limits see it. *ids is the caller's to free.
hyperion_status TokenizePrompt(Request *r, int32_t **ids, size_t *n_ids) {
  *ids = nullptr;
  *n_ids = 0;
  hy_tokenize_options o;
  hy_tokenize_options_init(&o);
  o.add_bos = 0;
  o.parse_special = 1;
  size_t cap = hy_tokenizer_max_tokens(r->prompt_text.size());
  if (cap == SIZE_MAX || cap > ((size_t)1 << 31)) {
    hy_field fields[] = {HY_TXT("field", "prompt")};
    return hy_error_raise(HYPERION_INVALID_ARGUMENT, __FILE__, __LINE__, "split the prompt", fields, 1,
                          "the prompt (%zu bytes) is too long to tokenize", r->prompt_text.size());
  }
  int32_t *buf = static_cast<int32_t *>(hyperionAlloc((cap + 1) * sizeof(int32_t), HYPERION_TAG_TOKENIZER));
  if (!buf) return hyperionGetLastError()->code;
  size_t n = 0;
  hyperion_status st = TokenizeInZone(r->tok, r->prompt_text.data(), r->prompt_text.size(), &o, buf + 1, cap, &n);
  if (st != HYPERION_OK) {
    hyperionFree(buf);
    return st;
  }
  // BOS in front when the vocabulary wants one and the text did not start with it
  const int32_t bos = hy_tokenizer_bos(r->tok);
  const bool add_bos = bos >= 0 && hy_tokenizer_add_bos_default(r->tok) != 0 && (n == 0 || buf[1] != bos);
  if (add_bos) {
    buf[0] = bos;
    n++;
  } else {
    std::memmove(buf, buf + 1, n * sizeof(int32_t));
  }
  *ids = buf;
  *n_ids = n;
  return HYPERION_OK;
}

void WorkerMain(std::shared_ptr<SessionCore> core) {
  pthread_setname_np(pthread_self(), "hyperion-gen");
  hyperionProfilerSetThreadName("hyperion-gen");  // the name traces show
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(core->mu);
      core->cv.wait(lock, [&] { return core->closing || !core->jobs.empty(); });
      if (core->jobs.empty()) break;  // closing, nothing left
      job = std::move(core->jobs.front());
      core->jobs.pop_front();
      core->current = job.request;
    }
    if (job.kind == Job::kReset) {
      if (!core->closing) hy_session_reset(core->session);
      core->cached = hy_session_n_tokens(core->session);
      continue;
    }
    Request *r = job.request.get();
    hyperionClearLastError();
    hy_generate_stats stats{};
    stats.start_ns = r->start_ns;
    hyperion_status s;
    if (core->closing) {
      s = HY_RAISE(HYPERION_DISPOSED, "create a new session", "the session was disposed before the request started");
    } else if (!r->has_text) {
      s = hy_generate(core->session, r->prompt.data(), (uint32_t)r->prompt.size(), &r->params, &r->flag, Emit, r,
                      &stats);
    } else {
      int32_t *ids = nullptr;
      size_t n_ids = 0;
      if ((s = TokenizePrompt(r, &ids, &n_ids)) == HYPERION_OK)   // at most 2^31 + 1 ids
        s = hy_generate(core->session, ids, (uint32_t)n_ids, &r->params, &r->flag, Emit, r, &stats);
      hyperionFree(ids);
    }
    core->cached = hy_session_n_tokens(core->session);
    {
      std::lock_guard<std::mutex> lock(core->mu);
      core->current.reset();
    }
    Finish(r, s, stats);
  }
  hy_session_free(core->session);
  core->session = nullptr;
  core->cached = 0;
  if (core->has_closed) CallGuarded(core->closed, *core->closed_life, true, true);
}

}  // namespace

// ---- NativeRequest -------------------------------------------------------------

class RequestHandle : public Napi::ObjectWrap<RequestHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  RequestHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RequestHandle>(info) {}
  ~RequestHandle() override {
    // dropped by JS while running: stop it, so its thread does not wait for
    // a consumer that is gone
    if (!request_) return;
    bool finished;
    {
      std::lock_guard<std::mutex> lock(request_->mu);
      finished = request_->finished;
    }
    if (!finished) request_->Abort(HYPERION_DISPOSED);
  }
  void Adopt(std::shared_ptr<Request> r) { request_ = std::move(r); }

 private:
  Napi::Value Take(const Napi::CallbackInfo &info);
  Napi::Value Abort(const Napi::CallbackInfo &info);
  Napi::Value Queued(const Napi::CallbackInfo &info);
  Napi::Value SetRef(const Napi::CallbackInfo &info);
  std::shared_ptr<Request> request_;
};

static double Ms(uint64_t from, uint64_t to) { return from && to >= from ? (double)(to - from) / 1e6 : 0; }

static Napi::Object StatsObject(Napi::Env env, const hy_generate_stats &s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("promptTokens", s.prompt_tokens);
  o.Set("cachedTokens", s.reused_tokens);
  o.Set("processedTokens", s.processed_tokens);
  o.Set("generatedTokens", s.generated_tokens);
  o.Set("timeToFirstTokenMs", s.first_token_ns ? Napi::Number::New(env, Ms(s.start_ns, s.first_token_ns)) : env.Null());
  double prompt_ms = Ms(s.run_ns, s.prompt_done_ns), decode_ms = Ms(s.prompt_done_ns, s.end_ns);
  o.Set("queueMs", Ms(s.start_ns, s.run_ns));
  o.Set("promptMs", prompt_ms);
  o.Set("decodeMs", decode_ms);
  o.Set("promptTokensPerSecond", prompt_ms > 0 ? s.processed_tokens / (prompt_ms / 1e3) : 0);
  o.Set("decodeTokensPerSecond", decode_ms > 0 ? s.generated_tokens / (decode_ms / 1e3) : 0);
  o.Set("totalMs", Ms(s.start_ns, s.end_ns));
  return o;
}

// The capture's summary as a JS object; the text itself if it does not parse
// (it always should: the profiler wrote it).
static Napi::Value ParseJson(Napi::Env env, const char *json) {
  Napi::String text = Napi::String::New(env, json);
  Napi::Value parse = env.Global().Get("JSON").As<Napi::Object>().Get("parse");
  Napi::Value value = parse.As<Napi::Function>().Call({text});
  if (env.IsExceptionPending()) {
    env.GetAndClearPendingException();
    return text;
  }
  return value.IsEmpty() ? Napi::Value(text) : value;
}

// take() → { pieces: [{index, token, text, logprob?, candidates?}], finished, stopReason?, stats?, error?, profile? }
Napi::Value RequestHandle::Take(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  if (!request_) return ThrowInvalidArgument(env, "request", "not a request made by session.generate");
  Request *r = request_.get();
  std::deque<Piece> pieces;
  bool finished;
  char *profile_json = nullptr;
  {
    std::lock_guard<std::mutex> lock(r->mu);
    pieces.swap(r->queue);
    finished = r->finished;
    if (finished) std::swap(profile_json, r->profile_json);
    r->notify_pending = false;
    r->cv.notify_all();  // room again
  }
  Napi::Array list = Napi::Array::New(env, pieces.size());
  uint32_t i = 0;
  for (Piece &p : pieces) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", p.index);
    o.Set("token", p.token);
    o.Set("text", Napi::String::New(env, p.text));
    if (r->logprobs || !p.candidates.empty()) o.Set("logprob", p.logprob);
    if (!p.candidates.empty()) {
      Napi::Array cands = Napi::Array::New(env, p.candidates.size());
      uint32_t k = 0;
      for (const Candidate &c : p.candidates) {
        Napi::Object co = Napi::Object::New(env);
        co.Set("token", c.token);
        co.Set("text", Napi::String::New(env, c.text));
        co.Set("probability", std::exp((double)c.logprob));
        co.Set("logprob", c.logprob);
        co.Set("samplingProbability", c.sampling_probability);
        cands.Set(k++, co);
      }
      o.Set("candidates", cands);
    }
    list.Set(i++, o);
  }
  out.Set("pieces", list);
  out.Set("finished", Napi::Boolean::New(env, finished));
  if (finished) {
    out.Set("stats", StatsObject(env, r->stats));
    if (r->status == HYPERION_OK) out.Set("stopReason", hy_stop_reason_name(r->stats.stop_reason));
    else out.Set("error", MakeHyperionError(env, r->error));
    if (profile_json) {
      out.Set("profile", ParseJson(env, profile_json));
      hyperionFree(profile_json);
    }
  }
  return out;
}

// abort(code): HYPERION_ABORTED (8) unless a code is given.
Napi::Value RequestHandle::Abort(const Napi::CallbackInfo &info) {
  int code = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : HYPERION_ABORTED;
  if (code != HYPERION_ABORTED && code != HYPERION_TIMEOUT && code != HYPERION_DISPOSED) code = HYPERION_ABORTED;
  if (request_) request_->Abort(code);
  return info.Env().Undefined();
}

// queued() → pieces waiting for JS (at most the queue's capacity); for tests
Napi::Value RequestHandle::Queued(const Napi::CallbackInfo &info) {
  if (!request_) return Napi::Number::New(info.Env(), 0);
  std::lock_guard<std::mutex> lock(request_->mu);
  return Napi::Number::New(info.Env(), (double)request_->queue.size());
}

// setRef(on): keep the event loop alive (while JS awaits a piece) or not
Napi::Value RequestHandle::SetRef(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (request_ && request_->tsfn_alive) {
    if (info[0].ToBoolean()) request_->tsfn.Ref(env);
    else request_->tsfn.Unref(env);
  }
  return env.Undefined();
}

Napi::Function RequestHandle::Define(Napi::Env env) {
  return DefineClass(env, "NativeRequest",
                     {InstanceMethod("take", &RequestHandle::Take), InstanceMethod("abort", &RequestHandle::Abort),
                      InstanceMethod("queued", &RequestHandle::Queued), InstanceMethod("setRef", &RequestHandle::SetRef)});
}

// ---- NativeSession -------------------------------------------------------------

class SessionHandle : public Napi::ObjectWrap<SessionHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  SessionHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<SessionHandle>(info) {}
  ~SessionHandle() override {
    // collected (or the environment is going away) without dispose(): stop and
    // wait for the thread, which stops within milliseconds once aborted
    if (!core_) return;
    Close();
    if (thread_.joinable()) thread_.join();
  }
  hyperion_status Start(hy_model *model, uint32_t context_size, const hy_resource_limits *limits);

 private:
  Napi::Value Generate(const Napi::CallbackInfo &info);
  Napi::Value SetLimits(const Napi::CallbackInfo &info);
  Napi::Value GetLimits(const Napi::CallbackInfo &info);
  Napi::Value Reset(const Napi::CallbackInfo &info);
  Napi::Value Dispose(const Napi::CallbackInfo &info);
  Napi::Value Info(const Napi::CallbackInfo &info);
  void Close();
  std::shared_ptr<SessionCore> core_;
  std::thread thread_;
  const hy_tokenizer *tok_ = nullptr;
  uint32_t n_vocab_ = 0;
};

hyperion_status SessionHandle::Start(hy_model *model, uint32_t context_size, const hy_resource_limits *limits) {
  auto core = std::make_shared<SessionCore>();
  hyperion_status s = hy_session_create_limited(model, context_size, limits, &core->session);
  if (s != HYPERION_OK) return s;
  core->n_ctx = core->session->n_ctx;
  tok_ = model->vocab ? model->vocab->tok : nullptr;  // the session's model reference keeps it alive
  n_vocab_ = model->llama->hp.n_vocab;
  try {
    thread_ = std::thread(WorkerMain, core);
  } catch (const std::exception &) {
    hy_session_free(core->session);
    return HY_RAISE(HYPERION_INTERNAL, "the system refused a thread; dispose sessions you no longer use",
                    "cannot start the session's generation thread");
  }
  core_ = std::move(core);
  return HYPERION_OK;
}

void SessionHandle::Close() {
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->closing = true;
    for (Job &job : core_->jobs)
      if (job.request) job.request->Abort(HYPERION_DISPOSED);
    if (core_->current) core_->current->Abort(HYPERION_DISPOSED);
  }
  core_->cv.notify_all();
}

static Napi::Value Disposed(Napi::Env env) {
  hy_error_raise(HYPERION_DISPOSED, __FILE__, __LINE__, "create a new session", nullptr, 0, "the session has been disposed");
  return ThrowLastError(env);
}

static double NumberOr(Napi::Object o, const char *key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

// generate(prompt: Int32Array | string, packed: PackedGenerationOptions, onReady: () => void) → NativeRequest
// A string prompt is tokenized on the generating thread (TokenizePrompt).
Napi::Value SessionHandle::Generate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!core_) return Disposed(env);
  const bool text_prompt = info[0].IsString();
  if (text_prompt && !tok_) return ThrowInvalidArgument(env, "prompt", "this model has no vocabulary: pass token ids");
  if (!text_prompt &&
      (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array))
    return ThrowInvalidArgument(env, "prompt", "prompt must be an Int32Array or a string");
  if (!info[1].IsObject()) return ThrowInvalidArgument(env, "options", "options must be an object");
  if (!info[2].IsFunction()) return ThrowInvalidArgument(env, "onReady", "onReady must be a function");
  Napi::Object o = info[1].As<Napi::Object>();

  auto r = std::make_shared<Request>();
  r->start_ns = hy_clock_monotonic_ns();
  if (text_prompt) {
    r->prompt_text = info[0].As<Napi::String>().Utf8Value();
    r->has_text = true;
  } else {
    Napi::Int32Array prompt = info[0].As<Napi::Int32Array>();
    r->prompt.assign(prompt.Data(), prompt.Data() + prompt.ElementLength());
  }
  r->tok = tok_;
  hy_sampler_options &so = r->params.sampler;
  hy_sampler_options_init(&so);
  so.temperature = (float)NumberOr(o, "temperature", so.temperature);
  so.top_k = (int32_t)NumberOr(o, "topK", so.top_k);
  so.top_p = (float)NumberOr(o, "topP", so.top_p);
  so.min_p = (float)NumberOr(o, "minP", so.min_p);
  so.repeat_penalty = (float)NumberOr(o, "repeatPenalty", so.repeat_penalty);
  so.frequency_penalty = (float)NumberOr(o, "frequencyPenalty", 0);
  so.presence_penalty = (float)NumberOr(o, "presencePenalty", 0);
  double last_n = NumberOr(o, "repeatLastN", 64);
  so.repeat_last_n = last_n < 0 ? (int32_t)core_->n_ctx : (int32_t)std::min(last_n, (double)HY_SAMPLER_MAX_LAST_N);
  so.seed = (uint64_t)NumberOr(o, "seed", 0);
  so.n_candidates = (int32_t)NumberOr(o, "debugTopN", 0);
  r->logprobs = o.Get("logprobs").ToBoolean();
  so.logprobs = r->logprobs ? 1 : 0;
  Napi::Value bias = o.Get("logitBias");
  if (bias.IsArray()) {
    Napi::Array list = bias.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value e = list.Get(i);
      if (!e.IsArray()) return ThrowInvalidArgument(env, "logitBias", "logitBias entries must be [token, bias]");
      Napi::Array pair = e.As<Napi::Array>();
      r->bias.push_back({pair.Get(0u).As<Napi::Number>().Int32Value(), pair.Get(1u).As<Napi::Number>().FloatValue()});
    }
  }
  so.logit_bias = r->bias.empty() ? nullptr : r->bias.data();
  so.n_logit_bias = r->bias.size();
  if (hy_sampler_options_validate(&so, n_vocab_) != HYPERION_OK) return ThrowLastError(env);
  Napi::Value stops = o.Get("stop");
  if (stops.IsArray()) {
    Napi::Array list = stops.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) r->stops.push_back(list.Get(i).ToString().Utf8Value());
    for (const std::string &s : r->stops) {
      r->stop_ptrs.push_back(s.c_str());
      r->stop_lens.push_back(s.size());
    }
  }
  r->params.stops = r->stop_ptrs.empty() ? nullptr : r->stop_ptrs.data();
  r->params.stop_lens = r->stop_lens.empty() ? nullptr : r->stop_lens.data();
  r->params.n_stops = r->stops.size();
  // The session's limits (narrowed by the model's) are each request's
  // defaults and caps: a request may ask for less, never more. The session
  // object stays alive while core_ is set (its thread frees it after close).
  hy_resource_limits limits;
  hy_session_get_limits(core_->session, &limits);
  r->params.max_tokens = (uint32_t)NumberOr(o, "maxTokens", 256);
  if (limits.max_tokens && (!o.Get("maxTokensSet").ToBoolean() || r->params.max_tokens > limits.max_tokens))
    r->params.max_tokens = limits.max_tokens;
  Napi::Value eos = o.Get("stopAtEos");
  r->params.stop_at_eos = eos.IsBoolean() ? (eos.As<Napi::Boolean>() ? 1 : 0) : 1;
  double timeout_ms = NumberOr(o, "timeoutMs", 0);
  if (limits.timeout_ms && (timeout_ms <= 0 || timeout_ms > limits.timeout_ms)) timeout_ms = limits.timeout_ms;
  r->params.timeout_ms = (uint32_t)timeout_ms;
  r->params.profile = o.Get("profile").ToBoolean() ? 1 : 0;

  // The tsfn keeps the event loop alive only while JS awaits a piece
  // (NativeRequest.setRef): a stream nobody consumes must not keep the
  // process running. Its finalizer runs on the main thread after the last
  // call was delivered.
  std::shared_ptr<Request> keep = r;
  std::shared_ptr<TsfnLife> life = r->tsfn_life;
  r->tsfn = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "hyperion-gen", 0, 1,
                                          [keep, life](Napi::Env) {
                                            keep->tsfn_alive = false;
                                            std::lock_guard<std::mutex> hold(life->lock);
                                            life->gone = true;
                                          });
  r->tsfn.Unref(env);
  if (timeout_ms > 0) {
    if (hy_deadline_arm(&r->deadline, &r->flag, HYPERION_TIMEOUT, (uint64_t)(timeout_ms * 1e6)) != HYPERION_OK) {
      CallGuarded(r->tsfn, *r->tsfn_life, false, true);
      return ThrowLastError(env);
    }
    r->has_deadline = true;
  }
  if (o.Get("aborted").ToBoolean()) r->flag = HYPERION_ABORTED;  // a signal aborted before the call: never runs
  Napi::Object handle = GetAddonData(env)->request_ctor.New({});
  RequestHandle::Unwrap(handle)->Adopt(r);
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->jobs.push_back({Job::kGenerate, std::move(r)});
  }
  core_->cv.notify_all();
  return handle;
}

// reset(): queued behind the requests already made
Napi::Value SessionHandle::Reset(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!core_) return Disposed(env);
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->jobs.push_back({Job::kReset, nullptr});
  }
  core_->cv.notify_all();
  return env.Undefined();
}

// dispose() → Promise<void>, settled once the thread has stopped and the cache is freed
Napi::Value SessionHandle::Dispose(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
  if (!core_) {
    deferred->Resolve(env.Undefined());
    return deferred->Promise();
  }
  Napi::Function resolve = Napi::Function::New(env, [deferred](const Napi::CallbackInfo &cb) {
    deferred->Resolve(cb.Env().Undefined());
  });
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    std::shared_ptr<TsfnLife> life = core_->closed_life;
    core_->closed = Napi::ThreadSafeFunction::New(env, resolve, "hyperion-gen-close", 0, 1, [life](Napi::Env) {
      std::lock_guard<std::mutex> hold(life->lock);
      life->gone = true;
    });
    core_->has_closed = true;
  }
  Close();
  thread_.detach();  // it frees the session and settles the promise itself
  core_.reset();
  return deferred->Promise();
}

// setResourceLimits(packed): the session's own limits (they narrow the model's)
Napi::Value SessionHandle::SetLimits(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!core_) return Disposed(env);
  hy_resource_limits limits;
  if (!ReadLimits(env, info[0], &limits)) return env.Undefined();
  if (hy_session_set_limits(core_->session, &limits) != HYPERION_OK) return ThrowLastError(env);
  return env.Undefined();
}

// getResourceLimits(): the limits in force (the session's narrowed by the model's)
Napi::Value SessionHandle::GetLimits(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!core_) return Disposed(env);
  hy_resource_limits limits;
  hy_session_get_limits(core_->session, &limits);
  return LimitsObject(env, limits);
}

Napi::Value SessionHandle::Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("contextSize", core_ ? core_->n_ctx : 0);
  o.Set("cachedTokens", core_ ? core_->cached.load() : 0);
  o.Set("disposed", Napi::Boolean::New(env, !core_));
  return o;
}

Napi::Function SessionHandle::Define(Napi::Env env) {
  return DefineClass(env, "NativeSession",
                     {InstanceMethod("generate", &SessionHandle::Generate), InstanceMethod("reset", &SessionHandle::Reset),
                      InstanceMethod("dispose", &SessionHandle::Dispose), InstanceMethod("info", &SessionHandle::Info),
                      InstanceMethod("setResourceLimits", &SessionHandle::SetLimits),
                      InstanceMethod("getResourceLimits", &SessionHandle::GetLimits)});
}

Napi::Value NewSessionObject(Napi::Env env, hy_model *model, uint32_t context_size, const hy_resource_limits *limits) {
  Napi::Object obj = GetAddonData(env)->session_ctor.New({});
  if (SessionHandle::Unwrap(obj)->Start(model, context_size, limits) != HYPERION_OK) return ThrowLastError(env);
  return obj;
}

void RegisterSession(Napi::Env env, Napi::Object exports) {
  (void)exports;
  AddonData *data = GetAddonData(env);
  data->session_ctor = Napi::Persistent(SessionHandle::Define(env));
  data->request_ctor = Napi::Persistent(RequestHandle::Define(env));
}
