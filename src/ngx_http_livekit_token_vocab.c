
/*
 * The vocabularies, one table each.
 *
 * Owns: the grant words of livekit_token_grants with the claim object and
 * name each one writes (LiveKit's own names), the track sources of
 * canPublishSources, the participant kinds of livekit_token_kind, and
 * every reply code of a token location with its HTTP status; and reading
 * a directive's list of names.  The
 * directives, the claims writer, the handler and the status counters all
 * read these tables; README's tables list the same names.
 * Does not own: what any of them means for a request (_request.c,
 * _jwt.c).
 */

#include "ngx_http_livekit_token.h"


/*
 * Grouped by claim object, in the order the claims are written.  The
 * "explicit" grants are written as false when not granted: livekit-server
 * reads an absent canPublish or canSubscribe as true and an absent
 * canPublishData as canPublish.
 */
ngx_http_livekit_grant_t  ngx_http_livekit_grants[] = {

    { ngx_string("roomJoin"), "video", "roomJoin",
      NGX_HTTP_LIVEKIT_ROOM_JOIN, 0 },
    { ngx_string("canPublish"), "video", "canPublish",
      NGX_HTTP_LIVEKIT_CAN_PUBLISH, 1 },
    { ngx_string("canSubscribe"), "video", "canSubscribe",
      NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE, 1 },
    { ngx_string("canPublishData"), "video", "canPublishData",
      NGX_HTTP_LIVEKIT_CAN_PUBLISH_DATA, 1 },
    { ngx_string("canUpdateOwnMetadata"), "video", "canUpdateOwnMetadata",
      NGX_HTTP_LIVEKIT_CAN_UPDATE_METADATA, 0 },
    { ngx_string("canSubscribeMetrics"), "video", "canSubscribeMetrics",
      NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE_METRICS, 0 },
    { ngx_string("canManageAgentSession"), "video",
      "canManageAgentSession", NGX_HTTP_LIVEKIT_CAN_MANAGE_AGENT_SESSION, 0 },
    { ngx_string("hidden"), "video", "hidden", NGX_HTTP_LIVEKIT_HIDDEN, 0 },
    { ngx_string("recorder"), "video", "recorder",
      NGX_HTTP_LIVEKIT_RECORDER, 0 },
    { ngx_string("roomAdmin"), "video", "roomAdmin",
      NGX_HTTP_LIVEKIT_ROOM_ADMIN, 0 },
    { ngx_string("roomCreate"), "video", "roomCreate",
      NGX_HTTP_LIVEKIT_ROOM_CREATE, 0 },
    { ngx_string("roomList"), "video", "roomList",
      NGX_HTTP_LIVEKIT_ROOM_LIST, 0 },
    { ngx_string("roomRecord"), "video", "roomRecord",
      NGX_HTTP_LIVEKIT_ROOM_RECORD, 0 },
    { ngx_string("ingressAdmin"), "video", "ingressAdmin",
      NGX_HTTP_LIVEKIT_INGRESS_ADMIN, 0 },
    { ngx_string("agent"), "video", "agent", NGX_HTTP_LIVEKIT_AGENT, 0 },

    { ngx_string("sip.admin"), "sip", "admin",
      NGX_HTTP_LIVEKIT_SIP_ADMIN, 0 },
    { ngx_string("sip.call"), "sip", "call", NGX_HTTP_LIVEKIT_SIP_CALL, 0 },

    { ngx_string("agent.admin"), "agent", "admin",
      NGX_HTTP_LIVEKIT_AGENT_ADMIN, 0 },
    { ngx_string("agent.createSimulation"), "agent", "createSimulation",
      NGX_HTTP_LIVEKIT_AGENT_SIMULATION, 0 },

    { ngx_string("inference.perform"), "inference", "perform",
      NGX_HTTP_LIVEKIT_INFERENCE_PERFORM, 0 },

    { ngx_string("observability.write"), "observability", "write",
      NGX_HTTP_LIVEKIT_OBSERVABILITY_WRITE, 0 },

    { ngx_null_string, NULL, NULL, 0, 0 }
};


/* livekit_token_grants canPublishSources=...: livekit.TrackSource names */
ngx_str_t  ngx_http_livekit_sources[] = {
    ngx_string("camera"),
    ngx_string("microphone"),
    ngx_string("screen_share"),
    ngx_string("screen_share_audio"),
    ngx_null_string
};


