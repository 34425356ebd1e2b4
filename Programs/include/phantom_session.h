/*
 * phantom_session.h - the guest side of Phantom's session ABI, version 1.
 *
 * A Phantom component is a WebAssembly (WASI preview 1) module in a
 * Genode-style component tree. Besides WASI, it may import the functions of
 * the module "phantom_session" declared here to open sessions to services by
 * name (client) or to provide a service (server). The full reference is
 * docs/SESSION-ABI.md; this header is its C binding.
 *
 * Conventions
 *   - Every function returns an int32_t; a negative value is one of the
 *     PHANTOM_* errors below.
 *   - Strings are (pointer, length) pairs, not NUL-terminated.
 *   - Pointers are offsets in the caller's linear memory; the kernel checks
 *     that every range lies inside the memory (PHANTOM_INVALID otherwise).
 *   - A component cannot name a session's route or forge a label: the parent
 *     routes the request by the service name and prefixes the label with the
 *     client's name ("client -> label").
 *
 * Blocking and restarts (orthogonal persistence)
 *   All of the component's state lives in its linear memory and is part of
 *   every snapshot. A call that blocks (session_open, session_call,
 *   service_next) is either completed within one generation or, after a
 *   restore, re-executed from its start with the same arguments: the guest
 *   never sees the restart. Handles, session ids and request ids stay valid
 *   across a restart of the whole system.
 *
 * Outside WebAssembly (a native test build) the functions are plain extern
 * declarations that a stub has to define.
 */
#ifndef PHANTOM_SESSION_H
#define PHANTOM_SESSION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PHANTOM_SESSION_ABI_VERSION 1

#if defined(__wasm__)
#define PHANTOM_SESSION_IMPORT(name) \
    __attribute__((import_module("phantom_session"), import_name(name)))
#else
#define PHANTOM_SESSION_IMPORT(name)
#endif

/* ---- errors ------------------------------------------------------------ */
#define PHANTOM_OK        0
#define PHANTOM_DENIED   (-1) /* no route, no policy, refused by the server */
#define PHANTOM_INVALID  (-2) /* bad handle, id, pointer or argument */
#define PHANTOM_QUOTA    (-3) /* not enough RAM or capabilities */
#define PHANTOM_CLOSED   (-4) /* the server is gone or the session was closed */
#define PHANTOM_TOO_BIG  (-5) /* reply/payload does not fit; the needed size is
                                 written to the length out-parameter */
#define PHANTOM_TIMEOUT  (-6) /* service_next: nothing arrived in time */

/* Short name of a result code ("ok", "denied", ...); "status" for >= 0. */
static inline const char *phantom_strerror(int32_t r) {
    switch (r) {
    case PHANTOM_OK:      return "ok";
    case PHANTOM_DENIED:  return "denied";
    case PHANTOM_INVALID: return "invalid";
    case PHANTOM_QUOTA:   return "quota";
    case PHANTOM_CLOSED:  return "closed";
    case PHANTOM_TOO_BIG: return "too big";
    case PHANTOM_TIMEOUT: return "timeout";
    default:              return r > 0 ? "status" : "unknown error";
    }
}

/* ---- client -------------------------------------------------------------- */

/*
 * Open a session to `service` (e.g. "LOG", "ROM", "Timer", "Report", or a
 * service announced by another component). `label` says which one the
 * client means (the ROM's name, the report's name, ...); the server sees it
 * prefixed with the client's name by the parent ("control -> status").
 * `ram_quota` bytes of the client's RAM quota are donated to the server for
 * the session's lifetime (0: nothing).
 *
 * Returns a handle >= 1, or PHANTOM_DENIED (no route, no matching policy,
 * or the server refused the open), PHANTOM_QUOTA (the client cannot donate
 * ram_quota, or has no room for another session), PHANTOM_INVALID (bad
 * string pointers).
 *
 * Blocks while the request is pending: when the route leads to a child that
 * has not announced the service yet, and until the server accepted or denied
 * it. A pending open survives a restart of the system (it is re-executed).
 */
PHANTOM_SESSION_IMPORT("session_open")
int32_t session_open(const char *service, uint32_t service_len,
                     const char *label, uint32_t label_len,
                     uint64_t ram_quota);

/*
 * Send `request` (request_len bytes, may be 0) on the session and wait for
 * the reply. Up to reply_capacity bytes of the reply's data are written to
 * `reply`, its length to *reply_len.
 *
 * Returns the server's status (>= 0), or PHANTOM_INVALID (bad handle or
 * buffer), PHANTOM_CLOSED (the server exited, was restarted or closed the
 * session: open a new one), PHANTOM_TOO_BIG (the reply's data is longer
 * than reply_capacity; *reply_len is set to the needed size and nothing is
 * written to `reply`: call again with a buffer that big if the request may
 * be repeated).
 *
 * Blocks until the server replies (built-in services: see
 * docs/SESSION-ABI.md; a Timer call for instance blocks for the requested
 * time). A pending call survives a restart of the whole system: it is
 * re-executed, and the kernel matches it to the same request, so the server
 * sees it once and the client receives the reply once.
 */
