/*
 * The compiled hot path of otseam: walk capture records, decode frames from
 * layer 2 to layer 4, and aggregate them into tables in one pass.
 *
 * Python hands this module chunks of a capture (classic pcap records or
 * pcapng blocks). For every packet it decodes Ethernet / 802.1Q / QinQ /
 * LLC-SNAP, Linux cooked (SLL, SLL2), raw IP and BSD loopback framing, then
 * ARP, IPv4 (with fragments), IPv6 (with extension headers), TCP, UDP and
 * ICMP, and adds the packet to four tables:
 *
 *   conversations  bidirectional, keyed by transport and endpoint pair
 *   bindings       (MAC, IP, VLAN) seen as a sender, from IP and ARP
 *   stations       every sending MAC, with layer-2 industrial ethertype counts
 *   groups         application messages that a dissector must look at,
 *                  grouped by (conversation, direction, protocol, digest of
 *                  the message's leading bytes) so that a polling loop of a
 *                  million identical requests is dissected once and counted
 *
 * The first packet of each new group is reported to Python as an event with
 * the message's offset in the chunk; Python dissects it while the chunk is
 * still in memory. Nothing here interprets application protocols.
 *
 * All input is untrusted: every read is bounds-checked against the captured
 * length, and a record that cannot be framed stops the walk with a status
 * that Python turns into a message naming the byte offset.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#ifdef __linux__
#include <sys/mman.h> /* madvise */
#endif

/* ------------------------------------------------------------------ */
/* byte helpers                                                        */

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint16_t rd16(const uint8_t *p, int swap)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
}
static inline uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}
static inline uint64_t mac48(const uint8_t *p)
{
    return ((uint64_t)p[0] << 40) | ((uint64_t)p[1] << 32) | ((uint64_t)p[2] << 24) |
           ((uint64_t)p[3] << 16) | ((uint64_t)p[4] << 8) | p[5];
}

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Inlined where ``len`` is a constant (a table's key size): the loop
 * unrolls and no call is made. */
static inline __attribute__((always_inline)) uint64_t hash_words(const void *key, size_t len)
{
    const uint8_t *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mix64(h ^ w);
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i);
        h = mix64(h ^ w);
    }
    return h;
}

/* Whether two keys of ``len`` bytes are equal; inlined where ``len`` is a
 * constant. A 14-byte key (ConvKey) is read as bytes 0-7, 8-11 and 12-13,
 * not as two overlapping words: each piece then lies inside one of the
 * writes see_conversation builds the key with. */
static inline __attribute__((always_inline)) int key_equal(const void *a, const void *b, size_t len)
{
    if (len == 14) {
        uint64_t a0, b0;
        uint32_t a8, b8;
        uint16_t a12, b12;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a8, (const uint8_t *)a + 8, 4);
        memcpy(&b8, (const uint8_t *)b + 8, 4);
        memcpy(&a12, (const uint8_t *)a + 12, 2);
        memcpy(&b12, (const uint8_t *)b + 12, 2);
        return ((a0 ^ b0) | (a8 ^ b8) | (uint64_t)(a12 ^ b12)) == 0;
    }
    return memcmp(a, b, len) == 0;
}

/* ------------------------------------------------------------------ */
/* open-addressing table of fixed-size entries whose key comes first   */

typedef struct {
    uint8_t *entries;
    size_t entry_size, key_size, count, capacity;
    /* (entry index + 1) in the low log2(nslots) bits, the key hash's high
     * bits above them; 0 = empty. A probe compares those hash bits before
     * the key, so a lookup in a table of millions touches one entry, not
     * every entry on its path. Four bytes a slot, not eight: for a million
     * conversations and two million message groups that is 24 MiB less at
     * the peak of the walk. */
    uint32_t *slots;
    size_t nslots; /* power of two, at least twice the count */
    /* (entry index + 1) of the two keys last looked up, 0 = none: packets
     * come in trains of one conversation, often a request and its answer
     * in turn, so most lookups find their key here, without a hash or a
     * probe. Never trusted beyond ``count`` or without comparing the key:
     * a key is in one entry only, so a match is the entry. */
    uint32_t recent[2];
} Table;

/* Asks the kernel to back a large block with huge pages (where it does so
 * only when asked): a million conversations are looked up in random order,
 * and with 4 KiB pages nearly every lookup also misses the TLB. Only the
 * whole 2 MiB pages inside the block are advised; a refusal is harmless. */
static void prefer_huge_pages(void *block, size_t size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (size < 2 * huge)
        return;
    uintptr_t start = ((uintptr_t)block + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)block + size) & ~(huge - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)block;
    (void)size;
#endif
}

/* at most half the slots are used, and 2^32 slots have 32 index bits */
#define MAX_ENTRIES 0x7ffffff0u

static inline uint32_t slot_mask(const Table *t) { return (uint32_t)(t->nslots - 1); }

/* The hash bits a slot keeps beside the entry index (none from 2^32 slots) */
static inline uint32_t slot_tag(const Table *t, uint64_t h)
{
    return (uint32_t)(h >> 32) & ~slot_mask(t);
}

static int table_init(Table *t, size_t entry_size, size_t key_size)
{
    memset(t, 0, sizeof(*t));
    t->entry_size = entry_size;
    t->key_size = key_size;
    t->capacity = 1024;
    t->nslots = 2048;
    t->entries = calloc(t->capacity, entry_size);
    t->slots = calloc(t->nslots, sizeof(uint32_t));
    if (t->entries && t->slots)
        return 0;
    /* both or neither: callers test ``entries`` alone */
    free(t->entries);
    free(t->slots);
    t->entries = NULL;
    t->slots = NULL;
    return -1;
}

