/* discovery.c - publish, browse and resolve _mesh._tcp through avahi-client.
 *
 * Object graph: one AvahiClient (recreated whenever the daemon goes away),
 * under it one entry group (our service), one browser, and one resolver per
 * browsed service instance. The resolvers stay alive so a changed address or
 * port is reported again. Avahi objects are never freed inside the client
 * callback that announces their death: a uv timer ("tick") does that, and
 * also retries what failed (no bus yet, resolver timeouts). */
#include "discovery.h"

#include <avahi-common/error.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avahi_lib.h"
#include "avahi_uv.h"
#include "safe_name.h"
#include "txt.h"

#define TICK_MS 2000
#define NAME_SET_CAP 1024   /* distinct-name memory; a hostile LAN can't grow it */
#define MAX_RENAMES 32

enum service_kind { SVC_UNRESOLVED, SVC_PEER, SVC_FOREIGN, SVC_SELF, SVC_INVALID };

/* One browsed instance, on one interface. */
struct service {
    struct discovery *d;
    AvahiIfIndex iface;
    AvahiProtocol proto;
    char *name, *type, *domain;
    char shown[4 * DISCOVERY_NAME_MAX + 1]; /* name, safe to log and show */
    AvahiServiceResolver *resolver;     /* NULL: retry on the next tick */
    enum service_kind kind;
    bool reported;                      /* last_* hold what on_peer saw */
    char last_address[AVAHI_ADDRESS_STR_MAX];
    uint16_t last_port;
    char last_id[TXT_ID_HEX_MAX + 1];
    uint8_t last_pk[TXT_PK_BYTES];
    struct service *next;
};

/* Distinct strings seen, for the "distinct services / peers" counters. */
struct name_set {
    char **items;
    unsigned count;
};

struct discovery {
    struct discovery_config cfg;
    char id_hex[TXT_ID_HEX_MAX + 1];
    char pk_hex[2 * TXT_PK_BYTES + 1];
    char tag_hex[TXT_TAG_HEX_MAX + 1];
    char *service_name;                 /* renamed on collision */

    struct avahi_lib avahi;             /* opened at start (avahi_lib.h) */
    bool have_avahi;                    /* else discovery stays off */
    struct avahi_uv *poll;
    AvahiClient *client;
    AvahiEntryGroup *group;
    AvahiServiceBrowser *browser;
    struct service *services;

    uv_timer_t tick;
    unsigned closes_pending;
    bool daemon_running;
    bool established;                   /* our service is live on the LAN */
    bool reconnect_pending;
    bool said_no_daemon;
    bool stopping;
    void (*done)(void *ud);

    struct name_set foreign;
    struct name_set peer_ids;
    struct log_ratelimit rl_bad_txt;
    struct log_ratelimit rl_resolve;
};

static void on_client_state(AvahiClient *c, AvahiClientState state, void *ud);
static void on_tick(uv_timer_t *t);

/* ---- small helpers ---------------------------------------------------- */

static uint64_t now_ms(const struct discovery *d)
{
    return uv_now(d->cfg.loop);
}

static void name_set_add(struct name_set *s, const char *name)
{
    for (unsigned i = 0; i < s->count; i++)
        if (strcmp(s->items[i], name) == 0)
            return;
    if (s->count >= NAME_SET_CAP)
        return;
    if (s->items == NULL) {
        s->items = calloc(NAME_SET_CAP, sizeof *s->items);
        if (s->items == NULL)
            return;
    }
    char *copy = strdup(name);
    if (copy != NULL)
        s->items[s->count++] = copy;
}

