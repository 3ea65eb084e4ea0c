"""report.html's style sheet: one inline sheet allowed by its hash (shell), light and dark
(prefers-color-scheme), a print layout, and tables that become cards on narrow screens.

Colours come from classes picked from fixed tables (a category's `c-ad-tech`, a shape's
`f-ad-tech`), never from report text; there are no style attributes, which the page's policy
would block anyway.
"""

from __future__ import annotations

from auditor.records import CATEGORY_ORDER

# Light and dark colour of each category (dark mode needs lighter tones to read on black).
CATEGORY_COLOURS: dict[str, tuple[str, str]] = {
    "ad-tech": ("#b03a2e", "#ef7b70"), "analytics": ("#a85a0c", "#f0a04b"),
    "third-party": ("#7d3c98", "#c39bd3"), "unknown": ("#566573", "#aab7c4"),
    "first-party": ("#1f5f8b", "#6fb6e8"), "local": ("#1e7a44", "#63c98b"),
}
NARROW = "50em"  # below this width tables become cards and the timeline stacks its labels

_BASE = """
:root{color-scheme:light dark;--fg:#1c1d1f;--muted:#5b6067;--bg:#fff;--panel:#f4f5f7;
--line:#d6d9de;--link:#1a5fb4;--on-cat:#fff;--received:.45;VARS_LIGHT}
@media (prefers-color-scheme:dark){:root{--fg:#e4e6e9;--muted:#a3a9b1;--bg:#141517;
--panel:#1f2125;--line:#3a3e45;--link:#8cb8f2;--on-cat:#111;--received:.5;VARS_DARK}}
*{box-sizing:border-box}[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:96em;padding:1em 1.25em 3em}
a{color:var(--link)}
h1{font-size:1.5em;margin:.3em 0 .2em;line-height:1.25}
h2{font-size:1.2em;margin:2em 0 .6em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
h3{font-size:1em;margin:1.2em 0 .4em}
p,li{max-width:60em;overflow-wrap:break-word}
code{font:.92em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.muted{color:var(--muted)}.small{font-size:.87em}
nav.toc{font-size:.9em;margin:.6em 0 0}nav.toc a{margin-right:1em;white-space:nowrap}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.8em 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;min-width:0;overflow-wrap:break-word}
.verdict{background:var(--panel);border-radius:8px;padding:.8em 1.1em;margin:.8em 0}
.verdict ul{margin:.2em 0;padding-left:1.2em}.verdict li{margin:.25em 0}
.verdict li.strong{font-weight:600}
.verdict li::first-letter,section>ul li::first-letter{text-transform:uppercase}
.cat{display:inline-block;padding:0 .45em;border-radius:3px;color:var(--on-cat);
font-size:.82em;line-height:1.5;white-space:nowrap;background:var(--muted);
print-color-adjust:exact;-webkit-print-color-adjust:exact}
.host{overflow-wrap:break-word}.host>span{white-space:nowrap}.ip{white-space:nowrap}.ip6{overflow-wrap:break-word}
.url,.evidence{overflow-wrap:anywhere}th.hostcol{min-width:12em}td.orgcol{min-width:12em}td.why{min-width:12em;max-width:22em}
.nowrap{white-space:nowrap}
.wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.4em 0;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.3em .5em;text-align:left;vertical-align:top}
thead th{background:var(--panel);font-weight:600;position:sticky;top:0;z-index:1}
th[data-sort]{white-space:nowrap}
td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.more td{color:var(--muted)}
th button{font:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer;
text-align:inherit}
th button::after{content:" \\2195";color:var(--muted);font-size:.8em}
th[aria-sort=ascending] button::after{content:" \\2191"}
th[aria-sort=descending] button::after{content:" \\2193"}
details>summary{cursor:pointer}
details.evidence summary{color:var(--muted)}
details.evidence ul,td ul{margin:.2em 0;padding-left:1.1em}
ul.plain{list-style:none;padding:0;margin:0}
.toolbar{display:flex;flex-wrap:wrap;gap:.4em .8em;align-items:center;margin:.4em 0;
font-size:.9em}
.toolbar label{display:flex;gap:.3em;align-items:center}
.toolbar select,.toolbar input{font:inherit;max-width:14em;color:var(--fg);background:var(--bg);
border:1px solid var(--line);border-radius:4px;padding:.1em .3em}
.bars{display:grid;grid-template-columns:minmax(10em,max-content) minmax(8em,1fr);
gap:.35em .8em;align-items:center;margin:.6em 0}
.bars .label{min-width:0;overflow-wrap:break-word}
.bars svg{display:block;width:100%;height:18px}
.legend{display:flex;flex-wrap:wrap;gap:.3em 1em;font-size:.87em;color:var(--muted);margin:.3em 0}
.legend svg{vertical-align:middle}
.timeline{margin:.6em 0}
.tl-row{display:grid;grid-template-columns:minmax(9em,17em) minmax(0,1fr);gap:.1em .8em;
align-items:center;padding:.12em 0;border-bottom:1px solid var(--line)}
.tl-row .label{min-width:0;overflow-wrap:break-word;font-size:.9em}
.tl-row svg{display:block;width:100%;height:22px}
.tl-axis svg{height:20px}.tl-axis{border-bottom:0}
details.tl>summary{list-style:none}details.tl>summary::-webkit-details-marker{display:none}
details.tl>summary .label::before{content:"\\25B8\\A0";color:var(--muted)}
details.tl[open]>summary .label::before{content:"\\25BE\\A0"}
details.tl .tl-row.sub .label{padding-left:1.2em;font-size:.85em}
svg text{fill:var(--fg);font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
svg .grid{stroke:var(--line);stroke-width:1}
svg .mark{stroke:var(--fg);stroke-width:1;stroke-dasharray:3 3}
svg .gap{fill:var(--panel)}
.sent{fill-opacity:1}.recv{fill-opacity:var(--received)}
.span{fill-opacity:.28}.f-media{fill:var(--link)}
footer{margin-top:3em;font-size:.85em;color:var(--muted)}
@media (max-width:NARROW){
body{padding:.6em .75em 2em;font-size:14px}
dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.3em}
.bars{grid-template-columns:minmax(0,1fr)}.bars svg{margin-bottom:.3em}
.tl-row{grid-template-columns:minmax(0,1fr)}
table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table.cards,table.cards tbody{display:block}
table.cards tr{display:flex;flex-wrap:wrap;gap:.05em 1.1em;border:1px solid var(--line);
border-radius:6px;margin:.5em 0;padding:.35em .6em}
table.cards td{display:block;flex:0 1 auto;border:0;padding:0;text-align:left;min-width:0}
table.cards td.lead,table.cards td.wide{flex:1 1 100%}
table.cards td.lead{font-weight:600}table.cards td.n div{display:inline;margin-left:.4em}
table.cards td.lead div,table.cards td.lead ul{font-weight:400}
table.cards td details.evidence{display:inline-block;vertical-align:top}
table.cards td.why details.evidence{display:block}
table.cards td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);
font-weight:400}
table.cards td.lead[data-label]::before{content:none}table.cards td:empty{display:none}
}
@media print{
body{max-width:none;padding:0;font-size:10.5pt}
nav.toc,.toolbar{display:none}
.wrap{overflow:visible}thead th{position:static}
h2{break-after:avoid}tr,.tl-row,.verdict{break-inside:avoid}
details::details-content{content-visibility:visible;display:contents}
a{color:inherit;text-decoration:none}
}
"""


def style_sheet() -> str:
    """The whole sheet, with the category colours for light and dark mode."""
    light = "".join(f"--{name}:{colours[0]};" for name, colours in CATEGORY_COLOURS.items())
    dark = "".join(f"--{name}:{colours[1]};" for name, colours in CATEGORY_COLOURS.items())
    classes = "".join(
        f".c-{c.value}{{background:var(--{c.value})}}.f-{c.value}{{fill:var(--{c.value})}}"
        for c in CATEGORY_ORDER)
    sheet = (_BASE.replace("VARS_LIGHT", light).replace("VARS_DARK", dark)
             .replace("NARROW", NARROW))
    return sheet.strip() + "\n" + classes + "\n"


STYLE = style_sheet()
