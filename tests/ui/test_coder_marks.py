"""The coder component's marks that add no text: time anchors (the player's times) and unsure words."""

from __future__ import annotations

import re

from analysis.workbench.components.coder import CodingSpan, TurnSpan, html_text, transcript_html

TEXT = "[00:00:01] Speaker 1: Hello thare, welcome.\nSecond cue here.\n"
TURN = TurnSpan(22, 60, "Speaker 1", None, False, 1.0)


def test_anchors_and_unsure_words_are_marked_without_changing_the_text() -> None:
    at = TEXT.index("thare")
    html = transcript_html(TEXT, [TURN], [CodingSpan(7, at - 6, at + 5, "Greeting", "#f6c85f")],
                           anchors=[(22, 1.0, 2.5), (TEXT.index("Second"), 2.5, 4.0)], unsure=[(at, at + 5)])
    assert html_text(html) == TEXT  # the DOM's text is exactly the stored text: offsets stay exact
    assert re.findall(r'<span class="tm" data-o="(\d+)" data-t="([\d.]+)" data-e="([\d.]+)"></span>', html) == [
        ("22", "1.000", "2.500"), (str(TEXT.index("Second")), "2.500", "4.000")]
    marked = re.findall(r'<span class="u"[^>]*>([^<]*)</span>', html)
    assert "".join(marked) == "thare"  # inside the coding too
