"""The inline style and script of the HTML report (conformance.reporting.html): the page fetches nothing.

The script filters the requirement matrix and the test list by outcome and text, copies curl commands,
and reveals the target of a link to a requirement or a failure even when a filter hid it.
"""

from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """
:root{--bg:#f5f6f8;--panel:#fff;--text:#1f2328;--muted:#5d6773;--border:#d8dee4;--accent:#0a58ca;
--pass:#1a7f37;--pass-bg:#dcf5e3;--fail:#c62828;--fail-bg:#fde7e7;--warn:#8a5a00;--warn-bg:#fff3c4;
--na:#5d6773;--na-bg:#eceff3;--stim:#6f42c1;--stim-bg:#f1eafc;--err:#b0306f;--err-bg:#fbe6f1;
--inc:#0b6b80;--inc-bg:#e1f3f7;--untested:#7b8591;--untested-bg:#fff;--code:#f0f2f5;
--mono:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0f1217;--panel:#171b22;--text:#e6e9ee;--muted:#9aa4b0;
--border:#2c333d;--accent:#6ea8fe;--pass:#56d37b;--pass-bg:#143321;--fail:#ff7b72;--fail-bg:#3d1618;
--warn:#e3b341;--warn-bg:#3a2d0c;--na:#9aa4b0;--na-bg:#222831;--stim:#c3a5ff;--stim-bg:#2a1f45;
--err:#f57cb5;--err-bg:#3d1429;--inc:#62c6dc;--inc-bg:#11323a;--untested:#8b949e;--untested-bg:#171b22;--code:#11151b}}
*{box-sizing:border-box}html{scroll-behavior:smooth}[id]{scroll-margin-top:64px}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1240px;margin:0 auto;padding:0 24px}
code,pre{font-family:var(--mono);font-size:12.5px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.muted{color:var(--muted)}.small{font-size:12px}.hidden{display:none!important}
header.top{color:#fff;padding:28px 0 22px;background:linear-gradient(135deg,#334155,#1e293b)}
header.top.v-conformant{background:linear-gradient(135deg,#1a7f37,#11592a)}
header.top.v-not_conformant{background:linear-gradient(135deg,#c62828,#8e1b1b)}
header.top.v-suite_error{background:linear-gradient(135deg,#8a4b9e,#5b2a6b)}
header.top.v-interrupted{background:linear-gradient(135deg,#6b7280,#374151)}
.kicker{margin:0;opacity:.85;letter-spacing:.04em;text-transform:uppercase;font-size:12px}
header h1{margin:6px 0 4px;font-size:34px;line-height:1.15}
.verdict-detail{margin:0 0 16px;font-size:15px;opacity:.95}
.facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
.facts div{min-width:0}.facts dt{font-size:11px;text-transform:uppercase;letter-spacing:.05em;opacity:.75}
.facts dd{margin:0;font-weight:600;word-break:break-all}.facts code{color:#fff;font-size:13px}
nav.tabs{position:sticky;top:0;z-index:5;background:var(--panel);border-bottom:1px solid var(--border)}
nav.tabs .wrap{display:flex;gap:4px;overflow-x:auto}
nav.tabs a{padding:11px 12px;color:var(--text);font-weight:500;white-space:nowrap;border-bottom:2px solid transparent}
nav.tabs a:hover{border-bottom-color:var(--accent);text-decoration:none}
nav.tabs b{font-weight:600;color:var(--muted);margin-left:2px}
section.wrap{padding-top:26px}h2{font-size:22px;margin:0 0 6px}h3{margin:0 0 8px;font-size:15px}
.count{display:inline-block;min-width:26px;padding:0 8px;border-radius:12px;background:var(--na-bg);
color:var(--muted);font-size:14px;text-align:center;vertical-align:middle}
.lead{color:var(--muted);margin:0 0 14px}.empty{padding:14px;background:var(--panel);border:1px dashed var(--border);
border-radius:8px;color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:14px}
.card{background:var(--panel);border:1px solid var(--border);border-radius:10px;padding:16px;margin-bottom:14px}
.cards .card{margin-bottom:0}
.big{font-size:32px;font-weight:700;line-height:1.1}.big.small{font-size:20px}
.score.good .big{color:var(--pass)}.score.bad .big{color:var(--fail)}.score.none .big{color:var(--muted)}
.score p{margin:8px 0 0;font-size:13px}
.meter{height:8px;background:var(--na-bg);border-radius:4px;overflow:hidden;margin-top:8px}
.meter span{display:block;height:100%;background:var(--pass)}.score.bad .meter span{background:var(--fail)}
.meter span{min-width:0}
ul.counts{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:6px 12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap;
border:1px solid transparent}
.o-passed.badge{background:var(--pass-bg);color:var(--pass)}
.o-failed.badge{background:var(--fail-bg);color:var(--fail)}.o-warning.badge{background:var(--warn-bg);color:var(--warn)}
.o-error.badge{background:var(--err-bg);color:var(--err)}.o-not_applicable.badge,.o-skipped.badge{background:var(--na-bg);color:var(--na)}
.o-needs_stimulus.badge{background:var(--stim-bg);color:var(--stim)}.o-inconclusive.badge{background:var(--inc-bg);color:var(--inc)}
.o-untested.badge{background:var(--untested-bg);color:var(--untested);border-color:var(--border)}
.o-xfailed.badge,.o-xpassed.badge{background:var(--na-bg);color:var(--na)}
.level{display:inline-block;padding:0 6px;border-radius:4px;font-size:11px;font-weight:700;letter-spacing:.03em;
border:1px solid var(--border);color:var(--muted)}
.level.l-MUST{color:var(--fail);border-color:currentColor}.level.l-SHOULD{color:var(--warn);border-color:currentColor}
.heat .hm-row{display:flex;align-items:center;gap:10px;margin:3px 0}
.hm-area{width:64px;font:600 12px var(--mono);color:var(--muted)}
.hm-cells{display:flex;flex-wrap:wrap;gap:3px}
.cell{width:13px;height:13px;border-radius:3px;display:inline-block}
.cell.o-passed{background:var(--pass)}.cell.o-failed{background:var(--fail)}.cell.o-warning{background:#d4a72c}
.cell.o-error{background:var(--err)}.cell.o-inconclusive{background:var(--inc)}.cell.o-needs_stimulus{background:var(--stim)}
.cell.o-not_applicable,.cell.o-skipped{background:#9aa4b0}.cell.o-untested{background:transparent;border:1px solid var(--border)}
.cell:hover{outline:2px solid var(--accent)}
.legend{display:flex;flex-wrap:wrap;gap:6px;margin-top:12px}
article.failure{background:var(--panel);border:1px solid var(--border);border-left:5px solid var(--fail);
border-radius:10px;padding:16px 18px;margin-bottom:16px}
article.failure.o-warning{border-left-color:#d4a72c}article.failure.o-error{border-left-color:var(--err)}
article.failure header h3{display:inline;font-size:16px;margin-left:6px}
.nodeid{margin:6px 0 0;word-break:break-all}
ul.plain{list-style:none;padding-left:0;margin:6px 0}ul.plain li{margin:3px 0;word-break:break-all}
.known{background:var(--na-bg);padding:6px 10px;border-radius:6px}
ul.reqs{margin:12px 0;padding-left:18px}ul.reqs li{margin:4px 0}
details{margin:10px 0}details>summary{cursor:pointer;font-weight:600;color:var(--text)}
pre{background:var(--code);border:1px solid var(--border);border-radius:6px;padding:10px 12px;overflow:auto;
max-height:420px;margin:8px 0;white-space:pre-wrap;word-break:break-word}
.repro h4,.findings h4{margin:12px 0 0;font-size:13px}
.curl{position:relative}.curl pre{padding-right:72px;border-left:3px solid var(--accent)}
.copy{position:absolute;top:6px;right:6px;border:1px solid var(--border);background:var(--panel);color:var(--text);
border-radius:6px;padding:3px 10px;cursor:pointer;font:inherit;font-size:12px}
.exchange{border:1px solid var(--border);border-radius:8px;margin:10px 0;overflow:hidden}
.ex-head{background:var(--na-bg);padding:6px 10px;font-size:12px;color:var(--muted)}
.ex-grid{display:grid;grid-template-columns:1fr 1fr;gap:0 10px;padding:0 10px}
@media (max-width:900px){.ex-grid{grid-template-columns:1fr}}
.ex-grid h5{margin:8px 0 0;font-size:12px;text-transform:uppercase;color:var(--muted)}
.err{color:var(--fail)}
.timeline table{width:100%;border-collapse:collapse;font-size:12.5px;margin-top:8px}
.timeline td,.timeline th{padding:4px 8px;border-bottom:1px solid var(--border);text-align:left;vertical-align:top}
.timeline tr.hot{background:var(--fail-bg)}.timeline tr.note.bad{background:var(--warn-bg)}
.timeline tr.omitted td{color:var(--muted);font-style:italic}
.tag{display:inline-block;font-size:10.5px;font-weight:700;padding:0 5px;border-radius:3px;background:var(--na-bg);color:var(--muted)}
.tag.n{background:var(--stim-bg);color:var(--stim)}
.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:0 0 12px;position:sticky;top:44px;z-index:4;
background:var(--bg);padding:8px 0}
.chip{border:1px solid var(--border);background:var(--panel);color:var(--text);border-radius:16px;padding:4px 12px;
cursor:pointer;font:inherit;font-size:13px}.chip b{font-weight:600;margin-left:2px;color:var(--muted)}
.chip.active{border-color:var(--accent);box-shadow:0 0 0 1px var(--accent) inset}
.chip[class*=" o-"]::before{content:"";display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px;
background:var(--dot,#9aa4b0)}
.chip.o-passed{--dot:var(--pass)}.chip.o-failed{--dot:var(--fail)}.chip.o-warning{--dot:#d4a72c}.chip.o-error{--dot:var(--err)}
.chip.o-inconclusive{--dot:var(--inc)}.chip.o-needs_stimulus{--dot:var(--stim)}.chip.o-untested{--dot:transparent;
}.chip.o-untested::before{border:1px solid var(--untested)}
.search{margin-left:auto;min-width:240px;padding:6px 10px;border:1px solid var(--border);border-radius:8px;
background:var(--panel);color:var(--text);font:inherit}
.area{background:var(--panel);border:1px solid var(--border);border-radius:10px;padding:14px 16px;margin-bottom:14px}
.area h3{font-size:15px}.area-id{font-family:var(--mono);background:var(--na-bg);padding:1px 7px;border-radius:5px}
.stack{display:flex;height:6px;border-radius:3px;overflow:hidden;margin:4px 0 10px;gap:1px}
.stack span.o-passed{background:var(--pass)}.stack span.o-failed{background:var(--fail)}.stack span.o-warning{background:#d4a72c}
.stack span.o-error{background:var(--err)}.stack span.o-inconclusive{background:var(--inc)}.stack span.o-needs_stimulus{background:var(--stim)}
.stack span.o-not_applicable,.stack span.o-skipped{background:#9aa4b0}.stack span.o-untested{background:var(--border)}
table.matrix{width:100%;border-collapse:collapse}
table.matrix th{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);text-align:left;
padding:6px 8px;border-bottom:1px solid var(--border)}
table.matrix td{padding:7px 8px;border-bottom:1px solid var(--border);vertical-align:top}
table.matrix tr:last-child td{border-bottom:0}
table.matrix td:first-child{white-space:nowrap}
table.matrix tr:target{background:var(--warn-bg)}
table.clients td:nth-child(3){white-space:nowrap}table.clients td:nth-child(3) ul{margin:4px 0 0;white-space:normal}
ul.habits{margin:0;padding-left:16px}ul.habits li{margin:0 0 6px}ul.habits li:last-child{margin-bottom:0}
.ops{display:flex;flex-wrap:wrap;gap:5px;margin-top:12px}
.op{font:12px var(--mono);padding:2px 7px;border-radius:5px;border:1px solid var(--border)}
.op.hit{background:var(--pass-bg);color:var(--pass);border-color:transparent}.op.miss{color:var(--muted)}
table.kv{border-collapse:collapse;width:100%}table.kv th{text-align:left;width:220px;color:var(--muted);font-weight:500;
padding:5px 8px;vertical-align:top}table.kv td{padding:5px 8px;word-break:break-all}
footer{padding:30px 0 40px;color:var(--muted);font-size:12px}
@media print{nav.tabs,.filters,.copy{display:none}details{display:block}}
"""