static void name_set_free(struct name_set *s)
{
    for (unsigned i = 0; i < s->count; i++)
        free(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->count = 0;
}

/* Runs the tick as soon as the loop is back from the current callback. */
static void kick(struct discovery *d)
{
    uv_timer_start(&d->tick, on_tick, 0, TICK_MS);
}

/* ---- publishing ------------------------------------------------------- */

static AvahiStringList *build_txt(const struct discovery *d)
{
    char v[32], id[8 + TXT_ID_HEX_MAX], pk[8 + 2 * TXT_PK_BYTES],
        tag[8 + TXT_TAG_HEX_MAX];
    snprintf(v, sizeof v, "v=%u", d->cfg.version);
    snprintf(id, sizeof id, "id=%s", d->id_hex);
    snprintf(pk, sizeof pk, "pk=%s", d->pk_hex);
    snprintf(tag, sizeof tag, "tag=%s", d->tag_hex);
    return d->avahi.string_list_new(v, id, pk, tag, NULL);
}

static void rename_service(struct discovery *d)
{
    char *alt = d->avahi.alternative_service_name(d->service_name);
    char *ours = alt != NULL ? strdup(alt) : NULL;
    d->avahi.free(alt);
    if (ours == NULL)
        return;
    mlog(d->cfg.log, LOG_INFO, "mdns: service name '%s' taken, trying '%s'",
         d->service_name, ours);
    free(d->service_name);
    d->service_name = ours;
}

/* Adds our service to the (empty) group and commits it. A same-daemon
 * name clash shows up here at once as AVAHI_ERR_COLLISION. */
static void publish(struct discovery *d)
{
    if (d->group == NULL || !d->avahi.entry_group_is_empty(d->group))
        return;
    for (int attempt = 0; attempt < MAX_RENAMES; attempt++) {
        AvahiStringList *txt = build_txt(d);
        int r = d->avahi.entry_group_add_service_strlst(
            d->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, 0, d->service_name,
            DISCOVERY_SERVICE_TYPE, NULL, NULL, d->cfg.port, txt);
        d->avahi.string_list_free(txt);
        if (r == AVAHI_ERR_COLLISION) {
            rename_service(d);
            d->avahi.entry_group_reset(d->group);
            continue;
        }
        if (r >= 0)
            r = d->avahi.entry_group_commit(d->group);
        if (r < 0)
            mlog(d->cfg.log, LOG_ERROR, "mdns: cannot publish '%s': %s",
                 d->service_name, d->avahi.strerror(r));
        return;
    }
    mlog(d->cfg.log, LOG_ERROR, "mdns: gave up renaming '%s'", d->service_name);
}

static void on_group_state(AvahiEntryGroup *g, AvahiEntryGroupState state,
                           void *ud)
{
    struct discovery *d = ud;
    d->group = g;
    switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
        d->established = true;
        mlog(d->cfg.log, LOG_INFO, "mdns: published '%s' (%s port %u)",
             d->service_name, DISCOVERY_SERVICE_TYPE, d->cfg.port);
        break;
    case AVAHI_ENTRY_GROUP_COLLISION:
        /* Another host claimed the name after we probed it. */
        d->established = false;
        rename_service(d);
        d->avahi.entry_group_reset(g);
        publish(d);
        break;
    case AVAHI_ENTRY_GROUP_FAILURE:
        d->established = false;
        mlog(d->cfg.log, LOG_ERROR, "mdns: publishing failed: %s",
             d->avahi.strerror(d->avahi.client_errno(d->avahi.entry_group_get_client(g))));
        break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
        break;
    }
}

static void start_publishing(struct discovery *d)
{
    if (d->group == NULL)
        d->group = d->avahi.entry_group_new(d->client, on_group_state, d);
    if (d->group == NULL) {
        mlog(d->cfg.log, LOG_ERROR, "mdns: cannot create entry group: %s",
             d->avahi.strerror(d->avahi.client_errno(d->client)));
        return;
    }
    publish(d);
}

/* ---- resolving -------------------------------------------------------- */

static bool same_as_reported(const struct service *s, const char *addr,
                             uint16_t port, const struct txt_record *rec)
{
    return s->reported && s->last_port == port &&
           strcmp(s->last_address, addr) == 0 &&
           strcmp(s->last_id, rec->id_hex) == 0 &&
           memcmp(s->last_pk, rec->pk, TXT_PK_BYTES) == 0;
}

static void fill_peer(const struct service *s, struct discovery_peer *p)
{
    *p = (struct discovery_peer){
        .name = s->shown, .id_hex = s->last_id,
        .address = s->last_address, .port = s->last_port,
    };
    memcpy(p->pk, s->last_pk, TXT_PK_BYTES);
}

/* Undoes the last report of s (withdrawn, or replaced by another). */
static void report_gone(struct service *s)
{
    struct discovery *d = s->d;
    if (!s->reported || d->cfg.on_peer_gone == NULL)
        return;
    s->reported = false;
    struct discovery_peer p;
    fill_peer(s, &p);
    d->cfg.on_peer_gone(d->cfg.ud, &p);
}

static void report_peer(struct service *s, const char *addr, uint16_t port,
                        const struct txt_record *rec)
{
    struct discovery *d = s->d;
    s->kind = SVC_PEER;
    if (same_as_reported(s, addr, port, rec))
        return;
    report_gone(s);
    s->reported = true;
    snprintf(s->last_address, sizeof s->last_address, "%s", addr);
    s->last_port = port;
    memcpy(s->last_id, rec->id_hex, sizeof s->last_id);
    memcpy(s->last_pk, rec->pk, TXT_PK_BYTES);
    name_set_add(&d->peer_ids, rec->id_hex);
    mlog(d->cfg.log, LOG_DEBUG, "mdns: peer '%s' id %s at %s:%u", s->shown,
         rec->id_hex, addr, port);
    if (d->cfg.on_peer == NULL)
        return;
    struct discovery_peer p;
    fill_peer(s, &p);
    d->cfg.on_peer(d->cfg.ud, &p);
}

