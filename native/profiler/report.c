/*
 * report.c — the summary, hotspot and bottleneck reports (JSON) and the text
 * table, all read from one analysed profile.
 *
 * Units: times in milliseconds (exact to the nanosecond), rates in GB/s and
 * GFLOP/s (1e9), shares as fractions 0..1. Rates of an op are over its wall
 * time (the union of its calls on all threads), so they compare directly with
 * the machine limits measured with the same number of threads.
 */
#include "profiler/profiler_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static double ms(uint64_t ns) { return (double)ns / 1e6; }
static double ratio(double a, double b) { return b > 0 ? a / b : NAN; }

static hyperion_status analysis_or_error(hy_prof_profile *p, const hy_prof_analysis **a) {
    *a = hy_prof_analyze(p);
    if (!*a) {
        hyperion_status code = hyperionGetLastError()->code;
        return code != HYPERION_OK ? code : HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory to analyse the profile");
    }
    return HYPERION_OK;
}

static hyperion_status writer_status(hy_jw *w) {
    if (!w->failed) return HYPERION_OK;
    if (w->fd >= 0 && w->errno_saved != ENOMEM) return HYPERION_IO;   /* the caller raises with the path */
    return HY_RAISE(HYPERION_OUT_OF_MEMORY, NULL, "no memory for the profiler report");
}

/* ------------------------------------------------------------ pieces */

static void write_config(hy_jw *w, const hyperion_profiler_config *c) {
    hy_jw_key(w, "config");
    hy_jw_begin_object(w);
    hy_jw_kv_bool(w, "trackFunctions", c->track_functions);
    hy_jw_kv_bool(w, "trackMemory", c->track_memory);
    hy_jw_kv_bool(w, "trackCache", c->track_cache);
    hy_jw_kv_u64(w, "sampleIntervalMs", c->sample_interval_ms);
    hy_jw_kv_u64(w, "bufferEvents", c->buffer_events);
    hy_jw_end_object(w);
}

static void write_op(hy_jw *w, const hy_prof_op *op, uint64_t traced_ns) {
    hy_jw_begin_object(w);
    hy_jw_kv_string(w, "name", op->name);
    hy_jw_kv_string(w, "category", hyperionZoneCategoryName((hyperion_zone_category)op->category));
    hy_jw_kv_string(w, "type", op->type);
    hy_jw_kv_u64(w, "calls", op->calls);
    hy_jw_kv_ms(w, "totalMs", op->total_ns);
    hy_jw_kv_ms(w, "selfMs", op->self_ns);
    hy_jw_kv_double(w, "share", traced_ns ? (double)op->self_ns / (double)traced_ns : 0.0);
    hy_jw_kv_double(w, "meanMs", op->calls ? ms(op->total_ns) / (double)op->calls : 0.0);
    hy_jw_kv_ms(w, "p50Ms", op->p50_ns);
    hy_jw_kv_ms(w, "p95Ms", op->p95_ns);
    hy_jw_kv_ms(w, "p99Ms", op->p99_ns);
    hy_jw_kv_ms(w, "minMs", op->min_ns);
    hy_jw_kv_ms(w, "maxMs", op->max_ns);
    hy_jw_kv_ms(w, "wallMs", op->wall_ns);
    hy_jw_kv_u64(w, "flops", op->flops);
    hy_jw_kv_u64(w, "bytes", op->bytes);
    hy_jw_kv_double(w, "gflops", op->flops && op->wall_ns ? (double)op->flops / (double)op->wall_ns : NAN);
    hy_jw_kv_double(w, "gbps", op->bytes && op->wall_ns ? (double)op->bytes / (double)op->wall_ns : NAN);
    hy_jw_end_object(w);
}

static const char *const counter_keys[HY_CTR_COUNT] = { "cycles", "instructions", "cacheReferences", "cacheMisses",
                                                         "llcMisses" };

