
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The status page in HTML: one page that refreshes itself, each upstream
 * drawn as its topology from its view (status_view.c), every text through
 * the HTML escaping of ngx_stream_redis_master_status_text().
 */


#include "ngx_stream_redis_master_status.h"


static void ngx_stream_redis_master_status_html_upstream(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view);
static void ngx_stream_redis_master_status_html_server(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i);
static void ngx_stream_redis_master_status_html_names(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view);


/*
 * One page that refreshes itself, without scripts or external assets:
 * each upstream as its topology, the master first, then the replicas that
 * follow it, then the servers that are down or of another lineage.
 */

void
ngx_stream_redis_master_status_html(ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views)
{
    u_char      when[sizeof("1970-01-01 00:00:00")];
    ngx_tm_t    tm;
    ngx_uint_t  u, n;

    n = rmmcf ? rmmcf->upstreams.nelts : 0;

    ngx_gmtime(ngx_time(), &tm);
    ngx_sprintf(when, "%4d-%02d-%02d %02d:%02d:%02d%Z",
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);

    ngx_stream_redis_master_status_printf(o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"refresh\" content=\"%d\">"
        "<link rel=\"icon\" href=\"data:,\">"
        "<title>Redis masters</title><style>\n"
        "body{font:14px/1.4 sans-serif;margin:1em;background:#f4f5f7;"
        "color:#222}\n"
        "h1{font-size:20px;margin:0 0 .5em}h2{font-size:17px;margin:0}\n"
        "section{background:#fff;border:1px solid #ccd;border-radius:6px;"
        "padding:.8em;margin:0 0 1em}\n"
        ".banner{font-size:16px;font-weight:bold;padding:.5em .8em;"
        "border-radius:4px;margin:.5em 0}\n"
        ".ok{background:#dff5e1;border:2px solid #2e7d32;color:#1b5e20}\n"
        ".none{background:#fde0e0;border:3px solid #c62828;color:#b71c1c}\n"
        ".topo{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start;"
        "margin:.4em 0}\n"
        ".tier{display:flex;flex-direction:column;gap:.6em}\n"
        ".tier>h3{font-size:13px;margin:.4em 0 0;color:#555}\n"
        ".srv{border:1px solid #99a;border-radius:4px;padding:.4em .6em;"
        "min-width:15em;background:#fafafa}\n"
        ".srv.master{border:3px solid #2e7d32;background:#eefaef}\n"
        ".srv.claimant{border:3px solid #c62828;background:#fff0f0}\n"
        ".srv.follower{border-color:#1565c0}\n"
        ".srv.down{background:#eee;color:#777}\n"
        ".srv.other{border-style:dashed}\n"
        ".addr{font:bold 15px monospace}.err{color:#b71c1c}\n"
        "table{border-collapse:collapse}td,th{padding:1px 6px;"
        "text-align:left;vertical-align:top}\n"
        ".kv td:first-child{color:#666}\n"
        ".counters td,.counters th{border:1px solid #dde}\n"
        "</style></head><body>\n"
        "<h1>Redis masters as nginx sees them</h1>\n"
        "<p>%s UTC, worker %P, nginx %s; refreshes every %d s; also as "
        "<a href=\"?format=json\">JSON</a> and "
        "<a href=\"?format=prometheus\">Prometheus</a>.</p>\n",
        NGX_STREAM_REDIS_MASTER_STATUS_REFRESH, when, ngx_pid, NGINX_VERSION,
        NGX_STREAM_REDIS_MASTER_STATUS_REFRESH);

    if (n == 0) {
        ngx_stream_redis_master_status_printf(o,
                      "<p>No upstream uses redis_master or redis_replica."
                      "</p>\n");
    }

    for (u = 0; u < n; u++) {
        ngx_stream_redis_master_status_html_upstream(o, &views[u]);
    }

    ngx_stream_redis_master_status_printf(o, "</body></html>\n");
}