static void table_free(Table *t)
{
    free(t->entries);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static void table_clear(Table *t)
{
    size_t es = t->entry_size, ks = t->key_size;
    table_free(t);
    table_init(t, es, ks);
}

#define REHASH_BATCH 16

/* Twice the slots, placed again from the entries' keys: a slot keeps too
 * few hash bits to find its new place itself. The entries are read in
 * order, so this costs a hash per entry; the slots are written in random
 * order, so each batch of entries has its slots fetched before it places
 * them (in the same order as one at a time: the same slots result). */
static int table_grow_slots(Table *t)
{
    size_t n = t->nslots * 2;
    uint32_t *s = calloc(n, sizeof(uint32_t));
    if (!s)
        return -1;
    prefer_huge_pages(s, n * sizeof(uint32_t));
    free(t->slots);
    t->slots = s;
    t->nslots = n;
    for (size_t i = 0; i < t->count; i += REHASH_BATCH) {
        size_t m = t->count - i < REHASH_BATCH ? t->count - i : REHASH_BATCH;
        uint64_t h[REHASH_BATCH];
        for (size_t k = 0; k < m; k++) {
            h[k] = hash_words(t->entries + (i + k) * t->entry_size, t->key_size);
            __builtin_prefetch(&s[h[k] & (n - 1)], 1);
        }
        for (size_t k = 0; k < m; k++) {
            size_t j = h[k] & (n - 1);
            while (s[j])
                j = (j + 1) & (n - 1);
            s[j] = slot_tag(t, h[k]) | (uint32_t)(i + k + 1);
        }
    }
    return 0;
}

/* Index of the entry with this key, or -1; ``*at`` is where the probe ended
 * (the empty slot the key would go in). ``ks`` is the table's key size,
 * a constant where inlined. */
static inline __attribute__((always_inline)) int64_t table_probe(const Table *t, const void *key,
                                                                 uint64_t h, size_t *at, size_t ks)
{
    uint32_t tag = slot_tag(t, h), mask = slot_mask(t);
    size_t j = h & mask;
    uint32_t slot;
    while ((slot = t->slots[j]) != 0) {
        if ((slot & ~mask) == tag &&
            key_equal(t->entries + (size_t)((slot & mask) - 1) * t->entry_size, key, ks))
            return (int64_t)(slot & mask) - 1;
        j = (j + 1) & mask;
    }
    *at = j;
    return -1;
}

/* A new zeroed entry with this key in empty slot ``at``; -1 when memory
 * runs out. */
static __attribute__((noinline)) int64_t table_insert(Table *t, const void *key, uint64_t h,
                                                      size_t at)
{
    if (t->count >= MAX_ENTRIES)
        return -1;
    if (t->count == t->capacity) {
        size_t cap = t->capacity * 2;
        /* the new half is zeroed entry by entry as it is used, not here:
         * pages never written are never made resident */
        uint8_t *e = realloc(t->entries, cap * t->entry_size);
        if (!e)
            return -1;
        t->entries = e;
        t->capacity = cap;
        prefer_huge_pages(e, cap * t->entry_size);
    }
    size_t idx = t->count++;
    memset(t->entries + idx * t->entry_size, 0, t->entry_size);
    memcpy(t->entries + idx * t->entry_size, key, t->key_size);
    t->slots[at] = slot_tag(t, h) | (uint32_t)(idx + 1);
    if (t->count * 2 > t->nslots && table_grow_slots(t) < 0)
        return -1;
    return (int64_t)idx;
}

/* Index of the entry with this key, inserting a zeroed one if absent;
 * -1 when memory runs out. ``ks`` must be the table's key size. */
static inline __attribute__((always_inline)) int64_t table_upsert_sized(Table *t, const void *key,
                                                                        int *created, size_t ks)
{
    *created = 0;
    for (int k = 0; k < 2; k++) {
        uint32_t r = t->recent[k];
        if (r && r <= t->count && key_equal(t->entries + (size_t)(r - 1) * t->entry_size, key, ks)) {
            t->recent[k] = t->recent[0];
            t->recent[0] = r;
            return (int64_t)r - 1;
        }
    }
    uint64_t h = hash_words(key, ks);
    size_t j = 0;
    int64_t i = table_probe(t, key, h, &j, ks);
    if (i < 0) {
        i = table_insert(t, key, h, j);
        if (i < 0)
            return -1;
        *created = 1;
    }
    t->recent[1] = t->recent[0];
    t->recent[0] = (uint32_t)i + 1;
    return i;
}

/* The same for a key of the table's own size (tables used off the
 * per-packet path). */
static int64_t table_upsert(Table *t, const void *key, int *created)
{
    return table_upsert_sized(t, key, created, t->key_size);
}

/* Index of the entry with this key, or -1. */
static int64_t table_find(const Table *t, const void *key)
{
    size_t j;
    return table_probe(t, key, hash_words(key, t->key_size), &j, t->key_size);
}

/* A lookup of this key made ahead of time, as a hint to the cache: stage 0
 * fetches the key's slot; stage 1, run later when that slot has arrived,
 * fetches the entry it names (both lines of it: the walk updates fields
 * all through an entry). Reads nothing beyond the slot array and writes
 * nothing, so a key worked out wrongly, or a table that changes before the
 * real lookup, costs a wasted fetch, never a wrong result. */
static inline __attribute__((always_inline)) void table_prefetch(const Table *t, const void *key,
                                                                 size_t ks, int stage)
{
    if (!t->slots) /* a table that failed to come back after take_* */
        return;
    uint64_t h = hash_words(key, ks);
    uint32_t mask = slot_mask(t);
    const uint32_t *s = &t->slots[h & mask];
    if (stage == 0) {
        __builtin_prefetch(s);
        return;
    }
    uint32_t slot = *s;
    if (slot && (slot & ~mask) == slot_tag(t, h)) {
        const uint8_t *e = t->entries + (size_t)((slot & mask) - 1) * t->entry_size;
        __builtin_prefetch(e, 1);
        __builtin_prefetch(e + t->entry_size - 1, 1);
    }
}

/* ------------------------------------------------------------------ */
/* table entries; Python mirrors these layouts as numpy dtypes         */

/* A conversation's endpoints as the walker keys them: an IPv4 address is
 * its own 4 bytes, an IPv6 address the number the walker gave it (its index
 * in ``addr6``), so that a key is 14 bytes, not 40. */
typedef struct {
    uint8_t a[4], b[4]; /* a <= b by (address, port) */
    uint16_t port_a, port_b;
    uint8_t family, proto; /* 4 or 6; IP protocol number */
} ConvKey;                 /* 14 bytes */
_Static_assert(sizeof(ConvKey) == 14 && offsetof(ConvKey, port_a) == 8 &&
                   offsetof(ConvKey, family) == 12 && offsetof(ConvKey, proto) == 13,
               "see_conversation writes ConvKey as two words");

typedef struct {
    ConvKey k;
    uint8_t messages[2]; /* messages handed to dissection per direction (saturating) */
    uint64_t pkts_ab, pkts_ba, bytes_ab, bytes_ba;
    int64_t first_ns, last_ns;
    uint8_t flags_ab, flags_ba; /* TCP flags seen from each side */
    uint8_t syn_side;           /* 1: a sent the first bare SYN, 2: b did */
    uint8_t app;                /* application protocol id, 0 = none */
    uint8_t sig_checked;
    uint8_t stream_dirs; /* bit 0: a->b, bit 1: b->a left PDU alignment;
                          * bits 2, 3: next_seq known for a->b, b->a */
    uint16_t vlan;
    uint32_t next_seq[2]; /* end of the highest payload seen per direction */
} ConvEntry;              /* 80 bytes */

/* A conversation as Python reads it (``layout.CONVERSATION`` and
 * ``CONVERSATION_V4``): without what only the walk needs, each address in
 * ``ASIZE`` bytes. */
#define CONVERSATION_STRUCT(ASIZE)                                                                 \
    struct {                                                                                       \
        uint8_t a[ASIZE], b[ASIZE];                                                                \
        uint16_t port_a, port_b;                                                                   \
        uint8_t family, proto, flags_ab, flags_ba;                                                 \
        uint64_t pkts_ab, pkts_ba, bytes_ab, bytes_ba;                                             \
        int64_t first_ns, last_ns;                                                                 \
        uint8_t syn_side, app;                                                                     \
        uint16_t vlan;                                                                             \
        uint8_t pad[4];                                                                            \
    }

typedef CONVERSATION_STRUCT(16) Conversation; /* 96 bytes: addresses in full */
/* a capture without IPv6 conversations: each address in 4 bytes, not 16 */
typedef CONVERSATION_STRUCT(4) Conversation4; /* 72 bytes */

typedef struct {
    uint8_t addr[16];
    uint64_t mac;
    uint16_t vlan;
    uint8_t family;
    uint8_t pad[5];
} BindKey; /* 32 bytes */
_Static_assert(sizeof(BindKey) == 32 && offsetof(BindKey, mac) == 16 &&
                   offsetof(BindKey, vlan) == 24 && offsetof(BindKey, family) == 26,
               "see_binding writes BindKey as four words");

typedef struct {
    BindKey k;
    uint64_t pkts;
    int64_t first_ns, last_ns;
    uint8_t sources; /* bit 0: IP sender, bit 1: ARP sender */
    uint8_t pad[7];
} BindEntry; /* 64 bytes */

enum { L2_PROFINET, L2_GOOSE, L2_SV, L2_ETHERCAT, L2_POWERLINK, L2_LLDP, L2_KINDS };

typedef struct {
    uint64_t mac;
} StationKey;

typedef struct {
    StationKey k;
    uint64_t pkts, bytes;
    int64_t first_ns, last_ns;
    uint64_t l2[L2_KINDS];
    uint16_t vlan; /* first VLAN seen, 0 = untagged */
    uint8_t pad[6];
} StationEntry; /* 96 bytes */

typedef struct {
    uint32_t owner; /* conversation index, or station index for layer 2 */
    uint8_t dir;    /* 0: a->b, 1: b->a, 2: layer-2 frame */
    uint8_t app;
    uint8_t role; /* bit 0: sender on the app's port, bit 1: receiver; 4: layer 2 */
    uint8_t pad;
    uint64_t digest;
} GroupKey; /* 16 bytes */

#define NO_TEMPLATE 0xffffffffu
#define PENDING_TEMPLATE 0xfffffffeu /* a leader's dissection is on its way */

/* Packed: 44 bytes, not 48 with the tail padding a uint64 would ask for
 * (two million groups: 7 MiB). */
typedef struct __attribute__((packed, aligned(4))) {
    GroupKey k;
    uint64_t count;
    int64_t first_ns, last_ns;
    uint32_t template; /* Python's dissection result, when shared; else NO_TEMPLATE */
} GroupEntry;          /* 44 bytes */

/* A message group as Python adds it up (``layout.GROUP_ROW``): groups with
 * the same owner, direction and template are one row. The first 8 bytes,
 * read as one little-endian integer, are owner << 32 | dir << 30 | template. */
typedef struct {
    uint32_t dir_template;
    uint32_t owner;
    uint64_t count;
    int64_t first_ns, last_ns;
} GroupRow; /* 32 bytes */

#define ROW_TEMPLATES (1u << 30) /* template ids fit beside the direction */

/* Dissection results that depend only on (app, role, digest): a new group
 * with a known key takes its template without a trip to Python. */
typedef struct {
    uint8_t app, role;
    uint8_t pad[6];
    uint64_t digest;
} TemplateKey; /* 16 bytes */

typedef struct {
    TemplateKey k;
    uint32_t template;
    uint32_t pad;
} TemplateEntry; /* 24 bytes */

typedef struct {
    int64_t ts;
    uint32_t group; /* group index; 0xffffffff in stream mode */
    uint32_t offset, length, seq;
    uint32_t owner;
    uint16_t sport, dport; /* as sent: source and destination port */
    uint8_t dir, app, tcp_flags, proto;
    uint32_t pad;
    uint64_t content; /* digest of the whole message and its port context; 0: none */
} Event; /* 48 bytes */

typedef struct {
    int32_t linktype;
    uint32_t snaplen;
    int32_t mode; /* 0: ns = ts * mul; 1: ns = ts / div; 2: ns = ts * 1e9 >> shift */
    int32_t shift;
    int64_t mul, div;
    int64_t offset_ns; /* if_tsoffset, in nanoseconds */
} Interface; /* 40 bytes */

enum {
    MODE_NONE = 0,
    MODE_REPRESENTATIVE = 1, /* dissect one message per group */
    MODE_STREAM = 2,         /* every message, in capture order, with TCP seq */
};

#define MAX_KEY_MASKS 4
typedef struct {
    uint8_t mode, skip, len, nmask;
    uint8_t mask[MAX_KEY_MASKS][2]; /* (offset, length) in the message: bytes
                                     * left out of the key (counters, ids) */
    uint8_t max_messages; /* per conversation direction; 0: no limit */
    uint8_t anchor;       /* ANCHOR_*: where the key ends, read from the message */
} DissectSpec;

enum {
    ANCHOR_NONE = 0,
    ANCHOR_ENIP_CIP = 1, /* the key ends after the CIP service and path */
    ANCHOR_COTP_DT = 2,  /* S7's masks, or MMS's invoke id (cotp_dt_user_data) */
};

/* How a protocol's PDUs are delimited on TCP: a length field at
 * len_offset (len_size bytes, 0 = unframed) plus adjust gives the PDU's
 * total length; magic, when magic_len is 1, is the PDU's first byte. */
typedef struct {
    uint8_t len_offset, len_size, big_endian, magic_len, magic, pad;
    int16_t adjust;
    uint32_t max_length; /* the longest PDU the protocol allows */
} Framing;

#define MAX_SIGNATURES 32
typedef struct {
    uint8_t proto, app, offset, length;
    uint8_t value[8], mask[8];
    uint16_t min_payload;
} Signature;

#define MAX_ETHERTYPE_APPS 16

enum {
    C_PACKETS,
    C_BYTES,
    C_IPV4,
    C_IPV6,
    C_ARP,
    C_TCP,
    C_UDP,
    C_ICMP,
    C_OTHER_IP,
    C_LAYER2,       /* non-IP ethertypes */
    C_UNDECODED,    /* framing not understood (unknown family, garbage) */
    C_TRUNCATED,    /* captured too short for its headers */
    C_FRAGMENTS,    /* IP fragments after the first */
    C_EMPTY,        /* zero-length records */
    C_OVER_SNAPLEN, /* captured length above the file's snaplen */
    C_UNSUPPORTED_LINK,
    C_BAD_INTERFACE, /* pcapng packet naming an interface never described */
    C_EVENTS,
    C_VLAN_TAGGED,
    C_NCOUNTERS = 24
};

#define FRAG_SLOTS 4096
typedef struct {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t family, proto, valid, upper; /* proto: as in frag_proto; upper: the transport */
    uint16_t sport, dport;
} Fragment;

typedef struct {
    PyObject_HEAD Table conv, bind, station, group, templates, contents;
    Table addr6; /* IPv6 addresses of conversations, numbered as first seen */
    uint8_t tcp_app[65536], udp_app[65536];
    DissectSpec spec[256];
    Framing framing[256];
    Signature sig[MAX_SIGNATURES];
    int nsig;
    uint16_t ethertype[MAX_ETHERTYPE_APPS];
    uint8_t ethertype_app[MAX_ETHERTYPE_APPS];
    int nethertype;
    Fragment frag[FRAG_SLOTS];
    uint64_t counters[C_NCOUNTERS];
    int64_t first_ns, last_ns;
    Event *events;
    size_t nevents, events_cap;
    size_t look_ahead_from; /* bytes of tables (tables_outgrow_caches) */
    int oom;
} Walker;

/* ------------------------------------------------------------------ */
/* per-packet aggregation                                              */

static void add_event(Walker *w, const Event *ev)
{
    if (w->nevents == w->events_cap) {
        size_t cap = w->events_cap ? w->events_cap * 2 : 4096;
        Event *e = realloc(w->events, cap * sizeof(Event));
        if (!e) {
            w->oom = 1;
            return;
        }
        w->events = e;
        w->events_cap = cap;
    }
    w->events[w->nevents++] = *ev;
    w->counters[C_EVENTS]++;
}

static void see_station(Walker *w, uint64_t mac, uint16_t vlan, uint32_t wirelen, int64_t ts,
                        int l2kind)
{
    StationKey key = {mac};
    int created;
    int64_t i = table_upsert_sized(&w->station, &key, &created, sizeof(key));
    if (i < 0) {
        w->oom = 1;
        return;
    }
    StationEntry *e = (StationEntry *)(w->station.entries + (size_t)i * sizeof(StationEntry));
    if (created) {
        e->first_ns = ts;
        e->last_ns = ts;
        e->vlan = vlan;
    }
    e->pkts++;
    e->bytes += wirelen;
    if (ts < e->first_ns)
        e->first_ns = ts;
    if (ts > e->last_ns)
        e->last_ns = ts;
    if (l2kind >= 0)
        e->l2[l2kind]++;
}

static inline void binding_key(BindKey *key, uint64_t mac, uint16_t vlan, int family,
                               const uint8_t *addr)
{
    /* The key written as four whole words (the layout of BindKey on a
     * little-endian machine): the lookup reads it back a word at a time,
     * and a word read from several smaller writes would wait for them. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t words[4] = {0, 0, mac, (uint64_t)vlan | (uint64_t)(uint8_t)family << 16};
    if (family == 4) {
        uint32_t v4;
        memcpy(&v4, addr, 4);
        words[0] = v4;
    } else {
        memcpy(&words[0], addr, 8);
        memcpy(&words[1], addr + 8, 8);
    }
    memcpy(key, words, sizeof(*key));
#else
    memset(key, 0, sizeof(*key));
    memcpy(key->addr, addr, family == 4 ? 4 : 16);
    key->mac = mac;
    key->vlan = vlan;
    key->family = (uint8_t)family;
#endif
}

static void see_binding(Walker *w, uint64_t mac, uint16_t vlan, int family, const uint8_t *addr,
                        int64_t ts, uint8_t source)
{
    BindKey key;
    binding_key(&key, mac, vlan, family, addr);
    int created;
    int64_t i = table_upsert_sized(&w->bind, &key, &created, sizeof(key));
    if (i < 0) {
        w->oom = 1;
        return;
    }
    BindEntry *e = (BindEntry *)(w->bind.entries + (size_t)i * sizeof(BindEntry));
    if (created) {
        e->first_ns = ts;
        e->last_ns = ts;
    }
    e->pkts++;
    e->sources |= source;
    if (ts < e->first_ns)
        e->first_ns = ts;
    if (ts > e->last_ns)
        e->last_ns = ts;
}

static uint64_t digest_one(const uint8_t *payload, uint32_t len, const DissectSpec *s);

static uint64_t pdu_total(const Framing *f, const uint8_t *d)
{
    const uint8_t *l = d + f->len_offset;
    uint64_t len = 0;
    for (int i = 0; i < f->len_size; i++)
        len = f->big_endian ? (len << 8) | l[i] : len | ((uint64_t)l[i] << (8 * i));
    return len + (uint64_t)(int64_t)f->adjust;
}

/* The group digest of a message: of every PDU's key bytes when the message
 * is a run of whole framed PDUs (several requests in one segment must not
 * be grouped by the first alone), else of the message's own key bytes. */
static uint64_t digest(const uint8_t *payload, uint32_t len, const DissectSpec *s,
                       const Framing *f)
{
    if (!f || !f->len_size)
        return digest_one(payload, len, s);
    uint64_t h = 0x8f1bbcdcca62c1d6ULL;
    uint32_t pos = 0;
    for (int pdus = 0; pos < len && pdus < 64; pdus++) {
        uint64_t total = pdu_total(f, payload + pos);
        if (total == 0 || total > len - pos)
            break;
        h = mix64(h ^ digest_one(payload + pos, (uint32_t)total, s));
        pos += (uint32_t)total;
    }
    return h;
}

static uint16_t rd16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Where the dissection result of an EtherNet/IP SendRRData or SendUnitData
 * message stops depending on its bytes (docs/protocols/enip.md): after the
 * CIP request's service and path, or the reply's service and status, except
 * for the services whose data the dissector reads (Multiple_Service_Packet,
 * Unconnected_Send, Forward_Open; Get_Attributes_All replies). Anything it
 * cannot follow keeps the whole key (returns len). */
static uint32_t enip_cip_key_end(const uint8_t *p, uint32_t len)
{
    if (len < 44 || rd16le(p + 30) != 2)
        return len;
    uint16_t cmd = rd16le(p);
    if (cmd != 0x6F && cmd != 0x70)
        return len;
    uint32_t pos = 32 + 4 + (uint32_t)rd16le(p + 34); /* after the address item */
    if (pos + 6 > len)
        return len;
    uint16_t item = rd16le(p + pos);
    pos += 4;
    if (item == 0xB1)
        pos += 2; /* the connected data item's sequence count */
    else if (item != 0xB2)
        return len;
    if (pos + 4 > len)
        return len;
    uint8_t service = p[pos];
    uint32_t end;
    if (service & 0x80) {
        uint8_t code = service & 0x7F;
        if (code == 0x0A || code == 0x01)
            return len;
        end = pos + 4 + 2u * p[pos + 3];
    } else {
        if (service == 0x0A || service == 0x52 || service == 0x54 || service == 0x5B)
            return len;
        end = pos + 2 + 2u * p[pos + 1];
    }
    return end < len ? end : len;
}

/* Anchor "cotp-dt" (S7comm's spec; twin: otseam.decode.anchors, which
 * states the same rule). A TPKT packet whose COTP TPDU is a DT (p[5] & 0xF0
 * == 0xF0, length indicator p[4] >= 2) with user data starting at 5 + p[4],
 * inside the message and inside the key, whose first byte is neither 0x32
 * (S7comm), 0x72 (S7comm-plus) nor 0x00, is keyed without the spec's masks
 * (they were placed for S7 and fall on MMS headers); in it, the MMS invoke id
 * is zeroed when mms_invoke_id finds it. Anything else keeps the masks.
 * 0x00 keeps the masks so that no such packet can have the key of an S7 one
 * whose 0x32 fell on a masked byte (a length indicator of 6, 13, 14, 19 or
 * 20). */
static int cotp_dt_user_data(const uint8_t *p, uint32_t len, const DissectSpec *s, uint32_t *at)
{
    if (len < 6)
        return 0;
    uint32_t li = p[4], data = 5 + li;
    if (li < 2 || (p[5] & 0xF0) != 0xF0 || data >= len || data >= (uint32_t)s->skip + s->len)
        return 0;
    if (p[data] == 0x00 || p[data] == 0x32 || p[data] == 0x72)
        return 0;
    *at = data;
    return 1;
}

/* A BER element with identifier octet `tag` at *pos and a definite length in
 * short form or long form 0x81 / 0x82: *pos moves to its contents. */
static int ber_header(const uint8_t *p, uint32_t len, uint32_t *pos, uint8_t tag, uint32_t *size)
{
    uint32_t at = *pos;
    if (at + 2 > len || p[at] != tag)
        return 0;
    uint8_t first = p[at + 1];
    if (first < 0x80) {
        *size = first;
        at += 2;
    } else if (first == 0x81 && at + 3 <= len) {
        *size = p[at + 2];
        at += 3;
    } else if (first == 0x82 && at + 4 <= len) {
        *size = (uint32_t)p[at + 2] << 8 | p[at + 3];
        at += 4;
    } else {
        return 0;
    }
    *pos = at;
    return 1;
}

/* An ISO session SPDU with code `si` at *pos (X.225 8.2.5: a length
 * indicator, 0xFF followed by two length bytes): *pos moves past it. */
static int session_spdu(const uint8_t *p, uint32_t len, uint32_t *pos, uint8_t si)
{
    uint32_t at = *pos;
    if (at + 2 > len || p[at] != si)
        return 0;
    uint32_t size = p[at + 1];
    at += 2;
    if (size == 0xFF) {
        if (at + 2 > len)
            return 0;
        size = (uint32_t)p[at] << 8 | p[at + 1];
        at += 2;
    }
    *pos = at + size;
    return 1;
}

/* The MMS invoke id's value bytes [*from, *to) in COTP user data starting at
 * `pos` (twin: otseam.decode.anchors.invoke_id_span). Either GIVE TOKENS (01)
 * and DATA TRANSFER (01) SPDUs, then 61 L, 30 L, 02 L <context id>, a0 L; or
 * nothing (a bare PDU). Then a0 L or a1 L (confirmed-Request / -Response:
 * invokeID 02 L) or a2 L (confirmed-Error: invokeID [0] 80 L), each element
 * the first in its container. Lengths: short form, 0x81, 0x82; any other
 * length, tag, or a value running past the message: not found. */
static int mms_invoke_id(const uint8_t *p, uint32_t len, uint32_t pos, uint32_t *from,
                         uint32_t *to)
{
    uint32_t size;
    if (pos < len && p[pos] == 0x01) {
        if (!session_spdu(p, len, &pos, 0x01) || !session_spdu(p, len, &pos, 0x01) ||
            !ber_header(p, len, &pos, 0x61, &size) || !ber_header(p, len, &pos, 0x30, &size) ||
            !ber_header(p, len, &pos, 0x02, &size))
            return 0;
        pos += size; /* the presentation context id */
        if (!ber_header(p, len, &pos, 0xA0, &size))
            return 0;
    }
    if (pos >= len || p[pos] < 0xA0 || p[pos] > 0xA2)
        return 0;
    uint8_t invoke_tag = p[pos] == 0xA2 ? 0x80 : 0x02;
    if (!ber_header(p, len, &pos, p[pos], &size) ||
        !ber_header(p, len, &pos, invoke_tag, &size) || size > len - pos)
        return 0;
    *from = pos;
    *to = pos + size;
    return 1;
}

/* Zeroes message bytes [from, to) of a key that holds message bytes from
 * `skip` on, `n` of them. */
static void zero_key(uint8_t *key, uint32_t n, uint8_t skip, int64_t from, int64_t to)
{
    from -= skip;
    to -= skip;
    if (from < 0)
        from = 0;
    if (to > (int64_t)n)
        to = (int64_t)n;
    if (from < to)
        memset(key + from, 0, (size_t)(to - from));
}

static uint64_t digest_one(const uint8_t *payload, uint32_t len, const DissectSpec *s)
{
    uint8_t buf[264];
    uint32_t n = 0;
    if (len > s->skip) {
        n = len - s->skip;
        if (n > s->len)
            n = s->len;
        memcpy(buf, payload + s->skip, n);
    }
    uint32_t at, id_from, id_to;
    if (s->anchor == ANCHOR_COTP_DT && cotp_dt_user_data(payload, len, s, &at)) {
        if (mms_invoke_id(payload, len, at, &id_from, &id_to))
            zero_key(buf, n, s->skip, id_from, id_to);
    } else {
        /* masked offsets are in the message; buf starts at skip */
        for (int m = 0; m < s->nmask && m < MAX_KEY_MASKS; m++)
            zero_key(buf, n, s->skip, s->mask[m][0], (int64_t)s->mask[m][0] + s->mask[m][1]);
    }
    if (s->anchor == ANCHOR_ENIP_CIP) {
        uint32_t end = enip_cip_key_end(payload, len);
        if (end < s->skip + n) {
            uint32_t from = end > s->skip ? end - s->skip : 0;
            memset(buf + from, 0, n - from);
        }
    }
    uint32_t l = len;
    memcpy(buf + n, &l, 4);
    return hash_words(buf, n + 4);
}

typedef struct {
    uint32_t seq;
    uint16_t sport, dport;
    uint8_t tcp_flags, proto;
} Transport;

/* What a whole-message dissection can depend on: every byte of the message,
 * its length, the transport, and the port of each side that is on the
 * protocol's own port (the other side's ephemeral port is left out). */
static uint64_t content_digest(const uint8_t *payload, uint32_t len, uint8_t role, Transport t)
{
    uint64_t ports = (uint64_t)t.proto << 40 | (uint64_t)role << 32 |
                     (uint64_t)(role & 1 ? t.sport : 0) << 16 | (role & 2 ? t.dport : 0);
    uint64_t h = mix64(hash_words(payload, len) ^ mix64(ports));
    return h ? h : 1;
}

static void see_message(Walker *w, uint32_t owner, uint8_t dir, uint8_t app, const uint8_t *payload,
                        uint32_t len, uint32_t offset, int64_t ts, Transport t,
                        const Framing *framing)
{
    const DissectSpec *s = &w->spec[app];
    Event ev = {ts, 0xffffffffu, offset, len, t.seq, owner, t.sport, t.dport, dir, app,
                t.tcp_flags, t.proto, 0, 0};
    if (s->mode == MODE_STREAM) {
        add_event(w, &ev);
        return;
    }
    uint8_t role = 4;
    if (dir != 2) {
        const uint8_t *ports = t.proto == 6 ? w->tcp_app : w->udp_app;
        role = (uint8_t)((ports[t.sport] == app) | ((ports[t.dport] == app) << 1));
    }
    GroupKey key = {owner, dir, app, role, 0, digest(payload, len, s, framing)};
    int created;
    int64_t i = table_upsert_sized(&w->group, &key, &created, sizeof(key));
    if (i < 0) {
        w->oom = 1;
        return;
    }
    GroupEntry *e = (GroupEntry *)(w->group.entries + (size_t)i * sizeof(GroupEntry));
    if (created) {
        e->first_ns = ts;
        e->last_ns = ts;
        e->template = NO_TEMPLATE;
        if (role) {
            /* A message seen before byte for byte (in the same port context)
             * whose dissection Python found shareable: take its template. */
            ev.content = content_digest(payload, len, role, t);
            TemplateKey ck;
            memset(&ck, 0, sizeof(ck));
            ck.app = app;
            ck.digest = ev.content;
            int64_t c_i = table_find(&w->contents, &ck);
            if (c_i >= 0)
                e->template =
                    ((TemplateEntry *)(w->contents.entries + (size_t)c_i * sizeof(TemplateEntry)))->template;
        }
        if (role && e->template == NO_TEMPLATE) {
            /* The first group with a key leads: Python dissects it and, if the
             * result depends on the key alone, learns it for the key. Until
             * then, later groups with the key are its followers: their events
             * name the leader, so Python can take its result without
             * dissecting again (or dissect, if the result was not shared). */
            TemplateKey tk;
            memset(&tk, 0, sizeof(tk));
            tk.app = app;
            tk.role = role;
            tk.digest = key.digest;
            int fresh;
            int64_t t_i = table_upsert(&w->templates, &tk, &fresh);
            if (t_i < 0) {
                w->oom = 1;
                return;
            }
            TemplateEntry *te =
                (TemplateEntry *)(w->templates.entries + (size_t)t_i * sizeof(TemplateEntry));
            if (fresh) {
                te->template = PENDING_TEMPLATE;
                te->pad = (uint32_t)i; /* the leader */
            } else if (te->template == PENDING_TEMPLATE) {
                ev.pad = te->pad + 1; /* a follower of group pad */
            } else {
                e->template = te->template;
            }
        }
        if (e->template == NO_TEMPLATE) {
            ev.group = (uint32_t)i;
            add_event(w, &ev);
        }
    }
    e->count++;
    if (ts < e->first_ns)
        e->first_ns = ts;
    if (ts > e->last_ns)
        e->last_ns = ts;
}

static uint8_t match_signature(const Walker *w, uint8_t proto, const uint8_t *payload, uint32_t len)
{
    for (int i = 0; i < w->nsig; i++) {
        const Signature *s = &w->sig[i];
        if (s->proto != proto || len < s->min_payload || (uint32_t)s->offset + s->length > len)
            continue;
        int ok = 1;
        for (int j = 0; j < s->length && ok; j++)
            ok = ((payload[s->offset + j] & s->mask[j]) == s->value[j]);
        if (ok)
            return s->app;
    }
    return 0;
}

/* True when the segment holds whole PDUs only: then it can be dissected on
 * its own. Otherwise the direction needs TCP reassembly (stream events). */
static int pdu_aligned(const Framing *f, const uint8_t *d, uint32_t n)
{
    uint32_t pos = 0, need = (uint32_t)f->len_offset + f->len_size;
    for (int pdus = 0; pos < n && pdus < 64; pdus++) {
        if (n - pos < need || (f->magic_len && d[pos] != f->magic))
            return 0;
        const uint8_t *l = d + pos + f->len_offset;
        uint64_t len = 0;
        for (int i = 0; i < f->len_size; i++)
            len = f->big_endian ? (len << 8) | l[i] : len | ((uint64_t)l[i] << (8 * i));
        int64_t total = (int64_t)len + f->adjust;
        if (total < (int64_t)need || total > (int64_t)(n - pos) ||
            (f->max_length && total > (int64_t)f->max_length))
            return 0;
        pos += (uint32_t)total;
    }
    return pos == n;
}

typedef struct {
    int family;
    const uint8_t *src, *dst;
    uint8_t proto;
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint32_t seq;
    const uint8_t *payload;
    uint32_t payload_len;
    int fragment; /* 0 whole, 1 first fragment, 2 later fragment */
    uint8_t frag_proto; /* what every fragment names: IPv4 protocol, IPv6 fragment next header */
} Packet;

/* The number of an IPv6 address, written as a conversation key keeps it. */
static int address6_number(Walker *w, const uint8_t *addr, uint8_t out[4])
{
    int created;
    int64_t i = table_upsert(&w->addr6, addr, &created);
    if (i < 0)
        return -1;
    uint32_t number = (uint32_t)i;
    memcpy(out, &number, 4);
    return 0;
}

/* Whether the packet's source is side a of its conversation: the lower
 * (address, port). */
static inline int source_is_a(const Packet *p)
{
    int c;
    if (p->family == 4) { /* as memcmp: the bytes in order are a big-endian number */
        uint32_t s = be32(p->src), d = be32(p->dst);
        c = (s > d) - (s < d);
    } else {
        c = memcmp(p->src, p->dst, 16);
    }
    return c < 0 || (c == 0 && p->sport <= p->dport);
}

/* ``a32`` and ``b32``: side a's and side b's address as the key keeps it */
static inline void conversation_key(ConvKey *key, const Packet *p, int src_is_a, uint32_t a32,
                                    uint32_t b32)
{
    uint16_t port_a = src_is_a ? p->sport : p->dport, port_b = src_is_a ? p->dport : p->sport;
    /* The key written as two whole words, bytes 6-13 and 0-7 (the layout
     * of ConvKey on a little-endian machine): the lookup reads it back in
     * pieces each inside one write (key_equal), and a piece read from
     * several smaller writes would wait for them. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t head = a32 | (uint64_t)b32 << 32;
    uint64_t tail = port_a | (uint64_t)port_b << 16 | (uint64_t)(uint8_t)p->family << 32 |
                    (uint64_t)p->proto << 40; /* bytes 8-13 */
    uint64_t back = head >> 48 | tail << 16;  /* bytes 6-13 */
    memcpy((uint8_t *)key + 6, &back, 8);
    memcpy(key, &head, 8); /* last: bytes 0-7 come from one write */
#else
    memcpy(key->a, &a32, 4);
    memcpy(key->b, &b32, 4);
    key->port_a = port_a;
    key->port_b = port_b;
    key->family = (uint8_t)p->family;
    key->proto = p->proto;
#endif
}

static void see_conversation(Walker *w, const Packet *p, uint32_t wirelen, int64_t ts, uint16_t vlan,
                             const uint8_t *chunk)
{
    int src_is_a = source_is_a(p);
    const uint8_t *a = src_is_a ? p->src : p->dst, *b = src_is_a ? p->dst : p->src;
    uint32_t a32, b32;
    if (p->family == 4) {
        memcpy(&a32, a, 4);
        memcpy(&b32, b, 4);
    } else if (address6_number(w, a, (uint8_t *)&a32) < 0 ||
               address6_number(w, b, (uint8_t *)&b32) < 0) {
        w->oom = 1;
        return;
    }
    ConvKey key;
    conversation_key(&key, p, src_is_a, a32, b32);
    int created;
    int64_t i = table_upsert_sized(&w->conv, &key, &created, sizeof(key));
    if (i < 0) {
        w->oom = 1;
        return;
    }
    ConvEntry *e = (ConvEntry *)(w->conv.entries + (size_t)i * sizeof(ConvEntry));
    if (created) {
        e->first_ns = ts;
        e->last_ns = ts;
        e->vlan = vlan;
        const uint8_t *table = p->proto == 6 ? w->tcp_app : p->proto == 17 ? w->udp_app : NULL;
        if (table) {
            uint16_t lo = p->sport < p->dport ? p->sport : p->dport;
            uint16_t hi = p->sport < p->dport ? p->dport : p->sport;
            e->app = table[lo] ? table[lo] : table[hi];
        }
    }
    if (src_is_a) {
        e->pkts_ab++;
        e->bytes_ab += wirelen;
        e->flags_ab |= p->tcp_flags;
    } else {
        e->pkts_ba++;
        e->bytes_ba += wirelen;
        e->flags_ba |= p->tcp_flags;
    }
    if ((p->tcp_flags & 0x12) == 0x02 && !e->syn_side)
        e->syn_side = src_is_a ? 1 : 2;
    if (ts < e->first_ns)
        e->first_ns = ts;
    if (ts > e->last_ns)
        e->last_ns = ts;
    if (p->proto == 6 && (p->tcp_flags & 0x02) && !p->fragment) {
        /* A SYN starts a sequence space: a new connection on a reused port
         * pair must not be judged against the old connection's numbers. */
        uint8_t dir = src_is_a ? 0 : 1;
        e->next_seq[dir] = p->seq + 1;
        e->stream_dirs |= (uint8_t)(4u << dir);
    }
    if (p->payload_len == 0 || p->fragment)
        return;
    if (!e->app && !e->sig_checked && w->nsig) {
        e->sig_checked = 1;
        e->app = match_signature(w, p->proto, p->payload, p->payload_len);
    }
    if (!e->app || w->spec[e->app].mode == MODE_NONE)
        return;
    uint8_t dir = src_is_a ? 0 : 1;
    const uint8_t *payload = p->payload;
    uint32_t payload_len = p->payload_len, seq = p->seq;
    if (p->proto == 6) {
        /* A segment wholly below what this direction already sent is a
         * retransmission: its messages were counted once already. One that
         * starts below and ends beyond (a retransmission the sender topped
         * up with new data) is read from its first new byte on. */
        uint32_t end = seq + payload_len;
        uint8_t known = (uint8_t)(4u << dir);
        if (e->stream_dirs & known) {
            if ((int32_t)(end - e->next_seq[dir]) <= 0)
                return;
            int32_t seen = (int32_t)(e->next_seq[dir] - seq);
            if (seen > 0) {
                payload += seen;
                payload_len -= (uint32_t)seen;
                seq = e->next_seq[dir];
            }
        }
        e->next_seq[dir] = end;
        e->stream_dirs |= known;
    }
    uint8_t limit = w->spec[e->app].max_messages;
    if (limit) {
        /* Protocols identified by their opening (banners, hellos, headers):
         * the bulk data that follows is counted, not dissected. */
        if (e->messages[dir] >= limit)
            return;
        e->messages[dir]++;
    }
    const Framing *f = &w->framing[e->app];
    if (p->proto == 6 && f->len_size && !(e->stream_dirs & (1u << dir)) &&
        !pdu_aligned(f, payload, payload_len))
        e->stream_dirs |= (uint8_t)(1u << dir);
    Transport t = {seq, p->sport, p->dport, p->tcp_flags, p->proto};
    if (e->stream_dirs & (1u << dir)) {
        Event ev = {ts, 0xffffffffu, (uint32_t)(payload - chunk), payload_len, seq,
                    (uint32_t)i, p->sport, p->dport, dir, e->app, p->tcp_flags, p->proto, 0, 0};
        add_event(w, &ev);
        return;
    }
    see_message(w, (uint32_t)i, dir, e->app, payload, payload_len,
                (uint32_t)(payload - chunk), ts, t, p->proto == 6 ? f : NULL);
}

/* Ports of later fragments come from the first one (RFC 791 / RFC 8200). */
static Fragment *fragment_slot(Walker *w, const Packet *p, uint32_t id)
{
    size_t alen = p->family == 4 ? 4 : 16;
    uint8_t k[40];
    memset(k, 0, sizeof(k));
    memcpy(k, p->src, alen);
    memcpy(k + 16, p->dst, alen);
    memcpy(k + 32, &id, 4);
    k[36] = p->frag_proto;
    return &w->frag[hash_words(k, sizeof(k)) & (FRAG_SLOTS - 1)];
}

static int fragment_matches(const Fragment *f, const Packet *p, uint32_t id)
{
    size_t alen = p->family == 4 ? 4 : 16;
    return f->valid && f->family == p->family && f->proto == p->frag_proto && f->id == id &&
           memcmp(f->src, p->src, alen) == 0 && memcmp(f->dst, p->dst, alen) == 0;
}

static void remember_fragment(Walker *w, const Packet *p, uint32_t id)
{
    Fragment *f = fragment_slot(w, p, id);
    size_t alen = p->family == 4 ? 4 : 16;
    memset(f, 0, sizeof(*f));
    memcpy(f->src, p->src, alen);
    memcpy(f->dst, p->dst, alen);
    f->id = id;
    f->family = (uint8_t)p->family;
    f->proto = p->frag_proto;
    f->upper = p->proto;
    f->sport = p->sport;
    f->dport = p->dport;
    f->valid = 1;
}

static void transport(Walker *w, Packet *p, const uint8_t *l4, uint32_t len, uint32_t id)
{
    if (p->fragment == 2) {
        w->counters[C_FRAGMENTS]++;
        Fragment *f = fragment_slot(w, p, id);
        if (fragment_matches(f, p, id)) {
            p->proto = f->upper;
            p->sport = f->sport;
            p->dport = f->dport;
        }
        return;
    }
    switch (p->proto) {
    case 6:
        w->counters[C_TCP]++;
        if (len < 20) {
            w->counters[C_TRUNCATED]++;
            break;
        }
        p->sport = be16(l4);
        p->dport = be16(l4 + 2);
        p->seq = be32(l4 + 4);
        p->tcp_flags = l4[13];
        {
            uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
            if (doff >= 20 && doff <= len) {
                p->payload = l4 + doff;
                p->payload_len = len - doff;
            }
        }
        break;
    case 17:
        w->counters[C_UDP]++;
        if (len < 8) {
            w->counters[C_TRUNCATED]++;
            break;
        }
        p->sport = be16(l4);
        p->dport = be16(l4 + 2);
        {
            uint32_t ulen = be16(l4 + 4);
            uint32_t n = len - 8;
            if (ulen >= 8 && ulen - 8 < n)
                n = ulen - 8;
            p->payload = l4 + 8;
            p->payload_len = n;
        }
        break;
    case 1:
    case 58:
        w->counters[C_ICMP]++;
        break;
    default:
        w->counters[C_OTHER_IP]++;
    }
    if (p->fragment == 1 && (p->proto == 6 || p->proto == 17))
        remember_fragment(w, p, id);
}

/* Returns 0 when the packet was decoded far enough to count as a conversation. */
static int ipv4(Walker *w, Packet *p, const uint8_t *d, uint32_t len)
{
    if (len < 20 || (d[0] >> 4) != 4) {
        w->counters[len < 20 ? C_TRUNCATED : C_UNDECODED]++;
        return -1;
    }
    uint32_t ihl = (uint32_t)(d[0] & 15) * 4;
    uint32_t total = be16(d + 2);
    if (ihl < 20 || ihl > len) {
        w->counters[C_TRUNCATED]++;
        return -1;
    }
    if (total >= ihl && total < len)
        len = total; /* drop Ethernet padding */
    w->counters[C_IPV4]++;
    p->family = 4;
    p->src = d + 12;
    p->dst = d + 16;
    p->proto = d[9];
    uint16_t frag = be16(d + 6);
    uint16_t offset = frag & 0x1fff;
    int more = (frag & 0x2000) != 0;
    p->fragment = offset ? 2 : more ? 1 : 0;
    p->frag_proto = p->proto;
    transport(w, p, d + ihl, len - ihl, be16(d + 4));
    return 0;
}

static int ipv6(Walker *w, Packet *p, const uint8_t *d, uint32_t len)
{
    if (len < 40 || (d[0] >> 4) != 6) {
        w->counters[len < 40 ? C_TRUNCATED : C_UNDECODED]++;
        return -1;
    }
    uint32_t plen = be16(d + 4);
    if (plen + 40 < len)
        len = plen + 40;
    w->counters[C_IPV6]++;
    p->family = 6;
    p->src = d + 8;
    p->dst = d + 24;
    uint8_t next = d[6];
    uint32_t off = 40, id = 0;
    for (int hops = 0; hops < 8; hops++) {
        if (next == 0 || next == 43 || next == 60) {
            if (off + 8 > len)
                break;
            uint8_t nh = d[off];
            off += ((uint32_t)d[off + 1] + 1) * 8;
            next = nh;
        } else if (next == 51) {
            if (off + 8 > len)
                break;
            uint8_t nh = d[off];
            off += ((uint32_t)d[off + 1] + 2) * 4;
            next = nh;
        } else if (next == 44) {
            if (off + 8 > len)
                break;
            uint16_t fo = be16(d + off + 2);
            id = be32(d + off + 4);
            p->fragment = (fo >> 3) ? 2 : (fo & 1) ? 1 : 0;
            p->frag_proto = d[off];
            next = d[off];
            off += 8;
            if (p->fragment == 2)
                break; /* what follows is fragment data, not headers (RFC 8200 4.5) */
        } else {
            break;
        }
    }
    p->proto = next;
    if (off > len) {
        w->counters[C_TRUNCATED]++;
        off = len;
    }
    transport(w, p, d + off, len - off, id);
    return 0;
}

static int l2_kind(uint16_t type)
{
    switch (type) {
    case 0x8892:
        return L2_PROFINET;
    case 0x88b8:
        return L2_GOOSE;
    case 0x88ba:
        return L2_SV;
    case 0x88a4:
        return L2_ETHERCAT;
    case 0x88ab:
        return L2_POWERLINK;
    case 0x88cc:
        return L2_LLDP;
    default:
        return -1;
    }
}

static void arp(Walker *w, const uint8_t *d, uint32_t len, uint16_t vlan, int64_t ts)
{
    w->counters[C_ARP]++;
    if (len < 28 || be16(d) != 1 || be16(d + 2) != 0x0800 || d[4] != 6 || d[5] != 4) {
        if (len < 28)
            w->counters[C_TRUNCATED]++;
        return;
    }
    static const uint8_t zero[4] = {0, 0, 0, 0};
    if (memcmp(d + 14, zero, 4) != 0)
        see_binding(w, mac48(d + 8), vlan, 4, d + 14, ts, 2);
}

/* Layer 3 and up, after the link layer gave an ethertype. */
static void network(Walker *w, uint16_t type, const uint8_t *d, uint32_t len, int has_mac,
                    uint64_t src_mac, uint16_t vlan, uint32_t wirelen, int64_t ts,
                    const uint8_t *chunk)
{
    int kind = -1;
    if (type != 0x0800 && type != 0x86dd && type != 0x0806)
        kind = l2_kind(type);
    if (has_mac)
        see_station(w, src_mac, vlan, wirelen, ts, kind);
    Packet p;
    memset(&p, 0, sizeof(p));
    int ok;
    if (type == 0x0800)
        ok = ipv4(w, &p, d, len);
    else if (type == 0x86dd)
        ok = ipv6(w, &p, d, len);
    else if (type == 0x0806) {
        arp(w, d, len, vlan, ts);
        return;
    } else {
        w->counters[C_LAYER2]++;
        for (int i = 0; has_mac && i < w->nethertype; i++)
            if (w->ethertype[i] == type && w->spec[w->ethertype_app[i]].mode != MODE_NONE && len) {
                StationKey key = {src_mac};
                int created;
                int64_t s = table_upsert(&w->station, &key, &created);
                if (s >= 0)
                    see_message(w, (uint32_t)s, 2, w->ethertype_app[i], d, len,
                                (uint32_t)(d - chunk), ts, (Transport){0, 0, 0, 0, 0}, NULL);
            }
        return;
    }
    if (ok < 0)
        return;
    size_t alen = p.family == 4 ? 4 : 16;
    static const uint8_t zero[16] = {0};
    /* 0.0.0.0 / :: senders (DHCP discover, DAD) bind nothing; neither do
     * multicast source MACs, which no real station sends from. */
    if (has_mac && !(src_mac & 0x010000000000ULL) && memcmp(p.src, zero, alen) != 0)
        see_binding(w, src_mac, vlan, p.family, p.src, ts, 1);
    see_conversation(w, &p, wirelen, ts, vlan, chunk);
}

/* 802.1Q, 802.1ad and the older QinQ tag types */
static inline int is_vlan_tag(uint16_t type)
{
    return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

#define MAX_VLAN_TAGS 4

/* Past the VLAN tags after an Ethernet header, at most MAX_VLAN_TAGS:
 * ``*type`` becomes the ethertype after them, ``*off`` where it starts,
 * ``*vlan`` the innermost tag's VLAN. Returns the tags read; the frame ended
 * inside one when fewer than MAX_VLAN_TAGS were read and ``*type`` is still
 * a tag type. */
static inline int vlan_tags(const uint8_t *d, uint32_t len, uint16_t *type, uint32_t *off,
                            uint16_t *vlan)
{
    int tags = 0;
    for (; is_vlan_tag(*type) && tags < MAX_VLAN_TAGS; tags++) {
        if (*off + 4 > len)
            break;
        *vlan = be16(d + *off) & 0x0fff;
        *type = be16(d + *off + 2);
        *off += 4;
    }
    return tags;
}

static void ethernet(Walker *w, const uint8_t *d, uint32_t len, uint32_t wirelen, int64_t ts,
                     const uint8_t *chunk)
{
    if (len < 14) {
        w->counters[C_TRUNCATED]++;
        return;
    }
    uint64_t src = mac48(d + 6);
    uint16_t type = be16(d + 12);
    uint32_t off = 14;
    uint16_t vlan = 0;
    int tags = vlan_tags(d, len, &type, &off, &vlan);
    if (tags > 0)
        w->counters[C_VLAN_TAGGED]++;
    if (tags < MAX_VLAN_TAGS && is_vlan_tag(type)) { /* the frame ends inside a tag */
        w->counters[C_TRUNCATED]++;
        return;
    }
    if (type <= 1500) { /* IEEE 802.3 length: LLC, maybe SNAP */
        if (off + 8 <= len && d[off] == 0xaa && d[off + 1] == 0xaa && d[off + 2] == 0x03) {
            type = be16(d + off + 6);
            off += 8;
        } else {
            see_station(w, src, vlan, wirelen, ts, -1);
            w->counters[C_LAYER2]++;
            return;
        }
    }
    network(w, type, d + off, len - off, 1, src, vlan, wirelen, ts, chunk);
}

static void frame(Walker *w, int linktype, const uint8_t *d, uint32_t len, uint32_t wirelen,
                  int64_t ts, const uint8_t *chunk)
{
    w->counters[C_PACKETS]++;
    w->counters[C_BYTES] += wirelen;
    if (w->counters[C_PACKETS] == 1 || ts < w->first_ns)
        w->first_ns = ts;
    if (w->counters[C_PACKETS] == 1 || ts > w->last_ns)
        w->last_ns = ts;
    if (len == 0) {
        w->counters[C_EMPTY]++;
        return;
    }
    switch (linktype) {
    case 1: /* Ethernet */
        ethernet(w, d, len, wirelen, ts, chunk);
        return;
    case 113: /* Linux cooked v1 */
        if (len < 16) {
            w->counters[C_TRUNCATED]++;
            return;
        }
        network(w, be16(d + 14), d + 16, len - 16, be16(d + 2) == 1 && be16(d + 4) == 6,
                mac48(d + 6), 0, wirelen, ts, chunk);
        return;
    case 276: /* Linux cooked v2 */
        if (len < 20) {
            w->counters[C_TRUNCATED]++;
            return;
        }
        network(w, be16(d), d + 20, len - 20, be16(d + 8) == 1 && d[11] == 6, mac48(d + 12), 0,
                wirelen, ts, chunk);
        return;
    case 101: /* raw IP */
    case 12:
    case 14:
        if ((d[0] >> 4) == 4 || (d[0] >> 4) == 6) {
            network(w, (d[0] >> 4) == 4 ? 0x0800 : 0x86dd, d, len, 0, 0, 0, wirelen, ts, chunk);
            return;
        }
        w->counters[C_UNDECODED]++;
        return;
    case 228:
        network(w, 0x0800, d, len, 0, 0, 0, wirelen, ts, chunk);
        return;
    case 229:
        network(w, 0x86dd, d, len, 0, 0, 0, wirelen, ts, chunk);
        return;
    case 0:   /* BSD loopback: address family in the writer's byte order */
    case 108: /* OpenBSD loopback: network byte order */
    {
        if (len < 4) {
            w->counters[C_TRUNCATED]++;
            return;
        }
        uint32_t fam = be32(d);
        if (linktype == 0 && fam > 0xffff)
            fam = __builtin_bswap32(fam);
        if (fam == 2)
            network(w, 0x0800, d + 4, len - 4, 0, 0, 0, wirelen, ts, chunk);
        else if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
            network(w, 0x86dd, d + 4, len - 4, 0, 0, 0, wirelen, ts, chunk);
        else
            w->counters[C_UNDECODED]++;
        return;
    }
    default:
        w->counters[C_UNSUPPORTED_LINK]++;
    }
}

/* ------------------------------------------------------------------ */
/* pcapng packet blocks                                                */

/* enhanced (6), obsolete (2) and simple (3) packet blocks */
static inline int is_packet_block(uint32_t type) { return type == 6 || type == 2 || type == 3; }

/* The packet in a packet block: its interface, where its bytes start, how
 * many were captured, its length on the wire and (enhanced and obsolete
 * blocks) its timestamp in the interface's units. A simple packet block is
 * interface 0's, cut to its snap length, without a timestamp. */
typedef struct {
    uint32_t iface, caplen, wirelen;
    uint64_t ts;
    const uint8_t *data;
} BlockPacket;

/* Reads the packet of block ``type`` from its body (``b``, ``body``
 * bytes); -1 when the block cannot hold what it says it holds. */
static inline int block_packet(uint32_t type, const uint8_t *b, uint32_t body, int swapped,
                               const Interface *ifs, size_t nif, BlockPacket *p)
{
    if (type == 3) {
        if (body < 4 || nif == 0)
            return -1;
        p->iface = 0;
        p->ts = 0;
        p->wirelen = p->caplen = rd32(b, swapped);
        if (ifs[0].snaplen && p->caplen > ifs[0].snaplen)
            p->caplen = ifs[0].snaplen;
        if (p->caplen > body - 4)
            p->caplen = body - 4;
        p->data = b + 4;
        return 0;
    }
    if (body < 20)
        return -1;
    p->iface = type == 6 ? rd32(b, swapped) : rd16(b, swapped);
    p->ts = ((uint64_t)rd32(b + 4, swapped) << 32) | rd32(b + 8, swapped);
    p->caplen = rd32(b + 12, swapped);
    p->wirelen = rd32(b + 16, swapped);
    p->data = b + 20;
    return p->caplen > body - 20 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* look-ahead                                                          */

/* With a million conversations the tables are far larger than the caches,
 * and a packet's lookups (station, binding, conversation) each wait on
 * memory: most of a walk was spent so. The walks therefore read the records
 * a few places ahead of the one they decode for their keys, once to fetch
 * the keys' slots and again, nearer, to fetch the entries those slots name
 * (table_prefetch); by the time the packet is decoded its lookups hit the
 * cache. Only the common frames are looked at (Ethernet, IPv4 TCP and UDP
 * that is not fragmented, IPv6 to its binding); anything else is decoded
 * as before, just without the head start. Updates still happen in capture
 * order, in frame(); and while the tables are small, there is no look-ahead. */
#define FETCH_SLOTS_AHEAD 8   /* records */
#define FETCH_ENTRIES_AHEAD 4 /* records: the slot fetched 4 records ago is in */
#define FETCH_TABLES_FROM ((size_t)8 << 20) /* bytes of tables: the default look_ahead_from */

static void prefetch_frame(const Walker *w, int linktype, const uint8_t *d, uint32_t len, int stage)
{
    if (linktype != 1 || len < 14)
        return;
    uint64_t mac = mac48(d + 6);
    uint16_t type = be16(d + 12), vlan = 0;
    uint32_t off = 14;
    vlan_tags(d, len, &type, &off, &vlan); /* cut short: the type is no IP type */
    StationKey station = {mac};
    table_prefetch(&w->station, &station, sizeof(station), stage);
    const uint8_t *ip = d + off;
    len -= off;
    BindKey binding;
    if (type == 0x86dd && len >= 40) {
        binding_key(&binding, mac, vlan, 6, ip + 8);
        table_prefetch(&w->bind, &binding, sizeof(binding), stage);
        return;
    }
    if (type != 0x0800 || len < 20 || (ip[0] >> 4) != 4)
        return;
    binding_key(&binding, mac, vlan, 4, ip + 12);
    table_prefetch(&w->bind, &binding, sizeof(binding), stage);
    uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;
    Packet p = {.family = 4, .src = ip + 12, .dst = ip + 16, .proto = ip[9]};
    uint32_t need = p.proto == 6 ? 20 : p.proto == 17 ? 8 : 0; /* as transport() reads ports */
    if (!need || ihl < 20 || ihl + need > len || (be16(ip + 6) & 0x3fff))
        return;
    p.sport = be16(ip + ihl);
    p.dport = be16(ip + ihl + 2);
    int src_is_a = source_is_a(&p);
    uint32_t a32, b32;
    memcpy(&a32, src_is_a ? p.src : p.dst, 4);
    memcpy(&b32, src_is_a ? p.dst : p.src, 4);
    ConvKey conversation;
    conversation_key(&conversation, &p, src_is_a, a32, b32);
    table_prefetch(&w->conv, &conversation, sizeof(conversation), stage);
}

/* Whether the tables a packet looks up have outgrown the caches. Until
 * they do, every lookup hits the cache anyway, and a look-ahead (three key
 * hashes per record, twice) costs more than it saves: a capture of a few
 * thousand conversations is walked a third slower with it. */
static int tables_outgrow_caches(const Walker *w)
{
    const Table *tables[] = {&w->conv, &w->group, &w->station, &w->bind};
    size_t bytes = 0;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        bytes += tables[i]->count * tables[i]->entry_size + tables[i]->nslots * sizeof(uint32_t);
    return bytes >= w->look_ahead_from;
}

/* look_ahead_from(bytes): the table size from which walks look ahead; 0
 * always (tests compare a walk with and without it). */
static PyObject *set_look_ahead_from(Walker *w, PyObject *arg)
{
    size_t bytes = PyLong_AsSize_t(arg);
    if (bytes == (size_t)-1 && PyErr_Occurred())
        return NULL;
    w->look_ahead_from = bytes;
    Py_RETURN_NONE;
}

/* A look-ahead through the records of a walk: where it is and how many
 * records it has passed. */
typedef struct {
    size_t at, records;
} Ahead;

/* Moves ``a`` on to ``until`` records, prefetching each; it stops, as the
 * walk does, at a record that is not whole in the buffer or is too long. */
static void pcap_ahead(const Walker *w, Ahead *a, size_t until, int stage, const uint8_t *d,
                       size_t n, int swapped, int linktype, uint32_t limit)
{
    while (a->records < until && a->at + 16 <= n) {
        uint32_t caplen = rd32(d + a->at + 8, swapped);
        if (caplen > limit || a->at + 16 + caplen > n)
            return;
        prefetch_frame(w, linktype, d + a->at + 16, caplen, stage);
        a->at += 16 + caplen;
        a->records++;
    }
}

/* The same through pcapng blocks: it stops at any block that is not a
 * packet block, or not whole in the buffer, or too long; packets it cannot
 * frame (a bad interface, a short block) it passes without a prefetch. */
static void pcapng_ahead(const Walker *w, Ahead *a, size_t until, int stage, const uint8_t *d,
                         size_t n, int swapped, const Interface *ifs, size_t nif, uint32_t limit)
{
    while (a->records < until && a->at + 12 <= n) {
        uint32_t type = rd32(d + a->at, swapped), len = rd32(d + a->at + 4, swapped);
        if (!is_packet_block(type) || len < 12 || (len & 3) || len > limit || a->at + len > n)
            return;
        BlockPacket p;
        if (block_packet(type, d + a->at + 8, len - 12, swapped, ifs, nif, &p) == 0 &&
            p.iface < nif)
            prefetch_frame(w, ifs[p.iface].linktype, p.data, p.caplen, stage);
        a->at += len;
        a->records++;
    }
}

/* ------------------------------------------------------------------ */
/* record walks                                                        */

enum { WALK_MORE = 0, WALK_META = 1, WALK_DAMAGED = 2, WALK_NOMEM = 3 };

/* walk_pcap(buffer, swapped, nano, linktype, snaplen, limit)
 * -> (consumed, status, claimed_length, 0) */
static PyObject *walk_pcap(Walker *w, PyObject *args)
{
    Py_buffer buf;
    int swapped, nano, linktype;
    unsigned int snaplen, limit;
    if (!PyArg_ParseTuple(args, "y*ppiII", &buf, &swapped, &nano, &linktype, &snaplen, &limit))
        return NULL;
    const uint8_t *d = buf.buf;
    size_t n = (size_t)buf.len, off = 0;
    int status = WALK_MORE;
    unsigned long claimed = 0;
    Ahead slots = {off, 0}, entries = {off, 0};
    size_t walked = 0; /* records */
    int ahead = tables_outgrow_caches(w);
    Py_BEGIN_ALLOW_THREADS;
    while (off + 16 <= n) {
        if (ahead) {
            pcap_ahead(w, &slots, walked + FETCH_SLOTS_AHEAD, 0, d, n, swapped, linktype, limit);
            pcap_ahead(w, &entries, walked + FETCH_ENTRIES_AHEAD, 1, d, n, swapped, linktype, limit);
        }
        uint32_t sec = rd32(d + off, swapped), frac = rd32(d + off + 4, swapped);
        uint32_t caplen = rd32(d + off + 8, swapped), wirelen = rd32(d + off + 12, swapped);
        if (caplen > limit) {
            status = WALK_DAMAGED;
            claimed = caplen;
            break;
        }
        if (off + 16 + caplen > n)
            break;
        if (caplen > snaplen)
            w->counters[C_OVER_SNAPLEN]++;
        if (wirelen < caplen)
            wirelen = caplen;
        int64_t ts = (int64_t)sec * 1000000000LL + (nano ? (int64_t)frac : (int64_t)frac * 1000);
        frame(w, linktype, d + off + 16, caplen, wirelen, ts, d);
        off += 16 + caplen;
        walked++;
        if (w->oom) {
            status = WALK_NOMEM;
            break;
        }
    }
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&buf);
    return Py_BuildValue("(nikk)", (Py_ssize_t)off, status, claimed, 0ul);
}

static int64_t pcapng_ns(const Interface *ifc, uint64_t ts)
{
    switch (ifc->mode) {
    case 0:
        return (int64_t)(ts * (uint64_t)ifc->mul) + ifc->offset_ns;
    case 1:
        return (int64_t)(ts / (uint64_t)ifc->div) + ifc->offset_ns;
    default:
        return (int64_t)(((unsigned __int128)ts * 1000000000u) >> ifc->shift) + ifc->offset_ns;
    }
}

/* walk_pcapng(buffer, swapped, interfaces, limit)
 * -> (consumed, status, block_type, block_length); stops before any block
 * that is not a packet block (SHB, IDB, statistics ...) for Python to read. */
static PyObject *walk_pcapng(Walker *w, PyObject *args)
{
    Py_buffer buf, ifbuf;
    int swapped;
    unsigned int limit;
    if (!PyArg_ParseTuple(args, "y*py*I", &buf, &swapped, &ifbuf, &limit))
        return NULL;
    const uint8_t *d = buf.buf;
    const Interface *ifs = ifbuf.buf;
    size_t nif = (size_t)ifbuf.len / sizeof(Interface);
    size_t n = (size_t)buf.len, off = 0;
    int status = WALK_MORE;
    unsigned long btype = 0, blen = 0;
    Ahead slots = {off, 0}, entries = {off, 0};
    size_t walked = 0; /* blocks */
    int ahead = tables_outgrow_caches(w);
    Py_BEGIN_ALLOW_THREADS;
    while (off + 12 <= n) {
        if (ahead) {
            pcapng_ahead(w, &slots, walked + FETCH_SLOTS_AHEAD, 0, d, n, swapped, ifs, nif, limit);
            pcapng_ahead(w, &entries, walked + FETCH_ENTRIES_AHEAD, 1, d, n, swapped, ifs, nif,
                         limit);
        }
        uint32_t type = rd32(d + off, swapped), len = rd32(d + off + 4, swapped);
        btype = type;
        blen = len;
        if (type == 0x0A0D0D0A) { /* section header: Python reads its byte order */
            status = WALK_META;
            break;
        }
        if (len < 12 || (len & 3) || len > limit) {
            status = WALK_DAMAGED;
            break;
        }
        if (off + len > n)
            break;
        if (rd32(d + off + len - 4, swapped) != len) {
            status = WALK_DAMAGED;
            break;
        }
        const uint8_t *b = d + off + 8;
        uint32_t body = len - 12;
        if (!is_packet_block(type)) {
            status = WALK_META;
            break;
        }
        BlockPacket p;
        if (block_packet(type, b, body, swapped, ifs, nif, &p) < 0) {
            status = WALK_DAMAGED;
            break;
        }
        if (type == 3) /* no timestamp: the last one seen */
            frame(w, ifs[0].linktype, p.data, p.caplen, p.wirelen, w->last_ns, d);
        else if (p.iface >= nif) {
            w->counters[C_PACKETS]++;
            w->counters[C_BAD_INTERFACE]++;
        } else
            frame(w, ifs[p.iface].linktype, p.data, p.caplen, p.caplen > p.wirelen ? p.caplen : p.wirelen,
                  pcapng_ns(&ifs[p.iface], p.ts), d);
        off += len;
        walked++;
        if (w->oom) {
            status = WALK_NOMEM;
            break;
        }
    }
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&buf);
    PyBuffer_Release(&ifbuf);
    return Py_BuildValue("(nikk)", (Py_ssize_t)off, status, btype, blen);
}

/* ------------------------------------------------------------------ */
/* configuration and export                                            */

/* configure(tcp_ports, udp_ports, specs, signatures, ethertypes)
 * tcp_ports/udp_ports: 65536 bytes, app id per port; specs: 256 x 4 bytes
 * (mode, skip, len, 0); signatures: n x sizeof(Signature); ethertypes:
 * n x (uint16 type, uint8 app, uint8 0). */
static PyObject *configure(Walker *w, PyObject *args)
{
    Py_buffer tcp, udp, spec, sig, eth;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*", &tcp, &udp, &spec, &sig, &eth))
        return NULL;
    PyObject *result = NULL;
    if (tcp.len != 65536 || udp.len != 65536 || spec.len != (Py_ssize_t)sizeof(w->spec) ||
        sig.len % (Py_ssize_t)sizeof(Signature) || sig.len / (Py_ssize_t)sizeof(Signature) > MAX_SIGNATURES ||
        eth.len % 4 || eth.len / 4 > MAX_ETHERTYPE_APPS) {
        PyErr_SetString(PyExc_ValueError, "configure: tables of the wrong size");
        goto done;
    }
    memcpy(w->tcp_app, tcp.buf, 65536);
    memcpy(w->udp_app, udp.buf, 65536);
    memcpy(w->spec, spec.buf, sizeof(w->spec));
    w->nsig = (int)(sig.len / (Py_ssize_t)sizeof(Signature));
    memcpy(w->sig, sig.buf, (size_t)sig.len);
    w->nethertype = (int)(eth.len / 4);
    for (int i = 0; i < w->nethertype; i++) {
        const uint8_t *e = (const uint8_t *)eth.buf + i * 4;
        memcpy(&w->ethertype[i], e, 2);
        w->ethertype_app[i] = e[2];
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&tcp);
    PyBuffer_Release(&udp);
    PyBuffer_Release(&spec);
    PyBuffer_Release(&sig);
    PyBuffer_Release(&eth);
    return result;
}

/* configure_framing(framings): 256 x sizeof(Framing) bytes, one per app id. */
static PyObject *configure_framing(Walker *w, PyObject *arg)
{
    Py_buffer buf;
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0)
        return NULL;
    if (buf.len != (Py_ssize_t)sizeof(w->framing)) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "configure_framing: table of the wrong size");
        return NULL;
    }
    memcpy(w->framing, buf.buf, sizeof(w->framing));
    PyBuffer_Release(&buf);
    Py_RETURN_NONE;
}

