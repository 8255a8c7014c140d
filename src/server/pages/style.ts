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
`