JS = """
(function(){
  'use strict';
  var state = {};
  function rowsOf(group){
    return group === 'req' ? document.querySelectorAll('#requirements tr[data-outcome]')
                           : document.querySelectorAll('#tests tr[data-outcome]');
  }
  function apply(group){
    var s = state[group] || {value: 'all', text: ''};
    var shown = 0;
    rowsOf(group).forEach(function(row){
      var ok = (s.value === 'all' || row.getAttribute('data-outcome') === s.value) &&
               (!s.text || (row.getAttribute('data-text') || '').indexOf(s.text) !== -1);
      row.classList.toggle('hidden', !ok);
      if (ok) { shown += 1; }
    });
    if (group === 'req') {
      document.querySelectorAll('#requirements .area').forEach(function(area){
        area.classList.toggle('hidden', !area.querySelector('tr[data-outcome]:not(.hidden)'));
      });
    }
    var empty = document.querySelector('[data-empty="' + group + '"]');
    if (empty) { empty.classList.toggle('hidden', shown !== 0); }
  }
  document.querySelectorAll('.chip[data-filter]').forEach(function(chip){
    chip.addEventListener('click', function(){
      var group = chip.getAttribute('data-filter');
      state[group] = state[group] || {value: 'all', text: ''};
      state[group].value = chip.getAttribute('data-value');
      document.querySelectorAll('.chip[data-filter="' + group + '"]').forEach(function(other){
        other.classList.toggle('active', other === chip);
      });
      apply(group);
    });
  });
  document.querySelectorAll('input[data-search]').forEach(function(input){
    input.addEventListener('input', function(){
      var group = input.getAttribute('data-search');
      state[group] = state[group] || {value: 'all', text: ''};
      state[group].text = input.value.trim().toLowerCase();
      apply(group);
    });
  });
  document.querySelectorAll('[data-copy]').forEach(function(button){
    button.addEventListener('click', function(){
      var text = button.parentNode.querySelector('pre').textContent;
      function done(){ button.textContent = 'Copied'; setTimeout(function(){ button.textContent = 'Copy'; }, 1500); }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function(){});
      } else {
        var range = document.createRange();
        range.selectNodeContents(button.parentNode.querySelector('pre'));
        var selection = window.getSelection();
        selection.removeAllRanges(); selection.addRange(range);
        button.textContent = 'Selected: Ctrl+C';
      }
    });
  });
  // Opening a link to a requirement or a failure shows it even when a filter hid it.
  function reveal(){
    var id = decodeURIComponent(location.hash.slice(1));
    var node = id && document.getElementById(id);
    if (!node) { return; }
    if (node.classList.contains('hidden')) {
      var group = node.closest('#tests') ? 'test' : 'req';
      var all = document.querySelector('.chip[data-filter="' + group + '"][data-value="all"]');
      if (all) { all.click(); }
    }
    var box = node.closest('details');
    if (box) { box.open = true; }
  }
  window.addEventListener('hashchange', reveal);
  reveal();
})();
"""