/* learn_template(group, template): the dissection result of this group is
 * shared by every later group with the same (app, role, digest). */
static PyObject *learn_template(Walker *w, PyObject *args)
{
    unsigned int group, template;
    if (!PyArg_ParseTuple(args, "II", &group, &template))
        return NULL;
    if (group >= w->group.count) {
        PyErr_SetString(PyExc_IndexError, "no such group");
        return NULL;
    }
    const GroupEntry *g = (const GroupEntry *)(w->group.entries + (size_t)group * sizeof(GroupEntry));
    if (!g->k.role)
        Py_RETURN_NONE;
    TemplateKey tk;
    memset(&tk, 0, sizeof(tk));
    tk.app = g->k.app;
    tk.role = g->k.role;
    tk.digest = g->k.digest;
    int created;
    int64_t i = table_upsert(&w->templates, &tk, &created);
    if (i < 0)
        return PyErr_NoMemory();
    ((TemplateEntry *)(w->templates.entries + (size_t)i * sizeof(TemplateEntry)))->template = template;
    Py_RETURN_NONE;
}

/* learn_content(app, content, template): the dissection result of a message
 * with this content digest (an event's ``content``) is shared by every later
 * group whose first message has the same content. */
static PyObject *learn_content(Walker *w, PyObject *args)
{
    unsigned int app, template;
    unsigned long long content;
    if (!PyArg_ParseTuple(args, "IKI", &app, &content, &template))
        return NULL;
    if (!content || app > 255)
        Py_RETURN_NONE;
    TemplateKey ck;
    memset(&ck, 0, sizeof(ck));
    ck.app = (uint8_t)app;
    ck.digest = content;
    int created;
    int64_t i = table_upsert(&w->contents, &ck, &created);
    if (i < 0)
        return PyErr_NoMemory();
    ((TemplateEntry *)(w->contents.entries + (size_t)i * sizeof(TemplateEntry)))->template = template;
    Py_RETURN_NONE;
}