static void write_counters(hy_jw *w, const hy_prof_profile *p) {
    const hy_ctr_status *c = &p->counters;
    hy_jw_key(w, "counters");
    hy_jw_begin_object(w);
    hy_jw_kv_bool(w, "available", c->reason == HY_CTR_OK);
    hy_jw_kv_string(w, "reason", hy_ctr_reason_name(c->reason));
    hy_jw_kv_string(w, "detail", c->detail);
    if (c->paranoid == INT32_MIN) hy_jw_kv_null(w, "paranoid");
    else hy_jw_kv_i64(w, "paranoid", c->paranoid);
    hy_jw_kv_i64(w, "hwErrno", c->hw_errno);
    hy_jw_kv_i64(w, "swErrno", c->sw_errno);
    if (c->reason == HY_CTR_OK) {
        hy_jw_kv_string(w, "source", hy_ctr_using_software() ? "software-stand-ins" : "hardware");
        hy_jw_kv_i64(w, "threads", p->counter_threads);
        hy_jw_key(w, "phases");
        hy_jw_begin_array(w);
        for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++) {
            hy_jw_begin_object(w);
            hy_jw_kv_string(w, "phase", hyperionPhaseName((hyperion_phase)ph));
            for (int k = 0; k < HY_CTR_COUNT; k++) {
                if (p->counters_present & (1u << k)) hy_jw_kv_u64(w, counter_keys[k], p->phase_counters[ph][k]);
                else hy_jw_kv_double(w, counter_keys[k], NAN);
            }
            int both = (p->counters_present & 3u) == 3u;
            hy_jw_kv_double(w, "ipc", both ? ratio((double)p->phase_counters[ph][HY_CTR_INSTRUCTIONS],
                                                   (double)p->phase_counters[ph][HY_CTR_CYCLES]) : NAN);
            hy_jw_end_object(w);
        }
        hy_jw_end_array(w);
    }
    hy_jw_end_object(w);
}

/* ------------------------------------------------------------ summary */

