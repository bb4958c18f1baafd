/*
 * syncevo_curl_fix.c - LD_PRELOAD shim that makes Debian 12's SyncEvolution
 * 2.0 HTTP client (package syncevolution 2.0.0-3+b1) usable in our tests.
 *
 * Why it exists
 * -------------
 * In Debian 12's libsyncevolution.so.0 the constructor
 * SyncEvo::CurlTransportAgent::CurlTransportAgent() calls
 *     curl_easy_setopt(h, CURLOPT_WRITEFUNCTION (20011), <garbage>)
 *     curl_easy_setopt(h, CURLOPT_READFUNCTION  (20012), <garbage>)
 * but the compiled code never loads the third argument register for those
 * two calls (objdump: "mov $0x4e2b,%esi; xor %eax,%eax; call
 * curl_easy_setopt@plt" with no write to %rdx).  In practice the value is
 * NULL, so libcurl falls back to fread()/fwrite() on the READDATA/WRITEDATA
 * pointer, which is the agent object, not a FILE*.  Every HTTP sync
 * therefore dies with SIGSEGV in fread() at the first POST: the server sees
 * the request headers but never the body.
 *
 * What it does
 * ------------
 * It interposes curl_easy_setopt() (forwarding everything to the real one
 * found with dlsym(RTLD_NEXT)).  Only when ALL of these hold does it change
 * anything:
 *   1. the option is CURLOPT_WRITEFUNCTION or CURLOPT_READFUNCTION;
 *   2. the caller (our return address, resolved with dladdr) is the
 *      CurlTransportAgent constructor (_ZN7SyncEvo18CurlTransportAgentC1Ev /
 *      C2Ev) in some shared object;
 *   3. the value passed is not an address inside that same shared object
 *      (a fixed build passes its own static callback and is left alone);
 *   4. the guard below accepts the object layout.
 * Then it substitutes agent_write()/agent_read(), which do what upstream's
 * CurlTransportAgent::writeData()/readData() do (their compiled code in this
 * very library was the model), except that a failed realloc() keeps the old
 * buffer instead of leaking it.
 *
 * Agent layout in this build (x86-64), taken from the disassembly:
 *   0xf8  const char *m_message     (send() stores its 1st argument)
 *   0x100 size_t      m_messageLen  (send() stores its 2nd argument)
 *   0x108 size_t      m_messageSent (send() resets it to 0; readData advances)
 *   0x110 char       *m_reply       (getReply() loads it; ~CurlTransportAgent
 *                                    releases it with free(), writeData grows
 *                                    it with realloc() -> we must use realloc)
 *   0x118 size_t      m_replyLen    (getReply() loads it; send() resets it)
 *   0x120 size_t      m_replySize   (capacity; writeData starts at 64 KiB and
 *                                    doubles)
 *
 * The guard
 * ---------
 * Before patching, the shim looks up (dlsym on the caller's own handle)
 *   _ZN7SyncEvo18CurlTransportAgent8getReplyERPKcRmRNSt7__cxx1112basic_string
 *     IcSt11char_traitsIcESaIcEEE                     (getReply)
 *   _ZN7SyncEvo18CurlTransportAgent4sendEPKcm         (send)
 *   _ZN7SyncEvo18CurlTransportAgent9writeDataEPvm     (writeData)
 * and scans the first 200 bytes (or the symbol size, if smaller) of each for
 * REX.W mov instructions with a [reg + disp32] operand (ModRM mod=10, no SIB):
 *   getReply:  loads  (48+ 8b /r)           from 0x110 and 0x118
 *   send:      stores (48+ 89 /r or c7 /0)  to   0xf8, 0x100 and 0x108
 *   writeData: loads                        from 0x110, 0x118 and 0x120
 * If any symbol is missing or any displacement is not found, the shim stays
 * inactive for the whole process (the library keeps whatever it passed) and
 * prints one line to stderr saying so.  Set SYNCEVO_CURL_FIX_VERBOSE=1 to
 * also get a line when it is active.  SyncEvolution redirects its own fd 2
 * into its session log (LogRedirect) before the first transport exists, so
 * the shim writes to a copy of the stderr it was started with, saved when
 * the shim is loaded; that way the line reaches whoever ran the client.
 *
 * Build: cc -shared -fPIC -O2 -o syncevo_curl_fix.so syncevo_curl_fix.c -ldl
 * Use:   LD_PRELOAD=/abs/path/syncevo_curl_fix.so syncevolution ...
 *
 * No curl headers are needed: CURL* is opaque and CURLoption/CURLcode are
 * plain int-sized enums.  Every curl_easy_setopt() argument on x86-64 is one
 * 8-byte INTEGER-class value (long, pointer, function pointer, curl_off_t),
 * so reading it as void* and passing it on unchanged forwards the very same
 * register bits.  On other architectures the shim is a pure pass-through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_WRITEFUNCTION 20011
#define OPT_READFUNCTION 20012

#define OFF_MESSAGE 0xf8
#define OFF_MESSAGE_LEN 0x100
#define OFF_MESSAGE_SENT 0x108
#define OFF_REPLY 0x110
#define OFF_REPLY_LEN 0x118
#define OFF_REPLY_SIZE 0x120

#define FIELD(agent, off, type) (*(type *)((char *)(agent) + (off)))

#define SCAN_BYTES 200

static const char SYM_CTOR_PREFIX[] = "_ZN7SyncEvo18CurlTransportAgentC";
static const char SYM_GET_REPLY[] =
    "_ZN7SyncEvo18CurlTransportAgent8getReplyERPKcRmRNSt7__cxx1112basic_string"
    "IcSt11char_traitsIcESaIcEEE";
static const char SYM_SEND[] = "_ZN7SyncEvo18CurlTransportAgent4sendEPKcm";
static const char SYM_WRITE_DATA[] =
    "_ZN7SyncEvo18CurlTransportAgent9writeDataEPvm";

typedef int (*setopt_fn)(void *curl, int option, ...);

/* ---- the replacement callbacks (upstream writeData/readData) ---------- */

