/*
 * leak-canary.c — a deliberately leaking Node-API module for
 * `npm run test:asan-addon` (never part of the package). Its one function
 * allocates a block and drops the pointer. scripts/asan-addon.mjs builds it,
 * scripts/asan/canary.test.mjs calls it from inside a vitest worker, and the
 * script requires LeakSanitizer to report exactly that block: proof that the
 * leak check really ran in the processes where the addon's tests run.
 */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#define CANARY_BYTES 4242

static napi_value leak(napi_env env, napi_callback_info info) {
    (void)info;
    char *volatile block = malloc(CANARY_BYTES);
    if (block) memset(block, 0x5A, CANARY_BYTES);
    block = NULL;   /* the only pointer is gone: a direct leak */
    napi_value result;
    napi_get_boolean(env, 1, &result);
    return result;
}

NAPI_MODULE_INIT() {
    napi_value fn;
    if (napi_create_function(env, "leak", NAPI_AUTO_LENGTH, leak, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, "leak", fn) != napi_ok) return NULL;
    return exports;
}
