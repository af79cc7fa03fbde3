import Mustache

/// The pages' Mustache templates. `{{x}}` escapes HTML, and no template
/// writes a value unescaped: the schema diagram's SVG is a template too.
/// Kept in the binary (no files beside it to find or lose), with the style
/// inline: the pages fetch nothing, and scripts are refused by their
/// Content-Security-Policy.
enum PageTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in all {
            do { try library.register(text, named: name) } catch { fatalError("page template \(name) does not parse: \(error)") }
        }
        return library
    }()

    static let all: [(String, String)] = [
        ("top", top), ("bottom", bottom), ("login", login), ("projects", projects), ("history", history), ("event", event),
        ("schema", schema), ("diagram", diagram), ("fleet", fleet), ("audit", audit), ("problem", problem),
    ]

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
        header{background:#1d2330;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
        header a{color:#cfd6e4;text-decoration:none}header a.here{color:#fff;font-weight:600}
        header .brand{font-weight:700;color:#fff}header form{margin-left:auto}
        main{padding:20px 24px;max-width:1200px}
        h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px}
        code,pre{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
        pre{background:#fff;border:1px solid #dde1e8;padding:10px;overflow-x:auto;white-space:pre-wrap}
        .muted{color:#667085}.tag{font-size:11px;border-radius:3px;padding:1px 6px;margin-left:6px;background:#e4e7ec}
        .tag.head{background:#d1fadf}.tag.merge{background:#e0e7ff}
        ol.timeline{list-style:none;padding:0;margin:0}
        ol.timeline>li{background:#fff;border:1px solid #dde1e8;border-left:4px solid #6172f3;margin:0 0 10px;padding:8px 12px}
        ol.timeline>li.merge{border-left-color:#9e77ed}
        .message{font-weight:600;margin:2px 0}ul.ops{margin:4px 0 0;padding-left:18px}
        table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #dde1e8;padding:5px 8px;text-align:left;vertical-align:top}
        th{background:#eef0f4}td.ok{background:#ecfdf3}td.warn{background:#fffaeb}td.bad{background:#fef3f2;font-weight:600}
        .diagram{background:#fff;border:1px solid #dde1e8;max-width:100%;height:auto}
        .diagram .box{fill:#fff;stroke:#667085}.diagram .header{fill:#e0e7ff;stroke:#667085}
        .diagram .name{font-weight:700;font-size:13px}.diagram .column{font-size:12px}.diagram .type{fill:#667085}.diagram .mark{font-size:9px;font-weight:700;fill:#6172f3}
        .diagram .fk{fill:none;stroke:#6172f3;stroke-width:1.5}.diagram .arrowhead{fill:#6172f3}
        form.login{background:#fff;border:1px solid #dde1e8;padding:16px;max-width:420px}
        form.login input[type=password]{width:100%;padding:6px;margin:6px 0 10px;box-sizing:border-box}
        .error{color:#b42318;font-weight:600}
        section.rollout{background:#fff;border:1px solid #dde1e8;border-left:4px solid #6172f3;padding:8px 12px;margin:0 0 12px}
        section.rollout.halted{border-left-color:#d92d20;background:#fef3f2}section.rollout.done{border-left-color:#12b76a}
        section.rollout.paused,section.rollout.aborted{border-left-color:#f79009}
        """

    static let top = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}<title>{{title}} · strata registry</title><style>\(style)</style></head>
        <body><header><a class="brand" href="/ui">strata registry</a>
        {{#project}}<a href="/ui/{{project}}" class="{{#nav.history}}here{{/nav.history}}">History</a>
        <a href="/ui/{{project}}/schema" class="{{#nav.schema}}here{{/nav.schema}}">Schema</a>
        <a href="/ui/{{project}}/fleet" class="{{#nav.fleet}}here{{/nav.fleet}}">Fleet</a>
        <a href="/ui/{{project}}/audit" class="{{#nav.audit}}here{{/nav.audit}}">Audit</a>{{/project}}
        {{#signedIn}}<form method="post" action="/ui/logout"><span class="muted">{{signedIn}}</span> <button type="submit">Sign out</button></form>{{/signedIn}}
        </header><main>
        """

    static let bottom = "</main></body></html>\n"

    static let login = """
        {{> top}}
        <h1>Sign in</h1>
        <p class="muted">The registry's pages need a token with the read role (or the registry started with <code>--public-read</code>).</p>
        {{#error}}<p class="error" id="login-error">{{error}}</p>{{/error}}
        <form class="login" method="post" action="/ui/login">
        <label for="token">Token</label><input type="password" id="token" name="token" autocomplete="current-password" required>
        <input type="hidden" name="next" value="{{next}}"><button type="submit">Sign in</button>
        </form>
        {{> bottom}}
        """

    static let projects = """
        {{> top}}
        <h1>Projects</h1>
        {{^projects}}<p class="muted">No project you may read. An admin creates one with <code>strata registry project create NAME</code>.</p>{{/projects}}
        <ul>{{#projects}}<li><a href="/ui/{{.}}">{{.}}</a></li>{{/projects}}</ul>
        {{> bottom}}
        """

    static let history = """
        {{> top}}
        <h1>{{project}}</h1>
        <p class="muted">{{count}} event{{^one}}s{{/one}}{{#head}}; head <a href="/ui/{{project}}/events/{{head}}"><code>{{headShort}}</code></a>{{/head}}</p>
        {{^events}}<p class="muted">Nothing pushed yet: <code>strata push</code> sends a node's revisions here.</p>{{/events}}
        <ol class="timeline" id="history">
        {{#events}}<li class="event{{#merge}} merge{{/merge}}" data-id="{{id}}">
        <div><a href="/ui/{{project}}/events/{{id}}"><code>{{short}}</code></a>{{#merge}}<span class="tag merge">merge of {{#parents}}<code>{{.}}</code> {{/parents}}</span>{{/merge}}{{#isHead}}<span class="tag head">head</span>{{/isHead}}</div>
        <div class="message">{{message}}</div>
        <div class="muted"><span class="author">{{author}}</span> at {{date}}{{#signer}} · signed by <span class="signer">{{signer}}</span>{{/signer}} · pushed by <span class="pusher">{{pushedBy}}</span> at {{pushedAt}}</div>
        {{#hasOps}}<ul class="ops">{{#ops}}<li>{{.}}</li>{{/ops}}</ul>{{/hasOps}}
        </li>{{/events}}
        </ol>
        {{#older}}<p><a href="/ui/{{project}}?offset={{older}}">Older events</a></p>{{/older}}
        {{> bottom}}
        """

    static let event = """
        {{> top}}
        <h1 class="message">{{message}}</h1>
        <table><tr><th>revision</th><td><code>{{id}}</code></td></tr>
        <tr><th>parents</th><td>{{#parents}}<a href="/ui/{{project}}/events/{{.}}"><code>{{.}}</code></a> {{/parents}}{{^parents}}(root){{/parents}}</td></tr>
        <tr><th>author</th><td>{{author}}</td></tr><tr><th>date</th><td>{{date}}</td></tr>
        <tr><th>signed</th><td>{{#signer}}by {{signer}}{{/signer}}{{^signer}}no{{/signer}}</td></tr>
        <tr><th>pushed</th><td>by {{pushedBy}} at {{pushedAt}}</td></tr></table>
        <p><a href="/ui/{{project}}/schema?at={{id}}">Schema after this event</a>{{#firstParent}} · <a href="/ui/{{project}}/schema?at={{firstParent}}">schema before it</a>{{/firstParent}}</p>
        <h2>Ops</h2><ul class="ops" id="ops">{{#ops}}<li>{{.}}</li>{{/ops}}{{^ops}}<li class="muted">none</li>{{/ops}}</ul>
        <h2>Inverse ops</h2><ul class="ops" id="inverse">{{#inverse}}<li>{{.}}</li>{{/inverse}}{{^inverse}}<li class="muted">none</li>{{/inverse}}</ul>
        <h2>Upgrade</h2><pre id="upgrade">{{#up}}{{.}};
        {{/up}}</pre>
        <h2>Downgrade</h2><pre id="downgrade">{{#down}}{{.}};
        {{/down}}</pre>
        {{> bottom}}
        """

    static let schema = """
        {{> top}}
        <h1>Schema of {{project}} at {{#id}}<code>{{short}}</code>{{/id}}{{^id}}base{{/id}}</h1>
        <p class="muted">{{#id}}{{message}} · <a href="/ui/{{project}}/events/{{id}}">changes from its parent</a>{{#parent}} · <a href="/ui/{{project}}/schema?at={{parent}}">the parent's schema</a>{{/parent}} · {{/id}}<a href="/ui/{{project}}/schema">head</a></p>
        <p class="muted">{{tableCount}} table{{^oneTable}}s{{/oneTable}}, {{indexCount}} index{{^oneIndex}}es{{/oneIndex}}, {{viewCount}} view{{^oneView}}s{{/oneView}}, {{triggerCount}} trigger{{^oneTrigger}}s{{/oneTrigger}}</p>
        {{#diagram}}{{> diagram}}{{/diagram}}
        <h2>SQL</h2><pre id="ddl">{{#ddl}}{{.}};
        {{/ddl}}</pre>
        {{> bottom}}
        """

    /// `SchemaDiagram.layout`'s context as SVG, each element on its own line.
    static let diagram = """
        {{#empty}}<svg xmlns="http://www.w3.org/2000/svg" width="240" height="40" role="img" aria-label="no tables"><text x="8" y="24" class="empty">no tables at this revision</text></svg>{{/empty}}
        {{^empty}}<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{{width}}" height="{{height}}" role="img" aria-label="tables and foreign keys">
        <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>
        {{#edges}}<path class="fk" d="{{d}}" marker-end="url(#arrow)"><title>{{title}}</title></path>
        {{/edges}}{{#tables}}<g class="table" data-table="{{name}}"><rect x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" rx="4" class="box"/><rect x="{{x}}" y="{{y}}" width="{{width}}" height="{{headerHeight}}" rx="4" class="header"/><text x="{{nameX}}" y="{{nameY}}" class="name">{{name}}</text>
        {{#rows}}<text x="{{markX}}" y="{{y}}" class="column"><tspan class="mark">{{mark}}</tspan><tspan x="{{nameX}}">{{name}}</tspan><tspan class="type"> {{type}}{{#notNull}} NOT NULL{{/notNull}}</tspan></text>
        {{/rows}}</g>
        {{/tables}}</svg>{{/empty}}
        """

    static let fleet = """
        {{> top}}
        <h1>Fleet of {{project}}</h1>
        <p class="muted">registry head {{#head}}<a href="/ui/{{project}}/events/{{head}}"><code>{{headShort}}</code></a>{{/head}}{{^head}}base{{/head}} · {{attention}} database{{^oneAttention}}s{{/oneAttention}} need attention</p>
        <h2>Environments</h2>
        {{^environments}}<p class="muted">No targets: an admin sets one with <code>strata promote REV --env NAME</code>.</p>{{/environments}}
        {{#hasEnvironments}}<table id="environments"><tr><th>environment</th><th>target</th><th>set by</th><th>at</th></tr>
        {{#environments}}<tr><td>{{name}}</td><td><a href="/ui/{{project}}/events/{{revision}}"><code>{{short}}</code></a> {{message}}</td><td>{{setBy}}</td><td>{{setAt}}</td></tr>{{/environments}}</table>{{/hasEnvironments}}
        {{#hasRollouts}}<h2>Rollouts</h2>{{/hasRollouts}}
        {{#rollouts}}<section class="rollout {{state}}" id="rollout-{{environment}}" data-state="{{state}}">
        <p><strong>{{environment}}</strong>: <code>{{fromShort}}</code> → <a href="/ui/{{project}}/events/{{to}}"><code>{{toShort}}</code></a>,
        <strong class="state">{{state}}</strong>, wave {{opened}} of {{waveCount}} open (max failures {{maxFailures}}, soak {{soak}} s)</p>
        {{#reason}}<p class="error">halted: {{reason}}</p>{{/reason}}
        <table class="waves"><tr><th>wave</th><th>share</th><th>nodes (databases at the target / reported)</th><th></th></tr>
        {{#waves}}<tr data-wave="{{number}}"><td>{{number}}</td><td>{{percent}}%</td><td>{{#nodes}}<span class="node" data-node="{{name}}">{{name}} {{atTarget}}/{{reported}}{{#failedCount}} ({{failedCount}} failed){{/failedCount}}</span> {{/nodes}}</td><td class="{{kind}}">{{status}}</td></tr>{{/waves}}
        </table>
        {{#hasFailed}}<p>Failed:</p><ul class="failed">{{#failed}}<li><code>{{node}}</code> {{database}}: {{failure}}</li>{{/failed}}</ul>{{/hasFailed}}
        <p class="muted">{{#steps}}{{at}} {{by}} {{action}}{{#detail}}: {{detail}}{{/detail}}<br>{{/steps}}</p>
        </section>{{/rollouts}}
        <h2>Databases</h2>
        {{^databases}}<p class="muted">No reports yet: nodes report after <code>strata upgrade</code> or <code>strata sync</code>.</p>{{/databases}}
        {{#hasDatabases}}<table id="databases"><tr><th>node</th><th>database</th><th>revision</th><th>environment</th><th>standing</th><th>reported</th></tr>
        {{#databases}}<tr data-node="{{node}}"><td>{{node}}</td><td>{{database}}</td><td>{{#known}}<a href="/ui/{{project}}/events/{{revision}}">{{/known}}<code>{{short}}</code>{{#known}}</a>{{/known}}</td><td>{{environment}}</td><td class="{{kind}}">{{standing}}</td><td>{{reportedBy}} at {{reportedAt}}</td></tr>{{/databases}}
        </table>{{/hasDatabases}}
        {{> bottom}}
        """

    static let audit = """
        {{> top}}
        <h1>Audit trail of {{project}}</h1>
        <table id="audit"><tr><th>#</th><th>at</th><th>who</th><th>action</th><th>detail</th></tr>
        {{#records}}<tr><td>{{seq}}</td><td>{{at}}</td><td>{{identity}}</td><td>{{action}}</td><td><code>{{detail}}</code></td></tr>{{/records}}
        </table>
        {{> bottom}}
        """

    static let problem = """
        {{> top}}
        <h1>{{heading}}</h1><p class="error">{{message}}</p>
        {{> bottom}}
        """
}
