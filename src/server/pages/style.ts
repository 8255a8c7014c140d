// The one stylesheet: readable tables, state badges and buttons; no framework, no build step.
export const STYLESHEET = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6473; --line: #dde2ea; --bg: #f6f7f9;
  --accent: #1f5fbf; --ok: #1d7a46; --warn: #a86400; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header.top { display: flex; justify-content: space-between; align-items: center; padding: .7rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; color: var(--ink); text-decoration: none; }
main { max-width: 1100px; margin: 1.5rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.45rem; margin: 0 0 .8rem; } h2 { font-size: 1.15rem; margin: 0; } h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
.card header { display: flex; gap: .8rem; align-items: baseline; flex-wrap: wrap; }
.muted { color: var(--muted); } code { font-size: .9em; background: #eef1f5; padding: .05rem .3rem; border-radius: 4px; word-break: break-all; }
table { width: 100%; border-collapse: collapse; margin-top: .6rem; }
th, td { text-align: left; padding: .4rem .5rem; border-top: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; background: #eef1f5; }
.state-active { background: #e3f4ea; color: var(--ok); } .state-expiring, .state-refreshing { background: #fff3dc; color: var(--warn); }
.state-needs_reauth, .state-error, .state-revoked { background: #fde8e6; color: var(--bad); }
form { margin: .4rem 0; } form.inline { display: inline; }
label { display: inline-flex; flex-direction: column; font-size: .85rem; color: var(--muted); margin-right: .6rem; }
input[type=text], input[type=password] { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; min-width: 14rem; color: var(--ink); }
button, .button { font: inherit; display: inline-block; padding: .35rem .85rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
button.link { background: none; border: none; color: var(--accent); padding: 0; }
.notice { border-left: 4px solid var(--ok); } .error { border-left: 4px solid var(--bad); }
.steps li { margin-bottom: .6rem; }
.top-nav ul { display: flex; flex-wrap: wrap; gap: .2rem 1rem; list-style: none; margin: 0; padding: 0; }
.top-nav a { color: var(--accent); text-decoration: none; } .top-nav a[aria-current=page] { color: var(--ink); font-weight: 600; border-bottom: 2px solid var(--accent); }
header.top { flex-wrap: wrap; gap: .4rem 1.2rem; justify-content: flex-start; } header.top .brand { margin-right: 1rem; } header.top .top-nav { margin-right: auto; }
.table-scroll { overflow-x: auto; max-width: 100%; } .table-scroll code { word-break: normal; white-space: nowrap; }
#refresh-timeline { max-width: 720px; }
figure { margin: .6rem 0 0; min-width: 0; } figcaption { font-size: .85rem; color: var(--muted); margin-bottom: .3rem; }
svg.chart { display: block; width: 100%; height: auto; max-width: 100%; overflow: visible; }
#fleet-states { height: 1.6rem; border-radius: 4px; }
.fleet-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 2fr); gap: 1.2rem; }
@media (max-width: 720px) { .fleet-grid { grid-template-columns: minmax(0, 1fr); } }
.legend { display: flex; flex-wrap: wrap; gap: .2rem .9rem; list-style: none; padding: 0; margin: .4rem 0 0; font-size: .85rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -.1rem; }
.state-fill.state-active { fill: var(--ok); background: var(--ok); } .state-fill.state-refreshing, .state-fill.state-expiring { fill: #e0a526; background: #e0a526; }
.state-fill.state-error, .state-fill.state-needs_reauth { fill: var(--bad); background: var(--bad); } .state-fill.state-revoked { fill: #8a8f99; background: #8a8f99; }
.empty-fill { fill: var(--line); }
.bar-refresh { fill: var(--ok); background: var(--ok); } .bar-failure { fill: var(--bad); background: var(--bad); } .bar-due { fill: #7fa4da; background: #7fa4da; }
svg .axis, svg .guide { stroke: var(--line); stroke-width: 1; } svg .now { stroke: var(--ink); stroke-dasharray: 3 3; stroke-width: 1; }
svg .tick, svg .lane { font-size: 11px; fill: var(--muted); }
.mark-refresh circle { fill: var(--ok); } .mark-failure path { stroke: var(--bad); stroke-width: 2.5; fill: none; }
.mark-reauth path { fill: var(--accent); } .mark-due circle { fill: #fff; stroke: var(--ok); stroke-width: 2; }
.key { font-size: .85rem; } .key-refresh, .key-due { color: var(--ok); } .key-failure { color: var(--bad); } .key-reauth { color: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .3rem 1rem; margin: .6rem 0 0; }
dl.facts dt { color: var(--muted); font-size: .85rem; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 480px) { main { padding: 0 .6rem; } svg .tick, svg .lane { font-size: 15px; } header.top { padding: .6rem; } dl.facts { grid-template-columns: minmax(0, 1fr); } dl.facts dd { margin-bottom: .3rem; }
  input[type=text], input[type=password] { min-width: 0; width: 100%; } label { display: flex; margin-right: 0; } }
`