hyperion_status hy_prof_write_summary(hy_prof_profile *p, hy_jw *w) {
    const hy_prof_analysis *a;
    hyperion_status st = analysis_or_error(p, &a);
    if (st != HYPERION_OK) return st;
    hy_jw_begin_object(w);
    hy_jw_kv_u64(w, "version", 1);
    hy_jw_kv_string(w, "kind", p->request ? "request" : "session");
    hy_jw_kv_u64(w, "request", p->request);
    hy_jw_kv_string(w, "clock", "CLOCK_MONOTONIC");
    hy_jw_kv_ms(w, "wallMs", a->wall_ns);
    hy_jw_kv_ms(w, "coveredMs", a->covered_ns);
    hy_jw_kv_ms(w, "tracedMs", a->traced_ns);
    hy_jw_kv_ms(w, "selfSumMs", a->self_sum_ns);
    hy_jw_kv_double(w, "unaccountedShare", a->wall_ns ? 1.0 - (double)a->covered_ns / (double)a->wall_ns : 0.0);
    hy_jw_kv_u64(w, "events", p->n_events);
    hy_jw_kv_u64(w, "droppedEvents", p->dropped);
    hy_jw_kv_u64(w, "clampedEvents", a->clamped);
    hy_jw_kv_u64(w, "unfinishedEvents", a->unfinished);
    write_config(w, &p->config);

    hy_jw_key(w, "threads");
    hy_jw_begin_array(w);
    for (uint32_t i = 0; i < p->n_threads; i++) {
        uint32_t t = a->thread_order[i];
        hy_jw_begin_object(w);
        hy_jw_kv_u64(w, "tid", p->threads[t].tid);
        hy_jw_kv_string(w, "name", p->threads[t].name);
        hy_jw_kv_u64(w, "events", p->threads[t].count);
        hy_jw_kv_u64(w, "droppedEvents", p->threads[t].dropped);
        hy_jw_kv_ms(w, "busyMs", a->thread_busy_ns[t]);
        hy_jw_end_object(w);
    }
    hy_jw_end_array(w);

    hy_jw_key(w, "phases");
    hy_jw_begin_array(w);
    for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++) {
        const hy_prof_phase_stat *s = &a->phases[ph];
        hy_jw_begin_object(w);
        hy_jw_kv_string(w, "phase", hyperionPhaseName((hyperion_phase)ph));
        hy_jw_kv_u64(w, "calls", s->calls);
        hy_jw_kv_ms(w, "totalMs", s->total_ns);
        hy_jw_kv_ms(w, "selfMs", s->self_ns);
        hy_jw_kv_u64(w, "tokens", s->tokens);
        hy_jw_kv_double(w, "tokensPerSecond", s->tokens && s->total_ns ? (double)s->tokens * 1e9 / (double)s->total_ns : NAN);
        hy_jw_kv_double(w, "msPerToken", s->tokens && s->total_ns ? ms(s->total_ns) / (double)s->tokens : NAN);
        hy_jw_end_object(w);
    }
    hy_jw_end_array(w);

    hy_jw_key(w, "ops");
    hy_jw_begin_array(w);
    for (uint32_t o = 0; o < a->n_ops; o++) write_op(w, &a->ops[o], a->traced_ns);
    hy_jw_end_array(w);

    hy_jw_key(w, "layers");
    hy_jw_begin_array(w);
    for (uint32_t l = 0; l < a->n_layers; l++) {
        const hy_prof_layer *L = &a->layers[l];
        if (!L->calls && !L->op_self_ns) continue;
        hy_jw_begin_object(w);
        hy_jw_kv_i64(w, "layer", L->layer);
        hy_jw_kv_u64(w, "calls", L->calls);
        hy_jw_kv_ms(w, "totalMs", L->total_ns);
        hy_jw_kv_ms(w, "opSelfMs", L->op_self_ns);
        hy_jw_end_object(w);
    }
    hy_jw_end_array(w);

    if (p->n_samples) {
        uint64_t peak_pool = 0, peak_rss = 0;
        for (uint32_t i = 0; i < p->n_samples; i++) {
            if (p->samples[i].pool_in_use > peak_pool) peak_pool = p->samples[i].pool_in_use;
            if (p->samples[i].rss > peak_rss) peak_rss = p->samples[i].rss;
        }
        hy_jw_key(w, "samples");
        hy_jw_begin_object(w);
        hy_jw_kv_u64(w, "count", p->n_samples);
        hy_jw_kv_u64(w, "dropped", p->dropped_samples);
        hy_jw_kv_bool(w, "memory", p->sampled_memory);
        hy_jw_kv_u64(w, "peakPoolBytes", peak_pool);
        hy_jw_kv_u64(w, "peakRssBytes", peak_rss);
        hy_jw_kv_u64(w, "tokensGenerated", p->samples[p->n_samples - 1].tokens_generated);
        hy_jw_end_object(w);
    }
    write_counters(w, p);
    hy_jw_end_object(w);
    return writer_status(w);
}

/* ------------------------------------------------------------ verdicts */

static void write_machine(hy_jw *w, const hyperion_machine_limits *m, int ok) {
    hy_jw_key(w, "machine");
    if (!ok) {
        hy_jw_begin_object(w);
        hy_jw_kv_string(w, "error", hyperionGetLastError()->message);
        hy_jw_end_object(w);
        return;
    }
    hy_jw_begin_object(w);
    hy_jw_kv_double(w, "bandwidthGbps", m->bandwidth_gbps);
    hy_jw_kv_double(w, "bandwidthGbpsMt", m->bandwidth_gbps_mt);
    hy_jw_kv_i64(w, "mtThreads", m->mt_threads);
    hy_jw_kv_double(w, "peakGflopsScalar", m->peak_gflops_scalar);
    hy_jw_kv_double(w, "peakGflopsSimd", m->peak_gflops_simd);
    hy_jw_kv_double(w, "peakGflopsSimdMt", m->peak_gflops_simd_mt);
    hy_jw_kv_string(w, "simdIsa", m->simd_isa);
    hy_jw_kv_double(w, "machineBalance", ratio(m->peak_gflops_simd, m->bandwidth_gbps));
    hy_jw_kv_u64(w, "probeBufferBytes", m->probe_buffer_bytes);
    hy_jw_kv_u64(w, "llcBytes", m->llc_bytes);
    hy_jw_kv_double(w, "probeMs", m->probe_ms);
    hy_jw_end_object(w);
}

