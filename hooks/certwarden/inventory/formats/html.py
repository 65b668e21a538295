"""HTML: one self-contained file (no external asset: works offline and as a CI artifact)
with an expiry timeline drawn as SVG and a sortable, filterable table.

The timeline groups certificates by appliance (by folder without a manifest); each is a
bar from not-before to not-after coloured by status, today is marked and the warning
window shaded; it scrolls, so 1,000 certificates stay readable. Every value is escaped,
and a Content-Security-Policy allows only this file's own style and script (by hash):
a certificate field like `<script>` is text, and could not run even if it were not.
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import datetime, timedelta, timezone

from certwarden.inventory.formats import FormatOptions
from certwarden.inventory.model import STATUSES, CertificateRow, Inventory, iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

COLOURS = {"expired": "#cf222e", "not-yet-valid": "#8250df", "blocked": "#953800",
           "expiring": "#d4a72c", "ok": "#2da44e"}
LABEL_WIDTH, CHART_WIDTH, BAR, ROW, HEADER = 300, 1000, 9, 13, 20
DAY = 86400.0

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 24px 48px;color:#1f2328}
h1{font-size:22px;margin:20px 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#59636e;margin:0 0 12px}
.chips{display:flex;flex-wrap:wrap;gap:8px;padding:0;margin:8px 0;list-style:none}
.chips button{border:1px solid #d1d9e0;border-radius:14px;background:#fff;padding:3px 12px;
cursor:pointer;font:inherit}
.chips button[aria-pressed=true]{background:#ddf4ff;border-color:#54aeff}
.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}
.scroll{max-height:560px;overflow:auto;border:1px solid #d1d9e0;border-radius:6px}
.axis{border:1px solid #d1d9e0;border-bottom:0;border-radius:6px 6px 0 0;overflow:hidden}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}svg .g{font-weight:600}
svg .muted{fill:#59636e}svg .today{fill:#cf222e;font-weight:600}
.wide{overflow:auto;max-height:720px;border:1px solid #d1d9e0;border-radius:6px}
table{border-collapse:collapse;font-size:12.5px;white-space:nowrap}
th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{position:sticky;top:0;background:#f6f8fa;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.fp{font-family:monospace;font-size:11px}
tr[hidden]{display:none}
.st{display:inline-block;padding:0 8px;border-radius:10px;color:#fff;font-weight:600}
""" + "".join(f".s-{name}{{background:{colour}}}.f-{name}{{fill:{colour}}}\n"
              for name, colour in COLOURS.items()) + """
#filter{font:inherit;padding:4px 8px;width:320px;margin:0 0 8px}
ul.findings{padding-left:20px}ul.findings li{margin:2px 0}
code{font-size:12px}
"""

SCRIPT = """
(function(){
var table=document.getElementById('inventory'),body=table.tBodies[0];
var rows=Array.prototype.slice.call(body.rows);
function value(row,i,num){var c=row.cells[i],v=c.getAttribute('data-v');
if(v===null)v=c.textContent;return num?(v===''?Infinity:parseFloat(v)):v.toLowerCase();}
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
th.addEventListener('click',function(){
var num=th.hasAttribute('data-num'),dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(o){o.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',dir===1?'ascending':'descending');
rows.sort(function(a,b){var x=value(a,i,num),y=value(b,i,num);return x<y?-dir:x>y?dir:0;});
rows.forEach(function(r){body.appendChild(r);});});});
var filter=document.getElementById('filter'),status='';
function apply(){var q=filter.value.toLowerCase();rows.forEach(function(r){
r.hidden=(status&&r.getAttribute('data-status')!==status)||(q&&r.textContent.toLowerCase().indexOf(q)<0);});}
filter.addEventListener('input',apply);
Array.prototype.forEach.call(document.querySelectorAll('.chips button'),function(b){
b.addEventListener('click',function(){var s=b.getAttribute('data-status');
status=status===s?'':s;Array.prototype.forEach.call(document.querySelectorAll('.chips button'),
function(o){o.setAttribute('aria-pressed',String(o.getAttribute('data-status')===status));});apply();});});
document.body.setAttribute('data-ready','1');
})();
"""