PHANTOM_SESSION_IMPORT("session_call")
int32_t session_call(int32_t handle,
                     const void *request, uint32_t request_len,
                     void *reply, uint32_t reply_capacity, uint32_t *reply_len);

/*
 * Close the session: the server gets a close event and the donated RAM
 * returns to the client. Returns 0 (PHANTOM_INVALID for a bad handle).
 * Never blocks.
 */
PHANTOM_SESSION_IMPORT("session_close")
int32_t session_close(int32_t handle);

/*
 * Give `ram_quota` more bytes of this component's quota to an open session
 * (Genode's session quota upgrade). The server gets a PHANTOM_EVENT_UPGRADE
 * event behind the session's earlier requests; it cannot refuse it. The
 * quota comes back when the session is closed. Returns 0, PHANTOM_QUOTA
 * (this component cannot give that much; nothing moves), PHANTOM_INVALID
 * (bad handle) or PHANTOM_CLOSED. Never blocks.
 */
PHANTOM_SESSION_IMPORT("session_upgrade")
int32_t session_upgrade(int32_t handle, uint64_t ram_quota);

/*
 * Ask the parent for `ram_quota` more bytes and `caps` more capabilities
 * (Genode's resource request) and wait until it changed this component's
 * quota; then try again what failed. The state report shows the request
 * (`requested`) until then. Returns 0 once the quota changed. A wait pending
 * at a snapshot is re-executed after a restart and goes on waiting.
 */
PHANTOM_SESSION_IMPORT("parent_resource_request")
int32_t parent_resource_request(uint64_t ram_quota, uint64_t caps);

/*
 * Zero the whole 64 KiB pages inside [start, start + len) of this component's
 * memory and stop having them charged to its quota while they stay zero
 * (a WebAssembly memory never shrinks; this is how freed memory goes back to
 * the parent, e.g. when answering a yield request). Returns the bytes
 * uncharged.
 */
PHANTOM_SESSION_IMPORT("memory_discard")
int32_t memory_discard(void *start, uint32_t len);

/* ---- server ---------------------------------------------------------------- */

/* Event kinds in phantom_request_t.kind */
#define PHANTOM_EVENT_OPEN  1u  /* buffer = the client's label ("client -> label") */
#define PHANTOM_EVENT_CALL  2u  /* buffer = the request payload */
#define PHANTOM_EVENT_CLOSE 3u  /* session ended (closed by the client, or the client is gone) */
#define PHANTOM_EVENT_UPGRADE 4u /* the client gave the session ram_quota more bytes; no answer */
#define PHANTOM_EVENT_YIELD 5u   /* the parent wants quota back: buffer = u64 RAM, u64 caps (little-endian);
                                  * delivered even to a component that serves nothing; answer with
                                  * service_reply(request, 0, 0, 0) once freed (Genode's yield_response) */

/* What service_next delivers: 24 bytes, little-endian, natural alignment. */
typedef struct {
    uint32_t kind;       /* PHANTOM_EVENT_OPEN / _CALL / _CLOSE / _UPGRADE / _YIELD */
    uint32_t session;    /* server-side session id (the same for open, its calls and close) */
    uint32_t request;    /* id to pass to service_reply (open and call) */
    uint32_t length;     /* bytes of label/payload in the buffer (or needed, on PHANTOM_TOO_BIG) */
    uint64_t ram_quota;  /* open: RAM donated by the client; upgrade: the bytes added */
} phantom_request_t;

#ifdef __cplusplus
static_assert(sizeof(phantom_request_t) == 24, "phantom_request_t must be 24 bytes");
static_assert(alignof(phantom_request_t) == 8, "phantom_request_t is 8-byte aligned");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(phantom_request_t) == 24, "phantom_request_t must be 24 bytes");
_Static_assert(_Alignof(phantom_request_t) == 8, "phantom_request_t is 8-byte aligned");
#else
typedef char phantom_request_t_is_24_bytes[sizeof(phantom_request_t) == 24 ? 1 : -1];
#endif

/*
 * Announce that this component provides `service` (the parent may then route
 * sessions of clients to it; clients blocked in session_open are released).
 * A component may announce several services; all of their events arrive
 * through service_next. Returns 0 (PHANTOM_INVALID for a bad name).
 */
PHANTOM_SESSION_IMPORT("service_announce")
int32_t service_announce(const char *service, uint32_t len);

