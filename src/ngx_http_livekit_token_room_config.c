
/*
 * Which roomConfig a token may carry.
 *
 * livekit-server applies a token's roomConfig when the token's holder
 * creates the room: egress (recording, streaming out), agents, timeouts,
 * the participant limit and the room's metadata, with no further grant.
 * So a client may not choose it.  Owns: the livekit_token_agents and
 * livekit_token_room_config directives, and per request the policy on
 * the client's room_config: absent, null or {} always; "agents" naming an
 * agent the location allows; nothing else.  The configuration's roomConfig
 * wins, with the client's allowed agents added to it.
 * Does not own: reading the body (_request.c) or writing the claims
 * (_jwt.c).
 */

#include "ngx_http_livekit_token.h"


/* at most this many agents in one request */
#define NGX_HTTP_LIVEKIT_MAX_AGENTS  8


/* RoomConfiguration's fields, by JSON and by proto name */
static ngx_str_t  ngx_http_livekit_room_config_fields[] = {
    ngx_string("name"),
    ngx_string("emptyTimeout"), ngx_string("empty_timeout"),
    ngx_string("departureTimeout"), ngx_string("departure_timeout"),
    ngx_string("maxParticipants"), ngx_string("max_participants"),
    ngx_string("metadata"),
    ngx_string("egress"),
    ngx_string("minPlayoutDelay"), ngx_string("min_playout_delay"),
    ngx_string("maxPlayoutDelay"), ngx_string("max_playout_delay"),
    ngx_string("syncStreams"), ngx_string("sync_streams"),
    ngx_string("agents"),
    ngx_null_string
};


/*
 * Fields that carry a credential, as livekit's CheckCredentials sees them
 * (a stream output's URL holds the stream key): a token is readable by
 * its holder, so these never go into one.
 */
static ngx_str_t  ngx_http_livekit_credential_fields[] = {
    ngx_string("secret"),
    ngx_string("credentials"),
    ngx_string("accountKey"), ngx_string("account_key"),
    ngx_string("sessionToken"), ngx_string("session_token"),
    ngx_string("streamOutputs"), ngx_string("stream_outputs"),
    ngx_null_string
};


static ngx_int_t ngx_http_livekit_agent_valid(ngx_str_t *name);
static ngx_int_t ngx_http_livekit_credentials_find(json_t *v,
    ngx_str_t *found);
static ngx_int_t ngx_http_livekit_agents_check(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, json_t *list, json_t **out,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_agent_check(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, json_t *entry, ngx_uint_t n,
    json_t *out, ngx_http_livekit_error_t *err);
static ngx_uint_t ngx_http_livekit_agent_listed(json_t *list, json_t *name);
static ngx_int_t ngx_http_livekit_agent_allowed(
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_str_t *name);
static ngx_int_t ngx_http_livekit_room_config_refuse(ngx_http_request_t *r,
    ngx_http_livekit_error_t *err, const char *path, const char *field,
    const char *why);


/* livekit_token_agents name ... | *; */

char *
ngx_http_livekit_agents_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    return ngx_http_livekit_conf_names(cf, cmd, &lcf->agents,
                                       &lcf->agents_any,
                                       ngx_http_livekit_agent_valid,
                                       "an agent name is 1 to 256 bytes of "
                                       "UTF-8 text, or \"*\" alone");
}


static ngx_int_t
ngx_http_livekit_agent_valid(ngx_str_t *name)
{
    ngx_http_livekit_error_t  err;

    if (name->len == 0 || name->len > NGX_HTTP_LIVEKIT_MAX_NAME) {
        return NGX_DECLINED;
    }

    return ngx_http_livekit_check_text(name, 0, &err);
}


/* livekit_token_room_config json; checked here so nginx -t says what */

