/* version.c — the library's version string. */
#include "hyperion.h"

const char *hyperionVersion(void) {
    return HYPERION_VERSION_STRING;
}