/*
 * service_announce with flags. PHANTOM_ANNOUNCE_ACK_CLOSE: a close event of
 * this component's sessions carries a request id, and the session stays (as
 * CLOSE_REQUESTED in the parent's state report) until the server answers it
 * with service_reply(request, 0, 0, 0) — Genode's asynchronous close.
 */
#define PHANTOM_ANNOUNCE_ACK_CLOSE 1u
PHANTOM_SESSION_IMPORT("service_announce_flags")
int32_t service_announce_flags(const char *service, uint32_t len, uint32_t flags);

/*
 * Wait for the next event of this component's services. On 0, *info is
 * filled, and the label (open) or payload (call) is in `buffer`
 * (info->length bytes; nothing for close).
 *
 * timeout_ns < 0 waits forever, 0 only polls, > 0 waits at most that long.
 * Returns 0, PHANTOM_TIMEOUT (nothing arrived in time), PHANTOM_TOO_BIG (the
 * data does not fit in `capacity`: info->length is set to the needed size,
 * and the event stays queued, so call again with a buffer that big),
 * PHANTOM_INVALID (bad buffer or info pointer).
 *
 * A wait pending at a snapshot is re-executed after a restart. The kernel's
 * queues and the server's memory are restored from the same cut, so an event
 * is neither lost nor handled twice: taken before the cut, it is in the
 * restored server's memory; taken after, it is still queued and comes again.
 */
PHANTOM_SESSION_IMPORT("service_next")
int32_t service_next(void *buffer, uint32_t capacity, phantom_request_t *info,
                     int64_t timeout_ns);

/*
 * Answer request `request` (from an open or call event). For an open:
 * status 0 accepts the session, a negative status denies it (the client's
 * session_open returns PHANTOM_DENIED). For a call: `status` (>= 0) and
 * `len` bytes of `data` go back to the caller's session_call. Each request
 * is answered once; a close needs no answer. Returns 0 (a negative error,
 * e.g. for an unknown request id, tells the server nothing it can act on:
 * the components here ignore it). Never blocks. Answer calls with a status
 * >= 0: a negative session_call result should always be a kernel error.
 */
PHANTOM_SESSION_IMPORT("service_reply")
int32_t service_reply(uint32_t request, int32_t status, const void *data, uint32_t len);

/* ---- helpers ------------------------------------------------------------------ */

static inline uint32_t phantom_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

/* session_open with NUL-terminated strings and no RAM donation. */
static inline int32_t phantom_open_str(const char *service, const char *label) {
    return session_open(service, phantom_strlen(service), label, phantom_strlen(label), 0);
}

/* session_call with a NUL-terminated request. reply may be 0 with capacity 0
 * when no reply data is expected (LOG, Report, Timer); reply_len may be 0. */
static inline int32_t phantom_call_str(int32_t handle, const char *request,
                                       void *reply, uint32_t reply_capacity,
                                       uint32_t *reply_len) {
    uint32_t ignored;
    return session_call(handle, request, phantom_strlen(request), reply, reply_capacity,
                        reply_len ? reply_len : &ignored);
}

/* Send a text (LOG, Report) and ignore any reply data. */
static inline int32_t phantom_send_str(int32_t handle, const char *text) {
    uint32_t ignored;
    return session_call(handle, text, phantom_strlen(text), 0, 0, &ignored);
}

static inline void phantom_put_u32le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Timer session: block for `ns` nanoseconds. Returns 0 or an error. */
static inline int32_t phantom_timer_sleep(int32_t timer, uint64_t ns) {
    uint8_t req[8];
    uint32_t ignored;
    phantom_put_u32le(req, (uint32_t)ns);
    phantom_put_u32le(req + 4, (uint32_t)(ns >> 32));
    return session_call(timer, req, 8, 0, 0, &ignored);
}

/* ROM session: read the content (known_version 0: return at once; otherwise
 * block until the ROM's version differs from known_version). Returns the
 * version (>= 1) or an error; on PHANTOM_TOO_BIG *len is the needed size
 * (repeating the call with the same known_version is safe). */
static inline int32_t phantom_rom_read(int32_t rom, uint32_t known_version,
                                       void *buf, uint32_t capacity, uint32_t *len) {
    uint8_t req[4];
    phantom_put_u32le(req, known_version);
    return session_call(rom, req, known_version ? 4 : 0, buf, capacity, len);
}

/* Reply to an open or call with a NUL-terminated text. */
static inline int32_t phantom_reply_str(uint32_t request, int32_t status, const char *text) {
    return service_reply(request, status, text, phantom_strlen(text));
}

/* Announce a service by NUL-terminated name. */
static inline int32_t phantom_announce_str(const char *service) {
    return service_announce(service, phantom_strlen(service));
}

#ifdef __cplusplus
}
#endif

#endif
