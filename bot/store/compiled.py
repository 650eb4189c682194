"""A SQLAlchemy statement compiled once for a dialect, to run on the raw DB-API connection: its SQL text,
its parameters in order with their types' bind processing, and its result columns with their result
processing. What SQLAlchemy would do on every execute, done once (the grade path runs it many times)."""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, ReturnsRows

_Processor = Callable[[Any], Any] | None


def _result_processor(kind: Any, dialect: Dialect) -> _Processor:
    try:
        processor: _Processor = kind.dialect_impl(dialect).result_processor(dialect, None)
    except (TypeError, InvalidRequestError):
        # asyncpg's numeric types want the column's type oid to choose; its floats arrive as floats.
        return None
    return processor


class CompiledStatement:
    """One statement for one dialect with positional parameters (SQLite's ?, asyncpg's $n): `run` on a
    sqlite3 connection, or its `sql` and `params` through SQLAlchemy's exec_driver_sql."""

    def __init__(self, name: str, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.name = name
        self.sql = compiled.string
        order = compiled.positiontup or []
        binds = compiled.binds
        # (name, default, bind processor) per position; the default is the value fixed in the statement.
        self._params: tuple[tuple[str, Any, _Processor], ...] = tuple(
            (key, binds[key].value, binds[key].type.dialect_impl(dialect).bind_processor(dialect))
            for key in order
        )
        columns = list(statement.exported_columns) if isinstance(statement, ReturnsRows) else []
        self._row = namedtuple("Row", [c.key for c in columns]) if columns else None
        self.returns_rows = bool(columns)
        self._results: tuple[_Processor, ...] = tuple(_result_processor(c.type, dialect) for c in columns)

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for key, default, process in self._params:
            value = values.get(key, default)
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)

    def row(self, raw: Sequence[Any]) -> Any:
        assert self._row is not None, f"{self.name} returns no rows"
        return self._row(
            *(
                process(value) if process is not None and value is not None else value
                for process, value in zip(self._results, raw, strict=True)
            )
        )

    def run(self, conn: sqlite3.Connection, values: Mapping[str, Any]) -> tuple[int, list[Any]]:
        """Execute it; the rows it returns (processed) and its rowcount."""
        cursor = conn.execute(self.sql, self.params(values))
        rows = [self.row(raw) for raw in cursor.fetchall()] if self._row is not None else []
        return cursor.rowcount, rows