static PyObject *table_bytes(const Table *t)
{
    return PyBytes_FromStringAndSize((const char *)t->entries, (Py_ssize_t)(t->count * t->entry_size));
}

/* What Python reads of a conversation: the walk's entry without what only
 * the walk needs, its addresses in full (``Conversation``) or, in a capture
 * without IPv6 conversations, in 4 bytes each (``Conversation4``). */
#define EXPORT_COUNTS(out, e)                                                                      \
    do {                                                                                           \
        (out)->port_a = (e)->k.port_a;                                                             \
        (out)->port_b = (e)->k.port_b;                                                             \
        (out)->family = (e)->k.family;                                                             \
        (out)->proto = (e)->k.proto;                                                               \
        (out)->flags_ab = (e)->flags_ab;                                                           \
        (out)->flags_ba = (e)->flags_ba;                                                           \
        (out)->pkts_ab = (e)->pkts_ab;                                                             \
        (out)->pkts_ba = (e)->pkts_ba;                                                             \
        (out)->bytes_ab = (e)->bytes_ab;                                                           \
        (out)->bytes_ba = (e)->bytes_ba;                                                           \
        (out)->first_ns = (e)->first_ns;                                                           \
        (out)->last_ns = (e)->last_ns;                                                             \
        (out)->syn_side = (e)->syn_side;                                                           \
        (out)->app = (e)->app;                                                                     \
        (out)->vlan = (e)->vlan;                                                                   \
    } while (0)

