from sqlalchemy import inspect
from sqlalchemy.engine import Engine


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"ministry", "procedure", "procedure_origin", "feedback", "impression_count",
            "staff_user", "audit_event", "public_answer", "feedback_note"} <= tables