static void
ngx_stream_redis_master_status_html_upstream(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view)
{
    ngx_uint_t                          i, tier, shown;
    ngx_stream_redis_master_node_t     *s;
    ngx_stream_redis_master_target_t  **tp;

    static const char  *tiers[] = {
        "master", "replicas that follow it",
        "servers that claim master too", "other lineage or role",
        "down"
    };

    tp = view->conf->targets.elts;

    ngx_stream_redis_master_status_printf(o,
                  "<section class=\"upstream\" data-upstream=\"");
    ngx_stream_redis_master_status_text(o, view->conf->name->data,
                                        view->conf->name->len);
    ngx_stream_redis_master_status_printf(o, "\"><h2>upstream ");
    ngx_stream_redis_master_status_text(o, view->conf->name->data,
                                        view->conf->name->len);
    ngx_stream_redis_master_status_printf(o, " <small>(%s)</small></h2>\n",
                  view->conf->balancer
                  == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA
                  ? "redis_replica: read pool" : "redis_master: write pool");

    if (view->master != NGX_STREAM_REDIS_MASTER_NONE) {
        ngx_stream_redis_master_status_printf(o,
                      "<div class=\"banner ok\" id=\"master\">MASTER "
                      "<span class=\"addr\">");
        ngx_stream_redis_master_status_text(o,
                                            view->address[view->master].data,
                                            view->address[view->master].len);
        ngx_stream_redis_master_status_printf(o,
                      "</span> &mdash; chosen by rule &ldquo;%s&rdquo;: "
                      "%s%s</div>\n",
                      ngx_stream_redis_master_status_rule(view),
                      ngx_stream_redis_master_status_why(view),
                      view->route.fallback
                      ? "; no qualified replica: reads fall back to it" : "");

    } else {
        ngx_stream_redis_master_status_printf(o,
                      "<div class=\"banner none\" id=\"no-master\">NO MASTER"
                      " &mdash; %s%s",
                      view->decision.rule == NGX_STREAM_REDIS_MASTER_RULE_TIE
                      ? "SPLIT BRAIN REFUSED: " : "",
                      ngx_stream_redis_master_status_why(view));

        if (view->decision.claimants > 1) {
            ngx_stream_redis_master_status_printf(o, " (%ui claimants:",
                                                  view->decision.claimants);

            for (i = 0; i < view->conf->targets.nelts; i++) {
                if (view->place[i] == NGX_STREAM_REDIS_MASTER_PLACE_CLAIMANT) {
                    ngx_stream_redis_master_status_printf(o, " ");
                    ngx_stream_redis_master_status_text(o,
                                                        view->address[i].data,
                                                        view->address[i].len);
                }
            }

            ngx_stream_redis_master_status_printf(o, ")");
        }

        ngx_stream_redis_master_status_printf(o, "</div>\n");
    }

    ngx_stream_redis_master_status_printf(o, "<div class=\"topo\">\n");

    for (tier = 0; tier < NGX_STREAM_REDIS_MASTER_NPLACES; tier++) {
        shown = 0;

        for (i = 0; i < view->conf->targets.nelts; i++) {

            /* a seat without an address is no server */

            if (view->place[i] != tier
                || !ngx_stream_redis_master_status_listed(view, i))
            {
                continue;
            }

            if (shown++ == 0) {
                ngx_stream_redis_master_status_printf(o,
                              "<div class=\"tier\"><h3>%s</h3>\n",
                              tiers[tier]);
            }

            ngx_stream_redis_master_status_html_server(o, view, i);
        }

        if (shown) {
            ngx_stream_redis_master_status_printf(o, "</div>\n");
        }
    }

    ngx_stream_redis_master_status_printf(o, "</div>\n");

    if (view->nnames) {
        ngx_stream_redis_master_status_html_names(o, view);
    }

    if (view->conf->sentinels.nelts) {
        ngx_stream_redis_master_status_printf(o,
                      "<h3>Sentinels</h3><table class=\"counters\">"
                      "<tr><th>Sentinel</th><th>state</th><th>names</th>"
                      "<th>agrees</th><th>error</th></tr>\n");

        tp = view->conf->sentinels.elts;

        for (i = 0; i < view->conf->sentinels.nelts; i++) {
            s = &view->v.sentinels[i];

            ngx_stream_redis_master_status_printf(o, "<tr><td class=\"addr\">");
            ngx_stream_redis_master_status_text(o, tp[i]->name.data,
                                                tp[i]->name.len);
            ngx_stream_redis_master_status_printf(o, "</td><td>%s</td><td>",
                                  ngx_stream_redis_master_status_state(s));

            if (view->named[i].len) {
                ngx_stream_redis_master_status_text(o, view->named[i].data,
                                                    view->named[i].len);
                ngx_stream_redis_master_status_printf(o, "%s",
                              s->info.master_down ? " (sees it down)" : "");

            } else {
                ngx_stream_redis_master_status_printf(o, "&mdash;");
            }

            ngx_stream_redis_master_status_printf(o,
                              "</td><td>%s</td><td class=\"err\">",
                              view->agrees[i] ? "yes" : "no");

            if (!s->up) {
                ngx_stream_redis_master_status_text(o, s->reason,
                                                    s->reason_len);
            }

            ngx_stream_redis_master_status_printf(o, "</td></tr>\n");
        }

        ngx_stream_redis_master_status_printf(o, "</table>\n");
    }

    ngx_stream_redis_master_status_printf(o,
                  "<h3>Counters</h3><table class=\"counters\"><tr>");

    for (i = 0; i < NGX_STREAM_REDIS_MASTER_NCOUNTERS; i++) {
        ngx_stream_redis_master_status_printf(o, "<th>%s</th>",
                              ngx_stream_redis_master_status_counters[i].html);
    }

    ngx_stream_redis_master_status_printf(o, "</tr><tr>");

    for (i = 0; i < NGX_STREAM_REDIS_MASTER_NCOUNTERS; i++) {
        ngx_stream_redis_master_status_printf(o, "<td>%uA</td>",
                                              view->route.counters[i]);
    }

    ngx_stream_redis_master_status_printf(o, "</tr></table></section>\n");
}