/* CURLOPT_WRITEFUNCTION: append the received bytes to the agent's reply
 * buffer, growing it like upstream (64 KiB, then doubling) with realloc(),
 * because the library frees it with free(). */
static size_t agent_write(char *data, size_t size, size_t nmemb, void *agent)
{
    size_t n = size * nmemb;
    size_t len = FIELD(agent, OFF_REPLY_LEN, size_t);
    size_t cap = FIELD(agent, OFF_REPLY_SIZE, size_t);

    if (n == 0)
        return 0;
    if (len + n > cap) {
        while (len + n > cap)
            cap = cap ? cap * 2 : 64 * 1024;
        char *grown = realloc(FIELD(agent, OFF_REPLY, char *), cap);
        if (!grown)
            return 0; /* libcurl aborts with CURLE_WRITE_ERROR */
        FIELD(agent, OFF_REPLY, char *) = grown;
        FIELD(agent, OFF_REPLY_SIZE, size_t) = cap;
    }
    memcpy(FIELD(agent, OFF_REPLY, char *) + len, data, n);
    FIELD(agent, OFF_REPLY_LEN, size_t) = len + n;
    return n;
}

/* CURLOPT_READFUNCTION: hand libcurl the next part of the outgoing message. */
static size_t agent_read(char *buf, size_t size, size_t nmemb, void *agent)
{
    size_t room = size * nmemb;
    size_t sent = FIELD(agent, OFF_MESSAGE_SENT, size_t);
    size_t left = FIELD(agent, OFF_MESSAGE_LEN, size_t) - sent;
    size_t n = left < room ? left : room;

    if (n == 0)
        return 0; /* end of the message */
    memcpy(buf, FIELD(agent, OFF_MESSAGE, const char *) + sent, n);
    FIELD(agent, OFF_MESSAGE_SENT, size_t) = sent + n;
    return n;
}

/* ---- the guard --------------------------------------------------------- */

enum { MOV_LOAD, MOV_STORE };

/* Is there a "REX.W mov" between [reg + disp32] and a register/immediate in
 * the given direction among the first n bytes of code? */
static int has_mov(const unsigned char *code, size_t n, int dir, uint32_t disp)
{
    for (size_t i = 0; i + 7 <= n; i++) {
        unsigned char op = code[i + 1], modrm = code[i + 2];
        uint32_t d;

        if ((code[i] & 0xf8) != 0x48 || (modrm >> 6) != 2 || (modrm & 7) == 4)
            continue;
        memcpy(&d, code + i + 3, 4); /* x86 is little endian */
        if (d != disp)
            continue;
        if (dir == MOV_LOAD && op == 0x8b)
            return 1;
        if (dir == MOV_STORE &&
            (op == 0x89 || (op == 0xc7 && ((modrm >> 3) & 7) == 0)))
            return 1;
    }
    return 0;
}