/* livekit_token_kind: livekit.ParticipantInfo.Kind names, lower case */
ngx_str_t  ngx_http_livekit_kinds[] = {
    ngx_string("standard"),
    ngx_string("ingress"),
    ngx_string("egress"),
    ngx_string("sip"),
    ngx_string("agent"),
    ngx_null_string
};


/* every reply code of a token location; the status counters follow it */
const ngx_http_livekit_code_t  ngx_http_livekit_codes[] = {
    [NGX_HTTP_LIVEKIT_MISSING_ROOM] = { 400, "missing_room" },
    [NGX_HTTP_LIVEKIT_MISSING_IDENTITY] = { 400, "missing_identity" },
    [NGX_HTTP_LIVEKIT_ROOM_TOO_LONG] = { 400, "room_too_long" },
    [NGX_HTTP_LIVEKIT_IDENTITY_TOO_LONG] = { 400, "identity_too_long" },
    [NGX_HTTP_LIVEKIT_NAME_TOO_LONG] = { 400, "name_too_long" },
    [NGX_HTTP_LIVEKIT_INVALID_UTF8] = { 400, "invalid_utf8" },
    [NGX_HTTP_LIVEKIT_CONTROL_CHARACTER] = { 400, "control_character" },
    [NGX_HTTP_LIVEKIT_METADATA_TOO_LARGE] = { 400, "metadata_too_large" },
    [NGX_HTTP_LIVEKIT_ATTRIBUTES_TOO_LARGE] = { 400, "attributes_too_large" },
    [NGX_HTTP_LIVEKIT_INVALID_JSON] = { 400, "invalid_json" },
    [NGX_HTTP_LIVEKIT_INVALID_TYPE] = { 400, "invalid_type" },
    [NGX_HTTP_LIVEKIT_ROOM_NOT_ALLOWED] = { 403, "room_not_allowed" },
    [NGX_HTTP_LIVEKIT_ROOM_CONFIG_NOT_ALLOWED] =
        { 403, "room_config_not_allowed" },
    [NGX_HTTP_LIVEKIT_IDENTITY_PINNED] = { 403, "identity_pinned" },
    [NGX_HTTP_LIVEKIT_ROOM_PINNED] = { 403, "room_pinned" },
    [NGX_HTTP_LIVEKIT_NAME_PINNED] = { 403, "name_pinned" },
    [NGX_HTTP_LIVEKIT_METADATA_PINNED] = { 403, "metadata_pinned" },
    [NGX_HTTP_LIVEKIT_ATTRIBUTE_PINNED] = { 403, "attribute_pinned" },
    [NGX_HTTP_LIVEKIT_IDENTITY_UNAVAILABLE] = { 403, "identity_unavailable" },
    [NGX_HTTP_LIVEKIT_ROOM_UNAVAILABLE] = { 403, "room_unavailable" },
    [NGX_HTTP_LIVEKIT_TOKEN_TOO_LARGE] = { 400, "token_too_large" },
    [NGX_HTTP_LIVEKIT_BODY_TOO_LARGE] = { 413, "body_too_large" },
    [NGX_HTTP_LIVEKIT_ORIGIN_NOT_ALLOWED] = { 403, "origin_not_allowed" },
    [NGX_HTTP_LIVEKIT_WEBHOOK_UNSIGNED] = { 401, "webhook_unsigned" },
    [NGX_HTTP_LIVEKIT_WEBHOOK_BAD_SIGNATURE] =
        { 401, "webhook_bad_signature" },
    [NGX_HTTP_LIVEKIT_WEBHOOK_EXPIRED] = { 401, "webhook_expired" },
    [NGX_HTTP_LIVEKIT_WEBHOOK_BODY_MISMATCH] =
        { 401, "webhook_body_mismatch" },
    [NGX_HTTP_LIVEKIT_WEBHOOK_UNKNOWN_KEY] = { 401, "webhook_unknown_key" },
    [NGX_HTTP_LIVEKIT_TOKEN_MISSING] = { 401, "token_missing" },
    [NGX_HTTP_LIVEKIT_TOKEN_MALFORMED] = { 401, "token_malformed" },
    [NGX_HTTP_LIVEKIT_TOKEN_AMBIGUOUS] = { 401, "token_ambiguous" },
    [NGX_HTTP_LIVEKIT_TOKEN_UNKNOWN_KEY] = { 401, "token_unknown_key" },
    [NGX_HTTP_LIVEKIT_TOKEN_BAD_SIGNATURE] = { 401, "token_bad_signature" },
    [NGX_HTTP_LIVEKIT_TOKEN_EXPIRED] = { 401, "token_expired" },
    [NGX_HTTP_LIVEKIT_TOKEN_NOT_YET_VALID] = { 401, "token_not_yet_valid" },
    [NGX_HTTP_LIVEKIT_TOKEN_TOO_LONG_LIVED] =
        { 401, "token_too_long_lived" },
    [NGX_HTTP_LIVEKIT_JOIN_NOT_ALLOWED] = { 403, "join_not_allowed" },
    [NGX_HTTP_LIVEKIT_TOKEN_REVOKED] = { 403, "token_revoked" },
    [NGX_HTTP_LIVEKIT_INVALID_REVOCATION] = { 400, "invalid_revocation" },
    [NGX_HTTP_LIVEKIT_REVOCATION_NOT_FOUND] =
        { 404, "revocation_not_found" },
    [NGX_HTTP_LIVEKIT_REVOCATIONS_FULL] = { 503, "revocations_full" },
    [NGX_HTTP_LIVEKIT_INVITATION_MISSING] = { 403, "invitation_missing" },
    [NGX_HTTP_LIVEKIT_INVITATION_INVALID] = { 403, "invitation_invalid" },
    [NGX_HTTP_LIVEKIT_INVITATION_EXPIRED] = { 403, "invitation_expired" },
    [NGX_HTTP_LIVEKIT_INVITATION_USED] = { 403, "invitation_used" },
    [NGX_HTTP_LIVEKIT_INVITATION_REVOKED] = { 403, "invitation_revoked" },
    [NGX_HTTP_LIVEKIT_INVALID_INVITATION_REQUEST] =
        { 400, "invalid_invitation_request" },
    [NGX_HTTP_LIVEKIT_METHOD_NOT_ALLOWED] = { 405, "method_not_allowed" },
    [NGX_HTTP_LIVEKIT_UNSUPPORTED_MEDIA_TYPE] =
        { 415, "unsupported_media_type" },
    [NGX_HTTP_LIVEKIT_KEYS_NOT_LOADED] = { 503, "keys_not_loaded" },
    [NGX_HTTP_LIVEKIT_NCODES] = { 0, NULL }
};