static void
ngx_stream_redis_master_status_html_server(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i)
{
    off_t                               lag;
    u_char                              when[sizeof("00:00:00")];
    ngx_tm_t                            tm;
    const char                         *why;
    ngx_msec_int_t                      ms;
    ngx_stream_redis_master_node_t     *s;
    ngx_stream_redis_master_info_t     *info;
    ngx_stream_redis_master_target_t  **tp;

    tp = view->conf->targets.elts;
    s = &view->v.nodes[i];
    info = &s->info;

    ngx_stream_redis_master_status_printf(o,
                  "<div class=\"srv %s\" data-address=\"",
                  ngx_stream_redis_master_status_places[view->place[i]]);
    ngx_stream_redis_master_status_text(o, view->address[i].data,
                                        view->address[i].len);
    ngx_stream_redis_master_status_printf(o, "\"><div class=\"addr\">");
    ngx_stream_redis_master_status_text(o, view->address[i].data,
                                        view->address[i].len);
    ngx_stream_redis_master_status_printf(o,
                  "</div><table class=\"kv\">");

    if (tp[i]->of) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>name</td><td class=\"name\">");
        ngx_stream_redis_master_status_text(o, tp[i]->of->name.data,
                                            tp[i]->of->name.len);
        ngx_stream_redis_master_status_printf(o, "</td></tr>");
    }

    ngx_stream_redis_master_status_printf(o,
                  "<tr><td>state</td><td>%s%s%s</td></tr>"
                  "<tr><td>role</td><td>%s</td></tr>",
                  ngx_stream_redis_master_status_state(s),
                  ngx_stream_redis_master_bit(view->v.down, i)
                  ? ", marked down" : "",
                  ngx_stream_redis_master_bit(view->eligible, i)
                  ? ", in use" : "",
                  ngx_stream_redis_master_role_name(info->role));

    why = ngx_stream_redis_master_status_why_not(view, i);

    if (why) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>why not</td><td class=\"why\">%s</td></tr>",
                      why);
    }

    if ((!s->up || s->failures) && s->reason_len) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>error</td><td class=\"err\">");
        ngx_stream_redis_master_status_text(o, s->reason, s->reason_len);
        ngx_stream_redis_master_status_printf(o, "</td></tr>");
    }

    if (info->role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>link</td><td>%s%s%s</td></tr>",
                      info->link_up ? "up" : "down",
                      info->sync_in_progress ? ", syncing" : "",
                      info->loading ? ", loading" : "");

        if (ngx_stream_redis_master_status_lag_ms(view, i, &ms) == NGX_OK) {
            ngx_stream_redis_master_status_printf(o,
                          "<tr><td>lag</td><td>%M ms", (ngx_msec_t) ms);

        } else {
            ngx_stream_redis_master_status_printf(o,
                          "<tr><td>lag</td><td>&mdash;");
        }

        if (ngx_stream_redis_master_status_lag_bytes(view, i, &lag)
            == NGX_OK)
        {
            ngx_stream_redis_master_status_printf(o, ", %O bytes", lag);
        }

        ngx_stream_redis_master_status_printf(o, "</td></tr>");

        if (info->master_last_io >= 0) {
            ngx_stream_redis_master_status_printf(o,
                          "<tr><td>last io</td><td>%i s ago</td></tr>",
                          info->master_last_io);
        }

    } else if (info->loading) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>link</td><td>loading</td></tr>");
    }

    if (info->replid[0]) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>replid</td><td><code>");
        ngx_stream_redis_master_status_replid(o, info->replid);
        ngx_stream_redis_master_status_printf(o, "</code></td></tr>");
    }

    if (s->probes) {
        ngx_gmtime(ngx_stream_redis_master_status_checked(s), &tm);
        ngx_sprintf(when, "%02d:%02d:%02d%Z", tm.ngx_tm_hour, tm.ngx_tm_min,
                    tm.ngx_tm_sec);

        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>checked</td><td>%s, in %uD ms</td></tr>",
                      when, (uint32_t) s->latency);
    }

    if (s->role_changed) {
        ngx_gmtime((time_t) s->role_changed, &tm);
        ngx_sprintf(when, "%02d:%02d:%02d%Z", tm.ngx_tm_hour, tm.ngx_tm_min,
                    tm.ngx_tm_sec);

        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>role since</td><td>%s</td></tr>", when);
    }

    ngx_stream_redis_master_status_printf(o,
                  "<tr><td>rise/fall</td><td>%uD / %uD</td></tr>"
                  "</table></div>\n", s->successes, s->failures);
}


