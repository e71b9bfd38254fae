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


# Hand-written in migration 0002 and deliberately not in the models (dialect-specific).
NOT_IN_MODELS = {
    "feedback_fts",
    "ix_feedback_inbox_procedure",
    "ix_feedback_inbox_status",
    "ix_feedback_received",
    "ix_feedback_status_all",
    "ix_feedback_comment_fts",
}


def _named(diff: object) -> str:
    # A diff is a tuple (action, object, ...), or a list of column-level tuples.
    item = diff[0] if isinstance(diff, list) else diff
    thing = item[1] if not isinstance(item[1], str) else item[3]  # type: ignore[index]
    return str(getattr(thing, "name", thing))


def test_models_and_migrations_agree(engine: Engine) -> None:
    """A table, column or index in the models is created by the migrations, and back."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    unexpected = [
        diff
        for diff in diffs
        if not any(_named(diff).startswith(name) for name in NOT_IN_MODELS)
        and "comment_tsv" not in str(diff)
    ]
    assert unexpected == []
