from sqlalchemy import inspect
from sqlalchemy.engine import Engine


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {
        "ministry",
        "procedure",
        "procedure_origin",
        "feedback",
        "impression_count",
        "staff_user",
        "audit_event",
        "public_answer",
        "feedback_note",
    } <= tables


def test_no_submission_index_is_a_prefix_of_another(engine: Engine) -> None:
    """Such an index serves no query the longer one cannot, and costs every insert."""
    indexes = [
        (index["name"], tuple(index["column_names"]))
        for index in inspect(engine).get_indexes("feedback")
        if not index.get("unique")
    ]
    assert len(indexes) >= 6
    for name, columns in indexes:
        for other, other_columns in indexes:
            if other != name:
                assert other_columns[: len(columns)] != columns, f"{name} is a prefix of {other}"