char *
ngx_http_livekit_room_config_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    json_t              *root, *v;
    size_t               len;
    ngx_str_t           *value, key, found;
    const char          *k;
    json_error_t         jerr;
    ngx_pool_cleanup_t  *cln;

    if (lcf->room_config != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    root = json_loadb((char *) value[1].data, value[1].len,
                      JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL || !json_is_object(root)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a JSON object (RoomConfiguration, "
                           "in single quotes): %s", &cmd->name,
                           root ? "not an object" : jerr.text);
        json_decref(root);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_livekit_json_cleanup;
    cln->data = root;

    json_object_foreach(root, k, v) {
        key.data = (u_char *) k;
        key.len = ngx_strlen(k);

        if (ngx_http_livekit_vocab_find(ngx_http_livekit_room_config_fields,
                                        &key)
            == NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown RoomConfiguration field \"%V\" in "
                               "\"%V\"", &key, &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_livekit_credentials_find(root, &found) == NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" holds \"%V\": a token is readable by "
                           "its holder, so storage and stream credentials "
                           "belong in the Egress service's configuration",
                           &cmd->name, &found);
        return NGX_CONF_ERROR;
    }

    len = json_dumpb(root, NULL, 0, JSON_COMPACT);

    lcf->room_config_json.data = ngx_pnalloc(cf->pool, len);
    if (len == 0 || lcf->room_config_json.data == NULL) {
        return NGX_CONF_ERROR;
    }

    lcf->room_config_json.len = json_dumpb(root,
                                        (char *) lcf->room_config_json.data,
                                        len, JSON_COMPACT);
    lcf->room_config = root;

    return NGX_CONF_OK;
}


/* NGX_OK and the field's name if "v" holds a credential anywhere */

static ngx_int_t
ngx_http_livekit_credentials_find(json_t *v, ngx_str_t *found)
{
    json_t      *e;
    size_t       i;
    const char  *k;

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (ngx_http_livekit_credentials_find(e, found) == NGX_OK) {
                return NGX_OK;
            }
        }

        return NGX_DECLINED;
    }

    if (!json_is_object(v)) {
        return NGX_DECLINED;
    }

    json_object_foreach(v, k, e) {
        found->data = (u_char *) k;
        found->len = ngx_strlen(k);

        if (ngx_http_livekit_vocab_find(ngx_http_livekit_credential_fields,
                                        found)
            || ngx_http_livekit_credentials_find(e, found) == NGX_OK)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The client's room_config (c->room_config, an object or NULL) becomes
 * what the token carries: NULL when the location's own roomConfig (or
 * none) is signed as it is, else a new object.
 */

ngx_int_t
ngx_http_livekit_room_config_check(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err)
{
    json_t              *client, *agents, *list, *have;
    ngx_int_t            rc;
    const char          *k;
    ngx_pool_cleanup_t  *cln;

    client = c->room_config;
    c->room_config = NULL;
    agents = NULL;

    if (client == NULL || json_object_size(client) == 0) {
        return NGX_OK;
    }

    json_object_foreach(client, k, list) {
        if (ngx_strcmp(k, "agents") != 0 || lcf->agents == NULL) {
            return ngx_http_livekit_room_config_refuse(r, err, "room_config.",
                                                       k, "");
        }
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_livekit_agents_check(r, lcf, json_object_get(client,
                                                               "agents"),
                                       &agents, err);
    if (rc != NGX_OK) {
        json_decref(agents);
        return rc;
    }

    c->room_config = lcf->room_config ? json_deep_copy(lcf->room_config)
                                      : json_object();
    if (c->room_config == NULL) {
        json_decref(agents);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_livekit_json_cleanup;
    cln->data = c->room_config;

    have = json_object_get(c->room_config, "agents");

    if (!json_is_array(have)) {
        return json_object_set_new(c->room_config, "agents", agents) == 0
               ? NGX_OK : NGX_ERROR;
    }

    rc = json_array_extend(have, agents);
    json_decref(agents);

    return rc == 0 ? NGX_OK : NGX_ERROR;
}


/* room_config.agents: each entry allowed, written as livekit names them */

static ngx_int_t
ngx_http_livekit_agents_check(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, json_t *list, json_t **out,
    ngx_http_livekit_error_t *err)
{
    size_t     n;
    json_t    *entry;
    ngx_int_t  rc;

    if (!json_is_array(list)) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
            "room_config.agents must be an array of "
            "{\"agent_name\":\"...\"} objects");
    }

    if (json_array_size(list) > NGX_HTTP_LIVEKIT_MAX_AGENTS) {
        return ngx_http_livekit_fail(err,
            NGX_HTTP_LIVEKIT_ROOM_CONFIG_NOT_ALLOWED,
            "room_config.agents may name at most 8 agents");
    }

    *out = json_array();
    if (*out == NULL) {
        return NGX_ERROR;
    }

    json_array_foreach(list, n, entry) {
        rc = ngx_http_livekit_agent_check(r, lcf, entry, n, *out, err);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


/*
 * One RoomAgentDispatch: agent_name (or agentName) and metadata, nothing
 * else; appended to "out" as {"agentName":..,"metadata":..}.
 */

static ngx_int_t
ngx_http_livekit_agent_check(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, json_t *entry, ngx_uint_t n,
    json_t *out, ngx_http_livekit_error_t *err)
{
    u_char      *path;
    json_t      *v, *name, *metadata, *dispatch;
    ngx_str_t    s;
    const char  *k;

    path = ngx_pnalloc(r->pool, sizeof("room_config.agents[].")
                                + NGX_INT_T_LEN);
    if (path == NULL) {
        return NGX_ERROR;
    }

    *ngx_sprintf(path, "room_config.agents[%ui].", n) = '\0';

    if (!json_is_object(entry)) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
            "room_config.agents must be an array of "
            "{\"agent_name\":\"...\"} objects");
    }

    name = NULL;
    metadata = NULL;

    json_object_foreach(entry, k, v) {

        if (ngx_strcmp(k, "agent_name") == 0
            || ngx_strcmp(k, "agentName") == 0)
        {
            if (name != NULL) {
                return ngx_http_livekit_fail(err,
                    NGX_HTTP_LIVEKIT_INVALID_TYPE,
                    "send an agent's name once, as agent_name");
            }

            name = v;

        } else if (ngx_strcmp(k, "metadata") == 0) {
            metadata = v;

        } else {
            return ngx_http_livekit_room_config_refuse(r, err, (char *) path,
                                                       k, "");
        }
    }

    if ((name && !json_is_string(name))
        || (metadata && !json_is_string(metadata)))
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
            "agent_name and metadata of room_config.agents must be strings");
    }

    s.data = (u_char *) (name ? json_string_value(name) : "");
    s.len = name ? json_string_length(name) : 0;

    if (ngx_http_livekit_agent_allowed(lcf, &s) != NGX_OK) {
        return ngx_http_livekit_room_config_refuse(r, err, (char *) path,
                   "agent_name", ": this agent may not be dispatched here");
    }

    if (metadata) {
        s.data = (u_char *) json_string_value(metadata);
        s.len = json_string_length(metadata);

        if (s.len > lcf->metadata_max) {
            return ngx_http_livekit_fail(err,
                NGX_HTTP_LIVEKIT_METADATA_TOO_LARGE,
                "an agent's metadata is larger than the location allows "
                "(livekit_token_metadata_max_size)");
        }

        if (ngx_http_livekit_check_text(&s, 1, err) != NGX_OK) {
            return NGX_DECLINED;
        }
    }

    /* each agent at most once per token, the location's own included */

    if (name
        && (ngx_http_livekit_agent_listed(out, name)
            || (lcf->room_config
                && ngx_http_livekit_agent_listed(
                       json_object_get(lcf->room_config, "agents"), name))))
    {
        return ngx_http_livekit_room_config_refuse(r, err, (char *) path,
                   "agent_name", ": this agent is already dispatched");
    }

    dispatch = json_pack("{s:O*,s:O*}", "agentName", name,
                         "metadata", metadata);
    if (dispatch == NULL) {
        return NGX_ERROR;
    }

    return json_array_append_new(out, dispatch) == 0 ? NGX_OK : NGX_ERROR;
}