def e(value: object) -> str:
    """Escape any value for HTML text and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


ROLE_HEADINGS = {"sensor": "OT sensors", "console": "Management consoles",
                 "ha": "High-availability servers"}


def _group(row: CertificateRow, has_manifest: bool) -> tuple[int, str]:
    """(order, heading) of the timeline group a certificate is drawn in: by appliance role
    with a manifest, else by folder; CAs last."""
    if row.role is not None:
        return list(ROLE_HEADINGS).index(row.role), ROLE_HEADINGS[row.role]
    if row.is_ca:
        return 9, "CA certificates"
    if has_manifest:
        return 8, "Not in the appliance manifest"
    folder = row.path.rsplit("/", 1)[0] if "/" in row.path else "."
    return 0, folder + "/"


def _label(row: CertificateRow) -> str:
    label = row.cn or row.path
    if row.appliance is not None:
        label = f"{row.appliance} · {label}"
    return label if len(label) <= 48 else label[:47] + "…"


def _domain(inventory: Inventory) -> tuple[float, float]:
    """The span drawn: around today, from the earliest to the latest date shown, at most
    a year back and three ahead (longer bars are clipped)."""
    now = inventory.now.timestamp()
    starts = [r.not_before.timestamp() for r in inventory.rows if r.not_before]
    ends = [r.not_after.timestamp() for r in inventory.rows if r.not_after]
    low = max(min(starts + ends, default=now - 90 * DAY), now - 365 * DAY)
    high = min(max(ends, default=now + 365 * DAY), now + 3 * 365 * DAY)
    low = min(low, now - 30 * DAY, high - 90 * DAY)
    high = max(high, now + (inventory.warning_days + 30) * DAY)
    return low, high


def _ticks(low: float, high: float) -> list[tuple[float, str]]:
    months = (high - low) / (30.4 * DAY)
    step = 1 if months <= 18 else 3 if months <= 48 else 12
    start = datetime.fromtimestamp(low, tz=timezone.utc)
    year, month = start.year, start.month
    ticks: list[tuple[float, str]] = []
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if (month - 1) % step:
            continue
        moment = datetime(year, month, 1, tzinfo=timezone.utc).timestamp()
        if moment > high:
            return ticks
        ticks.append((moment, f"{year}-{month:02d}" if step < 12 else str(year)))


class _Scale:
    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def x(self, moment: float) -> float:
        moment = min(max(moment, self.low), self.high)
        return round(LABEL_WIDTH + (moment - self.low) / (self.high - self.low) * CHART_WIDTH, 1)


def _days(row: CertificateRow) -> str:
    if row.days_left is None:
        return "?"
    return f"{row.days_left} days left" if row.days_left >= 0 else \
        f"expired {-row.days_left} days ago"


def _timeline(inventory: Inventory) -> str:
    scale = _Scale(*_domain(inventory))
    now_x = scale.x(inventory.now.timestamp())
    window_x = scale.x((inventory.now + timedelta(days=inventory.warning_days)).timestamp())
    width = LABEL_WIDTH + CHART_WIDTH + 20
    has_manifest = bool(inventory.appliances)
    groups: dict[tuple[int, str], list[CertificateRow]] = {}
    for row in inventory.rows:
        groups.setdefault(_group(row, has_manifest), []).append(row)
    for entry in inventory.appliances:  # appliances without a certificate show as gaps
        if entry.appliance.name not in {row.appliance for row in inventory.rows}:
            role = entry.appliance.role
            groups.setdefault((list(ROLE_HEADINGS).index(role), ROLE_HEADINGS[role]), [])
    missing = {entry.appliance.name: entry.appliance for entry in inventory.appliances
               if entry.appliance.name not in {row.appliance for row in inventory.rows}}
    body: list[str] = []
    y = 4
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda r: (r.not_after or inventory.now, r.path))
        absent = sorted(name for name, a in missing.items()
                        if key[1] == ROLE_HEADINGS.get(a.role))
        body.append(f'<text class="g" x="4" y="{y + 14}">{e(key[1])} '
                    f'({len(members) + len(absent)})</text>')
        y += HEADER
        for name in absent:
            body.append(f'<text x="14" y="{y + BAR}">{e(name)}</text>'
                        f'<text class="today" x="{LABEL_WIDTH + 4}" y="{y + BAR}">'
                        f"no certificate in the repository</text>")
            y += ROW
        for row in members:
            body.append(f'<text x="14" y="{y + BAR}">{e(_label(row))}</text>')
            if row.not_before and row.not_after:
                x1, x2 = scale.x(row.not_before.timestamp()), scale.x(row.not_after.timestamp())
                tip = (f"{row.cn or '(no CN)'} | {row.location} | {iso(row.not_before)} to "
                       f"{iso(row.not_after)} | {_days(row)} | {row.status}")
                body.append(f'<rect class="f-{row.status}" x="{x1}" y="{y + 1}" '
                            f'width="{max(round(x2 - x1, 1), 2)}" height="{BAR}" rx="2">'
                            f'<title>{e(tip)}</title></rect>')
                if row.status != "ok" and row.days_left is not None:
                    body.append(f'<text class="muted" x="{x2 + 4}" y="{y + BAR}">'
                                f'{row.days_left} d</text>')
            y += ROW
        y += 4
    height = max(y, 40)
    shading = (f'<rect x="{now_x}" y="0" width="{max(window_x - now_x, 1)}" height="{height}" '
               f'fill="#d4a72c" fill-opacity="0.18"/>')
    grid = "".join(f'<line x1="{scale.x(t)}" y1="0" x2="{scale.x(t)}" y2="{height}" '
                   f'stroke="#eaeef2"/>' for t, _ in _ticks(scale.low, scale.high))
    today = (f'<line x1="{now_x}" y1="0" x2="{now_x}" y2="{height}" stroke="#cf222e" '
             f'stroke-width="2"/>')
    axis_labels = "".join(f'<text class="muted" x="{scale.x(t) + 3}" y="38">{e(label)}</text>'
                          for t, label in _ticks(scale.low, scale.high))
    axis = (f'<div class="axis"><svg id="axis" width="{width}" height="44" role="img" '
            f'aria-label="time axis">'
            f'<rect x="{now_x}" y="0" width="{max(window_x - now_x, 1)}" height="44" '
            f'fill="#d4a72c" fill-opacity="0.18"/>{axis_labels}'
            f'<line x1="{now_x}" y1="0" x2="{now_x}" y2="44" stroke="#cf222e" '
            f'stroke-width="2"/><text class="today" x="{now_x + 4}" y="14">today '
            f'{inventory.now:%Y-%m-%d}</text><text class="muted" x="{now_x + 4}" y="26">'
            f'warning window {inventory.warning_days} d</text>'
            f'<text class="g" x="4" y="38">appliance · certificate</text></svg></div>')
    return (f'{axis}<div class="scroll"><svg id="timeline" width="{width}" height="{height}" '
            f'role="img" aria-label="expiry timeline, one bar per certificate">'
            f'{shading}{grid}{today}{"".join(body)}</svg></div>')


COLUMNS = [("Status", False), ("Days left", True), ("Not after", False), ("Not before", False),
           ("CN", False), ("SANs", False), ("Appliance", False), ("Path", False),
           ("Issuer", False), ("Serial", False), ("Key", False), ("Signature", False),
           ("CRL", False), ("Chain", False), ("Key file", False), ("Verdict", False),
           ("Fingerprint (SHA-256)", False)]


def _key_file(row: CertificateRow) -> str:
    if row.key_path is None:
        return ""
    state = {True: "encrypted", False: "NOT encrypted", None: "?"}[row.key_encrypted]
    match = {True: "", False: ", does not match", None: ""}[row.key_matches]
    return f"{row.key_path} ({state}{match})"


def _table_row(row: CertificateRow, strict: bool) -> str:
    order = STATUSES.index(row.status)
    appliance = f"{row.appliance} ({row.role})" if row.appliance else ""
    key = f"{(row.key_type or '?').upper()} {row.key_size or ''}".strip()
    chain = row.chain if not row.chain_detail else f"{row.chain}: {row.chain_detail}"
    cells = [
        f'<td data-v="{order}"><span class="st s-{row.status}">{e(row.status)}</span></td>',
        f'<td class="n" data-v="{"" if row.days_left is None else row.days_left}">'
        f'{e(row.days_left)}</td>',
        f"<td>{e(iso(row.not_after))}</td>", f"<td>{e(iso(row.not_before))}</td>",
        f"<td>{e(row.cn)}{' [CA]' if row.is_ca else ''}</td>", f"<td>{e(', '.join(row.sans))}</td>",
        f"<td>{e(appliance)}</td>", f"<td>{e(row.location)}</td>", f"<td>{e(row.issuer)}</td>",
        f"<td>{e(row.serial)}</td>", f"<td>{e(key)}</td>",
        f"<td>{e(row.signature_algorithm)}</td>", f"<td>{e(' '.join(row.crl_urls))}</td>",
        f"<td>{e(chain)}</td>", f"<td>{e(_key_file(row))}</td>",
        f"<td>{e(row.verdict_text(strict=strict))}</td>",
        f'<td class="fp">{e(row.fingerprint)}</td>',
    ]
    return f'<tr data-status="{e(row.status)}" data-fp="{e(row.fingerprint)}">{"".join(cells)}</tr>'


def _findings(inventory: Inventory) -> str:
    items = []
    for entry in inventory.appliances:
        for finding in entry.findings:
            items.append(f"<li><b>{e(entry.appliance.name)}</b> ({e(entry.appliance.role)}): "
                         f"<code>{e(finding.rule.id)}</code> {e(finding.message)} "
                         f"[{e(finding.severity.value)}]</li>")
    for finding in inventory.problems:
        items.append(f"<li>{e(finding.path)}: <code>{e(finding.rule.id)}</code> "
                     f"{e(finding.message)} [{e(finding.severity.value)}]</li>")
    if not items:
        return ""
    state = " open" if len(items) <= 20 else ""  # many: folded, the table stays in reach
    return (f"<h2>Appliance and file findings</h2><details{state}><summary>{len(items)} "
            f'finding{"s" if len(items) != 1 else ""}</summary><ul class="findings">'
            f'{"".join(items)}</ul></details>')


def write(inventory: Inventory, stream: TextIO, options: FormatOptions) -> None:
    counts = inventory.counts()
    chips = "".join(
        f'<li><button type="button" data-status="{name}" aria-pressed="false">'
        f'<span class="dot s-{name}"></span>{counts[name]} {name}</button></li>'
        for name in STATUSES)
    title = f"Certificate inventory {inventory.now:%Y-%m-%d}"
    csp = (f"default-src 'none'; style-src {_csp_hash(STYLE)}; "
           f"script-src {_csp_hash(SCRIPT)}; img-src data:")
    head = "".join(f'<th{" data-num" if numeric else ""}>{e(name)}</th>'
                   for name, numeric in COLUMNS)
    rows = "\n".join(_table_row(row, inventory.strict) for row in sorted(
        inventory.rows, key=lambda r: (STATUSES.index(r.status), r.days_left
                                       if r.days_left is not None else 1 << 30, r.path)))
    chain = f" · chain: {e(inventory.chain)}" if inventory.chain else ""
    stream.write(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{STYLE}</style></head>\n<body>"
        f"<h1>Certificate inventory</h1>"
        f'<p class="meta">{len(inventory.rows)} certificates · {inventory.now:%Y-%m-%d %H:%M} '
        f"UTC · warning window {inventory.warning_days} days · "
        f"{len(inventory.appliances)} appliances in the manifest{chain}</p>"
        f'<ul class="chips">{chips}</ul>'
        f"<h2>Expiry timeline</h2>{_timeline(inventory)}{_findings(inventory)}"
        f'<h2>Certificates</h2><input id="filter" type="search" '
        f'placeholder="filter: CN, path, appliance, rule…" aria-label="filter">'
        f'<div class="wide"><table id="inventory"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{rows}\n</tbody></table></div>"
        f"<script>{SCRIPT}</script></body></html>\n")