/* "word" in a null-terminated list of words, or NULL */

ngx_str_t *
ngx_http_livekit_vocab_find(ngx_str_t *words, ngx_str_t *word)
{
    for ( /* void */ ; words->len; words++) {
        if (words->len == word->len
            && ngx_strncmp(words->data, word->data, word->len) == 0)
        {
            return words;
        }
    }

    return NULL;
}


/*
 * A grant word of a directive's arguments (livekit_token_grants,
 * livekit_invitation_role) added to "flags"; an unknown word is the
 * directive's error.
 */

char *
ngx_http_livekit_grant_word(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *word, ngx_uint_t *flags)
{
    ngx_http_livekit_grant_t  *g;

    for (g = ngx_http_livekit_grants; g->word.len; g++) {
        if (g->word.len == word->len
            && ngx_strncmp(g->word.data, word->data, word->len) == 0)
        {
            *flags |= g->flag;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "unknown grant \"%V\" in \"%V\"",
                       word, &cmd->name);

    return NGX_CONF_ERROR;
}


/* records a client error for the caller's reply; always NGX_DECLINED */

ngx_int_t
ngx_http_livekit_fail(ngx_http_livekit_error_t *err,
    ngx_http_livekit_code_e code, const char *message)
{
    err->code = code;
    err->message = message;

    return NGX_DECLINED;
}


/*
 * A directive's "name ... | *": "*" alone sets "any"; otherwise each name
 * must pass "valid" ("rule" says what a valid one is), and the array ends
 * with a null string, as ngx_http_livekit_vocab_find() reads it.
 */

char *
ngx_http_livekit_conf_names(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **names, ngx_flag_t *any, ngx_http_livekit_valid_pt valid,
    const char *rule)
{
    ngx_str_t   *value, *name;
    ngx_uint_t   i;

    if (*names != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *names = ngx_array_create(cf->pool, cf->args->nelts, sizeof(ngx_str_t));
    if (*names == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2 && value[1].len == 1 && value[1].data[0] == '*') {
        *any = 1;
    }

    for (i = 1; !*any && i < cf->args->nelts; i++) {

        if ((value[i].len == 1 && value[i].data[0] == '*')
            || valid(&value[i]) != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\": %s",
                               &value[i], &cmd->name, rule);
            return NGX_CONF_ERROR;
        }

        name = ngx_array_push(*names);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    name = ngx_array_push(*names);
    if (name == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_null(name);

    return NGX_CONF_OK;
}