static void write_verdict_entry(hy_jw *w, int rank, const hy_prof_op *op, uint64_t traced_ns,
                                const hyperion_machine_limits *m, int machine_ok) {
    hy_verdict v;
    if (machine_ok) {
        hy_roofline_judge(op, m, &v);
    } else {
        memset(&v, 0, sizeof v);
        snprintf(v.recommendation, sizeof v.recommendation, "the machine's limits could not be measured");
    }
    hy_jw_begin_object(w);
    hy_jw_kv_i64(w, "rank", rank);
    hy_jw_kv_string(w, "name", op->name);
    hy_jw_kv_string(w, "category", hyperionZoneCategoryName((hyperion_zone_category)op->category));
    hy_jw_kv_string(w, "type", op->type);
    hy_jw_kv_u64(w, "calls", op->calls);
    hy_jw_kv_ms(w, "selfMs", op->self_ns);
    hy_jw_kv_ms(w, "totalMs", op->total_ns);
    hy_jw_kv_ms(w, "wallMs", op->wall_ns);
    hy_jw_kv_double(w, "share", traced_ns ? (double)op->self_ns / (double)traced_ns : 0.0);
    hy_jw_kv_double(w, "threads", v.threads);
    hy_jw_kv_string(w, "bound", hy_bound_name(v.bound));
    if (v.bound != HY_BOUND_UNKNOWN) {
        hy_jw_kv_double(w, "intensity", v.intensity);
        hy_jw_kv_double(w, "machineBalance", v.machine_balance);
        hy_jw_kv_double(w, "achievedGbps", v.achieved_gbps);
        hy_jw_kv_double(w, "achievedGflops", v.achieved_gflops);
        hy_jw_kv_double(w, "limitGbps", v.limit_gbps);
        hy_jw_kv_double(w, "limitGflops", v.limit_gflops);
        hy_jw_kv_double(w, "efficiency", v.efficiency);
    }
    hy_jw_kv_string(w, "recommendation", v.recommendation);
    hy_jw_end_object(w);
}

hyperion_status hy_prof_write_hotspots(hy_prof_profile *p, uint32_t n, hy_jw *w) {
    const hy_prof_analysis *a;
    hyperion_status st = analysis_or_error(p, &a);
    if (st != HYPERION_OK) return st;
    hyperion_machine_limits m;
    int machine_ok = hyperionGetMachineLimits(&m) == HYPERION_OK;
    hy_jw_begin_object(w);
    hy_jw_kv_u64(w, "version", 1);
    hy_jw_kv_ms(w, "tracedMs", a->traced_ns);
    write_machine(w, &m, machine_ok);
    hy_jw_key(w, "hotspots");
    hy_jw_begin_array(w);
    int rank = 0;
    for (uint32_t o = 0; o < a->n_ops && (uint32_t)rank < n; o++) {
        if (a->ops[o].category != HYPERION_ZONE_OP) continue;
        write_verdict_entry(w, ++rank, &a->ops[o], a->traced_ns, &m, machine_ok);
    }
    hy_jw_end_array(w);
    hy_jw_end_object(w);
    return writer_status(w);
}

/* ------------------------------------------------------------ bottlenecks */

static void op_label(const hy_prof_op *op, char *out, size_t size) {
    if (op->type) snprintf(out, size, "%.100s (%.40s)", op->name, op->type);
    else snprintf(out, size, "%.100s", op->name);
}

