"""tools/stdlib_bytecode.py under CPython: the same code runs inside Pyodide at install time,
where it makes bytecode for that interpreter; here it makes bytecode for this one, so the
result can be imported and checked for real."""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
from pathlib import Path

import pytest

from tools.stdlib_bytecode import module_members, pyc_bytes, read_module_list, with_bytecode

SOURCES = {
    "alpha.py": "VALUE = 'alpha'\n",
    "pkg/__init__.py": "from pkg.inner import answer\n",
    "pkg/inner.py": "def answer():\n    raise ValueError('from inner')\n",
    "beta.py": "VALUE = 'beta'\n",
    "data/table.txt": "not python",
}


def source_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in SOURCES.items():
            z.writestr(name, text)
    return out.getvalue()


def test_listed_modules_become_bytecode_and_the_rest_stays_source() -> None:
    result = with_bytecode(source_zip(), ["alpha", "pkg", "pkg.inner", "os.path"], "/lib/x.zip")
    assert result.compiled == ("alpha", "pkg", "pkg.inner")
    assert result.not_found == ("os.path",)
    with zipfile.ZipFile(io.BytesIO(result.data)) as z:
        names = set(z.namelist())
        kinds = {info.compress_type for info in z.infolist()}
        assert z.read("beta.py") == SOURCES["beta.py"].encode()
        assert z.read("data/table.txt") == b"not python"
    assert names == {"alpha.pyc", "pkg/__init__.pyc", "pkg/inner.pyc", "beta.py", "data/table.txt"}
    assert kinds == {zipfile.ZIP_STORED}  # the server's gzip/brotli then sees plain bytes


def test_the_bytecode_is_unchecked_hash_based_for_this_interpreter() -> None:
    source = b"X = 1\n"
    pyc = pyc_bytes(source, "/lib/x.zip/m.py")
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, source not checked
    assert pyc[8:16] == importlib.util.source_hash(source)


def test_zipimport_loads_the_result_from_bytecode(tmp_path: Path) -> None:
    archive = tmp_path / "lib.zip"
    result = with_bytecode(source_zip(), ["alpha", "pkg", "pkg.inner"], str(archive))
    archive.write_bytes(result.data)
    sys.path.insert(0, str(archive))
    try:
        import alpha  # type: ignore[import-not-found]
        import beta  # type: ignore[import-not-found]
        import pkg  # type: ignore[import-not-found]

        assert (alpha.VALUE, beta.VALUE) == ("alpha", "beta")
        assert alpha.__file__.endswith("alpha.pyc")
        assert beta.__file__.endswith("beta.py")
        with pytest.raises(ValueError, match="from inner") as caught:
            pkg.answer()
        # The code names the file zipimport would have compiled it from.
        assert str(caught.traceback[-1].path) == f"{archive}/pkg/inner.py"
    finally:
        sys.path.remove(str(archive))
        for name in ("alpha", "beta", "pkg", "pkg.inner"):
            sys.modules.pop(name, None)


def test_module_names_map_to_module_and_package_members() -> None:
    assert module_members("a.b") == ("a/b.py", "a/b/__init__.py")


def test_the_module_list_ignores_comments_and_blank_lines() -> None:
    assert read_module_list("# head\nasyncio\n\n  json  # why\n") == ["asyncio", "json"]


def test_the_shipped_list_names_real_standard_modules_once() -> None:
    text = (Path(__file__).resolve().parents[2] / "tools" / "stdlib-boot-modules.txt").read_text()
    names = read_module_list(text)
    assert names == sorted(set(names))
    assert {"asyncio", "json", "re"} <= set(names)


def test_function_docstrings_are_left_out_and_class_docstrings_kept() -> None:
    """An eighth of the bytes on the wire; classes keep theirs (a dataclass without one would
    import inspect to write it); line numbers and behaviour are the source's."""
    import marshal

    source = (b'"""Module doc."""\n'
              b"class C:\n    '''Class doc.'''\n    def m(self):\n        '''Method doc.'''\n"
              b"        return 1\n"
              b"def only_doc():\n    '''Nothing else.'''\n"
              b"def f():\n    '''Doc.'''\n    raise ValueError('line 11')\n")
    namespace: dict[str, object] = {}
    exec(marshal.loads(pyc_bytes(source, "/lib/m.py")[16:]), namespace)
    cls = namespace["C"]
    assert namespace.get("__doc__") is None
    assert cls.__doc__ == "Class doc."  # type: ignore[attr-defined]
    assert cls.m.__doc__ is None and cls().m() == 1  # type: ignore[attr-defined]
    assert namespace["only_doc"]() is None  # type: ignore[operator]
    with pytest.raises(ValueError) as caught:
        namespace["f"]()  # type: ignore[operator]
    assert caught.traceback[-1].lineno + 1 == 11
    plain = compile(source, "/lib/m.py", "exec")
    assert len(pyc_bytes(source, "/lib/m.py")) - 16 < len(marshal.dumps(plain))