/* whether a list of dispatches already names this agent */

static ngx_uint_t
ngx_http_livekit_agent_listed(json_t *list, json_t *name)
{
    size_t   n;
    json_t  *entry, *have;

    json_array_foreach(list, n, entry) {
        have = json_object_get(entry, "agentName");
        if (have == NULL) {
            have = json_object_get(entry, "agent_name");
        }

        if (json_is_string(have) && json_equal(have, name)) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_livekit_agent_allowed(ngx_http_livekit_token_loc_conf_t *lcf,
    ngx_str_t *name)
{
    if (lcf->agents_any) {
        return (name->len == 0 || ngx_http_livekit_agent_valid(name) == NGX_OK)
               ? NGX_OK : NGX_DECLINED;
    }

    if (name->len == 0) {
        return NGX_DECLINED;
    }

    return ngx_http_livekit_vocab_find(lcf->agents->elts, name)
           ? NGX_OK : NGX_DECLINED;
}


/*
 * 403 room_config_not_allowed naming the field: a name the client made
 * up is named only when it is a short identifier.
 */

static ngx_int_t
ngx_http_livekit_room_config_refuse(ngx_http_request_t *r,
    ngx_http_livekit_error_t *err, const char *path, const char *field,
    const char *why)
{
    u_char  *msg, *p, c;
    size_t   len;

    for (len = 0; field[len]; len++) {
        c = field[len];

        if (len == 64
            || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                 || (c >= '0' && c <= '9') || c == '_'))
        {
            field = "(a field)";
            len = sizeof("(a field)") - 1;
            break;
        }
    }

    msg = ngx_pnalloc(r->pool, ngx_strlen(path) + len + ngx_strlen(why)
                               + sizeof(" is not allowed here"));
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(msg, "%s%*s%s", path, len, field,
                    why[0] ? why : " is not allowed here");
    *p = '\0';

    return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_ROOM_CONFIG_NOT_ALLOWED,
                                 (char *) msg);
}