static void export_conversation(const Walker *w, const ConvEntry *e, Conversation *out)
{
    memset(out, 0, sizeof(*out));
    if (e->k.family == 4) {
        memcpy(out->a, e->k.a, 4);
        memcpy(out->b, e->k.b, 4);
    } else {
        uint32_t a, b;
        memcpy(&a, e->k.a, 4);
        memcpy(&b, e->k.b, 4);
        memcpy(out->a, w->addr6.entries + (size_t)a * 16, 16);
        memcpy(out->b, w->addr6.entries + (size_t)b * 16, 16);
    }
    EXPORT_COUNTS(out, e);
}

static void export_conversation4(const ConvEntry *e, Conversation4 *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->a, e->k.a, 4);
    memcpy(out->b, e->k.b, 4);
    EXPORT_COUNTS(out, e);
}

/* The size of a conversation as Python gets it: 16-byte addresses only when
 * the capture has IPv6 conversations. */
static size_t conversation_size(const Walker *w)
{
    return w->addr6.count ? sizeof(Conversation) : sizeof(Conversation4);
}

/* Every conversation as Python reads it, written over the walk's entries in
 * ``data`` (room for ``n`` of the larger of the two). Smaller ones are
 * written front to back, larger back to front: each entry is copied out
 * before its place is written, and no place written holds an entry not yet
 * read. */
