# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package StatusPage;

# StatusPage - reads the status page (redis_master_status, docs/status.md)
# of the nginx under test, as a monitoring system or a browser would:
# over HTTP in each format, through promtool, and rendered by headless
# Chromium.  The page is served by Test::Nginx's http server, at the
# location a block's "--- config" gives it (default /redis/).

use strict;
use warnings;

use Exporter qw(import);
use File::Temp qw(tempfile);
use HTTP::Tiny;
use JSON::PP ();

use RedisTopo qw(wait_until scaled);

our @EXPORT_OK = qw(
    status_url get_status status_json wait_status upstream server_of
    promtool_check chromium_render json_strict foreign_markup
);

sub _port { $ENV{TEST_NGINX_SERVER_PORT} // $Test::Nginx::Util::ServerPort }

# status_url([PATH], [QUERY]): the page's address
sub status_url {
    my ($path, $query) = @_;
    my $url = 'http://127.0.0.1:' . _port() . ($path // '/redis/');
    $url .= "?$query" if defined $query;
    return $url;
}

# get_status(%opt): the response (HTTP::Tiny's hash) to a GET of the page;
# path, query (e.g. "format=json"), headers (a hash)
sub get_status {
    my (%opt) = @_;
    my $http = HTTP::Tiny->new(timeout => scaled(5));
    return $http->get(status_url($opt{path}, $opt{query}),
                      { headers => $opt{headers} // {} });
}

# status_json([PATH]): the page's JSON, decoded; dies unless it is 200 and
# valid JSON
sub status_json {
    my ($path) = @_;
    my $res = get_status(path => $path, query => 'format=json');
    die "status page: $res->{status} $res->{reason}\n"
        unless $res->{status} == 200;
    return JSON::PP::decode_json($res->{content});
}

# wait_status(COND, [TIMEOUT], [WHAT]): the JSON once COND(JSON) is true
sub wait_status {
    my ($cond, $timeout, $what) = @_;
    my $json;
    wait_until(sub {
        $json = eval { status_json() };
        return $json && $cond->($json);
    }, $timeout // 20, $what // 'the status page');
    return $json;
}

# upstream(JSON, NAME): that upstream's object, or undef
sub upstream {
    my ($json, $name) = @_;
    my ($u) = grep { $_->{name} eq $name } @{ $json->{upstreams} };
    return $u;
}

# server_of(UPSTREAM, PORT): the server of 127.0.0.1:PORT in it, or undef
sub server_of {
    my ($u, $port) = @_;
    my ($s) = grep { $_->{address} eq "127.0.0.1:$port" } @{ $u->{servers} };
    return $s;
}

# json_strict(TEXT): TEXT decoded as JSON (RFC 8259), as JSON::PP decodes
# it; dies on what JSON::PP lets pass: an object with the same key twice (a
# consumer would read one of them, and which depends on the parser)
sub json_strict {
    my ($text) = @_;
    my $v = _json_value(\$text);
    $text =~ /\G[ \t\n\r]*\z/gc or _json_die(\$text, 'the end');
    return $v;
}

sub _json_die {
    my ($t, $want) = @_;
    my $at = pos($$t) // 0;
    die "json: $want expected at byte $at: '"
        . substr($$t, $at > 20 ? $at - 20 : 0, 40) . "'\n";
}

sub _json_value {
    my ($t) = @_;
    $$t =~ /\G[ \t\n\r]*/gc;
    if ($$t =~ /\G\{/gc) {
        my %o;
        $$t =~ /\G[ \t\n\r]*/gc;
        return \%o if $$t =~ /\G\}/gc;
        while (1) {
            $$t =~ /\G[ \t\n\r]*/gc;
            my $at = pos($$t);
            my $k = _json_string($t) // _json_die($t, 'a key');
            die "json: duplicate key \"$k\" in an object, at byte $at\n"
                if exists $o{$k};
            $$t =~ /\G[ \t\n\r]*:/gc or _json_die($t, ':');
            $o{$k} = _json_value($t);
            $$t =~ /\G[ \t\n\r]*/gc;
            next if $$t =~ /\G,/gc;
            last if $$t =~ /\G\}/gc;
            _json_die($t, ', or }');
        }
        return \%o;
    }
    if ($$t =~ /\G\[/gc) {
        my @a;
        $$t =~ /\G[ \t\n\r]*/gc;
        return \@a if $$t =~ /\G\]/gc;
        while (1) {
            push @a, _json_value($t);
            $$t =~ /\G[ \t\n\r]*/gc;
            next if $$t =~ /\G,/gc;
            last if $$t =~ /\G\]/gc;
            _json_die($t, ', or ]');
        }
        return \@a;
    }
    my $str = _json_string($t);
    return $str if defined $str;
    return 0 + $1
        if $$t =~ /\G(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)/gc;
    return JSON::PP::true if $$t =~ /\Gtrue/gc;
    return JSON::PP::false if $$t =~ /\Gfalse/gc;
    return undef if $$t =~ /\Gnull/gc;
    _json_die($t, 'a value');
}

# a string at pos(), decoded, or undef
sub _json_string {
    my ($t) = @_;
    $$t =~ /\G("(?:[^"\\\x00-\x1f]|\\["\\\/bfnrt]|\\u[0-9a-fA-F]{4})*")/gc
        or return undef;
    return JSON::PP->new->utf8->allow_nonref->decode($1);
}

# the elements and attributes of the page as the module writes it (in
# ngx_stream_redis_master_status.c): anything else came from elsewhere
my %OWN_ELEMENTS = map { $_ => 1 } qw(
    html head meta link title style body h1 h2 h3 p a section div span
    small table tbody tr td th code
);
my %OWN_ATTRIBUTES = map { $_ => 1 } qw(
    lang charset http-equiv content rel href class id data-upstream
    data-address
);

# foreign_markup(HTML): what HTML (the page, or the DOM a browser made of
# it) has that the module does not write: "element NAME" and "attribute
# NAME" for each element and attribute not of the module's own, and
# "comment" for a comment; () when there is none
sub foreign_markup {
    my ($html) = @_;
    my %found;
    $html =~ s{<style>.*?</style>}{}gs;    # the module's CSS, no markup
    $found{comment} = 1 if $html =~ /<!--/;
    while ($html =~ m{<([a-zA-Z][^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>}g) {
        my ($name, $attrs) = (lc $1, $2);
        $found{"element $name"} = 1 unless $OWN_ELEMENTS{$name};
        while ($attrs =~ m{([^\s=/"'>]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?}g) {
            $found{'attribute ' . lc $1} = 1 unless $OWN_ATTRIBUTES{lc $1};
        }
    }
    return sort keys %found;
}

# promtool_check(TEXT): (exit status, output) of "promtool check metrics"
# (Debian's prometheus package) reading TEXT
sub promtool_check {
    my ($text) = @_;
    my ($fh, $file) = tempfile(UNLINK => 1);
    print {$fh} $text;
    close $fh;
    my $out = `promtool check metrics < '$file' 2>&1`;
    return ($? >> 8, $out);
}

# chromium_render(URL, [SCREENSHOT]): the DOM headless Chromium rendered
# and the console messages it logged (each "CONSOLE" line of its log);
# with SCREENSHOT, a PNG of the page is written there too
sub chromium_render {
    my ($url, $png) = @_;
    my @base = ('chromium', '--headless', '--no-sandbox', '--disable-gpu',
                '--enable-logging=stderr', '--v=0', '--hide-scrollbars',
                '--window-size=1280,1600');
    my $timeout = int(scaled(30));

    my ($efh, $err) = tempfile(UNLINK => 1);
    close $efh;
    my $dom = _run(join(' ', 'timeout', $timeout, @base, '--dump-dom',
                        "'$url'", "2>'$err'"));
    my @console = grep { /:CONSOLE[:(]/ } _lines($err);

    if ($png) {
        _run(join(' ', 'timeout', $timeout, @base, "--screenshot='$png'",
                  "'$url'", "2>>'$err'"));
        push @console, grep { /:CONSOLE[:(]/ } _lines($err);
        die "chromium wrote no screenshot to $png\n" unless -s $png;
    }

    return { dom => $dom, console => \@console };
}

sub _run {
    my ($cmd) = @_;
    my $out = `$cmd`;
    die "$cmd: exit status " . ($? >> 8) . "\n" if $?;
    return $out;
}

sub _lines {
    my ($file) = @_;
    open my $fh, '<', $file or return ();
    return <$fh>;
}

1;