static void write_findings(hy_jw *w, const hy_prof_profile *p, const hy_prof_analysis *a,
                           const hyperion_machine_limits *m, int machine_ok, char *headline, size_t headline_size) {
    char line[768], label[160];
    headline[0] = '\0';
    hy_jw_key(w, "findings");
    hy_jw_begin_array(w);
    if (p->n_events == 0) {
        snprintf(headline, headline_size, "no zones were recorded: run work between start and stop");
        hy_jw_value_string(w, headline);
    }
    /* the heaviest op, with its verdict */
    for (uint32_t o = 0; o < a->n_ops; o++) {
        const hy_prof_op *op = &a->ops[o];
        if (op->category != HYPERION_ZONE_OP) continue;
        op_label(op, label, sizeof label);
        hy_verdict v;
        if (machine_ok) hy_roofline_judge(op, m, &v);
        else snprintf(v.recommendation, sizeof v.recommendation, "the machine's limits could not be measured");
        snprintf(line, sizeof line, "%s takes %.0f%% of traced time; %s", label,
                 a->traced_ns ? 100.0 * (double)op->self_ns / (double)a->traced_ns : 0.0, v.recommendation);
        snprintf(headline, headline_size, "%s", line);
        hy_jw_value_string(w, line);
        break;
    }
    if (a->wall_ns && a->covered_ns < a->wall_ns) {
        double un = 1.0 - (double)a->covered_ns / (double)a->wall_ns;
        if (un > 0.10) {
            snprintf(line, sizeof line,
                     "%.0f%% of wall time is outside every zone: that time is not explained (add zones around it, or "
                     "it is idle time between requests)", un * 100.0);
            hy_jw_value_string(w, line);
        }
    }
    for (uint32_t o = 0; o < a->n_ops; o++) {
        const hy_prof_op *op = &a->ops[o];
        if (op->category == HYPERION_ZONE_OP || !a->traced_ns) continue;
        double share = (double)op->self_ns / (double)a->traced_ns;
        if (share <= 0.10) continue;
        snprintf(line, sizeof line, "%s zones (%s) spend %.0f%% of traced time outside their child zones: add op zones there",
                 op->name, hyperionZoneCategoryName((hyperion_zone_category)op->category), share * 100.0);
        hy_jw_value_string(w, line);
    }
    for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++) {
        const hy_prof_phase_stat *s = &a->phases[ph];
        if (!s->tokens || !s->total_ns) continue;
        snprintf(line, sizeof line, "%s: %.1f tokens/s (%.2f ms per token over %llu tokens)",
                 hyperionPhaseName((hyperion_phase)ph), (double)s->tokens * 1e9 / (double)s->total_ns,
                 ms(s->total_ns) / (double)s->tokens, (unsigned long long)s->tokens);
        hy_jw_value_string(w, line);
    }
    if (p->dropped) {
        snprintf(line, sizeof line, "%llu zones were dropped because a thread's buffer filled: raise bufferEvents (now %u)",
                 (unsigned long long)p->dropped, p->config.buffer_events);
        hy_jw_value_string(w, line);
    }
    if (a->clamped) {
        snprintf(line, sizeof line, "%llu zones ended after their parent and were cut to it: end zones in reverse order "
                 "of beginning", (unsigned long long)a->clamped);
        hy_jw_value_string(w, line);
    }
    if (p->config.track_cache && p->counters.reason != HY_CTR_OK) {
        snprintf(line, sizeof line, "hardware counters unavailable (%s): %s", hy_ctr_reason_name(p->counters.reason),
                 p->counters.detail);
        hy_jw_value_string(w, line);
    }
    hy_jw_end_array(w);
}

hyperion_status hy_prof_write_bottlenecks(hy_prof_profile *p, hy_jw *w) {
    const hy_prof_analysis *a;
    hyperion_status st = analysis_or_error(p, &a);
    if (st != HYPERION_OK) return st;
    hyperion_machine_limits m;
    int machine_ok = hyperionGetMachineLimits(&m) == HYPERION_OK;
    hy_jw_begin_object(w);
    hy_jw_kv_u64(w, "version", 1);
    hy_jw_kv_ms(w, "wallMs", a->wall_ns);
    hy_jw_kv_ms(w, "tracedMs", a->traced_ns);
    write_machine(w, &m, machine_ok);
    hy_jw_key(w, "ops");
    hy_jw_begin_array(w);
    int rank = 0;
    for (uint32_t o = 0; o < a->n_ops; o++)
        if (a->ops[o].category == HYPERION_ZONE_OP) write_verdict_entry(w, ++rank, &a->ops[o], a->traced_ns, &m, machine_ok);
    hy_jw_end_array(w);
    char headline[768];
    write_findings(w, p, a, &m, machine_ok, headline, sizeof headline);
    hy_jw_kv_string(w, "headline", headline);
    hy_jw_end_object(w);
    return writer_status(w);
}

