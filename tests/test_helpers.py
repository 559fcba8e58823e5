"""The test helpers' own rules, where a wrong one would make other tests pass or fail for
the wrong reason."""

from __future__ import annotations

from tests.helpers import pyformat


def test_a_query_with_question_marks_reads_as_psycopgs_placeholders_outside_quotes():
    query = "SELECT id FROM t WHERE a = ? AND b LIKE 'what?%' AND c = ?"
    assert pyformat(query) == "SELECT id FROM t WHERE a = %s AND b LIKE 'what?%%' AND c = %s"
    assert pyformat("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', %s"