/*
 * The upstream's redis_server names: each name, the addresses it brings
 * now (its servers above), when it last had an answer, and its last
 * resolution's error.
 */

static void
ngx_stream_redis_master_status_html_names(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view)
{
    ngx_uint_t                              i, k;
    ngx_msec_t                              ago;
    ngx_stream_redis_master_status_name_t  *name;

    ngx_stream_redis_master_status_printf(o,
                  "<h3>Names</h3><table class=\"counters names\">"
                  "<tr><th>name</th><th>addresses</th><th>last resolved</th>"
                  "<th>resolutions / failures</th><th>last error</th></tr>\n");

    for (i = 0; i < view->nnames; i++) {
        name = &view->names[i];

        ngx_stream_redis_master_status_printf(o, "<tr><td class=\"addr\">");
        ngx_stream_redis_master_status_text(o, name->conf->server.data,
                                            name->conf->server.len);
        ngx_stream_redis_master_status_printf(o, "</td><td>");

        for (k = 0; k < name->naddresses; k++) {
            ngx_stream_redis_master_status_printf(o, k ? ", " : "");
            ngx_stream_redis_master_status_text(o, name->addresses[k].data,
                                                name->addresses[k].len);
        }

        if (name->naddresses == 0) {
            ngx_stream_redis_master_status_printf(o, "&mdash;");
        }

        ngx_stream_redis_master_status_printf(o, " (max_servers=%ui%s",
                                              name->conf->max,
                                              name->record->cut ? "; " : ")");

        if (name->record->cut) {
            ngx_stream_redis_master_status_printf(o, "%uD more not used)",
                                                  name->record->cut);
        }

        if (ngx_stream_redis_master_status_resolved(name, &ago) == NGX_OK) {
            ngx_stream_redis_master_status_printf(o,
                                      "</td><td>%M s ago", ago / 1000);

        } else {
            ngx_stream_redis_master_status_printf(o, "</td><td>never");
        }

        ngx_stream_redis_master_status_printf(o,
                      "</td><td>%uD / %uD</td><td class=\"err\">",
                      name->record->resolutions, name->record->failures);
        ngx_stream_redis_master_status_text(o, name->node.reason,
                                            name->node.reason_len);
        ngx_stream_redis_master_status_printf(o, "</td></tr>\n");
    }

    ngx_stream_redis_master_status_printf(o, "</table>\n");
}