/* ------------------------------------------------------------ text table */

static void fmt_rate(char *out, size_t size, uint64_t amount, uint64_t wall_ns) {
    if (!amount || !wall_ns) snprintf(out, size, "-");
    else snprintf(out, size, "%.2f", (double)amount / (double)wall_ns);
}

hyperion_status hy_prof_write_table(hy_prof_profile *p, hy_jw *w) {
    const hy_prof_analysis *a;
    hyperion_status st = analysis_or_error(p, &a);
    if (st != HYPERION_OK) return st;
    hy_jw_printf(w, "profile: wall %.3f ms, traced %.3f ms (thread time), %llu zones on %u threads, "
                    "%.1f%% of wall time outside zones, %llu dropped\n",
                 ms(a->wall_ns), ms(a->traced_ns), (unsigned long long)p->n_events, p->n_threads,
                 a->wall_ns ? 100.0 * (1.0 - (double)a->covered_ns / (double)a->wall_ns) : 0.0,
                 (unsigned long long)p->dropped);
    hy_jw_printf(w, "\n%-10s %8s %12s %12s %8s %10s\n", "phase", "calls", "total ms", "self ms", "tokens", "tokens/s");
    for (int ph = 0; ph < HYPERION_PHASE_COUNT; ph++) {
        const hy_prof_phase_stat *s = &a->phases[ph];
        char tps[32];
        if (s->tokens && s->total_ns) snprintf(tps, sizeof tps, "%.1f", (double)s->tokens * 1e9 / (double)s->total_ns);
        else snprintf(tps, sizeof tps, "-");
        hy_jw_printf(w, "%-10s %8llu %12.3f %12.3f %8llu %10s\n", hyperionPhaseName((hyperion_phase)ph),
                     (unsigned long long)s->calls, ms(s->total_ns), ms(s->self_ns), (unsigned long long)s->tokens, tps);
    }
    hy_jw_printf(w, "\n%-24s %-6s %-8s %9s %11s %6s %11s %10s %10s %10s %10s %8s %8s\n", "zone", "kind", "type", "calls",
                 "self ms", "share", "total ms", "mean us", "p50 us", "p95 us", "p99 us", "GFLOP/s", "GB/s");
    for (uint32_t o = 0; o < a->n_ops; o++) {
        const hy_prof_op *op = &a->ops[o];
        char gf[32], gb[32];
        fmt_rate(gf, sizeof gf, op->flops, op->wall_ns);
        fmt_rate(gb, sizeof gb, op->bytes, op->wall_ns);
        hy_jw_printf(w, "%-24.24s %-6s %-8.8s %9llu %11.3f %5.1f%% %11.3f %10.2f %10.2f %10.2f %10.2f %8s %8s\n",
                     op->name, hyperionZoneCategoryName((hyperion_zone_category)op->category), op->type ? op->type : "-",
                     (unsigned long long)op->calls, ms(op->self_ns),
                     a->traced_ns ? 100.0 * (double)op->self_ns / (double)a->traced_ns : 0.0, ms(op->total_ns),
                     op->calls ? (double)op->total_ns / 1e3 / (double)op->calls : 0.0, (double)op->p50_ns / 1e3,
                     (double)op->p95_ns / 1e3, (double)op->p99_ns / 1e3, gf, gb);
    }
    if (p->config.track_cache && p->counters.reason != HY_CTR_OK)
        hy_jw_printf(w, "\nhardware counters unavailable (%s): %s\n", hy_ctr_reason_name(p->counters.reason),
                     p->counters.detail);
    return writer_status(w);
}