static void export_conversations(const Walker *w, uint8_t *data, size_t n)
{
    if (conversation_size(w) == sizeof(Conversation4)) {
        for (size_t i = 0; i < n; i++) {
            ConvEntry e;
            Conversation4 out;
            memcpy(&e, data + i * sizeof(ConvEntry), sizeof(e));
            export_conversation4(&e, &out);
            memcpy(data + i * sizeof(out), &out, sizeof(out));
        }
        return;
    }
    for (size_t i = n; i-- > 0;) {
        ConvEntry e;
        Conversation out;
        memcpy(&e, data + i * sizeof(ConvEntry), sizeof(e));
        export_conversation(w, &e, &out);
        memcpy(data + i * sizeof(out), &out, sizeof(out));
    }
}

/* conversations() -> bytes: a copy of what take_conversations would hand over. */
static PyObject *conversations(Walker *w, PyObject *unused)
{
    size_t n = w->conv.count, size = conversation_size(w);
    size_t room = size > sizeof(ConvEntry) ? size : sizeof(ConvEntry);
    PyObject *r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * room));
    if (!r)
        return NULL;
    uint8_t *data = (uint8_t *)PyBytes_AS_STRING(r);
    memcpy(data, w->conv.entries, n * sizeof(ConvEntry));
    export_conversations(w, data, n);
    if (_PyBytes_Resize(&r, (Py_ssize_t)(n * size)) < 0)
        return NULL;
    return r;
}
static PyObject *bindings(Walker *w, PyObject *unused) { return table_bytes(&w->bind); }
static PyObject *stations(Walker *w, PyObject *unused) { return table_bytes(&w->station); }

