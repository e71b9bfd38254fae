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


def test_migrations_and_models_agree_on_tables_and_columns(engine: Engine) -> None:
    """`retour/models.py` and the migrations describe the same tables and columns."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    # Full-text search lives outside the models on purpose (migration 0002).
    structural = [
        (diff[0], diff[1].name if diff[0].endswith("table") else (diff[2], diff[3].name))
        for diff in diffs
        if isinstance(diff, tuple)
        and diff[0] in ("add_table", "remove_table", "add_column", "remove_column")
    ]
    ignored = {
        "feedback_fts",
        "feedback_fts_data",
        "feedback_fts_idx",
        "feedback_fts_docsize",
        "feedback_fts_config",
        "alembic_version",
    }
    structural = [
        item
        for item in structural
        if not (isinstance(item[1], str) and item[1] in ignored)
        and item[1] != ("feedback", "comment_tsv")
    ]
    assert structural == []