/* Sorts a resolved service into peer / other mesh / ourselves / garbage. */
static void classify(struct service *s, const char *addr, uint16_t port,
                     AvahiStringList *txt)
{
    struct discovery *d = s->d;
    struct txt_record rec;
    txt_record_init(&rec);
    for (AvahiStringList *l = txt; l != NULL; l = d->avahi.string_list_get_next(l))
        txt_record_add_item(&rec, d->avahi.string_list_get_text(l),
                            d->avahi.string_list_get_size(l));
    enum txt_result r = txt_record_finish(&rec);
    if (r != TXT_OK || rec.version != d->cfg.version) {
        s->kind = SVC_INVALID;
        mlog_limited(d->cfg.log, &d->rl_bad_txt, now_ms(d), LOG_WARN,
                     "mdns: ignoring '%s' at %s: %s", s->shown, addr,
                     r != TXT_OK ? txt_result_str(r) : "other protocol version");
        return;
    }
    if (strcmp(rec.tag_hex, d->tag_hex) != 0) {
        s->kind = SVC_FOREIGN;
        name_set_add(&d->foreign, s->shown);
        return;
    }
    if (strcmp(rec.id_hex, d->id_hex) == 0) {
        s->kind = SVC_SELF;
        return;
    }
    report_peer(s, addr, port, &rec);
}

static void on_resolve(AvahiServiceResolver *r, AvahiIfIndex iface,
                       AvahiProtocol proto, AvahiResolverEvent event,
                       const char *name, const char *type, const char *domain,
                       const char *host, const AvahiAddress *a, uint16_t port,
                       AvahiStringList *txt, AvahiLookupResultFlags flags,
                       void *ud)
{
    (void)iface, (void)proto, (void)name, (void)type, (void)domain, (void)host, (void)flags;
    struct service *s = ud;
    struct discovery *d = s->d;
    if (event == AVAHI_RESOLVER_FAILURE) {
        /* Usually a timeout; the tick makes a new resolver later. */
        mlog_limited(d->cfg.log, &d->rl_resolve, now_ms(d), LOG_DEBUG,
                     "mdns: resolving '%s' failed: %s", s->shown,
                     d->avahi.strerror(d->avahi.client_errno(d->client)));
        d->avahi.service_resolver_free(r);
        s->resolver = NULL;
        return;
    }
    if (a == NULL || a->proto != AVAHI_PROTO_INET)
        return;
    char addr[AVAHI_ADDRESS_STR_MAX];
    d->avahi.address_snprint(addr, sizeof addr, a);
    classify(s, addr, port, txt);
}

static void start_resolver(struct discovery *d, struct service *s)
{
    s->resolver = d->avahi.service_resolver_new(
        d->client, s->iface, s->proto, s->name, s->type, s->domain,
        AVAHI_PROTO_INET, 0, on_resolve, s);
    if (s->resolver == NULL)
        mlog_limited(d->cfg.log, &d->rl_resolve, now_ms(d), LOG_WARN,
                     "mdns: cannot resolve '%s': %s", s->shown,
                     d->avahi.strerror(d->avahi.client_errno(d->client)));
}

/* ---- browsing --------------------------------------------------------- */

static struct service **find_service(struct discovery *d, AvahiIfIndex iface,
                                     AvahiProtocol proto, const char *name,
                                     const char *domain)
{
    struct service **pp = &d->services;
    for (; *pp != NULL; pp = &(*pp)->next) {
        struct service *s = *pp;
        if (s->iface == iface && s->proto == proto &&
            strcmp(s->name, name) == 0 && strcmp(s->domain, domain) == 0)
            break;
    }
    return pp;
}

static void free_service(struct service *s)
{
    if (s->resolver != NULL)
        s->d->avahi.service_resolver_free(s->resolver);
    free(s->name);
    free(s->type);
    free(s->domain);
    free(s);
}

static void add_service(struct discovery *d, AvahiIfIndex iface,
                        AvahiProtocol proto, const char *name,
                        const char *type, const char *domain)
{
    if (*find_service(d, iface, proto, name, domain) != NULL)
        return;
    struct service *s = calloc(1, sizeof *s);
    if (s == NULL)
        return;
    s->d = d;
    s->iface = iface;
    s->proto = proto;
    s->name = strdup(name);
    s->type = strdup(type);
    s->domain = strdup(domain);
    if (s->name == NULL || s->type == NULL || s->domain == NULL) {
        free_service(s);
        return;
    }
    safe_name(name, strlen(name), s->shown, sizeof s->shown);
    s->next = d->services;
    d->services = s;
    start_resolver(d, s);
}

