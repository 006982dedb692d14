"""``report.html``: one self-contained page a researcher reads, built from the run's tables.

Inline CSS and inline SVG only — no JavaScript, no web fonts, no network (a
Content-Security-Policy meta tag forbids every fetch) — so the file opens from disk and
can be mailed as it is.  Every number is printed (colour is never the only carrier), all
tables are real ``<table>`` markup with header cells, and all text is escaped.  The page
depends only on its inputs: the same run folder gives the same bytes (the only date shown
is the run's own start time from the manifest).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from pathlib import Path

import pandas as pd

from .charts import (
    colour,
    interval_bars_svg,
    legend_svg,
    percent,
    scale_max,
    text_colour,
)
from .tables import ReportTables

ALPHA = 0.05
CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial,
  sans-serif; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid #d0d7de; }
h3 { font-size: 1.08rem; margin: 22px 0 6px; }
h4 { font-size: 0.98rem; margin: 14px 0 4px; }
p, li { max-width: 78ch; }
.lede { color: #444; margin-top: 0; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; list-style: none;
  margin: 12px 0 0; }
nav a { color: #0b4f8a; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; }
thead th { background: #f1f4f7; text-align: left; }
tbody th { text-align: left; }
.scroll { overflow-x: auto; max-width: 100%; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.num { text-align: right; }
tbody tr:nth-child(even) td:not(.cell) { background: #fafbfc; }
code { font-size: 0.85em; background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
small, .note { color: #555; }
.summary th { background: #f1f4f7; text-align: left; font-weight: 600; }
table.heatmap td.cell { text-align: center; min-width: 108px; font-variant-numeric:
  tabular-nums; }
table.heatmap .share { font-weight: 700; font-size: 1.02rem; display: block; }
table.heatmap .ci { font-size: 0.8rem; display: block; }
table.heatmap th small { font-weight: 400; }
.legend { display: block; margin: 4px 0 10px; }
.charts { display: flex; flex-wrap: wrap; gap: 10px 18px; }
figure { margin: 0; }
figcaption { font-size: 0.85rem; color: #444; }
.readings li { margin-bottom: 6px; }
.sig { font-weight: 700; }
.quotes-theme { margin-bottom: 18px; }
.quote-groups { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr));
  gap: 0 28px; }
.quote { border-left: 4px solid #9ecae1; margin: 6px 0 10px; padding: 2px 0 2px 12px;
  font-size: 0.93rem; }
.quote blockquote { margin: 0; white-space: pre-wrap; }
.quote figcaption { margin-top: 2px; }
.missing { background: #fff8e1; border: 1px solid #e6d38a; padding: 6px 10px; }
footer { margin-top: 40px; font-size: 0.85rem; color: #555; }
@media print { h2 { break-before: auto; } .quote, figure, tr { break-inside: avoid; } }
"""