/* A table's entries handed over to Python without a copy: a writable
 * buffer that owns the memory (freed with the last view of it). */
typedef struct {
    PyObject_HEAD uint8_t *data;
    Py_ssize_t size;
} Entries;

static int entries_getbuffer(Entries *self, Py_buffer *view, int flags)
{
    return PyBuffer_FillInfo(view, (PyObject *)self, self->data, self->size, 0, flags);
}

static void entries_dealloc(Entries *self)
{
    free(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyBufferProcs entries_as_buffer = {.bf_getbuffer = (getbufferproc)entries_getbuffer};

static PyTypeObject EntriesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otseam.decode._framewalk.Entries",
    .tp_basicsize = sizeof(Entries),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A walker table's entries, taken out of the walker.",
    .tp_dealloc = (destructor)entries_dealloc,
    .tp_as_buffer = &entries_as_buffer,
};

/* A buffer of ``size`` bytes at ``data`` (malloc'd; freed with the last
 * view of it) as a writable memoryview. */
static PyObject *hand_over(uint8_t *data, size_t size)
{
    Entries *taken = PyObject_New(Entries, &EntriesType);
    if (!taken) {
        free(data);
        return NULL;
    }
    taken->data = data;
    taken->size = (Py_ssize_t)size;
    PyObject *view = PyMemoryView_FromObject((PyObject *)taken);
    Py_DECREF(taken); /* the view holds it now */
    return view;
}

/* The table's first ``used`` bytes of entries as a writable memoryview of
 * an Entries buffer (trimmed to them); the table starts over empty. For a
 * million conversations this saves a copy of a hundred MiB at the peak of
 * an ingest. */
static PyObject *table_take(Table *t, size_t used)
{
    uint8_t *data = t->entries;
    if (used) {
        uint8_t *trimmed = realloc(data, used); /* shrinking: in place, or a remap */
        if (trimmed)
            data = trimmed;
    }
    t->entries = NULL;
    table_clear(t);
    PyObject *view = hand_over(data, used);
    if (view && !t->entries) {
        Py_DECREF(view);
        return PyErr_NoMemory();
    }
    return view;
}

static PyObject *take_entries(Table *t) { return table_take(t, t->count * t->entry_size); }

/* take_conversations() -> (entries, address size): the conversations as
 * Python reads them, written over the walk's entries (grown first when
 * larger: a remap, not a copy), and the size of each address in them. */
static PyObject *take_conversations(Walker *w, PyObject *unused)
{
    Table *t = &w->conv;
    size_t n = t->count, size = conversation_size(w);
    free(t->slots); /* not needed to export: gone before the entries grow */
    t->slots = NULL;
    if (n && size > t->entry_size) {
        uint8_t *grown = realloc(t->entries, n * size);
        if (!grown) {
            table_clear(t);
            return PyErr_NoMemory();
        }
        t->entries = grown;
        t->capacity = n;
    }
    export_conversations(w, t->entries, n);
    PyObject *view = table_take(t, n * size);
    if (!view)
        return NULL;
    table_clear(&w->addr6);
    return Py_BuildValue("(Nn)", view, (Py_ssize_t)(size == sizeof(Conversation) ? 16 : 4));
}

static PyObject *take_bindings(Walker *w, PyObject *unused) { return take_entries(&w->bind); }
static PyObject *take_stations(Walker *w, PyObject *unused) { return take_entries(&w->station); }
static PyObject *groups(Walker *w, PyObject *unused) { return table_bytes(&w->group); }

#define SPLIT_STEP 65536 /* rows moved between two trims of the rows' memory */

/* Each template's rows in a block of its own, taken from the end of the
 * ``n`` rows at ``data``, whose memory is trimmed as they go (and freed):
 * the rows are never held twice. -> {template: memoryview}. */
static PyObject *rows_by_template(uint8_t *data, size_t n, size_t ntemplates)
{
    uint8_t **block = calloc(ntemplates ? ntemplates : 1, sizeof(uint8_t *));
    size_t *len = calloc(ntemplates ? ntemplates : 1, sizeof(size_t));
    size_t *cap = calloc(ntemplates ? ntemplates : 1, sizeof(size_t));
    PyObject *result = NULL;
    int ok = block && len && cap;
    while (ok && n) {
        size_t stop = n > SPLIT_STEP ? n - SPLIT_STEP : 0;
        for (size_t r = n; ok && r-- > stop;) {
            GroupRow row;
            memcpy(&row, data + r * sizeof(GroupRow), sizeof(row));
            uint32_t t = row.dir_template & (ROW_TEMPLATES - 1);
            if (len[t] == cap[t]) {
                size_t more = cap[t] ? cap[t] * 2 : 16;
                uint8_t *grown = realloc(block[t], more * sizeof(GroupRow));
                if (!grown) {
                    ok = 0;
                    break;
                }
                block[t] = grown;
                cap[t] = more;
            }
            memcpy(block[t] + len[t]++ * sizeof(GroupRow), &row, sizeof(row));
        }
        n = stop;
        if (ok && n) {
            uint8_t *trimmed = realloc(data, n * sizeof(GroupRow)); /* shrinking */
            if (trimmed)
                data = trimmed;
        }
    }
    free(data);
    if (ok)
        result = PyDict_New();
    for (size_t t = 0; t < ntemplates && block && len && cap; t++) {
        if (!block[t])
            continue;
        if (!result) {
            free(block[t]);
            continue;
        }
        uint8_t *trimmed = realloc(block[t], len[t] * sizeof(GroupRow));
        PyObject *key = PyLong_FromSize_t(t);
        PyObject *view = hand_over(trimmed ? trimmed : block[t], len[t] * sizeof(GroupRow));
        if (!key || !view || PyDict_SetItem(result, key, view) < 0)
            Py_CLEAR(result);
        Py_XDECREF(key);
        Py_XDECREF(view);
    }
    free(block);
    free(len);
    free(cap);
    if (!result && !PyErr_Occurred())
        PyErr_NoMemory();
    return result;
}

/* take_group_rows(groups, templates, wanted) -> {template: entries of
 * GroupRow}: the message groups whose template is marked in ``wanted``
 * (one byte a template id: whether its dissection observed anything),
 * added up by (owner, dir, template), each template's rows apart.
 * ``groups`` and ``templates`` (uint32 each) are the templates Python found
 * for groups, which the walker did not know. The rows are added up in a
 * table of their own written over the groups' memory (row r at or before
 * group r, which is read first), and the walker's group slots go before
 * that table's come: the rows cost no memory beyond the groups'. The group
 * table starts over empty. */
static PyObject *take_group_rows(Walker *w, PyObject *args)
{
    Py_buffer gbuf, tbuf, wbuf;
    if (!PyArg_ParseTuple(args, "y*y*y*", &gbuf, &tbuf, &wbuf))
        return NULL;
    PyObject *result = NULL;
    Table *g = &w->group;
    size_t ng = g->count;
    if (gbuf.len != tbuf.len || gbuf.len % 4 || (size_t)wbuf.len > ROW_TEMPLATES) {
        PyErr_SetString(PyExc_ValueError, "take_group_rows: tables of the wrong size");
        goto done;
    }
    const uint32_t *groups = gbuf.buf, *templates = tbuf.buf;
    for (size_t k = 0; k < (size_t)gbuf.len / 4; k++)
        if (groups[k] < ng)
            ((GroupEntry *)(g->entries + (size_t)groups[k] * sizeof(GroupEntry)))->template =
                templates[k];
    free(g->slots);
    g->slots = NULL;
    Table rows;
    memset(&rows, 0, sizeof(rows));
    rows.entries = g->entries;
    rows.entry_size = sizeof(GroupRow);
    rows.key_size = 8;
    rows.capacity = ng; /* never reached beyond: a row per group at most */
    rows.nslots = 2048;
    rows.slots = calloc(rows.nslots, sizeof(uint32_t));
    const uint8_t *wanted = wbuf.buf;
    for (size_t i = 0; rows.slots && i < ng; i++) {
        GroupEntry e;
        memcpy(&e, g->entries + i * sizeof(GroupEntry), sizeof(e));
        if (e.template >= (size_t)wbuf.len || !wanted[e.template])
            continue; /* NO_TEMPLATE too */
        uint32_t key[2] = {(uint32_t)e.k.dir << 30 | e.template, e.k.owner};
        int created;
        int64_t r = table_upsert(&rows, key, &created);
        if (r < 0) {
            free(rows.slots);
            rows.slots = NULL;
            break;
        }
        GroupRow *row = (GroupRow *)(rows.entries + (size_t)r * sizeof(GroupRow));
        if (created) {
            row->first_ns = e.first_ns;
            row->last_ns = e.last_ns;
        }
        row->count += e.count;
        if (e.first_ns < row->first_ns)
            row->first_ns = e.first_ns;
        if (e.last_ns > row->last_ns)
            row->last_ns = e.last_ns;
    }
    if (!rows.slots) {
        table_clear(g); /* half added up: nothing of it is kept */
        PyErr_NoMemory();
        goto done;
    }
    free(rows.slots);
    g->entries = NULL; /* the rows' now, freed as they are split */
    table_clear(g);
    result = rows_by_template(rows.entries, rows.count, (size_t)wbuf.len);
done:
    PyBuffer_Release(&gbuf);
    PyBuffer_Release(&tbuf);
    PyBuffer_Release(&wbuf);
    return result;
}

static PyObject *take_events(Walker *w, PyObject *unused)
{
    PyObject *r = PyBytes_FromStringAndSize((const char *)w->events, (Py_ssize_t)(w->nevents * sizeof(Event)));
    w->nevents = 0;
    return r;
}

static PyObject *entry_at(const Table *t, PyObject *arg)
{
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0 || (size_t)i >= t->count) {
        PyErr_SetString(PyExc_IndexError, "no such entry");
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)t->entries + (size_t)i * t->entry_size,
                                     (Py_ssize_t)t->entry_size);
}