static void remove_service(struct discovery *d, AvahiIfIndex iface,
                           AvahiProtocol proto, const char *name,
                           const char *domain)
{
    struct service **pp = find_service(d, iface, proto, name, domain);
    struct service *s = *pp;
    if (s == NULL)
        return;
    *pp = s->next;
    report_gone(s);
    free_service(s);
}

static void on_browse(AvahiServiceBrowser *b, AvahiIfIndex iface,
                      AvahiProtocol proto, AvahiBrowserEvent event,
                      const char *name, const char *type, const char *domain,
                      AvahiLookupResultFlags flags, void *ud)
{
    (void)b, (void)flags;
    struct discovery *d = ud;
    switch (event) {
    case AVAHI_BROWSER_NEW:
        add_service(d, iface, proto, name, type, domain);
        break;
    case AVAHI_BROWSER_REMOVE:
        remove_service(d, iface, proto, name, domain);
        break;
    case AVAHI_BROWSER_FAILURE:
        mlog(d->cfg.log, LOG_WARN, "mdns: browsing failed: %s",
             d->avahi.strerror(d->avahi.client_errno(d->client)));
        break;
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    case AVAHI_BROWSER_ALL_FOR_NOW:
        break;
    }
}

static void start_browsing(struct discovery *d)
{
    if (d->browser != NULL)
        return;
    d->browser = d->avahi.service_browser_new(
        d->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, DISCOVERY_SERVICE_TYPE,
        NULL, 0, on_browse, d);
    if (d->browser == NULL)
        mlog(d->cfg.log, LOG_ERROR, "mdns: cannot browse: %s",
             d->avahi.strerror(d->avahi.client_errno(d->client)));
}

/* ---- client lifecycle ------------------------------------------------- */

/* Frees every Avahi object; outside Avahi callbacks only. */
static void drop_client(struct discovery *d)
{
    while (d->services != NULL) {
        struct service *s = d->services;
        d->services = s->next;
        free_service(s);
    }
    if (d->browser != NULL)
        d->avahi.service_browser_free(d->browser);
    if (d->group != NULL)
        d->avahi.entry_group_free(d->group);
    if (d->client != NULL)
        d->avahi.client_free(d->client);
    d->browser = NULL;
    d->group = NULL;
    d->client = NULL;
    d->daemon_running = false;
    d->established = false;
}

static void say_no_daemon(struct discovery *d, const char *why)
{
    if (d->said_no_daemon)
        return;
    d->said_no_daemon = true;
    mlog(d->cfg.log, LOG_WARN,
         "mdns: avahi-daemon not available (%s); running without discovery "
         "until it appears", why);
}

/* A machine without the Avahi client library still runs a node: links
 * come from --peer, as without a daemon. */
static void open_avahi(struct discovery *d)
{
    char why[256];
    d->have_avahi = avahi_lib_open(&d->avahi, why, sizeof why) == 0;
    if (!d->have_avahi)
        mlog(d->cfg.log, LOG_WARN, "mdns: cannot load the Avahi client library (%s); "
             "running without discovery: install libavahi-client3, or give --peer", why);
}

/* NO_FAIL: with the bus up but no daemon, the client waits in CONNECTING
 * and goes RUNNING by itself when the daemon starts. Without a bus at all
 * avahi_client_new fails, and the tick retries. */
static void connect_client(struct discovery *d)
{
    if (!d->have_avahi)
        return;
    int err = 0;
    AvahiClient *c = d->avahi.client_new(avahi_uv_poll(d->poll),
                                      AVAHI_CLIENT_NO_FAIL, on_client_state,
                                      d, &err);
    if (c == NULL) {
        say_no_daemon(d, d->avahi.strerror(err));
        return;
    }
    d->client = c;
}