def _is_num(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt_share(value, decimals: int = 1) -> str:
    """A share as a percentage (``0.175676`` -> ``17.6%``); ``n/a`` when missing."""
    return percent(float(value), decimals) if _is_num(value) else "n/a"


def fmt_p(value) -> str:
    """A p- or q-value with 4 decimals (``<0.0001`` below that); ``n/a`` when missing."""
    if not _is_num(value):
        return "n/a"
    return "<0.0001" if float(value) < 0.00005 else f"{float(value):.4f}"


def eq_p(value) -> str:
    """A p- or q-value with its relation, for prose: ``= 0.0120`` or ``< 0.0001``."""
    text = fmt_p(value)
    return f"< {text[1:]}" if text.startswith("<") else f"= {text}"


def fmt_num(value, decimals: int = 3) -> str:
    """A number with fixed decimals; ``n/a`` when missing."""
    return f"{float(value):.{decimals}f}" if _is_num(value) else "n/a"


def fmt_int(value) -> str:
    """A count; ``n/a`` when missing."""
    return str(int(float(value))) if _is_num(value) else "n/a"


def fmt_interval(low, high) -> str:
    """``12.1–23.4%``; ``no interval`` when either end is missing."""
    if not (_is_num(low) and _is_num(high)):
        return "no interval"
    return f"{100 * float(low):.1f}\u2013{100 * float(high):.1f}%"


class _Page:
    """Accumulates the HTML of the report (a thin helper around a list of strings)."""

    def __init__(self, tables: ReportTables, redact: Callable[[str], str]) -> None:
        self.t = tables
        self.redact = redact
        self.parts: list[str] = []
        self.config = tables.manifest.get("config") or {}
        self.study = "run"

    def add(self, *html: str) -> None:
        self.parts.extend(html)

    def theme_name(self, theme: str) -> str:
        label = self.t.theme_labels.get(theme)
        return f"{label} ({theme})" if label else theme

    def theme_html(self, theme: str) -> str:
        label = self.t.theme_labels.get(theme)
        return (f"{escape(label)} <small><code>{escape(theme)}</code></small>" if label
                else f"<code>{escape(theme)}</code>")

    def missing(self, name: str, what: str) -> None:
        self.add(f'<p class="missing">This run folder has no <code>{escape(name)}</code>: '
                 f'{escape(what)}</p>')


def _table(caption: str, header: list[str], rows: list[list[str]], numeric: set[int],
           table_id: str = "", row_headers: bool = True) -> str:
    """A table of already-escaped HTML cells; columns in ``numeric`` are right-aligned."""
    head = "".join(f'<th scope="col"{" class=num" if i in numeric else ""}>{h}</th>'
                   for i, h in enumerate(header))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cells.append(f'<th scope="row"{cls}>{cell}</th>' if i == 0 and row_headers
                         else f"<td{cls}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return (f'<div class="scroll"><table{ident}><caption>{caption}</caption><thead><tr>'
            f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def _summary(page: _Page) -> None:
    m, t = page.t.manifest, page.t
    counts = m.get("counts") or {}
    corpus = page.config.get("corpus") or {}
    corpus_path = Path(str(corpus.get("path") or "unknown"))
    # Only the last two path parts: the full local path would reveal the researcher's
    # machine layout in a file meant for sharing.
    corpus_name = "/".join(corpus_path.parts[-2:]) or "unknown"
    config_file = (m.get("config_file") or {}).get("path")
    model = m.get("model") or {}
    started = str(m.get("started") or "")
    date = started[:10] + (f" {started[11:16]} UTC" if len(started) >= 16 else "")
    page.add(f"<header><h1>Themes across informant groups: {escape(page.study)}</h1>",
             f'<p class="lede">themepipe report of the run started {escape(date)}. Every '
             "number here is read from the CSV files of the same run folder.</p>")
    sections = [("summary", "Run summary"), ("heatmap-section", "Heatmap"),
                ("bars", "Bar charts per theme"), ("comparison", "Group comparison"),
                ("topics", "Topics"), ("quotes", "Quotes"), ("methods", "Methods")]
    page.add('<nav aria-label="Contents"><ol>' + "".join(
        f'<li><a href="#{i}">{escape(n)}</a></li>' for i, n in sections) + "</ol></nav>"
        "</header>")
    cv = _cv_macro_f1(page.t.card)
    model_text = (f"{model.get('name', '')} {model.get('version', '')}".strip()
                  if model else "no classifier (human codes only)")
    if cv:
        model_text += f" (grouped cross-validation macro-F1 {cv})"
    privacy = (page.config.get("privacy") or {}).get("redact")
    rows = [
        ("Corpus", (f"<code>{escape(page.redact(corpus_name))}</code> "
                   f"({escape(str(corpus.get('format', 'transcripts')))})")),
        ("Config", f"<code>{escape(Path(config_file).name)}</code>" if config_file
         else "n/a"),
        ("Transcripts", fmt_int(counts.get("transcripts"))),
        ("Turns", fmt_int(counts.get("turns"))),
        ("Informants", fmt_int(counts.get("informants"))),
        ("Segments", (f"{fmt_int(counts.get('segments'))} in all; "
                     f"{fmt_int(counts.get('informant_segments'))} informant segments, "
                     f"{fmt_int(counts.get('coded_segments'))} of them coded by a human")),
        ("Groups", f"{len(t.groups)}: " + ", ".join(escape(g) for g in t.groups)),
        ("Themes", f"{len(t.themes)}: " + ", ".join(escape(x) for x in t.themes)),
        ("Model version", escape(model_text)),
        ("Date", escape(date or "n/a")),
        ("themepipe", escape(str(m.get("themepipe_version", "n/a")))),
        ("Pseudonymised", "yes (privacy.redact)" if privacy else
         "no (privacy.redact is off: do not share this report)" if privacy is False
         else "n/a"),
    ]
    page.add('<section id="summary" aria-labelledby="summary-h">'
             '<h2 id="summary-h">Run summary</h2><table class="summary" id="run-summary">'
             "<caption>Run summary (from manifest.json)</caption><tbody>"
             + "".join(f'<tr><th scope="row">{escape(k)}</th><td>{v}</td></tr>'
                       for k, v in rows) + "</tbody></table>")
    problems = m.get("problems") or []
    if problems:
        page.add(f"<p>The run reported {len(problems)} problem(s) with its inputs; see "
                 "<code>manifest.json</code>.</p>")
    page.add("</section>")


def _study_name(manifest: dict) -> str:
    """The config file's stem (``kajigelem``), else the corpus folder's name."""
    config_file = (manifest.get("config_file") or {}).get("path")
    if config_file:
        return Path(str(config_file)).stem
    corpus = ((manifest.get("config") or {}).get("corpus") or {}).get("path")
    return Path(str(corpus)).name if corpus else "run"


def _cv_macro_f1(card: dict | None) -> str:
    try:
        macro = card["cv_metrics"]["themepipe"]["macro_f1"]
        text = f"{float(macro['mean']):.3f}"
        if _is_num(macro.get("sd")):
            text += f" \u00b1 {float(macro['sd']):.3f}"
        return text
    except (TypeError, KeyError, ValueError):
        return ""


def _lookup(frame: pd.DataFrame, *keys: str) -> dict:
    return {tuple(row[k] for k in keys): row for _, row in frame.iterrows()}


def _heatmap(page: _Page) -> None:
    dist = page.t.tables["theme_distribution"]
    cells = _lookup(dist, "group", "theme")
    top = scale_max(dist["share_segments"])
    page.add('<section id="heatmap-section" aria-labelledby="heatmap-h">'
             '<h2 id="heatmap-h">Share of segments by group and theme</h2>'
             "<p>Each cell: the share of the group's informant segments that carry the "
             "theme (<code>share_segments</code>), and below it the 95% bootstrap interval "
             "(informants resampled within the group). A segment can carry several themes, "
             "so a row does not sum to 100%. Darker cells are larger shares.</p>")
    head = "".join(f'<th scope="col">{page.theme_html(x)}</th>' for x in page.t.themes)
    body = []
    firsts = dist.drop_duplicates("group").set_index("group")
    for group in page.t.groups:
        first = firsts.loc[group]
        row = [(f'<th scope="row">{escape(group)}<br><small>'
               f"{fmt_int(first['n_informants'])} informants, "
               f"{fmt_int(first['n_segments'])} segments</small></th>")]
        for theme in page.t.themes:
            cell = cells.get((group, theme))
            if cell is None or not _is_num(cell["share_segments"]):
                row.append('<td class="cell">n/a</td>')
                continue
            share = float(cell["share_segments"])
            row.append(
                f'<td class="cell" style="background:{colour(share, top)};'
                f'color:{text_colour(share, top)}" data-group="{escape(group)}" '
                f'data-theme="{escape(theme)}">'
                f'<span class="share">{fmt_share(share)}</span>'
                f'<span class="ci">{fmt_interval(cell["ci_low"], cell["ci_high"])}</span>'
                "</td>")
        body.append("<tr>" + "".join(row) + "</tr>")
    page.add('<table class="heatmap" id="heatmap"><caption>Share of segments with the theme '
             "(95% interval), by informant group</caption><thead><tr>"
             f'<th scope="col">Group</th>{head}</tr></thead><tbody>{"".join(body)}'
             "</tbody></table>",
             legend_svg(top, f"Colour scale: share of segments, 0 to {percent(top)}"))
    rows = [[escape(r["group"]), page.theme_html(r["theme"]), fmt_int(r["n_informants"]),
             fmt_int(r["n_informants_with_theme"]), fmt_int(r["n_segments"]),
             fmt_int(r["n_segments_with_theme"]), fmt_share(r["share_segments"]),
             fmt_interval(r["ci_low"], r["ci_high"]), fmt_share(r["share_codings"]),
             fmt_num(r["mean_probability"]), escape(str(r["source"]))]
            for _, r in dist.iterrows()]
    page.add("<details><summary>All counts behind the heatmap "
             "(theme_distribution.csv)</summary>",
             _table("Counts and shares per group and theme (theme_distribution.csv)",
                    ["Group", "Theme", "Informants", "Informants with theme", "Segments",
                     "Segments with theme", "Share of segments", "95% interval",
                     "Share of codings", "Mean probability", "Source"], rows,
                    set(range(2, 10)), table_id="distribution-table"),
             "</details></section>")


def _bars(page: _Page) -> None:
    dist = page.t.tables["theme_distribution"]
    cells = _lookup(dist, "group", "theme")
    top = scale_max(list(dist["share_segments"]) + list(dist["ci_high"]))
    page.add('<section id="bars" aria-labelledby="bars-h"><h2 id="bars-h">Each theme '
             "across groups</h2><p>Bars: share of segments; whiskers: 95% bootstrap "
             "interval. All charts share one axis.</p><div class=\"charts\">")
    for k, theme in enumerate(page.t.themes):
        rows = []
        for group in page.t.groups:
            cell = cells.get((group, theme))
            rows.append((group, *(float(cell[c]) if cell is not None and _is_num(cell[c])
                                  else math.nan
                                  for c in ("share_segments", "ci_low", "ci_high"))))
        page.add(f'<figure id="bars-{escape(theme)}">',
                 interval_bars_svg(f"bars-{k}", page.theme_name(theme), rows, top),
                 "</figure>")
    page.add("</div></section>")


def _readings(page: _Page, comparison: pd.DataFrame, pairs: pd.DataFrame | None) -> list[str]:
    """One plain-language sentence per theme whose across-group test has q < ALPHA."""
    dist = page.t.tables["theme_distribution"]
    significant = comparison[comparison["q_value"] < ALPHA]
    if comparison["q_value"].isna().all():
        return [("No test was run (<code>compare.permutations</code> is 0 or no theme had "
                "informants in two groups), so this report makes no claim that the groups "
                "differ.")]
    if significant.empty:
        q_min = comparison["q_value"].min()
        return [(f"No theme's share of segments differs significantly between the groups: "
                f"every theme has q \u2265 {ALPHA} in the permutation test (smallest q "
                f"{eq_p(q_min)}). This does not show that the groups are alike; with few "
                "informants per group only large differences can be detected.")]
    out = []
    for _, row in significant.iterrows():
        theme = row["theme"]
        name = f"<strong>{escape(page.theme_name(theme))}</strong>"
        lead = (f"{name} differs across the groups (permutation test q "
                f"{eq_p(row['q_value'])})")
        sig = (pairs[(pairs["theme"] == theme) & (pairs["q_value"] < ALPHA)]
               if pairs is not None else None)
        if sig is not None and not sig.empty:
            more: dict[str, list[str]] = {}
            for _, p in sig.iterrows():
                a_higher = p["mean_share_a"] >= p["mean_share_b"]
                hi, lo = (p["group_a"], p["group_b"]) if a_higher else (p["group_b"],
                                                                         p["group_a"])
                hi_s, lo_s = ((p["mean_share_a"], p["mean_share_b"]) if a_higher
                              else (p["mean_share_b"], p["mean_share_a"]))
                more.setdefault(hi, []).append(
                    f"{escape(lo)} ({fmt_share(hi_s)} vs {fmt_share(lo_s)}, q "
                    f"{eq_p(p['q_value'])})")
            clauses = [f"informants of {escape(hi)} mention it more than those of "
                       + ", ".join(los[:-1])
                       + (" and " if len(los) > 1 else "") + los[-1]
                       for hi, los in sorted(more.items(), key=lambda kv: page.t.groups.index(
                           kv[0]) if kv[0] in page.t.groups else len(page.t.groups))]
            out.append(f"{lead}: " + "; ".join(clauses) + ". (Percentages: the mean over "
                       "informants of each informant's share of segments with the theme.)")
        else:
            sub = dist[dist["theme"] == theme].dropna(subset=["share_segments"])
            hi = sub.loc[sub["share_segments"].idxmax()] if not sub.empty else None
            lo = sub.loc[sub["share_segments"].idxmin()] if not sub.empty else None
            tail = (f"; the share of segments is highest in {escape(hi['group'])} "
                    f"({fmt_share(hi['share_segments'])}) and lowest in "
                    f"{escape(lo['group'])} ({fmt_share(lo['share_segments'])})"
                    if hi is not None else "")
            why = ("no single pair of groups differs at q < 0.05" if pairs is not None
                   else "group_pairs.csv is missing, so the direction is not tested")
            out.append(f"{lead}, but {why}{tail}.{_closest_pair(pairs, theme)}")
    return out


def _closest_pair(pairs: pd.DataFrame | None, theme: str) -> str:
    """A sentence on the pair of groups with the smallest q for ``theme`` (or "")."""
    if pairs is None:
        return ""
    sub = pairs[(pairs["theme"] == theme) & pairs["q_value"].notna()]
    if sub.empty:
        return ""
    best = sub.assign(size=-sub["difference"].abs()).sort_values(
        ["q_value", "size"], kind="stable").iloc[0]
    return (f" The strongest pairwise contrast, {escape(best['group_a'])} "
            f"({fmt_share(best['mean_share_a'])}) vs {escape(best['group_b'])} "
            f"({fmt_share(best['mean_share_b'])}) in mean informant share, has q "
            f"{eq_p(best['q_value'])} (p {eq_p(best['p_value'])}).")


def _comparison(page: _Page) -> None:
    page.add('<section id="comparison" aria-labelledby="comparison-h">'
             '<h2 id="comparison-h">Do the groups differ?</h2>')
    comparison, pairs = page.t.get("group_comparison"), page.t.get("group_pairs")
    if comparison is None:
        page.missing("group_comparison.csv", "no test across groups was computed, so this "
                     "report makes no claim that groups differ.")
    else:
        readings = _readings(page, comparison, pairs)
        page.add('<div class="readings" id="readings"><h3>In plain words</h3><ul>'
                 + "".join(f"<li>{r}</li>" for r in readings) + "</ul></div>")
        rows = [[page.theme_html(r["theme"]), fmt_int(r["n_informants"]),
                 fmt_int(r["n_groups"]), fmt_num(r["statistic"], 4), fmt_p(r["p_value"]),
                 (f'<span class="sig">{fmt_p(r["q_value"])}</span>' if r["q_value"] < ALPHA
                  else fmt_p(r["q_value"])),
                 "yes" if r["q_value"] < ALPHA else "no", fmt_int(r["n_permutations"])]
                for _, r in comparison.iterrows()]
        page.add(_table("Permutation test per theme across all groups (group_comparison.csv)",
                        ["Theme", "Informants", "Groups", "Statistic", "p", "q (BH)",
                         "q &lt; 0.05", "Permutations"], rows, {1, 2, 3, 4, 5, 7},
                        table_id="comparison-table"))
    if pairs is None:
        page.missing("group_pairs.csv", "pairs of groups were not tested.")
    else:
        sig = pairs[pairs["q_value"] < ALPHA]
        if sig.empty:
            page.add(f"<p>Pairs of groups: none of the {len(pairs)} group pairs \u00d7 theme "
                     "tests has q &lt; 0.05 (all pairs are in <code>group_pairs.csv</code> "
                     "and in <code>report.xlsx</code>).</p>")
        else:
            rows = [[page.theme_html(r["theme"]), escape(r["group_a"]), escape(r["group_b"]),
                     fmt_share(r["mean_share_a"]), fmt_share(r["mean_share_b"]),
                     fmt_share(r["difference"]), fmt_p(r["p_value"]), fmt_p(r["q_value"])]
                    for _, r in sig.iterrows()]
            page.add(_table(f"Pairs of groups with q &lt; 0.05 ({len(sig)} of {len(pairs)} "
                            "tests; all are in group_pairs.csv and report.xlsx)",
                            ["Theme", "Group A", "Group B", "Mean share A", "Mean share B",
                             "Difference (A \u2212 B)", "p", "q (BH)"], rows,
                            {3, 4, 5, 6, 7}, table_id="pairs-table"))
    distances = page.t.get("group_distances")
    if distances is None:
        page.missing("group_distances.csv", "no distances between group profiles.")
    else:
        lookup = {}
        for _, r in distances.iterrows():
            lookup[(r["group_a"], r["group_b"])] = lookup[(r["group_b"], r["group_a"])] = (
                r["js_distance"])
        groups = page.t.groups
        rows = [[escape(a)] + [("0.000" if a == b else fmt_num(lookup.get((a, b))))
                               for b in groups] for a in groups]
        page.add("<h3>How different are the groups' theme profiles?</h3><p>Jensen\u2013"
                 "Shannon distance between the groups' <code>share_codings</code> profiles "
                 "(0 = identical mix of themes, 1 = no theme in common).</p>",
                 _table("Jensen\u2013Shannon distance (base 2) between groups "
                        "(group_distances.csv)", ["Group"] + [escape(g) for g in groups],
                        rows, set(range(1, len(groups) + 1)), table_id="distance-table"))
    _descriptive(page)
    page.add("</section>")


def _descriptive(page: _Page) -> None:
    coding, test = page.t.get("coding_table"), page.t.get("coding_test")
    page.add("<h3>Coding table (descriptive only)</h3>")
    if test is None or test.empty:
        page.missing("coding_test.csv", "no chi-square summary of the coding table.")
    else:
        r = test.iloc[0]
        note = str(r["note"]).strip().rstrip(".")
        page.add(f'<p id="coding-test">Chi-square = {fmt_num(r["chi_square"], 2)} '
                 f'(dof {fmt_int(r["dof"])}, p {eq_p(r["p_value"])}), Cram\u00e9r\'s V = '
                 f'{fmt_num(r["cramers_v"])}. <strong>{escape(note[:1].upper() + note[1:])}'
                 "</strong>, so this p-value is not a test of group differences; use the "
                 "permutation tests above.</p>")
    if coding is None:
        page.missing("coding_table.csv", "no codings or adjusted residuals.")
        return
    cells = _lookup(coding, "group", "theme")
    rows = []
    for group in page.t.groups:
        row = [escape(group)]
        for theme in page.t.themes:
            c = cells.get((group, theme))
            row.append("n/a" if c is None else
                       f"<strong>{fmt_int(c['codings'])}</strong><br><small>expected "
                       f"{fmt_num(c['expected'], 1)}<br>residual "
                       f"{fmt_num(c['adjusted_residual'], 2)}</small>")
        rows.append(row)
    page.add(_table("Codings per group and theme, expected count and adjusted standardised "
                    "residual (coding_table.csv)", ["Group"] + [page.theme_html(x) for x in
                                                               page.t.themes],
                    rows, set(range(1, len(page.t.themes) + 1)), table_id="coding-table"))


def _terms(cell: str) -> list[str]:
    return [part.rsplit(":", 1)[0] for part in str(cell).split() if part]


def _topics(page: _Page) -> None:
    page.add('<section id="topics" aria-labelledby="topics-h"><h2 id="topics-h">Topics</h2>')
    topics = page.t.get("topics")
    if topics is None:
        page.missing("topics.csv", "no topic model output.")
    else:
        rows = [[fmt_int(r["topic"]),
                 page.theme_html(r["anchored_theme"]) if r["anchored_theme"] else
                 "<small>residual (not anchored)</small>",
                 escape(", ".join(page.redact(term) for term in _terms(r["top_terms"]))),
                 fmt_num(r["npmi"])] for _, r in topics.iterrows()]
        page.add(_table("Topics: anchored theme, top terms (stems, by weight) and NPMI "
                        "coherence (topics.csv)", ["Topic", "Anchored theme", "Top terms",
                                                   "NPMI"], rows, {0, 3},
                        table_id="topics-table"))
    prevalence = page.t.get("topic_prevalence")
    if prevalence is not None and not prevalence.empty:
        cells = _lookup(prevalence, "group", "topic")
        topic_ids = list(dict.fromkeys(prevalence["topic"]))
        groups = list(dict.fromkeys(prevalence["group"]))
        rows = [[escape(g)] + [
            "n/a" if (g, k) not in cells else
            f"{fmt_share(cells[(g, k)]['mean_proportion'])}<br><small>"
            f"{fmt_interval(cells[(g, k)]['ci_low'], cells[(g, k)]['ci_high'])}</small>"
            for k in topic_ids] for g in groups]
        anchors = _lookup(prevalence.drop_duplicates("topic"), "topic")
        heads = [f"Topic {fmt_int(k)}<br><small>"
                 f"{escape(anchors[(k,)]['anchored_theme'] or 'residual')}</small>"
                 for k in topic_ids]
        page.add("<p>Topic prevalence: the mean topic proportion over the group's "
                 "informant segments, with a 95% percentile bootstrap interval that "
                 "resamples informants (all their segments) within the group.</p>",
                 _table("Mean topic proportion per group with 95% interval "
                        "(topic_prevalence.csv)", ["Group"] + heads,
                        rows, set(range(1, len(topic_ids) + 1)), table_id="prevalence-table"))
    page.add("</section>")


def _quotes(page: _Page) -> None:
    page.add('<section id="quotes" aria-labelledby="quotes-h"><h2 id="quotes-h">Quotes</h2>')
    quotes = page.t.get("quotes")
    if quotes is None:
        page.missing("quotes.csv", "no exemplar quotes were written for this run.")
        page.add("</section>")
        return
    redacted = (page.config.get("privacy") or {}).get("redact")
    page.add("<p>Up to three segments per group and theme: human-coded segments first, "
             "then the model's most probable ones. "
             + ("Names are replaced by pseudonyms. " if redacted else
                "<strong>Names are NOT pseudonymised (privacy.redact is off).</strong> ")
             + "Character offsets point into the original transcript.</p>")
    if quotes.empty:
        page.add("<p>quotes.csv has no rows: no segment carries any theme.</p>")
    groups = page.t.groups
    for k, theme in enumerate(page.t.themes):
        sub = quotes[quotes["theme"] == theme]
        if sub.empty:
            continue
        page.add(f'<div class="quotes-theme" id="quotes-{k}"><h3>{page.theme_html(theme)}'
                 "</h3>")
        order = sorted(dict.fromkeys(sub["group"]),
                       key=lambda g: (groups.index(g) if g in groups else len(groups), g))
        page.add('<div class="quote-groups">')
        for group in order:
            page.add(f'<div class="quote-group"><h4>{escape(group)}</h4>')
            for _, q in sub[sub["group"] == group].sort_values("rank").iterrows():
                source = ("coded by a human" if q["source"] == "gold" else
                          f"model, probability {fmt_num(q['probability'], 2)}"
                          if q["source"] == "model" else escape(str(q["source"])))
                page.add(f'<figure class="quote"><blockquote lang="id">'
                         f'{escape(str(q["text"]))}'
                         f"</blockquote><figcaption>{escape(str(q['informant_id']))} \u00b7 "
                         f"{escape(page.redact(str(q['transcript'])))}, characters "
                         f"{fmt_int(q['start_char'])}\u2013{fmt_int(q['end_char'])} \u00b7 "
                         f"{source}</figcaption></figure>")
            page.add("</div>")
        page.add("</div></div>")
    page.add("</section>")


def _methods(page: _Page) -> None:
    cfg = page.config
    compare = cfg.get("compare") or {}
    topics = cfg.get("topics") or {}
    segment = cfg.get("segment") or {}
    comparison = page.t.get("group_comparison")
    n_perm = (fmt_int(comparison["n_permutations"].max()) if comparison is not None
              and not comparison.empty else str(compare.get("permutations", "n/a")))
    unit = ("one informant turn" if not segment.get("max_sentences") else
            f"an informant turn, or a window of at most {segment['max_sentences']} "
            "sentences of a longer turn")
    items = [
        ("Segments and themes", (f"The unit of coding is {unit}; only informant speech is "
         "counted. A segment's themes are the human codes where a human coded it and the "
         "classifier's predicted themes otherwise (<code>source</code> says which).")),
        ("Shares", ("<code>share_segments</code> = segments of the group with the theme / "
         "segments of the group (multi-label, so shares of a group do not sum to 1); "
         "<code>share_codings</code> = codings of the theme / all codings of the group (sums "
         "to 1). <code>mean_probability</code> is the mean of the classifier's probability "
         "of the theme over the group's informant segments.")),
        ("Intervals", ("95% percentile bootstrap intervals of <code>share_segments</code>: "
         "informants are resampled with replacement within each group (all segments of a "
         "drawn informant come along) and the share is recomputed over the resampled "
         "segments (Efron &amp; Tibshirani 1993). The interval is the expanded percentile "
         "interval (Hesterberg 2015): with n informants in the group, the percentiles are "
         "taken at \u03a6(\u2212\u221a(n/(n\u22121))\u00b7t<sub>0.975, n\u22121</sub>) "
         "and its complement instead of 2.5% and 97.5% (about 1.1% per tail for 12 "
         "informants), which corrects the plain percentile interval's under-coverage with "
         "few informants. A group of fewer than 2 informants gets no interval. "
         f"{escape(str(compare.get('bootstrap', 'n/a')))} resamples, seed "
         f"{escape(str(compare.get('random_state', 'n/a')))} "
         "(<code>compare.bootstrap</code>, <code>compare.random_state</code>).")),
        ("Test across groups", ("Per theme, a permutation test: the statistic is the "
         "between-group sum of squares of informant-level shares, "
         "\u03a3<sub>g</sub> n<sub>g</sub>(mean<sub>g</sub> \u2212 mean)\u00b2 with "
         "n<sub>g</sub> the group's informants; group labels are permuted across "
         f"informants (not segments), {escape(n_perm)} permutations, and p = (1 + the "
         "number of permutations whose statistic is at least the observed one) / (1 + "
         "the number of permutations), which is never 0 (Phipson &amp; Smyth 2010). "
         "Segments of one informant are not independent, so informants are the units "
         "of the test.")),
        ("Pairs of groups", ("The same permutation test for each pair of groups; "
         "<code>difference</code> = mean informant share of group A minus group B.")),
        ("Multiple testing", ("q-values are Benjamini\u2013Hochberg adjusted p-values "
         "(Benjamini &amp; Hochberg 1995): across themes for the test across groups, and "
         "across all rows of <code>group_pairs.csv</code> for the pairs. A difference is "
         "called significant when q &lt; 0.05.")),
        ("Profile distances", ("Jensen\u2013Shannon distance (base 2; the square root of "
         "the Jensen\u2013Shannon divergence, Lin 1991) between two groups' "
         "<code>share_codings</code> profiles, in [0, 1].")),
        ("Coding table", ("The chi-square statistic, Cram\u00e9r's V and adjusted "
         "standardised residuals (Haberman 1973) of the group \u00d7 theme table of codings "
         "are <strong>descriptive only</strong>: codings of one informant are not "
         "independent, so the chi-square p-value is not a valid test.")),
        ("Classifier", _classifier_method(page)),
        ("Topic model", f"{escape(str(topics.get('model', 'n/a')).upper())} with "
         f"{escape(str(topics.get('num_topics', 'n/a')))} topics"
         + (", seeded with the codebook's seed words (one topic anchored per theme, the "
            "rest residual)" if topics.get("seeded") else ", unseeded")
         + f", seed {escape(str(topics.get('random_state', 'n/a')))}, fitted on the stems "
         "of informant segments. Coherence is NPMI (Bouma 2009) over each topic's "
         f"top {escape(str(topics.get('coherence_topn', 10)))} terms; NPMI lies in "
         "[\u22121, 1], higher is more coherent."),
        ("Quotes and privacy", "Quotes come from <code>quotes.csv</code> only; "
         + ("names of informants and honorific-plus-name mentions are replaced by stable "
            "pseudonyms (<code>privacy.redact</code>)." if (cfg.get("privacy") or {})
            .get("redact") else "<strong>privacy.redact is off</strong>: quotes carry the "
            "original names.")),
    ]
    page.add('<section id="methods" aria-labelledby="methods-h"><h2 id="methods-h">How '
             "every number was computed</h2><dl>"
             + "".join(f"<dt><strong>{escape(k)}</strong></dt><dd><p>{v}</p></dd>"
                       for k, v in items) + "</dl></section>")


def _classifier_method(page: _Page) -> str:
    model = page.t.manifest.get("model") or {}
    if not model:
        return "No classifier ran; every theme comes from human codes."
    text = (f"Model <code>{escape(str(model.get('name', '')))}</code> version "
            f"<code>{escape(str(model.get('version', '')))}</code>")
    card = page.t.card or {}
    estimator = card.get("estimator")
    if estimator:
        text += f" ({escape(str(estimator))}, {escape(str(card.get('mode', '')))})"
    cv = _cv_macro_f1(card)
    try:
        m = card["cv_metrics"]["themepipe"]
        folds = f"{int(m['n_splits'])}-fold "
        base = card["cv_metrics"]["keyword_baseline"]["macro_f1"]["mean"]
        baseline = f", against {float(base):.3f} for a seed-word keyword baseline"
    except (TypeError, KeyError, ValueError):
        folds, baseline = "", ""
    if cv:
        text += (f", trained on {escape(str(card.get('n_segments', 'n/a')))} human-coded "
                 f"segments; {folds}cross-validation grouped by informant (no informant in "
                 f"both training and test folds) gave macro-F1 {cv} (mean \u00b1 sd over "
                 f"folds){baseline}.")
    else:
        text += "; its model card was not available, so no cross-validation figure is given."
    return text


def build_html(tables: ReportTables, redact: Callable[[str], str] | None = None) -> str:
    """Build ``report.html`` as one string.

    Parameters
    ----------
    tables : ReportTables
        From :func:`themepipe.report.tables.load_report_tables`.
    redact : callable, optional
        Applied to text that did not pass through pseudonymisation upstream (topic terms,
        transcript names, the corpus name); ``quotes.csv`` text is shown as it is.

    Returns
    -------
    str
        A complete HTML5 document; the same inputs give the same string.
    """
    page = _Page(tables, redact or (lambda text: text))
    page.study = page.redact(_study_name(tables.manifest))
    _summary(page)
    _heatmap(page)
    _bars(page)
    _comparison(page)
    _topics(page)
    _quotes(page)
    _methods(page)
    title = f"Themes across informant groups: {page.study} (themepipe report)"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body><main>\n"
            + "\n".join(page.parts)
            + "\n<footer>Made by themepipe "
            + escape(str(tables.manifest.get("themepipe_version", "")))
            + " from the CSV files and manifest.json of this run folder, which hold every "
            "number at full precision.</footer>\n</main></body></html>\n")