/* conversation(index): one conversation as ``Conversation`` (16-byte
 * addresses, whatever the capture holds). */
static PyObject *conversation(Walker *w, PyObject *arg)
{
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0 || (size_t)i >= w->conv.count) {
        PyErr_SetString(PyExc_IndexError, "no such entry");
        return NULL;
    }
    const ConvEntry *e = (const ConvEntry *)(w->conv.entries + (size_t)i * sizeof(ConvEntry));
    Conversation out;
    export_conversation(w, e, &out);
    return PyBytes_FromStringAndSize((const char *)&out, sizeof(out));
}
static PyObject *station(Walker *w, PyObject *arg) { return entry_at(&w->station, arg); }

static PyObject *counters(Walker *w, PyObject *unused)
{
    PyObject *list = PyList_New(C_NCOUNTERS);
    if (!list)
        return NULL;
    for (int i = 0; i < C_NCOUNTERS; i++)
        PyList_SET_ITEM(list, i, PyLong_FromUnsignedLongLong(w->counters[i]));
    return Py_BuildValue("(NLL)", list, (long long)w->first_ns, (long long)w->last_ns);
}

static PyObject *reset(Walker *w, PyObject *unused)
{
    table_clear(&w->conv);
    table_clear(&w->bind);
    table_clear(&w->station);
    table_clear(&w->group);
    table_clear(&w->templates);
    table_clear(&w->contents);
    table_clear(&w->addr6);
    memset(w->frag, 0, sizeof(w->frag));
    memset(w->counters, 0, sizeof(w->counters));
    w->first_ns = w->last_ns = 0;
    w->nevents = 0;
    w->oom = 0;
#ifdef __GLIBC__
    /* The tables can be hundreds of MiB; give their pages back to the
       system now, not whenever the allocator would. */
    malloc_trim(0);
#endif
    if (!w->conv.entries || !w->bind.entries || !w->station.entries || !w->group.entries)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *sizes(PyObject *unused, PyObject *unused2)
{
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}", "conversation",
                         (Py_ssize_t)sizeof(Conversation),
                         "binding", (Py_ssize_t)sizeof(BindEntry), "station",
                         (Py_ssize_t)sizeof(StationEntry), "group", (Py_ssize_t)sizeof(GroupEntry),
                         "event", (Py_ssize_t)sizeof(Event), "interface", (Py_ssize_t)sizeof(Interface),
                         "signature", (Py_ssize_t)sizeof(Signature), "framing",
                         (Py_ssize_t)sizeof(Framing), "conversation_v4",
                         (Py_ssize_t)sizeof(Conversation4), "group_row",
                         (Py_ssize_t)sizeof(GroupRow));
}

static int walker_init(Walker *w, PyObject *args, PyObject *kwds)
{
    if (table_init(&w->conv, sizeof(ConvEntry), sizeof(ConvKey)) < 0 ||
        table_init(&w->bind, sizeof(BindEntry), sizeof(BindKey)) < 0 ||
        table_init(&w->station, sizeof(StationEntry), sizeof(StationKey)) < 0 ||
        table_init(&w->group, sizeof(GroupEntry), sizeof(GroupKey)) < 0 ||
        table_init(&w->templates, sizeof(TemplateEntry), sizeof(TemplateKey)) < 0 ||
        table_init(&w->contents, sizeof(TemplateEntry), sizeof(TemplateKey)) < 0 ||
        table_init(&w->addr6, 16, 16) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    w->look_ahead_from = FETCH_TABLES_FROM;
    return 0;
}

static void walker_dealloc(Walker *w)
{
    table_free(&w->conv);
    table_free(&w->bind);
    table_free(&w->station);
    table_free(&w->group);
    table_free(&w->templates);
    table_free(&w->contents);
    table_free(&w->addr6);
    free(w->events);
    Py_TYPE(w)->tp_free((PyObject *)w);
}

static PyMethodDef walker_methods[] = {
    {"configure", (PyCFunction)configure, METH_VARARGS, "Load protocol port tables and specs."},
    {"configure_framing", (PyCFunction)configure_framing, METH_O, "Load TCP PDU framings."},
    {"walk_pcap", (PyCFunction)walk_pcap, METH_VARARGS, "Walk classic pcap records."},
    {"learn_template", (PyCFunction)learn_template, METH_VARARGS, "Share a group's result."},
    {"learn_content", (PyCFunction)learn_content, METH_VARARGS, "Share a message's result."},
    {"walk_pcapng", (PyCFunction)walk_pcapng, METH_VARARGS, "Walk pcapng packet blocks."},
    {"conversations", (PyCFunction)conversations, METH_NOARGS, "Conversation entries."},
    {"bindings", (PyCFunction)bindings, METH_NOARGS, "MAC/IP binding entries."},
    {"stations", (PyCFunction)stations, METH_NOARGS, "Station (MAC) entries."},
    {"groups", (PyCFunction)groups, METH_NOARGS, "Message group entries."},
    {"take_conversations", (PyCFunction)take_conversations, METH_NOARGS,
     "Conversation entries, taken out of the walker without a copy."},
    {"take_bindings", (PyCFunction)take_bindings, METH_NOARGS,
     "MAC/IP binding entries, taken out of the walker without a copy."},
    {"take_stations", (PyCFunction)take_stations, METH_NOARGS,
     "Station entries, taken out of the walker without a copy."},
    {"take_group_rows", (PyCFunction)take_group_rows, METH_VARARGS,
     "Message groups added up by owner, direction and template, taken out of the walker."},
    {"take_events", (PyCFunction)take_events, METH_NOARGS, "New message events since last call."},
    {"conversation", (PyCFunction)conversation, METH_O, "One conversation entry."},
    {"station", (PyCFunction)station, METH_O, "One station entry."},
    {"counters", (PyCFunction)counters, METH_NOARGS, "Counters and time span."},
    {"reset", (PyCFunction)reset, METH_NOARGS, "Forget everything."},
    {"look_ahead_from", (PyCFunction)set_look_ahead_from, METH_O,
     "Bytes of tables from which walks prefetch what records ahead will look up."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject WalkerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otseam.decode._framewalk.Walker",
    .tp_basicsize = sizeof(Walker),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Walks capture records and aggregates frames into tables.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)walker_init,
    .tp_dealloc = (destructor)walker_dealloc,
    .tp_methods = walker_methods,
};

static PyMethodDef module_methods[] = {
    {"sizes", (PyCFunction)sizes, METH_NOARGS, "Sizes of the exported C structures."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_framewalk", "Compiled capture walk and frame aggregation.", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__framewalk(void)
{
    if (PyType_Ready(&WalkerType) < 0 || PyType_Ready(&EntriesType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&WalkerType);
    if (PyModule_AddObject(m, "Walker", (PyObject *)&WalkerType) < 0) {
        Py_DECREF(&WalkerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