static void on_client_state(AvahiClient *c, AvahiClientState state, void *ud)
{
    struct discovery *d = ud;
    d->client = c;  /* first call comes before avahi_client_new returns */
    switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
        if (!d->daemon_running)
            mlog(d->cfg.log, LOG_INFO, "mdns: connected to avahi-daemon");
        d->daemon_running = true;
        start_publishing(d);
        start_browsing(d);
        break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
        /* Host name is changing; re-add our service once RUNNING again. */
        d->established = false;
        if (d->group != NULL)
            d->avahi.entry_group_reset(d->group);
        break;
    case AVAHI_CLIENT_CONNECTING:
        d->daemon_running = false;
        say_no_daemon(d, "not running");
        break;
    case AVAHI_CLIENT_FAILURE:
        if (d->daemon_running || !d->said_no_daemon)
            mlog(d->cfg.log, LOG_WARN, "mdns: lost avahi-daemon (%s); "
                 "reconnecting", d->avahi.strerror(d->avahi.client_errno(c)));
        d->said_no_daemon = true;
        d->daemon_running = false;
        d->established = false;
        d->reconnect_pending = true;
        kick(d);    /* free the client outside this callback */
        break;
    }
}

/* ---- tick: deferred frees, retries, stop ------------------------------ */

static void finish_close(struct discovery *d)
{
    if (--d->closes_pending > 0)
        return;
    void (*done)(void *) = d->done;
    void *ud = d->cfg.ud;
    free(d->service_name);
    name_set_free(&d->foreign);
    name_set_free(&d->peer_ids);
    free(d);
    if (done != NULL)
        done(ud);
}

static void on_poll_closed(void *ud)
{
    finish_close(ud);
}

static void on_tick_closed(uv_handle_t *h)
{
    finish_close(h->data);
}

static void retry_resolvers(struct discovery *d)
{
    if (d->client == NULL || !d->daemon_running)
        return;
    for (struct service *s = d->services; s != NULL; s = s->next)
        if (s->resolver == NULL)
            start_resolver(d, s);
}

static void on_tick(uv_timer_t *t)
{
    struct discovery *d = t->data;
    if (d->stopping) {
        drop_client(d);
        d->closes_pending = 2;
        uv_close((uv_handle_t *)&d->tick, on_tick_closed);
        avahi_uv_close(d->poll, on_poll_closed, d);
        return;
    }
    if (d->reconnect_pending) {
        d->reconnect_pending = false;
        drop_client(d);
    }
    if (d->client == NULL)
        connect_client(d);
    retry_resolvers(d);
}

/* ---- public ----------------------------------------------------------- */

static bool copy_config(struct discovery *d, const struct discovery_config *cfg)
{
    if (cfg->loop == NULL || cfg->name == NULL || cfg->name[0] == '\0' ||
        strlen(cfg->name) > DISCOVERY_NAME_MAX || cfg->id_hex == NULL ||
        cfg->pk_hex == NULL || cfg->tag_hex == NULL)
        return false;
    d->cfg = *cfg;
    d->cfg.name = NULL;     /* service_name holds the live name */
    d->cfg.id_hex = d->id_hex;
    d->cfg.pk_hex = d->pk_hex;
    d->cfg.tag_hex = d->tag_hex;
    return txt_normalize_hex(cfg->id_hex, strlen(cfg->id_hex), TXT_ID_HEX_MAX,
                             d->id_hex) &&
           strlen(cfg->pk_hex) == 2 * TXT_PK_BYTES &&
           txt_normalize_hex(cfg->pk_hex, strlen(cfg->pk_hex),
                             2 * TXT_PK_BYTES, d->pk_hex) &&
           txt_normalize_hex(cfg->tag_hex, strlen(cfg->tag_hex),
                             TXT_TAG_HEX_MAX, d->tag_hex);
}

int discovery_start(struct discovery **out, const struct discovery_config *cfg)
{
    *out = NULL;
    struct discovery *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -ENOMEM;
    if (!copy_config(d, cfg)) {
        free(d);
        return -EINVAL;
    }
    d->service_name = strdup(cfg->name);
    d->poll = avahi_uv_new(cfg->loop);
    if (d->service_name == NULL || d->poll == NULL) {
        free(d->service_name);
        if (d->poll != NULL)
            avahi_uv_close(d->poll, NULL, NULL);
        free(d);
        return -ENOMEM;
    }
    uv_timer_init(cfg->loop, &d->tick);
    d->tick.data = d;
    uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
    open_avahi(d);
    connect_client(d);
    *out = d;
    return 0;
}

void discovery_status(const struct discovery *d, struct discovery_status *out)
{
    memset(out, 0, sizeof *out);
    out->daemon_running = d->daemon_running;
    if (d->established)
        snprintf(out->published_name, sizeof out->published_name, "%s",
                 d->service_name);
    out->foreign_meshes = d->foreign.count;
    out->peers_seen = d->peer_ids.count;
}

void discovery_stop(struct discovery *d, void (*done)(void *ud))
{
    if (d == NULL || d->stopping)
        return;
    d->stopping = true;
    d->done = done;
    kick(d);
}
