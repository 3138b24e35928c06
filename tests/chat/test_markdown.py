"""Message markdown is rendered on the server and nothing executable survives."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from chat.markdown import render_markdown


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src=//evil></iframe>",
    ],
)
def test_hostile_markup_is_neutralised(hostile):
    elements = elements_in(render_markdown(hostile))
    assert not {tag for tag, _ in elements} & {"script", "img", "iframe"}
    for _tag, attrs in elements:
        assert not [name for name, _ in attrs if name.startswith("on")]
        assert not [value for name, value in attrs if name == "href" and "javascript" in (value or "")]


def elements_in(html: str) -> list[tuple[str, list]]:
    """Every element the browser would build from this HTML, with its attributes."""
    found: list[tuple[str, list]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_code_blocks_are_highlighted_and_escaped():
    html = render_markdown("```python\nx = '<b>'\n```")
    assert '<code class="language-python">' in html
    assert '<span class="s1">&#39;&lt;b&gt;&#39;</span>' in html or "&lt;b&gt;" in html
    assert "<b>" not in html


def test_unknown_language_is_escaped_plain_text():
    html = render_markdown("```nosuchlang\n<b>bold</b>\n```")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_links_get_safe_rel_and_tables_render():
    html = render_markdown("[docs](https://example.org)\n\n|a|b|\n|-|-|\n|1|2|")
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<table>" in html and "<td>1</td>" in html
