"""Charts drawn on the server as SVG with pygal, from the same tables the page shows. Each chart is
its own response, shown by an <img>: pygal is told to emit no script (js=[]) and no XML
declaration, and its configuration script is taken out; its stylesheet stays inline in the SVG,
which the chart response's own Content-Security-Policy allows (portal.stats.views.SVG_CSP) and
nothing else."""
from __future__ import annotations

import sys

import pygal
from lxml import etree
from pygal.style import Style

from portal.stats.tables import Table

# pygal adds a legacy sys.meta_path finder for its map plugins (unused here) that has no find_spec:
# Python 3.11 then warns (ImportWarning) at every import no other finder answers. Taken out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

STYLE = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#000",
              foreground_subtle="#555", font_family="sans-serif", label_font_size=13, major_label_font_size=13,
              legend_font_size=13, value_font_size=12, title_font_size=15,
              colors=("#1f5f99", "#c0392b", "#2e7d32", "#8e44ad", "#b9770e", "#17727a", "#6d4c41", "#555"))
CONFIG = dict(style=STYLE, disable_xml_declaration=True, js=[], width=800, height=360, print_values=False,
              show_y_guides=True, legend_at_bottom=True, legend_at_bottom_columns=4, truncate_legend=-1,
              truncate_label=-1, explicit_size=True, tooltip_fancy_mode=False)


def svg(table: Table) -> str:
    """The table's chart as an SVG document (text)."""
    if table.chart == "bar":
        chart = pygal.Bar(**CONFIG, x_label_rotation=0 if len(table.rows) <= 8 else 45)
        chart.x_labels = [row[0] for row in table.rows]
        for column, header in enumerate(table.headers[1:], 1):
            chart.add(header, [row[column] for row in table.rows])
    else:
        height = max(200, 60 + 34 * len(table.rows))
        # margin_left: Chinese labels are wider than pygal guesses.
        chart = pygal.HorizontalBar(**{**CONFIG, "height": height}, show_legend=False, margin_left=48)
        chart.x_labels = [row[0] for row in table.rows]
        chart.add(table.headers[1], [row[1] for row in table.rows])
    chart.title = table.caption
    return _without_scripts(chart.render_tree())


def _without_scripts(tree) -> str:
    """pygal writes its configuration as a <script> even with js=[]: taken out, with the tooltip it
    would drive (an <img> runs no script anyway, and the response's CSP forbids it)."""
    for node in tree.xpath("//*[local-name()='script'] | //*[contains(concat(' ', @class, ' '), ' tooltip ')]"):
        node.getparent().remove(node)
    return etree.tostring(tree, encoding="unicode")