/* Code of an exported function defined in the object at fbase, or NULL. */
static const unsigned char *function_code(void *handle, void *fbase,
                                          const char *name, size_t *n)
{
    void *addr = dlsym(handle, name);
    const ElfW(Sym) *sym = NULL;
    Dl_info info;

    if (!addr || !dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) ||
        info.dli_fbase != fbase)
        return NULL;
    *n = SCAN_BYTES;
    if (sym && sym->st_size && sym->st_size < SCAN_BYTES)
        *n = sym->st_size;
    return addr;
}

/* Returns NULL if the layout matches, otherwise a reason. */
static const char *check_layout(const Dl_info *caller)
{
    static const struct {
        const char *sym;
        int dir;
        uint32_t disp;
    } want[] = {
        {SYM_GET_REPLY, MOV_LOAD, OFF_REPLY},
        {SYM_GET_REPLY, MOV_LOAD, OFF_REPLY_LEN},
        {SYM_SEND, MOV_STORE, OFF_MESSAGE},
        {SYM_SEND, MOV_STORE, OFF_MESSAGE_LEN},
        {SYM_SEND, MOV_STORE, OFF_MESSAGE_SENT},
        {SYM_WRITE_DATA, MOV_LOAD, OFF_REPLY},
        {SYM_WRITE_DATA, MOV_LOAD, OFF_REPLY_LEN},
        {SYM_WRITE_DATA, MOV_LOAD, OFF_REPLY_SIZE},
    };
    static char reason[256];
    const char *result = NULL;
    void *handle = dlopen(caller->dli_fname, RTLD_LAZY | RTLD_NOLOAD);

    if (!handle)
        return "cannot reopen the calling library";
    for (size_t i = 0; i < sizeof want / sizeof want[0] && !result; i++) {
        size_t n = 0;
        const unsigned char *code =
            function_code(handle, caller->dli_fbase, want[i].sym, &n);
        if (!code) {
            snprintf(reason, sizeof reason, "symbol %s not found",
                     want[i].sym);
            result = reason;
        } else if (!has_mov(code, n, want[i].dir, want[i].disp)) {
            snprintf(reason, sizeof reason, "no %s at offset %#x in %s",
                     want[i].dir == MOV_LOAD ? "load" : "store",
                     (unsigned)want[i].disp, want[i].sym);
            result = reason;
        }
    }
    dlclose(handle);
    return result;
}

static int report_fd = 2;

/* Keep the original stderr (see the header comment on LogRedirect). */
__attribute__((constructor)) static void save_stderr(void)
{
    int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (fd >= 0)
        report_fd = fd;
}

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static int guard_state; /* 0 = not checked yet, 1 = active, -1 = inactive */

static int patching_allowed(const Dl_info *caller)
{
    pthread_mutex_lock(&guard_lock);
    if (guard_state == 0) {
        const char *why = check_layout(caller);
        const char *verbose = getenv("SYNCEVO_CURL_FIX_VERBOSE");
        guard_state = why ? -1 : 1;
        if (why)
            dprintf(report_fd,
                    "syncevo_curl_fix: inactive, leaving %s alone: %s\n",
                    caller->dli_fname, why);
        else if (verbose && *verbose && strcmp(verbose, "0") != 0)
            dprintf(report_fd, "syncevo_curl_fix: active for %s\n",
                    caller->dli_fname);
    }
    pthread_mutex_unlock(&guard_lock);
    return guard_state == 1;
}

/* ---- the interposed entry point ---------------------------------------- */

int curl_easy_setopt(void *curl, int option, ...)
{
    static setopt_fn real;
    va_list ap;
    void *value;

    va_start(ap, option);
    value = va_arg(ap, void *);
    va_end(ap);

    if (!real) {
        real = (setopt_fn)dlsym(RTLD_NEXT, "curl_easy_setopt");
        if (!real)
            return 48; /* CURLE_UNKNOWN_OPTION: no libcurl behind us */
    }

#if defined(__x86_64__)
    if (option == OPT_WRITEFUNCTION || option == OPT_READFUNCTION) {
        Dl_info caller, target;
        if (dladdr(__builtin_return_address(0), &caller) && caller.dli_sname &&
            strncmp(caller.dli_sname, SYM_CTOR_PREFIX,
                    sizeof SYM_CTOR_PREFIX - 1) == 0 &&
            !(value && dladdr(value, &target) &&
              target.dli_fbase == caller.dli_fbase) &&
            patching_allowed(&caller))
            value = option == OPT_WRITEFUNCTION ? (void *)agent_write
                                                : (void *)agent_read;
    }
#endif
    return real(curl, option, value);
}
